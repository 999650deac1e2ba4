// What a browser sends besides the path: query strings, urlencoded form bodies and cookies.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace tsunagu::web {

// "a=1&b=%E3%81%82+x" → {a: "1", b: "あ x"}. The first of a repeated name wins. Malformed percent
// escapes are kept as written; NUL bytes and invalid UTF-8 make the whole result nullopt.
std::optional<std::map<std::string, std::string>> parse_urlencoded(std::string_view text);

// The value of one cookie in a Cookie header ("a=1; b=2"), or "".
std::string cookie_value(std::string_view header, std::string_view name);

// Percent-encodes everything but unreserved characters (RFC 3986), for links built from values.
std::string url_encode(std::string_view text);

// A value for an HTML text node or a double-quoted attribute.
std::string html_escape(std::string_view text);

bool valid_utf8(std::string_view text);

}  // namespace tsunagu::web
