// A string as a JSON string literal, appended: the one escaping the store's payloads and the
// exchange log's canonical entries share. '"', '\\', \n, \r and \t get their short escapes, other
// bytes below 0x20 \u00xx (lowercase hex), everything else — UTF-8 included — stays as it is.
// The audit log's leaf hashes cover these bytes: the output must never change.
#pragma once

#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <string_view>

namespace tsunagu {

void append_json_string(std::string& out, std::string_view s);

// An object's members from a map, in its (byte) order and without whitespace: "k":"v","k2":"v2".
// No braces: the caller writes them, with whatever else the object holds. The exchange log's
// canonical details, event payloads' attributes and notice fields are written with it.
void append_json_members(std::string& out, const std::map<std::string, std::string>& members);

// Eight bytes at a time, for scanners of JSON text (the writer above, audit verify's reader).
namespace json_scan {

// Whether any of the 8 bytes of `w` needs an escape in a JSON string: below 0x20, '"' or '\\'.
// (A byte's high bit set means "not below 0x20" and never '"' or '\\', so it must not count.)
inline constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
inline constexpr std::uint64_t kHighs = 0x8080808080808080ULL;
inline bool word_needs_escape(std::uint64_t w) {
  auto zero_byte = [](std::uint64_t x) { return (x - kOnes) & ~x & kHighs; };
  const std::uint64_t below_space = (w - 0x20 * kOnes) & ~w & kHighs;
  return (below_space | zero_byte(w ^ ('"' * kOnes)) | zero_byte(w ^ ('\\' * kOnes))) != 0;
}

inline std::uint64_t load_word(const char* p) {
  std::uint64_t w;
  std::memcpy(&w, p, sizeof w);
  return w;
}

}  // namespace json_scan
}  // namespace tsunagu
