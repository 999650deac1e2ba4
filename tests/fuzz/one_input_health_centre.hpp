// fuzz_health_centre: one input = one HC_<YYYYMMDD>.xml export (CDA-style XML, libxml2).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <libxml/parser.h>

#include <health_centre/hc_export_decoder.hpp>

#include "fuzz_support.hpp"

namespace tsunagu::fuzz {

inline const RecordRules& health_centre_rules() {
  static const RecordRules rules = [] {
    // The hub's job, once, in its main thread before any decoder runs.
    xmlInitParser();
    RecordRules r;
    for (const std::string_view name : health_centre::kDocumentFields) r.known_fields.emplace(name);
    r.all_known_when_ok = true;  // every document field is there, empty when the element is absent
    r.only_known = false;        // observations add fields named by their codes
    // Known deviation: a file that is not XML is refused with a message quoting its first bytes
    // as they are, e.g. CP932 from a public-assistance CSV dropped in the wrong spool. Set back
    // to true once the adapter quotes non-UTF-8 bytes in hex.
    r.utf8_messages = false;
    return r;
  }();
  return rules;
}

inline std::string one_input_health_centre(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes = as_text(data, size);
  const RecordRules& rules = health_centre_rules();

  health_centre::HcExportDecoder decoder;
  DecodeResult result;
  CheckingSink full(bytes, rules);
  if (std::string problem = decode_and_check(decoder, bytes, rules, result, full);
      !problem.empty()) {
    return problem;
  }

  // Markup and character boundaries across read-buffer boundaries change nothing.
  health_centre::HcDecoderOptions small;
  small.read_buffer_bytes = small_buffer(bytes);
  health_centre::HcExportDecoder small_reads(small);
  CheckingSink sink_small(bytes, rules);
  auto in = stream_of(bytes);
  const DecodeResult result_small = small_reads.decode(in, "fuzz-input", sink_small);
  const std::string what = "read buffer of " + std::to_string(small.read_buffer_bytes) + " bytes";
  if (std::string problem = check_result(result_small, sink_small, false, rules);
      !problem.empty()) {
    return what + ": " + problem;
  }
  if (std::string problem = compare_decodes(result, full, result_small, sink_small, what);
      !problem.empty()) {
    return problem;
  }

  // The smallest document limit the settings allow: oversized documents are skipped streaming.
  health_centre::HcDecoderOptions limited;
  limited.max_document_bytes = 1024;
  limited.read_buffer_bytes = small.read_buffer_bytes;
  health_centre::HcExportDecoder limited_decoder(limited);
  CheckingSink sink_limited(bytes, rules);
  auto in_limited = stream_of(bytes);
  const DecodeResult result_limited =
      limited_decoder.decode(in_limited, "fuzz-input", sink_limited);
  if (std::string problem = check_result(result_limited, sink_limited, false, rules);
      !problem.empty()) {
    return "documents limited to 1024 bytes: " + problem;
  }
  return {};
}

}  // namespace tsunagu::fuzz
