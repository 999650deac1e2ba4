// What every fuzz target shares (tests/fuzz/README.md): a sink that checks the adapter ABI's
// promises record by record, the comparison of two decodes of the same input, and small helpers.
//
// The "one input" functions (one_input_*.hpp) return an empty string when every invariant held and
// otherwise a description of the first one that did not. The libFuzzer targets abort with it (a
// crash libFuzzer saves), the GoogleTest replay (regression_test.cpp) fails with it; sanitizer
// reports and exceptions that escape stop both.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <initializer_list>
#include <limits>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <tsunagu/adapter.hpp>

namespace tsunagu::fuzz {

// The checkout, for the shipped mappings (compile definition of every fuzz and replay target).
inline std::filesystem::path source_dir() {
  return TSUNAGU_SOURCE_DIR;
}

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) noexcept {
  return size == 0 ? std::string_view{}
                   : std::string_view(reinterpret_cast<const char*>(data), size);
}

// "…" + the first bytes of `bytes` with non-printable ones escaped, for messages.
inline std::string excerpt(std::string_view bytes, std::size_t max = 48) {
  std::string out;
  for (std::size_t i = 0; i < bytes.size() && i < max; ++i) {
    const auto byte = static_cast<unsigned char>(bytes[i]);
    if (byte >= 0x20 && byte < 0x7F && byte != '\\') {
      out += static_cast<char>(byte);
    } else {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0x0F];
    }
  }
  if (bytes.size() > max) out += "…";
  return "\"" + out + "\" (" + std::to_string(bytes.size()) + " bytes)";
}

// Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF.
inline bool is_valid_utf8(std::string_view text) noexcept {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    if (lead < 0x80) {
      ++i;
      continue;
    }
    std::size_t length = 0;
    unsigned char low = 0x80;
    unsigned char high = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3;
      if (lead == 0xE0) low = 0xA0;
      if (lead == 0xED) high = 0x9F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      length = 4;
      if (lead == 0xF0) low = 0x90;
      if (lead == 0xF4) high = 0x8F;
    } else {
      return false;
    }
    if (i + length > text.size()) return false;
    const auto second = static_cast<unsigned char>(text[i + 1]);
    if (second < low || second > high) return false;
    for (std::size_t k = 2; k < length; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return false;
    }
    i += length;
  }
  return true;
}

// What a decoder promises about the records it hands out, beyond the ABI's common rules.
struct RecordRules {
  // Records may have an empty raw when they carry an error (education: an empty line is a wrong
  // record). Otherwise every record has bytes.
  bool empty_raw_with_error = false;
  // line counts from 1 (line-oriented formats).
  bool lines_from_one = true;
  // raw is the record's bytes exactly as received, so it occurs in the input as it is.
  bool raw_in_input = true;
  // Field names the decoder knows. Every one of them is present in a record without error when
  // `all_known_when_ok`; no other field name ever occurs when `only_known`.
  std::set<std::string, std::less<>> known_fields;
  bool all_known_when_ok = false;
  bool only_known = false;
  // error_field, when set, is one of known_fields.
  bool error_field_known = false;
  // Messages (record errors, the result's message) are UTF-8: they reach reports, logs and the
  // CLI, so bad input bytes are quoted in hex.
  bool utf8_messages = true;
};

// Checks every record as it arrives, keeps them for comparison, and stops after `stop_after`.
class CheckingSink final : public RecordSink {
 public:
  CheckingSink(std::string_view input, const RecordRules& rules,
               std::size_t stop_after = std::numeric_limits<std::size_t>::max())
      : input_(input), rules_(rules), stop_after_(stop_after) {}

  bool accept(NativeRecord&& record) noexcept override {
    if (problem.empty()) problem = check(record);
    if (problem.empty() && !record.error.empty()) ++errors;
    records.push_back(std::move(record));
    return records.size() < stop_after_;
  }

  // The first broken promise, "" while there is none.
  std::string problem;
  std::vector<NativeRecord> records;
  std::size_t errors = 0;

 private:
  std::string check(const NativeRecord& record) const {
    const std::string where = "record " + std::to_string(record.number) + ": ";
    if (record.number != records.size() + 1) {
      return where + "numbers must count from 1 without gaps; expected " +
             std::to_string(records.size() + 1);
    }
    if (rules_.lines_from_one && record.line == 0) return where + "line is 0";
    if (!records.empty() && record.line < records.back().line) {
      return where + "starts on line " + std::to_string(record.line) +
             ", before the previous record (line " + std::to_string(records.back().line) + ")";
    }
    if (record.raw.empty() && !(rules_.empty_raw_with_error && !record.error.empty())) {
      return where + "raw is empty" + (record.error.empty() ? " and there is no error" : "");
    }
    if (rules_.raw_in_input && input_.find(record.raw) == std::string_view::npos) {
      return where + "raw " + excerpt(record.raw) + " is not bytes of the input";
    }
    if (!record.error_field.empty() && record.error.empty()) {
      return where + "error_field '" + record.error_field + "' without an error";
    }
    if (rules_.utf8_messages && !is_valid_utf8(record.error)) {
      return where + "the error message is not UTF-8: " + excerpt(record.error, 120);
    }
    if (!is_valid_utf8(record.error_field)) return where + "error_field is not UTF-8";
    if (rules_.error_field_known && !record.error_field.empty() &&
        !rules_.known_fields.contains(record.error_field)) {
      return where + "error_field '" + record.error_field + "' is not a field of the format";
    }
    for (const auto& [name, value] : record.fields) {
      if (rules_.only_known && !rules_.known_fields.contains(name)) {
        return where + "field '" + name + "' is not a field of the format";
      }
      if (!is_valid_utf8(name)) return where + "a field name is not UTF-8: " + excerpt(name);
      if (!is_valid_utf8(value)) {
        return where + "field '" + name + "' is not UTF-8: " + excerpt(value);
      }
    }
    if (record.error.empty() && rules_.all_known_when_ok) {
      for (const auto& name : rules_.known_fields) {
        if (!record.fields.contains(name)) {
          return where + "has no error but lacks field '" + name + "'";
        }
      }
    }
    return {};
  }

  std::string_view input_;
  const RecordRules& rules_;
  std::size_t stop_after_;
};

// The result's own promises, given what the sink received.
inline std::string check_result(const DecodeResult& result, const CheckingSink& sink,
                                bool sink_stopped_it, const RecordRules& rules) {
  if (!sink.problem.empty()) return sink.problem;
  if (result.records != sink.records.size()) {
    return "the result counts " + std::to_string(result.records) + " records, the sink got " +
           std::to_string(sink.records.size());
  }
  if (result.stopped != sink_stopped_it) {
    return result.stopped ? "the result says stopped, but the sink never asked to stop"
                          : "the sink asked to stop, but the result does not say so";
  }
  if (!result.ok && result.message.empty()) return "ok=false without a message";
  if (rules.utf8_messages && !is_valid_utf8(result.message)) {
    return "the result's message is not UTF-8: " + excerpt(result.message, 120);
  }
  return {};
}

inline std::string describe_difference(const NativeRecord& a, const NativeRecord& b) {
  if (a.number != b.number) return "number";
  if (a.line != b.line) {
    return "line (" + std::to_string(a.line) + " vs " + std::to_string(b.line) + ")";
  }
  if (a.raw != b.raw) return "raw (" + excerpt(a.raw) + " vs " + excerpt(b.raw) + ")";
  if (a.error_field != b.error_field) {
    return "error_field ('" + a.error_field + "' vs '" + b.error_field + "')";
  }
  if (a.error != b.error) return "error ('" + a.error + "' vs '" + b.error + "')";
  if (a.fields != b.fields) return "fields";
  return {};
}

// Two decodes of the same bytes that must agree record for record, e.g. with a different read
// buffer size: `what` names the second one in the message. With `prefix` the second may have
// stopped early and need only agree as far as it got.
inline std::string compare_decodes(const DecodeResult& a, const CheckingSink& sink_a,
                                   const DecodeResult& b, const CheckingSink& sink_b,
                                   std::string_view what, bool prefix = false) {
  const std::string context = std::string(what) + ": ";
  // Only the verdict, not the message: which of several faults a parser meets first may depend on
  // how its input was cut (libxml2 reads ahead in chunks).
  if (!prefix && a.ok != b.ok) {
    return context + "the result differs: '" + a.message + "' vs '" + b.message + "'";
  }
  // A file that breaks part-way delivers the records before the break; how far the decoder got
  // before it noticed (libxml2 again) may depend on the cut, so one may be a prefix of the other.
  const bool broken = !a.ok && !b.ok;
  const std::size_t common = std::min(sink_a.records.size(), sink_b.records.size());
  if (!prefix && !broken && sink_a.records.size() != sink_b.records.size()) {
    return context + std::to_string(sink_b.records.size()) + " records instead of " +
           std::to_string(sink_a.records.size());
  }
  if (prefix && sink_b.records.size() > sink_a.records.size()) {
    return context + "more records than the full decode";
  }
  for (std::size_t i = 0; i < common; ++i) {
    const std::string difference = describe_difference(sink_a.records[i], sink_b.records[i]);
    if (!difference.empty()) {
      return context + "record " + std::to_string(i + 1) + " differs in its " + difference;
    }
  }
  return {};
}

// Input bytes as a stream, the way the hub hands a spool file to an adapter.
inline std::istringstream stream_of(std::string_view bytes) {
  return std::istringstream(std::string(bytes), std::ios::in | std::ios::binary);
}

// A read buffer size from 1 to 16 that depends on the input, so that the fuzzer moves record and
// character boundaries across buffer boundaries.
inline std::size_t small_buffer(std::string_view bytes) noexcept {
  std::size_t h = bytes.size();
  for (std::size_t i = 0; i < bytes.size() && i < 8; ++i) {
    h = h * 31 + static_cast<unsigned char>(bytes[i]);
  }
  return 1 + h % 16;
}

// Decodes `bytes` with `adapter`: once in full, again with the sink stopping half-way, and, if the
// adapter can, each record again from its raw bytes (quarantine retry). Returns the first broken
// promise. `full` receives the records of the full decode.
template <typename Adapter>
std::string decode_and_check(Adapter& adapter, std::string_view bytes, const RecordRules& rules,
                             DecodeResult& result, CheckingSink& full) {
  {
    auto in = stream_of(bytes);
    result = adapter.decode(in, "fuzz-input", full);
    if (std::string problem = check_result(result, full, false, rules); !problem.empty()) {
      return problem;
    }
  }
  if (full.records.size() >= 2) {
    // A sink that asks to stop gets no record after that one.
    const std::size_t stop_after = 1 + full.records.size() / 2;
    CheckingSink partial(bytes, rules, stop_after);
    auto in = stream_of(bytes);
    const DecodeResult stopped = adapter.decode(in, "fuzz-input", partial);
    if (std::string problem = check_result(stopped, partial, true, rules); !problem.empty()) {
      return "stopping after " + std::to_string(stop_after) + " records: " + problem;
    }
    if (partial.records.size() != stop_after) {
      return "stopping after " + std::to_string(stop_after) + " records: got " +
             std::to_string(partial.records.size());
    }
    if (std::string problem =
            compare_decodes(result, full, stopped, partial, "stopping half-way", true);
        !problem.empty()) {
      return problem;
    }
  }
  for (const NativeRecord& original : full.records) {
    // decode_record promises the record it was handed out as, from raw alone: a good record stays
    // good, with the same fields. (A rejected one may fare differently out of its file: the
    // health-centre adapter re-wraps a document in a root declaring xsi, as exports do.)
    CheckingSink again(original.raw, rules);
    const DecodeResult retried = adapter.decode_record(original.raw, again);
    if (!retried.ok) continue;  // this adapter cannot, or not this record: nothing promised
    const std::string where = "decode_record of record " + std::to_string(original.number) + ": ";
    if (again.records.size() != 1) {
      return where + std::to_string(again.records.size()) + " records instead of one";
    }
    const NativeRecord& copy = again.records.front();
    if (copy.raw != original.raw) return where + "raw differs";
    if (!original.error.empty()) continue;
    if (!copy.error.empty()) {
      return where + "a good record was rejected: " + copy.error_field + ": " + copy.error;
    }
    if (copy.fields != original.fields) return where + "fields differ";
  }
  return {};
}

// How the libFuzzer targets end an input that broke a promise: a crash, which libFuzzer saves.
inline void abort_on_problem(const std::string& problem, std::string_view target) {
  if (problem.empty()) return;
  std::fprintf(stderr, "\n%.*s: invariant violated: %s\n", static_cast<int>(target.size()),
               target.data(), problem.c_str());
  std::abort();
}

}  // namespace tsunagu::fuzz
