#include "web/password_hash.hpp"

#include <charconv>
#include <cstdint>
#include <memory>
#include <vector>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "web/secret_token.hpp"

namespace tsunagu::web {
namespace {

constexpr std::size_t kSaltBytes = 16;
constexpr std::size_t kKeyBytes = 32;
constexpr const char* kPrefix = "$scrypt$";

struct KdfFree {
  void operator()(EVP_KDF* k) const { EVP_KDF_free(k); }
  void operator()(EVP_KDF_CTX* c) const { EVP_KDF_CTX_free(c); }
};

bool within_bounds(const ScryptParams& p) {
  return p.log2_n >= 10 && p.log2_n <= 20 && p.r >= 1 && p.r <= 32 && p.p >= 1 && p.p <= 16;
}

// scrypt needs 128 * r * N bytes (plus 128 * r * p); OpenSSL refuses more than maxmem.
std::uint64_t memory_needed(const ScryptParams& p) {
  const std::uint64_t n = std::uint64_t{1} << static_cast<unsigned>(p.log2_n);
  return 128ULL * static_cast<std::uint64_t>(p.r) * (n + static_cast<std::uint64_t>(p.p) + 2) +
         (1ULL << 20U);
}

std::string derive(std::string_view password, std::string_view salt, const ScryptParams& params) {
  std::unique_ptr<EVP_KDF, KdfFree> kdf(EVP_KDF_fetch(nullptr, "SCRYPT", nullptr));
  if (!kdf) throw PasswordError("OpenSSL has no SCRYPT key derivation");
  std::unique_ptr<EVP_KDF_CTX, KdfFree> ctx(EVP_KDF_CTX_new(kdf.get()));
  if (!ctx) throw PasswordError("OpenSSL cannot make a SCRYPT context");
  std::uint64_t n = std::uint64_t{1} << static_cast<unsigned>(params.log2_n);
  auto r = static_cast<std::uint32_t>(params.r);
  auto p = static_cast<std::uint32_t>(params.p);
  std::uint64_t maxmem = memory_needed(params);
  // OSSL_PARAM takes non-const pointers; OpenSSL only reads them.
  std::string pw(password);
  std::string s(salt);
  const OSSL_PARAM list[] = {
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, pw.data(), pw.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, s.data(), s.size()),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n),
      OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r),
      OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem),
      OSSL_PARAM_construct_end()};
  std::string key(kKeyBytes, '\0');
  const int ok =
      EVP_KDF_derive(ctx.get(), reinterpret_cast<unsigned char*>(key.data()), key.size(), list);
  OPENSSL_cleanse(pw.data(), pw.size());
  if (ok != 1) {
    const unsigned long e = ERR_get_error();
    ERR_clear_error();
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    throw PasswordError(std::string("scrypt failed: ") + buf);
  }
  return key;
}

bool parse_int(std::string_view text, int& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

// "$scrypt$ln=15,r=8,p=1$salt$hash" → its parts; false if malformed.
bool parse_stored(std::string_view stored, ScryptParams& params, std::string& salt,
                  std::string& hash) {
  if (stored.substr(0, 8) != kPrefix) return false;
  stored.remove_prefix(8);
  const auto d1 = stored.find('$');
  if (d1 == std::string_view::npos) return false;
  const auto d2 = stored.find('$', d1 + 1);
  if (d2 == std::string_view::npos) return false;
  std::string_view ps = stored.substr(0, d1);
  // Exactly "ln=…,r=…,p=…", in that order.
  const auto c1 = ps.find(','), c2 = ps.rfind(',');
  if (c1 == std::string_view::npos || c1 == c2) return false;
  const std::string_view ln = ps.substr(0, c1), r = ps.substr(c1 + 1, c2 - c1 - 1),
                         p = ps.substr(c2 + 1);
  if (ln.substr(0, 3) != "ln=" || r.substr(0, 2) != "r=" || p.substr(0, 2) != "p=") return false;
  if (!parse_int(ln.substr(3), params.log2_n) || !parse_int(r.substr(2), params.r) ||
      !parse_int(p.substr(2), params.p)) {
    return false;
  }
  return base64_decode(stored.substr(d1 + 1, d2 - d1 - 1), salt) &&
         base64_decode(stored.substr(d2 + 1), hash) && salt.size() >= 8 && hash.size() == kKeyBytes;
}

}  // namespace

std::string hash_password(std::string_view password, const ScryptParams& params) {
  if (!within_bounds(params)) throw PasswordError("scrypt parameters out of range");
  std::string salt(kSaltBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(salt.data()), static_cast<int>(salt.size())) !=
      1) {
    throw PasswordError("OpenSSL's random generator failed");
  }
  const std::string key = derive(password, salt, params);
  return std::string(kPrefix) + "ln=" + std::to_string(params.log2_n) +
         ",r=" + std::to_string(params.r) + ",p=" + std::to_string(params.p) + "$" + base64(salt) +
         "$" + base64(key);
}

bool verify_password(std::string_view password, std::string_view stored) {
  ScryptParams params;
  std::string salt, expected;
  if (!parse_stored(stored, params, salt, expected) || !within_bounds(params)) return false;
  try {
    return constant_time_equal(derive(password, salt, params), expected);
  } catch (const PasswordError&) {
    return false;
  }
}

void burn_verification_time(std::string_view password) {
  // A fixed salt is fine: the result is thrown away.
  try {
    (void)derive(password, "tsunagu-no-such-account", kDefaultScrypt);
  } catch (const PasswordError&) {  // NOLINT(bugprone-empty-catch): only time is wanted
  }
}

std::string password_problem(std::string_view password) {
  if (password.size() > 1024) return "パスワードが長すぎます (1024 バイトまで)";
  std::size_t code_points = 0;
  bool only_spaces = true;
  for (const char c : password) {
    if ((static_cast<unsigned char>(c) & 0xC0U) != 0x80U) ++code_points;
    if (c != ' ' && c != '\t') only_spaces = false;
  }
  if (code_points < 12) return "パスワードは 12 文字以上にしてください";
  if (only_spaces) return "パスワードが空白だけです";
  return "";
}

}  // namespace tsunagu::web
