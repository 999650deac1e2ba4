// Checks on the text a channel writes out (UTF-8 by the ABI's contract, but a contract is not a
// guarantee). Failures say where, never what: the text may be personal data.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace tsunagu::channels {

struct TextProblem {
  std::size_t offset = 0;
  std::string what;  // "invalid UTF-8", "a control character XML does not allow", …
};

// Returns true when `text` is well-formed UTF-8 (no overlongs, surrogates or values past
// U+10FFFF). With `xml`, also refuses what XML 1.0 cannot hold: C0 controls other than tab, line
// feed and carriage return, and U+FFFE/U+FFFF.
inline bool check_text(std::string_view text, bool xml, TextProblem& problem) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    if (lead < 0x80) {
      if (xml && lead < 0x20 && lead != '\t' && lead != '\n' && lead != '\r') {
        problem = {i, "a control character XML does not allow"};
        return false;
      }
      ++i;
      continue;
    }
    std::size_t length = 0;
    char32_t cp = 0;
    if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2;
      cp = lead & 0x1F;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3;
      cp = lead & 0x0F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      length = 4;
      cp = lead & 0x07;
    }
    bool ok = length != 0 && i + length <= text.size();
    for (std::size_t k = 1; ok && k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      ok = (next & 0xC0) == 0x80;
      cp = (cp << 6) | (next & 0x3F);
    }
    const char32_t minimum = length == 2 ? 0x80 : length == 3 ? 0x800 : 0x10000;
    ok = ok && cp >= minimum && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
    if (!ok) {
      problem = {i, "invalid UTF-8"};
      return false;
    }
    if (xml && (cp == 0xFFFE || cp == 0xFFFF)) {
      problem = {i, "a character XML does not allow"};
      return false;
    }
    i += length;
  }
  return true;
}

// A delivery id as a file name or header value: 1–128 of [A-Za-z0-9._-], not starting with '.'.
inline bool safe_delivery_id(std::string_view id) {
  if (id.empty() || id.size() > 128 || id.front() == '.') return false;
  for (const char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace tsunagu::channels
