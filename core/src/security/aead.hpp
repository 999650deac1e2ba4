// Encryption at rest: AES-256-GCM under per-subject data keys, which are themselves wrapped under a
// master key. Destroying a subject's wrapped data key makes that subject's stored personal data
// unreadable (the retention purge) while the audit log, which holds only digests, still verifies.
//
// Sealed format (binary, store it as a BLOB):
//   0x01 (format version) ‖ 12-byte random nonce ‖ ciphertext (same length as the plaintext) ‖
//   16-byte GCM tag                                  — kSealOverhead = 29 bytes more than the input
// The version byte is authenticated along with the caller's associated data, so no byte of a
// sealed value can be changed without open() noticing.
//
// Associated data binds a ciphertext to its place: pass what identifies the row (e.g.
// "event:<id>:attributes"), so a sealed value copied to another row or column does not open.
//
// Nonces are random; with one data key per subject the number of seals per key stays many orders
// of magnitude below GCM's 2^32 random-nonce limit. All functions are thread-safe: each thread
// keeps one cipher context per direction, keyed for the key it used last (OpenSSL's context
// set-up was most of a small seal's cost), wiped when the thread ends.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "security/errors.hpp"
#include "security/secret_file.hpp"

namespace tsunagu::security {

// A 256-bit AES key whose bytes are wiped (OPENSSL_cleanse) when it is destroyed or moved from.
// There is deliberately no default constructor: an all-zero key must never be made by accident.
class DataKey {
 public:
  static constexpr std::size_t kSize = 32;

  // 32 bytes from OpenSSL's CSPRNG (RAND_bytes). Throws CryptoError if it has no entropy.
  static DataKey generate();
  // Exactly 32 raw bytes; nullopt for any other length.
  static std::optional<DataKey> from_raw(std::string_view raw);

  DataKey(const DataKey& other) = default;
  DataKey& operator=(const DataKey& other) = default;
  // Moving copies the bytes and wipes the source, which is left all zeros.
  DataKey(DataKey&& other) noexcept;
  DataKey& operator=(DataKey&& other) noexcept;
  ~DataKey();

  std::span<const std::uint8_t, kSize> bytes() const { return bytes_; }

  // Constant-time comparison.
  friend bool operator==(const DataKey& a, const DataKey& b);

 private:
  DataKey() = default;
  std::array<std::uint8_t, kSize> bytes_{};
};

inline constexpr std::uint8_t kSealVersion = 0x01;
inline constexpr std::size_t kNonceSize = 12;
inline constexpr std::size_t kTagSize = 16;
inline constexpr std::size_t kSealOverhead = 1 + kNonceSize + kTagSize;

// Encrypts and authenticates `plaintext` (and authenticates `associated_data`, which is not
// stored: the caller supplies it again to open()). Throws CryptoError only if OpenSSL fails.
std::string seal(const DataKey& key, std::string_view plaintext, std::string_view associated_data);

// The plaintext, or nullopt if `sealed` was altered in any byte, truncated, made under another
// key, or sealed with different associated data. Unauthenticated plaintext is never returned.
std::optional<std::string> open(const DataKey& key, std::string_view sealed,
                                std::string_view associated_data);

// Wraps a data key under the master key for storage next to `key_id` (the data key's row id, e.g.
// "subject:<id>"): a sealed value (kSealOverhead + 32 = 61 bytes) whose associated data is the key
// id in a key-wrapping domain, so a wrapped key only unwraps for the id it was made for and can
// never be confused with a sealed record.
std::string wrap_key(const DataKey& master, const DataKey& data_key, std::string_view key_id);

// nullopt for the wrong master key, the wrong key id, or any tampering.
std::optional<DataKey> unwrap_key(const DataKey& master, std::string_view wrapped,
                                  std::string_view key_id);

// ---- the master key ----

// Reads the master key from a file holding either 64 hex digits (optionally surrounded by
// whitespace, such as a trailing newline) or exactly 32 raw bytes. Throws KeyError naming the file
// if it is missing, is not a regular file, is accessible by group or others ("run chmod 600"), or
// holds anything else. A 32-byte file of hex digits is refused as a too-short hex key rather than
// taken as raw bytes.
DataKey master_key_from_file(const std::filesystem::path& file);

// Parses 64 hex digits (either case, surrounding whitespace ignored), e.g. an environment
// variable's value. `source` names where it came from in error messages
// (e.g. "environment variable TSUNAGU_MASTER_KEY"); errors never echo the value.
DataKey master_key_from_hex(std::string_view hex, std::string_view source);

// The master key from environment variable `variable` (hex, as above); nullopt if it is not set.
// Throws KeyError naming the variable if it is set but malformed (including empty).
std::optional<DataKey> master_key_from_env(const char* variable);

// Generates a master key and writes it as 64 lower-case hex digits and a newline to `file`, mode
// 0600, atomically. Refuses to replace an existing file (the old key would be lost with every data
// key wrapped under it). Returns the new key. Throws KeyError naming the file.
DataKey create_master_key_file(const std::filesystem::path& file);

}  // namespace tsunagu::security
