// scrypt password hashes: format, salts, verification, and stored values that must never match.
#include <gtest/gtest.h>

#include "web/password_hash.hpp"

namespace {

using namespace tsunagu::web;

// Cheap parameters: the tests check behaviour, not cost.
constexpr ScryptParams kFast{10, 8, 1};

TEST(PasswordHash, TheStoredFormCarriesItsParametersAndSalt) {
  const std::string h = hash_password("correct horse battery", kFast);
  EXPECT_EQ(h.rfind("$scrypt$ln=10,r=8,p=1$", 0), 0U) << h;
  EXPECT_EQ(std::count(h.begin(), h.end(), '$'), 4);
  EXPECT_EQ(h.find("correct"), std::string::npos);
}

TEST(PasswordHash, TheRightPasswordVerifiesAndAnyOtherDoesNot) {
  const std::string h = hash_password("correct horse battery", kFast);
  EXPECT_TRUE(verify_password("correct horse battery", h));
  EXPECT_FALSE(verify_password("correct horse batterY", h));
  EXPECT_FALSE(verify_password("correct horse battery ", h));
  EXPECT_FALSE(verify_password("", h));
}

TEST(PasswordHash, EachHashHasItsOwnSalt) {
  const std::string a = hash_password("same password here", kFast);
  const std::string b = hash_password("same password here", kFast);
  EXPECT_NE(a, b);
  EXPECT_TRUE(verify_password("same password here", a));
  EXPECT_TRUE(verify_password("same password here", b));
}

TEST(PasswordHash, VerificationUsesTheStoredParameters) {
  const std::string h = hash_password("パスワードは日本語でもよい", ScryptParams{11, 4, 2});
  EXPECT_EQ(h.rfind("$scrypt$ln=11,r=4,p=2$", 0), 0U);
  EXPECT_TRUE(verify_password("パスワードは日本語でもよい", h));
}

TEST(PasswordHash, TheDefaultCostIsTheIssuesFloor) {
  EXPECT_GE(kDefaultScrypt.log2_n, 15);
  EXPECT_GE(kDefaultScrypt.r, 8);
  const std::string h = hash_password("correct horse battery");
  EXPECT_EQ(h.rfind("$scrypt$ln=15,r=8,p=1$", 0), 0U);
  EXPECT_TRUE(verify_password("correct horse battery", h));
}

TEST(PasswordHash, MalformedOrTamperedStoredValuesNeverMatch) {
  const std::string h = hash_password("correct horse battery", kFast);
  const auto parts_at = h.find('$', 8);
  const std::string tail = h.substr(parts_at);
  for (const std::string& bad : {
           std::string(""),
           std::string("plain"),
           std::string("$scrypt$"),
           "$bcrypt$ln=10,r=8,p=1" + tail,
           "$scrypt$ln=30,r=8,p=1" + tail,  // would allocate 128 GiB: refused, not tried
           "$scrypt$ln=10,r=99,p=1" + tail,
           "$scrypt$ln=10,r=8,p=0" + tail,
           "$scrypt$r=8,ln=10,p=1" + tail,
           "$scrypt$ln=10,r=8" + tail,
           "$scrypt$ln=x,r=8,p=1" + tail,
           h.substr(0, h.size() - 4),
           [&] {  // another derived key
             std::string other = h;
             char& c = other[other.rfind('$') + 5];
             c = c == 'A' ? 'B' : 'A';
             return other;
           }(),
       }) {
    EXPECT_FALSE(verify_password("correct horse battery", bad)) << bad;
  }
  EXPECT_THROW(hash_password("x", ScryptParams{30, 8, 1}), PasswordError);
}

TEST(PasswordHash, PasswordRulesCountCharactersNotBytes) {
  EXPECT_NE(password_problem("short"), "");
  EXPECT_NE(password_problem("elevenchars"), "");
  EXPECT_EQ(password_problem("twelve chars"), "");
  EXPECT_NE(password_problem("            "), "");              // spaces only
  EXPECT_EQ(password_problem("子ども支援連携ハブのかぎ"), "");  // 12 characters, 36 bytes
  EXPECT_NE(password_problem("子ども支援連携ハブ"), "");        // 9 characters, 27 bytes
  EXPECT_NE(password_problem(std::string(1025, 'a')), "");
}

}  // namespace
