// Random tokens, their stored hashes, base64 and constant-time comparison.
#include <set>

#include <gtest/gtest.h>

#include "web/accounts.hpp"
#include "web/secret_token.hpp"

namespace {

using namespace tsunagu::web;

TEST(SecretToken, TokensAre256BitsOfBase64UrlAndDistinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    const std::string t = random_token();
    EXPECT_EQ(t.size(), 43U);
    EXPECT_EQ(
        t.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
        std::string::npos);
    EXPECT_TRUE(seen.insert(t).second);
  }
}

TEST(SecretToken, StoredHashIsSha256Hex) {
  EXPECT_EQ(token_hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(SecretToken, Base64MatchesRfc4648) {
  const std::pair<std::string, std::string> vectors[] = {{"", ""},
                                                         {"f", "Zg=="},
                                                         {"fo", "Zm8="},
                                                         {"foo", "Zm9v"},
                                                         {"foob", "Zm9vYg=="},
                                                         {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(base64(plain), encoded);
    std::string back;
    ASSERT_TRUE(base64_decode(encoded, back)) << encoded;
    EXPECT_EQ(back, plain);
  }
  std::string out;
  EXPECT_FALSE(base64_decode("Zm9", out));
  EXPECT_FALSE(base64_decode("Zm=v", out));
  EXPECT_FALSE(base64_decode("Z!9v", out));
  EXPECT_EQ(base64url("\xfb\xff"), "-_8");
}

TEST(SecretToken, ConstantTimeEqualIsEquality) {
  EXPECT_TRUE(constant_time_equal("", ""));
  EXPECT_TRUE(constant_time_equal("token", "token"));
  EXPECT_FALSE(constant_time_equal("token", "tokeN"));
  EXPECT_FALSE(constant_time_equal("token", "token2"));
  EXPECT_FALSE(constant_time_equal("", "x"));
}

TEST(Csrf, TheTokenIsDerivedFromTheSessionAndIsNotItsStoredHash) {
  const std::string a = random_token(), b = random_token();
  EXPECT_EQ(csrf_token_of(a), csrf_token_of(a));
  EXPECT_NE(csrf_token_of(a), csrf_token_of(b));
  EXPECT_NE(csrf_token_of(a), token_hash(a));
  EXPECT_EQ(token_hash(a).find(csrf_token_of(a)), std::string::npos);
  EXPECT_EQ(csrf_token_of(a).find(a), std::string::npos);
}

}  // namespace
