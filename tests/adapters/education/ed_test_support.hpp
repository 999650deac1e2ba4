// Shared by the education adapter tests: the layout from the real mapping, the samples, a sink.
#pragma once

#include <cstddef>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include <codec/cp932.hpp>
#include <education/ed_record_decoder.hpp>
#include <mapping/mapping.hpp>

namespace tsunagu::education::test_support {

inline std::filesystem::path source_dir() {
  return TSUNAGU_SOURCE_DIR;
}
inline std::filesystem::path data_dir() {
  return source_dir() / "tests" / "data" / "education";
}
inline std::filesystem::path mapping_file() {
  return source_dir() / "mappings" / "education.xml";
}
inline std::filesystem::path mapping_xsd() {
  return source_dir() / "mappings" / "mapping.xsd";
}

// The shipped mapping, loaded once per test binary (tests in one binary run on one thread).
inline const mapping::Mapping& education_mapping() {
  static const mapping::Mapping loaded = mapping::Mapping::load_file(mapping_file(), mapping_xsd());
  return loaded;
}

// The layout exactly as the hub hands it to the plugin: the mapping's <adapter-settings>. The
// tests decode with it rather than with a copy, so they test the layout that ships.
inline RecordLayout shipped_layout() {
  RecordLayout layout;
  std::string error;
  if (!layout_from_settings(education_mapping().adapter_settings(), layout, error)) {
    throw std::runtime_error(error);
  }
  return layout;
}

class CollectingSink : public RecordSink {
 public:
  explicit CollectingSink(std::size_t stop_after = std::numeric_limits<std::size_t>::max())
      : stop_after_(stop_after) {}

  bool accept(NativeRecord&& record) noexcept override {
    records.push_back(std::move(record));
    return records.size() < stop_after_;
  }

  // Record `n`, 1-based as the decoder numbers them.
  const NativeRecord& at(std::size_t n) const {
    if (n == 0 || n > records.size()) throw std::out_of_range("no record " + std::to_string(n));
    return records[n - 1];
  }

  std::vector<NativeRecord> records;

 private:
  std::size_t stop_after_;
};

inline std::string cp932(std::string_view utf8) {
  codec::Cp932Encoder encoder;
  std::string out;
  std::string error;
  if (!encoder.encode(utf8, out, error)) throw std::runtime_error(error);
  return out;
}

inline std::string file_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

// The records of a sample file split at CR LF, without the line breaks.
inline std::vector<std::string> sample_lines(const std::string& name) {
  const std::string bytes = file_bytes(data_dir() / name);
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < bytes.size()) {
    std::size_t end = bytes.find("\r\n", start);
    if (end == std::string::npos) end = bytes.size();
    lines.push_back(bytes.substr(start, end - start));
    start = end + 2;
  }
  return lines;
}

}  // namespace tsunagu::education::test_support
