// The reused OpenSSL contexts (per-thread HMAC and AES-GCM contexts, keyed once per key) give the
// standard results byte for byte: known answers computed outside OpenSSL's context reuse (RFC 4231,
// and values made with Python's `cryptography` and `hmac` modules), keys alternating so that every
// re-keying path runs, failures in between, and several threads at once.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <string>
#include <thread>
#include <vector>

#include "security/aead.hpp"
#include "security/keyring.hpp"

namespace {

namespace sec = tsunagu::security;
using sec::DataKey;

std::string hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    out += kDigits[b >> 4];
    out += kDigits[b & 0x0F];
  }
  return out;
}

std::string unhex(std::string_view digits) {
  std::string out;
  for (std::size_t i = 0; i + 1 < digits.size(); i += 2) {
    out += static_cast<char>(std::stoi(std::string(digits.substr(i, 2)), nullptr, 16));
  }
  return out;
}

DataKey counting_key(int start) {
  std::string raw;
  for (int i = 0; i < 32; ++i) raw += static_cast<char>(start + i);
  return *DataKey::from_raw(raw);
}

// Bytes 0x00..0x1f; the sealed values below use nonce 0x10..0x1b.
const DataKey kKey = counting_key(0);
constexpr const char* kSealedBirth =
    "01101112131415161718191a1b4fcea92164f80b9ef945708d8cda6b20c34af346c657aa9f14b1";
constexpr const char* kWrappedKey =
    "01101112131415161718191a1b5ddfba356dec1c94e25c22362354477ce7617c3d2ff76186dfc0d85c62696ae433"
    "6f8a85fc13537fbb31b3ae4a92c8da";
constexpr const char* kRidToken =
    "509fdfaf838a30ffaf7573f9ee28525e908168275ca21f7031c87294a605b47d";
constexpr const char* kKanaToken =
    "a50a6502743202bcf36133545d759a4ca046e24b9a4fb571b35aa04fb9ed6010";

TEST(HmacSha256, Rfc4231KnownAnswers) {
  EXPECT_EQ(hex(sec::hmac_sha256(std::string(20, '\x0b'), "Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  EXPECT_EQ(hex(sec::hmac_sha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // A key longer than SHA-256's block is hashed first.
  EXPECT_EQ(hex(sec::hmac_sha256(std::string(131, '\xaa'),
                                 "Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  // The first again, after the context was keyed for other keys.
  EXPECT_EQ(hex(sec::hmac_sha256(std::string(20, '\x0b'), "Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

TEST(LookupToken, KnownAnswersWithKeyringsInterleaved) {
  const sec::Keyring a(kKey);
  const sec::Keyring other(counting_key(100));
  const std::string rid = std::string("rid\x1f") + "0012345678";
  const std::string kana = std::string("kb\x1f") + "イケダシオリ\x1f" + "2017-11-30";
  EXPECT_EQ(a.lookup_token(rid), kRidToken);
  EXPECT_EQ(a.lookup_token(rid), kRidToken);  // the context reused without re-keying
  const std::string other_rid = other.lookup_token(rid);
  EXPECT_NE(other_rid, kRidToken);
  EXPECT_EQ(a.lookup_token(kana), kKanaToken);  // re-keyed back
  // hmac_sha256 shares the thread's context: a keyring's next token must not use its key.
  EXPECT_EQ(hex(sec::hmac_sha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(other.lookup_token(rid), other_rid);
  EXPECT_EQ(a.lookup_token(rid), kRidToken);
  // A keyring made later at another keyring's place in memory must not inherit its context.
  std::string later;
  {
    const auto first = std::make_unique<sec::Keyring>(counting_key(100));
    EXPECT_EQ(first->lookup_token(rid), other_rid);
  }
  {
    const auto second = std::make_unique<sec::Keyring>(kKey);
    later = second->lookup_token(rid);
  }
  EXPECT_EQ(later, kRidToken);
}

TEST(LookupToken, SameTokensOnEveryThread) {
  const sec::Keyring a(kKey);
  const sec::Keyring b(counting_key(7));
  const std::string expected_b = b.lookup_token("x");
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        if (a.lookup_token(std::string("rid\x1f") + "0012345678") != kRidToken) ++mismatches[t];
        if (b.lookup_token("x") != expected_b) ++mismatches[t];
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(mismatches, std::vector<int>(4, 0));
}

TEST(AesGcmContexts, OpensKnownAnswers) {
  EXPECT_EQ(sec::open(kKey, unhex(kSealedBirth), "person-birth:abc"), "2017-11-30");
  const auto unwrapped = sec::unwrap_key(kKey, unhex(kWrappedKey), "subject:s1");
  ASSERT_TRUE(unwrapped.has_value());
  EXPECT_EQ(*unwrapped, counting_key(32));
  // Wrong associated data, then another key, then the right one again: the cached key schedule
  // must neither let a wrong value open nor stop a right one.
  EXPECT_FALSE(sec::open(kKey, unhex(kSealedBirth), "person-birth:abd").has_value());
  EXPECT_FALSE(sec::open(counting_key(1), unhex(kSealedBirth), "person-birth:abc").has_value());
  EXPECT_EQ(sec::open(kKey, unhex(kSealedBirth), "person-birth:abc"), "2017-11-30");
}

// Decrypts with a context made for this one call, as the code did before contexts were reused.
std::optional<std::string> open_independently(const DataKey& key, const std::string& sealed,
                                              const std::string& ad) {
  const std::size_t size = sealed.size() - sec::kSealOverhead;
  std::string out(size, '\0');
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  auto bytes = [](const std::string& s, std::size_t at) {
    return reinterpret_cast<const unsigned char*>(s.data() + at);
  };
  int n = 0;
  std::string tag = sealed.substr(1 + sec::kNonceSize + size);
  bool ok = EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, key.bytes().data(),
                               bytes(sealed, 1)) == 1 &&
            EVP_DecryptUpdate(ctx, nullptr, &n, bytes(sealed, 0), 1) == 1 &&
            EVP_DecryptUpdate(ctx, nullptr, &n, reinterpret_cast<const unsigned char*>(ad.data()),
                              static_cast<int>(ad.size())) == 1 &&
            EVP_DecryptUpdate(ctx, reinterpret_cast<unsigned char*>(out.data()), &n,
                              bytes(sealed, 1 + sec::kNonceSize), static_cast<int>(size)) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, 16, tag.data()) == 1 &&
            EVP_DecryptFinal_ex(ctx, reinterpret_cast<unsigned char*>(out.data()) + size, &n) == 1;
  EVP_CIPHER_CTX_free(ctx);
  if (!ok) return std::nullopt;
  return out;
}

TEST(AesGcmContexts, SealsAreStandardGcmWhateverTheKeyOrder) {
  const DataKey k1 = counting_key(0), k2 = counting_key(50);
  const std::vector<std::pair<const DataKey*, std::string>> plan = {{&k1, "a"},
                                                                    {&k1, "second under k1"},
                                                                    {&k2, std::string(1000, 'x')},
                                                                    {&k1, ""},
                                                                    {&k2, "back to k2"}};
  for (const auto& [key, text] : plan) {
    const std::string sealed = sec::seal(*key, text, "event:1:attributes");
    EXPECT_EQ(open_independently(*key, sealed, "event:1:attributes"), text) << text;
    EXPECT_EQ(sec::open(*key, sealed, "event:1:attributes"), text) << text;
    EXPECT_FALSE(open_independently(*key == k1 ? k2 : k1, sealed, "event:1:attributes"));
  }
}

TEST(AesGcmContexts, SealAndOpenOnManyThreads) {
  const DataKey k1 = counting_key(0), k2 = counting_key(50);
  std::vector<int> failures(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 300; ++i) {
        const DataKey& key = (i + t) % 3 == 0 ? k2 : k1;
        const std::string text = "record " + std::to_string(i);
        const std::string sealed = sec::seal(key, text, "ad");
        if (sec::open(key, sealed, "ad") != text) ++failures[t];
        if (open_independently(key, sealed, "ad") != text) ++failures[t];
        if (sec::open(kKey, unhex(kSealedBirth), "person-birth:abc") != "2017-11-30") ++failures[t];
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures, std::vector<int>(4, 0));
}

}  // namespace
