// Random secrets that travel (session ids, CSRF tokens, API tokens) and how the store keeps them.
#pragma once

#include <string>
#include <string_view>

namespace tsunagu::web {

// `bytes` random bytes from OpenSSL's CSPRNG, base64url without padding (32 bytes → 43 chars).
std::string random_token(std::size_t bytes = 32);

// SHA-256 of the text, lower-case hex: how session ids and API tokens are stored, so a copy of
// the store does not let anyone log in.
std::string token_hash(std::string_view token);

// Constant time in the length of the inputs (CRYPTO_memcmp); different lengths are unequal.
bool constant_time_equal(std::string_view a, std::string_view b);

std::string base64url(std::string_view bytes);
// Standard base64 with padding, and back; decode returns false on anything malformed.
std::string base64(std::string_view bytes);
bool base64_decode(std::string_view text, std::string& out);

}  // namespace tsunagu::web
