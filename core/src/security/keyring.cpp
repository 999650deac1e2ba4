#include "security/keyring.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "security/errors.hpp"

namespace tsunagu::security {
namespace fs = std::filesystem;
namespace {

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len) == nullptr) {
    throw CryptoError("HMAC-SHA256 failed");
  }
  return std::string(reinterpret_cast<const char*>(out), len);
}

std::string hex(std::string_view bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 0xF];
  }
  return out;
}

}  // namespace

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

Keyring::Keyring(DataKey master) : master_(std::move(master)) {
  const auto bytes = master_.bytes();
  lookup_key_ = hmac_sha256(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()),
                            "tsunagu subject lookup v1");
}

std::string Keyring::lookup_token(std::string_view text) const {
  return hex(hmac_sha256(lookup_key_, text));
}

}  // namespace tsunagu::security
