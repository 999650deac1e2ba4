// fuzz_education: one input = one ED_<YYYYMMDD>.dat export (fixed-width CP932 records), decoded
// with the layout of the shipped mappings/education.xml, exactly as the hub configures the plugin.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include <education/ed_record_decoder.hpp>
#include <mapping/mapping.hpp>

#include "fuzz_support.hpp"

namespace tsunagu::fuzz {

inline const education::RecordLayout& education_layout() {
  static const education::RecordLayout layout = [] {
    const mapping::Mapping shipped = mapping::Mapping::load_file(
        source_dir() / "mappings" / "education.xml", source_dir() / "mappings" / "mapping.xsd");
    education::RecordLayout parsed;
    std::string error;
    if (!education::layout_from_settings(shipped.adapter_settings(), parsed, error)) {
      throw std::runtime_error(error);
    }
    return parsed;
  }();
  return layout;
}

inline const RecordRules& education_rules() {
  static const RecordRules rules = [] {
    RecordRules r;
    r.empty_raw_with_error = true;  // an empty line is a record too, and a wrong one
    for (const education::FieldSpan& field : education_layout().fields) {
      r.known_fields.insert(field.name);
    }
    r.all_known_when_ok = true;
    r.only_known = true;
    r.error_field_known = true;
    return r;
  }();
  return rules;
}

inline std::string one_input_education(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes = as_text(data, size);
  const RecordRules& rules = education_rules();
  const education::RecordLayout& layout = education_layout();

  education::EdRecordDecoder decoder(layout);
  DecodeResult result;
  CheckingSink full(bytes, rules);
  if (std::string problem = decode_and_check(decoder, bytes, rules, result, full);
      !problem.empty()) {
    return problem;
  }
  for (const NativeRecord& record : full.records) {
    // A record without error is exactly one record's bytes.
    if (record.error.empty() && record.raw.size() != layout.record_length) {
      return "record " + std::to_string(record.number) + " has no error but " +
             std::to_string(record.raw.size()) + " bytes";
    }
  }

  // Line and character boundaries across read-buffer boundaries change nothing.
  education::EdRecordDecoderOptions small;
  small.read_buffer_bytes = small_buffer(bytes);
  education::EdRecordDecoder small_reads(layout, small);
  CheckingSink sink_small(bytes, rules);
  auto in = stream_of(bytes);
  const DecodeResult result_small = small_reads.decode(in, "fuzz-input", sink_small);
  const std::string what = "read buffer of " + std::to_string(small.read_buffer_bytes) + " bytes";
  if (std::string problem = check_result(result_small, sink_small, false, rules);
      !problem.empty()) {
    return what + ": " + problem;
  }
  return compare_decodes(result, full, result_small, sink_small, what);
}

}  // namespace tsunagu::fuzz
