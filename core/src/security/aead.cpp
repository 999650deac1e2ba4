#include "security/aead.hpp"

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <memory>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "security/openssl_detail.hpp"

namespace tsunagu::security {
namespace {

using detail::CipherCtxPtr;
using detail::CipherPtr;

constexpr std::size_t kHeaderSize = 1 + kNonceSize;
// A master key file is 32 bytes or 64 hex digits and a newline; allow generous whitespace.
constexpr std::size_t kMaxMasterKeyFileSize = 4096;
// Domain separation between wrapped keys and sealed records under the same key.
constexpr std::string_view kWrapDomain = "tsunagu key wrap v1\n";

// Fetched once: an explicit fetch avoids OpenSSL 3 looking the algorithm up on every seal.
const EVP_CIPHER* aes_256_gcm() {
  static const CipherPtr cipher{EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr)};
  if (!cipher) throw CryptoError("OpenSSL has no AES-256-GCM: " + detail::take_openssl_error());
  return cipher.get();
}

unsigned char* uchar(char* p) {
  return reinterpret_cast<unsigned char*>(p);
}
const unsigned char* uchar(const char* p) {
  return reinterpret_cast<const unsigned char*>(p);
}

// EVP_CipherUpdate takes an int length; feed large inputs in pieces. `out` null means AAD.
bool update(EVP_CIPHER_CTX* ctx, unsigned char* out, const unsigned char* in, std::size_t size) {
  constexpr std::size_t kChunk = std::size_t{1} << 30;
  while (size > 0) {
    const std::size_t piece = std::min(size, kChunk);
    int written = 0;
    if (EVP_CipherUpdate(ctx, out, &written, in, static_cast<int>(piece)) != 1) return false;
    if (out != nullptr) out += written;
    in += piece;
    size -= piece;
  }
  return true;
}

bool add_header_and_ad(EVP_CIPHER_CTX* ctx, const char* header, std::string_view associated_data) {
  return update(ctx, nullptr, uchar(header), 1) &&
         update(ctx, nullptr, uchar(associated_data.data()), associated_data.size());
}

// A thread's AES-256-GCM context for one direction, with the key it was last set up for: a
// context is allocated once per thread, and the key schedule and GHASH tables are computed only
// when the key changes (the master key, and a subject's key for its record's several fields),
// not on every call. The cached copy of the key and the context are wiped at thread exit.
class ThreadCipher {
 public:
  ThreadCipher() = default;
  ThreadCipher(const ThreadCipher&) = delete;
  ThreadCipher& operator=(const ThreadCipher&) = delete;
  ~ThreadCipher() { OPENSSL_cleanse(key_.data(), key_.size()); }

  // Starts one operation under `key` with `nonce`; false if OpenSSL refused (then the next call
  // sets everything up again).
  EVP_CIPHER_CTX* start(const DataKey& key, const unsigned char* nonce, bool encrypt) {
    if (!ctx_) {
      ctx_.reset(EVP_CIPHER_CTX_new());
      if (!ctx_) throw CryptoError("cannot allocate a cipher context");
    }
    const bool same_key =
        keyed_ && CRYPTO_memcmp(key_.data(), key.bytes().data(), key_.size()) == 0;
    const unsigned char* new_key = same_key ? nullptr : key.bytes().data();
    const EVP_CIPHER* cipher = same_key ? nullptr : aes_256_gcm();
    keyed_ = false;
    const int ok = encrypt ? EVP_EncryptInit_ex2(ctx_.get(), cipher, new_key, nonce, nullptr)
                           : EVP_DecryptInit_ex2(ctx_.get(), cipher, new_key, nonce, nullptr);
    if (ok != 1) return nullptr;
    if (!same_key) std::copy_n(key.bytes().begin(), key_.size(), key_.begin());
    keyed_ = true;
    return ctx_.get();
  }
  // After a failed operation: set up from scratch next time.
  void forget() { keyed_ = false; }

 private:
  CipherCtxPtr ctx_;
  std::array<std::uint8_t, DataKey::kSize> key_{};
  bool keyed_ = false;
};

ThreadCipher& sealer() {
  thread_local ThreadCipher cipher;
  return cipher;
}

ThreadCipher& opener() {
  thread_local ThreadCipher cipher;
  return cipher;
}

// Decrypts into `out` (sealed.size() - kSealOverhead bytes) and authenticates; on failure `out` is
// wiped, because GCM hands out plaintext before the tag has been checked.
bool open_into(const DataKey& key, std::string_view sealed, std::string_view associated_data,
               char* out) {
  if (sealed.size() < kSealOverhead) return false;
  if (static_cast<std::uint8_t>(sealed[0]) != kSealVersion) return false;
  const std::size_t size = sealed.size() - kSealOverhead;
  const char* nonce = sealed.data() + 1;
  const char* ciphertext = sealed.data() + kHeaderSize;
  std::array<unsigned char, kTagSize> tag{};
  std::copy_n(uchar(ciphertext + size), kTagSize, tag.begin());

  ThreadCipher& cipher = opener();
  EVP_CIPHER_CTX* ctx = cipher.start(key, uchar(nonce), false);
  int final_size = 0;
  const bool ok = ctx != nullptr && add_header_and_ad(ctx, sealed.data(), associated_data) &&
                  update(ctx, uchar(out), uchar(ciphertext), size) &&
                  EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, static_cast<int>(kTagSize),
                                      tag.data()) == 1 &&
                  EVP_DecryptFinal_ex(ctx, uchar(out + size), &final_size) == 1;
  if (!ok) {
    if (size > 0) OPENSSL_cleanse(out, size);
    // Rare (tampering, the wrong key): set the context up afresh rather than trust its state.
    cipher.forget();
    detail::clear_openssl_errors();
  }
  return ok;
}

std::string wrap_associated_data(std::string_view key_id) {
  std::string ad(kWrapDomain);
  ad += key_id;
  return ad;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

// Wipes a secret buffer on every way out of a scope.
class WipeOnExit {
 public:
  explicit WipeOnExit(std::span<char> bytes) : bytes_(bytes) {}
  ~WipeOnExit() { wipe(bytes_); }
  WipeOnExit(const WipeOnExit&) = delete;
  WipeOnExit& operator=(const WipeOnExit&) = delete;

 private:
  std::span<char> bytes_;
};

}  // namespace

DataKey DataKey::generate() {
  DataKey key;
  // RAND_priv_bytes: OpenSSL's generator reserved for secret values, separate from the one that
  // hands out public randomness such as nonces.
  if (RAND_priv_bytes(key.bytes_.data(), static_cast<int>(key.bytes_.size())) != 1) {
    throw CryptoError("cannot generate a key: " + detail::take_openssl_error());
  }
  return key;
}

std::optional<DataKey> DataKey::from_raw(std::string_view raw) {
  if (raw.size() != kSize) return std::nullopt;
  DataKey key;
  std::copy_n(uchar(raw.data()), kSize, key.bytes_.begin());
  return key;
}

DataKey::DataKey(DataKey&& other) noexcept : bytes_(other.bytes_) {
  OPENSSL_cleanse(other.bytes_.data(), other.bytes_.size());
}

DataKey& DataKey::operator=(DataKey&& other) noexcept {
  if (this != &other) {
    bytes_ = other.bytes_;
    OPENSSL_cleanse(other.bytes_.data(), other.bytes_.size());
  }
  return *this;
}

DataKey::~DataKey() {
  OPENSSL_cleanse(bytes_.data(), bytes_.size());
}

bool operator==(const DataKey& a, const DataKey& b) {
  return CRYPTO_memcmp(a.bytes_.data(), b.bytes_.data(), DataKey::kSize) == 0;
}

std::string seal(const DataKey& key, std::string_view plaintext, std::string_view associated_data) {
  std::string sealed(kSealOverhead + plaintext.size(), '\0');
  char* header = sealed.data();
  header[0] = static_cast<char>(kSealVersion);
  unsigned char* nonce = uchar(header + 1);
  if (RAND_bytes(nonce, static_cast<int>(kNonceSize)) != 1) {
    throw CryptoError("cannot generate a nonce: " + detail::take_openssl_error());
  }
  unsigned char* ciphertext = uchar(header + kHeaderSize);
  unsigned char* tag = ciphertext + plaintext.size();

  ThreadCipher& cipher = sealer();
  EVP_CIPHER_CTX* ctx = cipher.start(key, nonce, true);
  int final_size = 0;
  if (ctx == nullptr || !add_header_and_ad(ctx, header, associated_data) ||
      !update(ctx, ciphertext, uchar(plaintext.data()), plaintext.size()) ||
      EVP_EncryptFinal_ex(ctx, tag, &final_size) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, static_cast<int>(kTagSize), tag) != 1) {
    cipher.forget();
    throw CryptoError("AES-256-GCM encryption failed: " + detail::take_openssl_error());
  }
  return sealed;
}

std::optional<std::string> open(const DataKey& key, std::string_view sealed,
                                std::string_view associated_data) {
  if (sealed.size() < kSealOverhead) return std::nullopt;
  std::string plaintext(sealed.size() - kSealOverhead, '\0');
  if (!open_into(key, sealed, associated_data, plaintext.data())) return std::nullopt;
  return plaintext;
}

std::string wrap_key(const DataKey& master, const DataKey& data_key, std::string_view key_id) {
  const auto bytes = data_key.bytes();
  return seal(master, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()),
              wrap_associated_data(key_id));
}

std::optional<DataKey> unwrap_key(const DataKey& master, std::string_view wrapped,
                                  std::string_view key_id) {
  if (wrapped.size() != kSealOverhead + DataKey::kSize) return std::nullopt;
  std::array<char, DataKey::kSize> raw{};
  const WipeOnExit wipe_raw(raw);
  if (!open_into(master, wrapped, wrap_associated_data(key_id), raw.data())) return std::nullopt;
  return DataKey::from_raw(std::string_view(raw.data(), raw.size()));
}

DataKey master_key_from_hex(std::string_view hex, std::string_view source) {
  const std::string_view digits = trim(hex);
  if (digits.size() != 2 * DataKey::kSize) {
    throw KeyError(std::string(source) +
                   ": expected 64 hexadecimal digits (a 256-bit key), found " +
                   std::to_string(digits.size()) + " characters");
  }
  std::array<char, DataKey::kSize> raw{};
  const WipeOnExit wipe_raw(raw);
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const int high = hex_value(digits[2 * i]);
    const int low = hex_value(digits[2 * i + 1]);
    if (high < 0 || low < 0) {
      throw KeyError(std::string(source) + ": character " +
                     std::to_string(2 * i + (high < 0 ? 1 : 2)) +
                     " of the key is not a hexadecimal digit");
    }
    raw[i] = static_cast<char>((high << 4) | low);
  }
  return *DataKey::from_raw(std::string_view(raw.data(), raw.size()));
}

DataKey master_key_from_file(const std::filesystem::path& file) {
  std::string contents;
  try {
    contents = read_secret_file(file, kMaxMasterKeyFileSize);
  } catch (const KeyError& e) {
    throw KeyError("cannot load the master key: " + std::string(e.what()));
  }
  const WipeOnExit wipe_contents(contents);
  const std::string source = "master key file '" + file.string() + "'";
  if (contents.size() == DataKey::kSize) {
    // Random bytes are almost never all hex digits; a file that is must be a 128-bit hex key.
    const bool all_hex =
        std::all_of(contents.begin(), contents.end(), [](char c) { return hex_value(c) >= 0; });
    if (all_hex) {
      throw KeyError(source + ": holds 32 hexadecimal digits (a 128-bit key); a 256-bit key is " +
                     "64 hexadecimal digits or 32 raw bytes");
    }
    return *DataKey::from_raw(contents);
  }
  return master_key_from_hex(contents, source);
}

std::optional<DataKey> master_key_from_env(const char* variable) {
  const char* value = std::getenv(variable);
  if (value == nullptr) return std::nullopt;
  return master_key_from_hex(value, std::string("environment variable ") + variable);
}

DataKey create_master_key_file(const std::filesystem::path& file) {
  DataKey key = DataKey::generate();
  // Built in place at its final size: a growing string would leave copies of the key behind.
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string text(2 * DataKey::kSize + 1, '\n');
  const WipeOnExit wipe_text(text);
  const auto bytes = key.bytes();
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    text[2 * i] = kDigits[bytes[i] >> 4];
    text[2 * i + 1] = kDigits[bytes[i] & 0x0F];
  }
  try {
    write_secret_file(file, text, Overwrite::refuse);
  } catch (const KeyError& e) {
    throw KeyError("cannot create the master key: " + std::string(e.what()));
  }
  return key;
}

}  // namespace tsunagu::security
