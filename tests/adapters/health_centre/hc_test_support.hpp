// Shared by the health_centre adapter tests.
#pragma once

#include <cstddef>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <libxml/parser.h>

#include <health_centre/hc_export_decoder.hpp>

namespace hc_test {

inline const std::string kDataDir = TSUNAGU_SOURCE_DIR "/tests/data/health_centre/";

// The hub calls xmlInitParser() in its main thread before any worker starts; so do the tests,
// before main() and before any test thread.
inline const bool kXmlInitialised = [] {
  xmlInitParser();
  return true;
}();

class CollectingSink : public tsunagu::RecordSink {
 public:
  explicit CollectingSink(std::size_t stop_after = std::numeric_limits<std::size_t>::max())
      : stop_after_(stop_after) {}

  bool accept(tsunagu::NativeRecord&& record) noexcept override {
    records.push_back(std::move(record));
    return records.size() < stop_after_;
  }

  std::vector<tsunagu::NativeRecord> records;

 private:
  std::size_t stop_after_;
};

inline std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

inline tsunagu::DecodeResult decode(const std::string& bytes, CollectingSink& sink,
                                    tsunagu::health_centre::HcDecoderOptions options = {},
                                    const std::string& origin = "HC_TEST.xml") {
  std::istringstream in(bytes);
  tsunagu::health_centre::HcExportDecoder decoder(options);
  return decoder.decode(in, origin, sink);
}

inline tsunagu::DecodeResult decode_file(const std::string& name, CollectingSink& sink) {
  std::ifstream in(kDataDir + name, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + kDataDir + name);
  tsunagu::health_centre::HcExportDecoder decoder;
  return decoder.decode(in, name, sink);
}

inline const tsunagu::NativeRecord& numbered(const std::vector<tsunagu::NativeRecord>& records,
                                             std::size_t n) {
  if (n == 0 || n > records.size()) throw std::out_of_range("no record " + std::to_string(n));
  return records[n - 1];
}

// The 1-based line of the first occurrence of `needle` in `text`.
inline std::uint64_t line_of(const std::string& text, const std::string& needle) {
  const std::size_t at = text.find(needle);
  if (at == std::string::npos) throw std::out_of_range("not found: " + needle);
  std::uint64_t line = 1;
  for (std::size_t i = 0; i < at; ++i) line += text[i] == '\n' ? 1 : 0;
  return line;
}

inline const std::string kExportOpen =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<HealthCentreExport xmlns=\"urn:sapporo:health-centre:export:1\" "
    "created=\"2019-06-05T23:30:00+09:00\">\n";
inline const std::string kExportClose = "</HealthCentreExport>\n";

// A small valid document; `body` replaces the observations.
inline std::string document(const std::string& id,
                            const std::string& body =
                                "<entry><observation><code code=\"RESULT\"/>"
                                "<value xsi:type=\"CD\" code=\"COMPLETED\"/>"
                                "</observation></entry>",
                            const std::string& header_extra = "") {
  return "  <ClinicalDocument xmlns=\"urn:hl7-org:v3\" "
         "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n"
         "    <id root=\"urn:sapporo:health-centre:record\" extension=\"" +
         id +
         "\"/><versionNumber value=\"1\"/>\n"
         "    <code code=\"HOME_VISIT\"/><effectiveTime value=\"20190605\"/>" +
         header_extra +
         "\n"
         "    <recordTarget><patientRole><patient><name use=\"IDE\"><family>試験</family>"
         "<given>一郎</given></name><administrativeGenderCode code=\"1\"/>"
         "<birthTime value=\"20190101\"/></patient><providerOrganization>"
         "<id root=\"urn:sapporo:ward\" extension=\"01101\"/></providerOrganization>"
         "</patientRole></recordTarget>\n"
         "    <component><structuredBody><component><section>" +
         body +
         "</section></component></structuredBody></component>\n"
         "  </ClinicalDocument>\n";
}

}  // namespace hc_test
