// Shared by the child_guidance adapter tests: the samples, a collecting sink, decoding helpers.
#pragma once

#include <cstddef>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <child_guidance/cg_events_decoder.hpp>

namespace tsunagu::child_guidance::test_support {

inline std::filesystem::path source_dir() {
  return TSUNAGU_SOURCE_DIR;
}
inline std::filesystem::path data_dir() {
  return source_dir() / "tests" / "data" / "child_guidance";
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

inline std::string file_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

inline DecodeResult decode(const std::string& bytes, CollectingSink& sink,
                           CgEventsDecoderOptions options = {}) {
  std::istringstream in(bytes);
  return CgEventsDecoder(options).decode(in, "CG_TEST.ndjson", sink);
}

// Decodes a sample file with the default options, as the hub does.
inline DecodeResult decode_sample(const std::string& name, CollectingSink& sink) {
  std::ifstream in(data_dir() / name, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + name);
  return CgEventsDecoder().decode(in, name, sink);
}

}  // namespace tsunagu::child_guidance::test_support
