// fuzz_public_assistance: one input = one PA_EVENTS_<YYYYMMDD>.csv export (CP932 CSV).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <public_assistance/pa_events_decoder.hpp>

#include "fuzz_support.hpp"

namespace tsunagu::fuzz {

inline const RecordRules& public_assistance_rules() {
  static const RecordRules rules = [] {
    RecordRules r;
    for (const std::string_view column : public_assistance::kColumns) {
      r.known_fields.emplace(column);
    }
    r.all_known_when_ok = true;  // a record without error has all fifteen columns
    r.only_known = true;
    r.error_field_known = true;
    return r;
  }();
  return rules;
}

inline std::string one_input_public_assistance(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes = as_text(data, size);
  const RecordRules& rules = public_assistance_rules();

  // As the plugin decodes by default; then every record again from its raw bytes.
  public_assistance::PaEventsDecoder decoder;
  DecodeResult result;
  CheckingSink full(bytes, rules);
  if (std::string problem = decode_and_check(decoder, bytes, rules, result, full);
      !problem.empty()) {
    return problem;
  }

  // Record and character boundaries across read-buffer boundaries change nothing.
  public_assistance::PaEventsDecoderOptions small;
  small.read_buffer_bytes = small_buffer(bytes);
  public_assistance::PaEventsDecoder small_reads(small);
  CheckingSink sink_small(bytes, rules);
  auto in = stream_of(bytes);
  const DecodeResult result_small = small_reads.decode(in, "fuzz-input", sink_small);
  if (std::string problem = check_result(result_small, sink_small, false, rules);
      !problem.empty()) {
    return "read buffer of " + std::to_string(small.read_buffer_bytes) + " bytes: " + problem;
  }
  if (std::string problem =
          compare_decodes(result, full, result_small, sink_small,
                          "read buffer of " + std::to_string(small.read_buffer_bytes) + " bytes");
      !problem.empty()) {
    return problem;
  }

  // A record limit the input can reach: the over-long records are cut, the rest go on.
  public_assistance::PaEventsDecoderOptions limited;
  limited.max_record_bytes = 64;
  limited.read_buffer_bytes = small.read_buffer_bytes;
  public_assistance::PaEventsDecoder limited_decoder(limited);
  CheckingSink sink_limited(bytes, rules);
  auto in_limited = stream_of(bytes);
  const DecodeResult result_limited =
      limited_decoder.decode(in_limited, "fuzz-input", sink_limited);
  if (std::string problem = check_result(result_limited, sink_limited, false, rules);
      !problem.empty()) {
    return "records limited to 64 bytes: " + problem;
  }
  for (const NativeRecord& record : sink_limited.records) {
    if (record.raw.size() > limited.max_record_bytes) {
      return "records limited to 64 bytes: record " + std::to_string(record.number) + " keeps " +
             std::to_string(record.raw.size()) + " bytes of raw";
    }
  }
  return {};
}

}  // namespace tsunagu::fuzz
