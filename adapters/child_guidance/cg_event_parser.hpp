// One 児童相談所システム event (SYSTEMS.md, "child_guidance"): a JSON object in UTF-8 → the flat
// native field map that mappings/child_guidance.xml reads.
//
// Nested members are flattened with dots. The native fields, and the JSON types they accept:
//
//   event_id, type, occurred_at, ward_code, risk_level, report_source, address, note
//                                                   string or null
//   revision                                        integer number or null (→ decimal text)
//   child                                           object or null; its members:
//   child.resident_id, child.name, child.name_kana, child.birth_date, child.sex
//                                                   string or null
//
// null becomes "" and an absent member stays absent, so the mapping treats both as empty (and its
// error can still say "missing" or "empty"). Members with other names, at any depth, are allowed
// and ignored, as the interface specification requires; their values are not checked.
//
// Judging the values (dates, codes, required fields) is the mapping's job. A record is rejected
// here only when it is not a usable JSON object: invalid UTF-8, invalid JSON, a value that is not
// an object, a known member of the wrong JSON type, a known member given twice, or a string that
// holds U+0000.
#pragma once

#include <array>
#include <memory>
#include <string_view>

#include <tsunagu/adapter.hpp>

namespace tsunagu::child_guidance {

inline constexpr std::array<std::string_view, 14> kNativeFields = {"event_id",
                                                                   "revision",
                                                                   "type",
                                                                   "occurred_at",
                                                                   "child.resident_id",
                                                                   "child.name",
                                                                   "child.name_kana",
                                                                   "child.birth_date",
                                                                   "child.sex",
                                                                   "ward_code",
                                                                   "risk_level",
                                                                   "report_source",
                                                                   "address",
                                                                   "note"};

// Objects nested deeper than this are refused (Poco's parser recurses; this bounds its stack).
inline constexpr std::size_t kMaxJsonDepth = 64;

// Where the first invalid UTF-8 byte sequence of `text` starts, or npos; `length` is then the
// length of that sequence (its maximal subpart, as Unicode counts it: at least 1). Overlong
// forms, surrogates and code points above U+10FFFF are invalid.
std::size_t find_invalid_utf8(std::string_view text, std::size_t& length) noexcept;

// Turns JSON texts into native fields. One instance per thread: it keeps a parser between calls.
class EventParser {
 public:
  EventParser();
  ~EventParser();
  EventParser(const EventParser&) = delete;
  EventParser& operator=(const EventParser&) = delete;

  // Parses `text` into record.fields (replacing them). On a problem sets record.error, and
  // record.error_field when one native field is to blame; every further problem is appended to
  // error as "; <field>: <reason>". The fields that were read before or besides the problem are
  // kept, so a person can still find the event (event_id) in the source system.
  // Throws only std::bad_alloc.
  void parse(std::string_view text, NativeRecord& record);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tsunagu::child_guidance
