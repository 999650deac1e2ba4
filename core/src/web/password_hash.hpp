// Password hashing with scrypt (RFC 7914) through OpenSSL's EVP_KDF "SCRYPT".
//
// A stored hash carries its own parameters and salt, so the cost can be raised later without
// invalidating existing passwords:  $scrypt$ln=15,r=8,p=1$<salt, base64>$<hash, base64>
// (N = 2^ln). Each hash has a fresh 16-byte salt from OpenSSL's CSPRNG; the derived key is 32
// bytes; verification compares in constant time. With the defaults one hash takes about 32 MiB
// and some 100 ms on one core: login throttling (login_throttle.hpp) bounds how often a client
// can make the hub pay that.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace tsunagu::web {

struct ScryptParams {
  int log2_n = 15;  // N = 2^log2_n
  int r = 8;
  int p = 1;
};

class PasswordError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The parameters a new password is hashed with.
inline constexpr ScryptParams kDefaultScrypt{};

// Throws PasswordError if OpenSSL cannot derive (parameters out of range, no memory).
std::string hash_password(std::string_view password, const ScryptParams& params = kDefaultScrypt);

// True if `password` matches `stored`. A stored value that is not a well-formed scrypt hash with
// parameters within bounds (log2_n 10..20, r 1..32, p 1..16 — a tampered row must not make the
// hub allocate gigabytes) never matches.
bool verify_password(std::string_view password, std::string_view stored);

// Spends the time of one verification without any account, so that "no such login" takes as
// long as "wrong password".
void burn_verification_time(std::string_view password);

// What a password must be: at least 12 characters (code points), at most 1024 bytes, not only
// spaces. Returns "" if acceptable, else a Japanese sentence saying what is wrong.
std::string password_problem(std::string_view password);

}  // namespace tsunagu::web
