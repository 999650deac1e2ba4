// fuzz_child_guidance: one input = one push body or CG_<YYYYMMDD>.ndjson file (UTF-8 JSON), read
// in each of the adapter's three framings.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include <child_guidance/cg_event_parser.hpp>
#include <child_guidance/cg_events_decoder.hpp>

#include "fuzz_support.hpp"

namespace tsunagu::fuzz {

inline const RecordRules& child_guidance_rules() {
  static const RecordRules rules = [] {
    RecordRules r;
    for (const std::string_view name : child_guidance::kNativeFields) r.known_fields.emplace(name);
    r.all_known_when_ok = false;  // an absent member stays absent
    r.only_known = true;          // unknown members are ignored, never passed on
    // error_field may name any member: "child" when it is not an object, an unknown member
    // after which the JSON breaks.
    // Known deviation: Poco's parser messages, passed on, quote the byte it stopped at, which
    // may be one byte of a multi-byte character ("unexpected byte '\xE7' in value" for a bare
    // 管). Set back to true once the adapter escapes them.
    r.utf8_messages = false;
    return r;
  }();
  return rules;
}

inline std::string one_input_child_guidance(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes = as_text(data, size);
  const RecordRules& rules = child_guidance_rules();

  using child_guidance::InputFormat;
  constexpr std::array<std::pair<InputFormat, std::string_view>, 3> kFormats{{
      {InputFormat::automatic, "format=auto"},
      {InputFormat::ndjson, "format=ndjson"},
      {InputFormat::json, "format=json"},
  }};
  for (const auto& [format, name] : kFormats) {
    child_guidance::CgEventsDecoderOptions options;
    options.format = format;
    child_guidance::CgEventsDecoder decoder(options);
    DecodeResult result;
    CheckingSink full(bytes, rules);
    if (std::string problem = decode_and_check(decoder, bytes, rules, result, full);
        !problem.empty()) {
      return std::string(name) + ": " + problem;
    }

    // Line and character boundaries across read-buffer boundaries change nothing.
    // At least 3 bytes: a byte order mark is only recognised whole in the first read, which is
    // 64 KiB in the plugin (a setting cannot make it smaller).
    child_guidance::CgEventsDecoderOptions small = options;
    small.read_buffer_bytes = 2 + small_buffer(bytes);
    child_guidance::CgEventsDecoder small_reads(small);
    CheckingSink sink_small(bytes, rules);
    auto in = stream_of(bytes);
    const DecodeResult result_small = small_reads.decode(in, "fuzz-input", sink_small);
    const std::string what = std::string(name) + ", read buffer of " +
                             std::to_string(small.read_buffer_bytes) + " bytes";
    if (std::string problem = check_result(result_small, sink_small, false, rules);
        !problem.empty()) {
      return what + ": " + problem;
    }
    if (std::string problem = compare_decodes(result, full, result_small, sink_small, what);
        !problem.empty()) {
      return problem;
    }

    // A record limit the input can reach: longer records are rejected on their own, keeping
    // the limit's bytes and one more (which shows that the limit was passed).
    child_guidance::CgEventsDecoderOptions limited = small;
    limited.max_record_bytes = 64;
    child_guidance::CgEventsDecoder limited_decoder(limited);
    CheckingSink sink_limited(bytes, rules);
    auto in_limited = stream_of(bytes);
    const DecodeResult result_limited =
        limited_decoder.decode(in_limited, "fuzz-input", sink_limited);
    if (std::string problem = check_result(result_limited, sink_limited, false, rules);
        !problem.empty()) {
      return std::string(name) + ", records limited to 64 bytes: " + problem;
    }
    for (const NativeRecord& record : sink_limited.records) {
      if (record.raw.size() > limited.max_record_bytes + 1) {
        return std::string(name) + ", records limited to 64 bytes: record " +
               std::to_string(record.number) + " keeps " + std::to_string(record.raw.size()) +
               " bytes of raw";
      }
    }
  }
  return {};
}

}  // namespace tsunagu::fuzz
