#include "security/keyring.hpp"

#include <atomic>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "security/errors.hpp"
#include "security/openssl_detail.hpp"

namespace tsunagu::security {
namespace fs = std::filesystem;
namespace {

EVP_MAC* hmac_algorithm() {
  // Fetched once: HMAC() looks the algorithm up by name on every call, which was most of a
  // lookup token's cost (bench/RESULTS.md).
  static EVP_MAC* const mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (mac == nullptr) throw CryptoError("OpenSSL has no HMAC: " + detail::take_openssl_error());
  return mac;
}

// A thread's HMAC-SHA256 context, keyed once for one key: re-initialising it without a key
// restarts from the prepared inner and outer pads, so a token costs two short SHA-256 runs.
// `owner` is the serial of the keyring (or 0 for hmac_sha256) whose key it holds.
struct ThreadHmac {
  EVP_MAC_CTX* ctx = nullptr;
  std::uint64_t owner = 0;
  ThreadHmac() = default;
  ThreadHmac(const ThreadHmac&) = delete;
  ThreadHmac& operator=(const ThreadHmac&) = delete;
  ~ThreadHmac() { EVP_MAC_CTX_free(ctx); }  // wipes the keyed state
};

EVP_MAC_CTX* keyed_context(ThreadHmac& slot, std::uint64_t owner, std::string_view key) {
  if (slot.ctx == nullptr) {
    slot.ctx = EVP_MAC_CTX_new(hmac_algorithm());
    if (slot.ctx == nullptr) throw CryptoError("cannot allocate an HMAC context");
  }
  const bool rekey = owner == 0 || slot.owner != owner;
  if (rekey) {
    char digest[] = "SHA256";
    const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                                 OSSL_PARAM_construct_end()};
    slot.owner = 0;
    if (EVP_MAC_init(slot.ctx, reinterpret_cast<const unsigned char*>(key.data()), key.size(),
                     params) != 1) {
      throw CryptoError("HMAC-SHA256 key set-up failed: " + detail::take_openssl_error());
    }
    slot.owner = owner;
  } else if (EVP_MAC_init(slot.ctx, nullptr, 0, nullptr) != 1) {
    slot.owner = 0;
    throw CryptoError("HMAC-SHA256 failed: " + detail::take_openssl_error());
  }
  return slot.ctx;
}

void mac_into(EVP_MAC_CTX* ctx, std::string_view data, unsigned char (&out)[32]) {
  std::size_t len = 0;
  if (EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1 ||
      EVP_MAC_final(ctx, out, &len, sizeof out) != 1 || len != sizeof out) {
    throw CryptoError("HMAC-SHA256 failed: " + detail::take_openssl_error());
  }
}

thread_local ThreadHmac t_hmac;

std::uint64_t next_serial() {
  static std::atomic<std::uint64_t> serial{0};
  return ++serial;
}

}  // namespace

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char out[32];
  mac_into(keyed_context(t_hmac, 0, key), data, out);
  return std::string(reinterpret_cast<const char*>(out), sizeof out);
}

std::shared_ptr<const Keyring> Keyring::open(const fs::path& keys_dir, bool create) {
  if (auto from_env = master_key_from_env(kMasterKeyVariable)) {
    return std::make_shared<const Keyring>(std::move(*from_env));
  }
  const fs::path file = keys_dir / "master.key";
  std::error_code ec;
  if (!fs::exists(file, ec)) {
    if (!create) {
      throw KeyError(file.string() + ": no master key (and " + kMasterKeyVariable +
                     " is not set); start tsunagud once to create it, or restore it from backup");
    }
    fs::create_directories(keys_dir);
    return std::make_shared<const Keyring>(create_master_key_file(file));
  }
  return std::make_shared<const Keyring>(master_key_from_file(file));
}

Keyring::Keyring(DataKey master) : master_(std::move(master)), serial_(next_serial()) {
  const auto bytes = master_.bytes();
  lookup_key_ =
      hmac_sha256(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()),
                  "tsunagu subject lookup v1");
}

Keyring::~Keyring() {
  wipe(lookup_key_);
}

std::string Keyring::lookup_token(std::string_view text) const {
  unsigned char mac[32];
  mac_into(keyed_context(t_hmac, serial_, lookup_key_), text, mac);
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(2 * sizeof mac, '\0');
  for (std::size_t i = 0; i < sizeof mac; ++i) {
    out[2 * i] = kDigits[mac[i] >> 4];
    out[2 * i + 1] = kDigits[mac[i] & 0x0F];
  }
  return out;
}

}  // namespace tsunagu::security
