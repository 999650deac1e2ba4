// A minimal adapter for loader tests: one record per line, the line in field "line".
#pragma once

#include <string>

#include <tsunagu/adapter.hpp>

namespace tsunagu_test {

class EchoAdapter final : public tsunagu::Adapter {
 public:
  const char* system() const noexcept override { return "echo"; }
  tsunagu::DecodeResult decode(std::istream& in, const std::string&,
                               tsunagu::RecordSink& sink) noexcept override {
    tsunagu::DecodeResult result;
    std::string line;
    while (std::getline(in, line)) {
      tsunagu::NativeRecord r;
      r.number = ++result.records;
      r.line = r.number;
      r.raw = line;
      r.fields["line"] = line;
      if (!sink.accept(std::move(r))) {
        result.stopped = true;
        break;
      }
    }
    return result;
  }
};

inline tsunagu::Adapter* create_echo(const tsunagu::PluginSettings&, std::string&) noexcept {
  return new (std::nothrow) EchoAdapter;
}

}  // namespace tsunagu_test
