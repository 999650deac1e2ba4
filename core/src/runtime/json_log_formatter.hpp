// <logging><format>json</format>: one JSON object per line, for the journal or a log shipper:
//   {"time":"2019-06-05T05:30:12.123456Z","level":"information","program":"tsunagud",
//    "module":"tsunagu.ingest","message":"…","system":"public_assistance","input_id":"12"}
// `module` is the logger's name; the id fields (common/log_fields.hpp) appear when the message
// carries them. Messages never carry personal data (only ids, digests and counts), so the lines
// can be shipped as they are.
#pragma once

#include <string>

#include <Poco/Formatter.h>

namespace tsunagu::runtime {

class JsonLineFormatter final : public Poco::Formatter {
 public:
  explicit JsonLineFormatter(std::string program) : program_(std::move(program)) {}
  void format(const Poco::Message& message, std::string& text) override;

 private:
  std::string program_;
};

}  // namespace tsunagu::runtime
