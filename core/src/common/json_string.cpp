#include "common/json_string.hpp"

#include <cstdio>

namespace tsunagu {

using json_scan::load_word;
using json_scan::word_needs_escape;

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  std::size_t plain = 0;  // start of the run of bytes that need no escape
  std::size_t i = 0;
  while (i < s.size()) {
    // Eight bytes at a time while none needs an escape: entries are written for every record.
    if (i + 8 <= s.size() && !word_needs_escape(load_word(s.data() + i))) {
      i += 8;
      continue;
    }
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') {
      ++i;
      continue;
    }
    out.append(s, plain, i - plain);  // runs are appended whole
    plain = ++i;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default: {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", c);
        out += buf;
      }
    }
  }
  out.append(s, plain, std::string_view::npos);
  out += '"';
}

void append_json_members(std::string& out, const std::map<std::string, std::string>& members) {
  bool first = true;
  for (const auto& [k, v] : members) {
    if (!first) out += ',';
    first = false;
    append_json_string(out, k);
    out += ':';
    append_json_string(out, v);
  }
}

}  // namespace tsunagu
