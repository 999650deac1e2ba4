// A fake public_assistance adapter for tests of the ingest paths: one record per line,
// "<ref>,<ward code>" (tsunagu_test::pa_native_fields), and a line "!" makes the input unusable
// at that point.
#pragma once

#include <istream>
#include <string>
#include <utility>

#include <tsunagu/adapter.hpp>

#include "support/pa_fields.hpp"

namespace tsunagu_test {

class LineAdapter final : public tsunagu::Adapter {
 public:
  const char* system() const noexcept override { return "public_assistance"; }
  tsunagu::DecodeResult decode(std::istream& in, const std::string&,
                               tsunagu::RecordSink& sink) noexcept override {
    tsunagu::DecodeResult result;
    std::string line;
    while (std::getline(in, line)) {
      if (line == "!") return {false, "line " + std::to_string(result.records + 1) + " is bad"};
      tsunagu::NativeRecord r;
      r.number = ++result.records;
      r.raw = line;
      const auto comma = line.find(',');
      r.fields = pa_native_fields(line.substr(0, comma), line.substr(comma + 1));
      if (!sink.accept(std::move(r))) {
        result.stopped = true;
        break;
      }
    }
    return result;
  }
};

}  // namespace tsunagu_test
