// Ed25519 keys for signing the audit log's tree heads (RFC 8032, through OpenSSL 3's EVP API).
//
// The signing key lives in one PEM file (PKCS#8 "PRIVATE KEY", unencrypted, mode 0600) under the
// data directory's keys/. Auditors get the public key as PEM (SubjectPublicKeyInfo "PUBLIC KEY") or
// as the raw 32 bytes, and name it by its key id, so that each signed tree head can record its
// signer.
//
// Both classes are cheap to copy (they share one immutable OpenSSL key) and safe to use from
// several threads at once.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "security/errors.hpp"
#include "security/secret_file.hpp"

struct evp_pkey_st;  // OpenSSL's EVP_PKEY, kept out of this header

namespace tsunagu::security {

inline constexpr std::size_t kEd25519PublicKeySize = 32;
inline constexpr std::size_t kEd25519SignatureSize = 64;

class VerifyingKey;

class SigningKey {
 public:
  // A fresh key from OpenSSL's CSPRNG. Throws CryptoError if OpenSSL cannot make one.
  static SigningKey generate();

  // Loads a PEM private key written by save_pem_file() (or `openssl genpkey -algorithm ed25519`).
  // Throws KeyError naming the file when it is missing, unreadable, readable by group or others,
  // not PEM, encrypted (there is no one to ask for a passphrase), or not an Ed25519 key.
  static SigningKey load_pem_file(const std::filesystem::path& file);

  // Writes the private key as PEM, mode 0600, atomically (see write_secret_file). By default an
  // existing file is not replaced: overwriting the signing key would orphan every signed head.
  // Throws KeyError naming the file.
  void save_pem_file(const std::filesystem::path& file,
                     Overwrite overwrite = Overwrite::refuse) const;

  // The 64-byte Ed25519 signature of `message` (deterministic: same key and message, same bytes).
  std::string sign(std::string_view message) const;

  // "-----BEGIN PUBLIC KEY-----" PEM of the public half.
  std::string public_key_pem() const;
  // The 32 raw public key bytes (RFC 8032 encoding).
  std::string public_key_raw() const;
  // Lower-case hex SHA-256 of public_key_raw(): 64 characters.
  std::string key_id() const;

  VerifyingKey verifying_key() const;

 private:
  explicit SigningKey(std::shared_ptr<evp_pkey_st> key) : key_(std::move(key)) {}
  std::shared_ptr<evp_pkey_st> key_;
};

class VerifyingKey {
 public:
  // From "-----BEGIN PUBLIC KEY-----" PEM text. Throws KeyError if it is not an Ed25519 public key.
  static VerifyingKey from_pem(std::string_view pem);
  // From the 32 raw bytes. Throws KeyError for any other length.
  static VerifyingKey from_raw(std::string_view raw);
  // Reads a public key PEM file (no permission check: it is public). Throws KeyError naming it.
  static VerifyingKey load_pem_file(const std::filesystem::path& file);

  // True iff `signature` is a valid Ed25519 signature of `message` under this key. Never throws
  // for bad input: wrong lengths and garbage are just false.
  bool verify(std::string_view message, std::string_view signature) const;

  std::string public_key_pem() const;
  std::string public_key_raw() const;
  std::string key_id() const;

 private:
  friend class SigningKey;
  explicit VerifyingKey(std::shared_ptr<evp_pkey_st> key) : key_(std::move(key)) {}
  std::shared_ptr<evp_pkey_st> key_;
};

}  // namespace tsunagu::security
