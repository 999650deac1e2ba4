// The keys of one hub instance: the master key that wraps every per-subject data key, and the
// pseudonymisation key that turns identifying text into opaque lookup tokens.
//
// The master key comes from the environment variable TSUNAGU_MASTER_KEY (64 hex digits) when it is
// set, otherwise from DATA/keys/master.key (mode 0600), created on first start. Whoever holds it
// can read every payload that has not been purged: back it up separately from the store.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "security/aead.hpp"

namespace tsunagu::security {

// HMAC-SHA256 of `data` under `key`, raw 32 bytes (RFC 2104). Thread-safe: each thread keeps one
// reusable context.
std::string hmac_sha256(std::string_view key, std::string_view data);

class Keyring {
 public:
  static constexpr const char* kMasterKeyVariable = "TSUNAGU_MASTER_KEY";

  // `create`: make keys/master.key if neither the variable nor the file exists (the daemon does;
  // the CLI does not, so that a typo in --data-dir does not mint a key nobody backs up).
  static std::shared_ptr<const Keyring> open(const std::filesystem::path& keys_dir, bool create);
  explicit Keyring(DataKey master);
  Keyring(const Keyring&) = default;
  Keyring& operator=(const Keyring&) = default;
  ~Keyring();

  const DataKey& master() const { return master_; }
  // Hex HMAC-SHA256 of `text` under a key derived from the master key: equal texts give equal
  // tokens, and the token reveals nothing of the text without the master key. Thread-safe; each
  // thread keeps an HMAC context keyed for the keyring it served last (set up once, not per call).
  std::string lookup_token(std::string_view text) const;

 private:
  DataKey master_;
  std::string lookup_key_;  // HMAC key derived from the master key
  std::uint64_t serial_;    // tells the per-thread HMAC contexts which key they hold
};

}  // namespace tsunagu::security
