#include <security/aead.hpp>

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <string>
#include <utility>

#include "support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
namespace sec = tsunagu::security;
using sec::DataKey;
using sec::KeyError;

std::string raw(const DataKey& key) {
  const auto b = key.bytes();
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

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

unsigned file_mode(const fs::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return 0xFFFF;
  return st.st_mode & 07777;
}

constexpr auto kOwnerOnly = fs::perms::owner_read | fs::perms::owner_write;

fs::path write_with_mode(const tsunagu_test::TempDir& dir, const std::string& name,
                         const std::string& content, fs::perms mode = kOwnerOnly) {
  const fs::path p = dir.write(name, content);
  fs::permissions(p, mode);
  return p;
}

template <typename F>
std::string error_of(F&& f) {
  try {
    std::forward<F>(f)();
  } catch (const KeyError& e) {
    return e.what();
  }
  return "(no error)";
}

// ---- seal / open --------------------------------------------------------------------------------

TEST(Aead, RoundTripAtManySizes) {
  const DataKey key = DataKey::generate();
  for (std::size_t size : {0, 1, 15, 16, 17, 255, 4096, 1 << 20}) {
    std::string plaintext(size, '\0');
    for (std::size_t i = 0; i < size; ++i) plaintext[i] = static_cast<char>(i * 31 + 7);
    for (const std::string& ad : {std::string(), std::string("event:42:attributes")}) {
      const std::string sealed = sec::seal(key, plaintext, ad);
      ASSERT_EQ(sealed.size(), size + sec::kSealOverhead);
      EXPECT_EQ(static_cast<std::uint8_t>(sealed[0]), sec::kSealVersion);
      const auto opened = sec::open(key, sealed, ad);
      ASSERT_TRUE(opened.has_value()) << "size " << size;
      EXPECT_EQ(*opened, plaintext);
    }
  }
}

TEST(Aead, CiphertextHidesThePlaintextAndNoncesDiffer) {
  const DataKey key = DataKey::generate();
  const std::string plaintext = "氏名=山田花子;生年月日=2017-06-05;住所=札幌市中央区";
  std::set<std::string> nonces;
  std::set<std::string> sealed_values;
  for (int i = 0; i < 100; ++i) {
    const std::string sealed = sec::seal(key, plaintext, "ad");
    EXPECT_EQ(sealed.find("山田"), std::string::npos);
    nonces.insert(sealed.substr(1, sec::kNonceSize));
    sealed_values.insert(sealed);
    EXPECT_EQ(sec::open(key, sealed, "ad"), plaintext);
  }
  EXPECT_EQ(nonces.size(), 100U);
  EXPECT_EQ(sealed_values.size(), 100U);
}

TEST(Aead, AnyTamperedByteIsRejected) {
  const DataKey key = DataKey::generate();
  const std::string plaintext = "received health_centre ref=HC-2024-0001";
  const std::string sealed = sec::seal(key, plaintext, "input:7");
  ASSERT_TRUE(sec::open(key, sealed, "input:7").has_value());
  for (std::size_t i = 0; i < sealed.size(); ++i) {
    for (int bit : {0x01, 0x80}) {
      std::string tampered = sealed;
      tampered[i] = static_cast<char>(tampered[i] ^ bit);
      EXPECT_FALSE(sec::open(key, tampered, "input:7").has_value()) << "byte " << i;
    }
  }
  for (std::size_t length = 0; length < sealed.size(); ++length) {
    EXPECT_FALSE(sec::open(key, sealed.substr(0, length), "input:7").has_value()) << length;
  }
  EXPECT_FALSE(sec::open(key, sealed + '\0', "input:7").has_value());
  EXPECT_FALSE(sec::open(key, sealed.substr(1), "input:7").has_value());

  // Also with an empty plaintext, where the tag is all there is.
  const std::string empty = sec::seal(key, "", "");
  for (std::size_t i = 0; i < empty.size(); ++i) {
    std::string tampered = empty;
    tampered[i] = static_cast<char>(tampered[i] ^ 0x04);
    EXPECT_FALSE(sec::open(key, tampered, "").has_value()) << "byte " << i;
  }
}

TEST(Aead, WrongAssociatedDataIsRejected) {
  const DataKey key = DataKey::generate();
  const std::string sealed = sec::seal(key, "payload", "event:1:attributes");
  for (const std::string& ad :
       {std::string(), std::string("event:2:attributes"), std::string("event:1:attribute"),
        std::string("event:1:attributes "), std::string("Event:1:attributes"),
        std::string("event:1:attributes\0", 19)}) {
    EXPECT_FALSE(sec::open(key, sealed, ad).has_value()) << '"' << ad << '"';
  }
  EXPECT_FALSE(sec::open(key, sec::seal(key, "payload", ""), "x").has_value());
}

TEST(Aead, WrongKeyIsRejected) {
  const DataKey key = DataKey::generate();
  const DataKey other = DataKey::generate();
  const std::string sealed = sec::seal(key, "payload", "ad");
  EXPECT_FALSE(sec::open(other, sealed, "ad").has_value());
  std::string near = raw(key);
  near[31] = static_cast<char>(near[31] ^ 0x01);
  EXPECT_FALSE(sec::open(*DataKey::from_raw(near), sealed, "ad").has_value());
}

TEST(Aead, DataKeyBasics) {
  const DataKey a = DataKey::generate();
  const DataKey b = DataKey::generate();
  EXPECT_FALSE(a == b);
  EXPECT_NE(raw(a), std::string(32, '\0'));

  const auto copy = DataKey::from_raw(raw(a));
  ASSERT_TRUE(copy.has_value());
  EXPECT_TRUE(*copy == a);
  EXPECT_FALSE(DataKey::from_raw(std::string(31, 'k')).has_value());
  EXPECT_FALSE(DataKey::from_raw(std::string(33, 'k')).has_value());
  EXPECT_FALSE(DataKey::from_raw("").has_value());

  DataKey source = a;
  const DataKey moved = std::move(source);
  EXPECT_TRUE(moved == a);
  // The moved-from key holds no key material any more (documented in the header).
  EXPECT_EQ(raw(source), std::string(32, '\0'));  // NOLINT(bugprone-use-after-move)

  DataKey target = DataKey::generate();
  DataKey other = b;
  target = std::move(other);
  EXPECT_TRUE(target == b);
  EXPECT_EQ(raw(other), std::string(32, '\0'));  // NOLINT(bugprone-use-after-move)
}

// ---- key wrapping -------------------------------------------------------------------------------

TEST(KeyWrap, RoundTripAndRejections) {
  const DataKey master = DataKey::generate();
  const DataKey data_key = DataKey::generate();
  const std::string wrapped = sec::wrap_key(master, data_key, "subject:1234");
  EXPECT_EQ(wrapped.size(), sec::kSealOverhead + DataKey::kSize);
  EXPECT_EQ(wrapped.find(raw(data_key)), std::string::npos);

  const auto unwrapped = sec::unwrap_key(master, wrapped, "subject:1234");
  ASSERT_TRUE(unwrapped.has_value());
  EXPECT_TRUE(*unwrapped == data_key);

  EXPECT_FALSE(sec::unwrap_key(master, wrapped, "subject:1235").has_value());
  EXPECT_FALSE(sec::unwrap_key(master, wrapped, "").has_value());
  EXPECT_FALSE(sec::unwrap_key(DataKey::generate(), wrapped, "subject:1234").has_value());
  EXPECT_FALSE(sec::unwrap_key(master, "", "subject:1234").has_value());
  for (std::size_t i = 0; i < wrapped.size(); ++i) {
    std::string tampered = wrapped;
    tampered[i] = static_cast<char>(tampered[i] ^ 0x10);
    EXPECT_FALSE(sec::unwrap_key(master, tampered, "subject:1234").has_value()) << "byte " << i;
  }

  // Wrapped keys and sealed records live in different domains under the same key.
  EXPECT_FALSE(sec::open(master, wrapped, "subject:1234").has_value());
  const std::string sealed_as_record = sec::seal(master, raw(data_key), "subject:1234");
  EXPECT_FALSE(sec::unwrap_key(master, sealed_as_record, "subject:1234").has_value());
  // A sealed value of another length never unwraps to a key.
  EXPECT_FALSE(sec::unwrap_key(master, sec::seal(master, "short", "subject:1234"), "subject:1234")
                   .has_value());
}

TEST(KeyWrap, DataSealedUnderAnUnwrappedKeyOpens) {
  const DataKey master = DataKey::generate();
  std::string wrapped;
  std::string sealed;
  {
    const DataKey data_key = DataKey::generate();
    wrapped = sec::wrap_key(master, data_key, "subject:9");
    sealed = sec::seal(data_key, "attributes", "event:3:attributes");
  }
  const auto data_key = sec::unwrap_key(master, wrapped, "subject:9");
  ASSERT_TRUE(data_key.has_value());
  EXPECT_EQ(sec::open(*data_key, sealed, "event:3:attributes"), "attributes");
}

// ---- master key ---------------------------------------------------------------------------------

TEST(MasterKey, CreateThenLoad) {
  tsunagu_test::TempDir dir;
  const fs::path file = dir / "keys" / "master.key";
  fs::create_directories(file.parent_path());
  const mode_t previous = ::umask(0);
  const DataKey created = sec::create_master_key_file(file);
  ::umask(previous);
  EXPECT_EQ(file_mode(file), 0600U);
  const std::string text = tsunagu_test::read_file(file);
  EXPECT_EQ(text, hex(raw(created)) + "\n");
  EXPECT_TRUE(sec::master_key_from_file(file) == created);
  EXPECT_EQ(std::distance(fs::directory_iterator(file.parent_path()), fs::directory_iterator()), 1);

  // Never replaced: the old key would take every wrapped data key with it.
  const std::string error = error_of([&] { sec::create_master_key_file(file); });
  EXPECT_NE(error.find(file.string()), std::string::npos) << error;
  EXPECT_EQ(tsunagu_test::read_file(file), text);
}

TEST(MasterKey, FileFormats) {
  tsunagu_test::TempDir dir;
  const DataKey key = DataKey::generate();
  const std::string h = hex(raw(key));
  std::string upper = h;
  std::transform(upper.begin(), upper.end(), upper.begin(), [](char c) {
    return static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  });

  EXPECT_TRUE(sec::master_key_from_file(write_with_mode(dir, "raw", raw(key))) == key);
  EXPECT_TRUE(sec::master_key_from_file(write_with_mode(dir, "hex", h)) == key);
  EXPECT_TRUE(sec::master_key_from_file(write_with_mode(dir, "crlf", h + "\r\n")) == key);
  EXPECT_TRUE(sec::master_key_from_file(write_with_mode(dir, "spaced", "  " + h + "\n\n")) == key);
  EXPECT_TRUE(sec::master_key_from_file(write_with_mode(dir, "upper", upper)) == key);
  EXPECT_TRUE(
      sec::master_key_from_file(write_with_mode(dir, "readonly", h, fs::perms::owner_read)) == key);

  struct Bad {
    std::string name;
    std::string content;
    std::string says;
  };
  const std::vector<Bad> bad = {
      {"short", h.substr(0, 63), "found 63"},
      {"long", h + "0", "found 65"},
      {"double", h + h, "found 128"},
      {"nonhex", h.substr(0, 10) + "g" + h.substr(11), "character 11"},
      {"inner-space", h.substr(0, 32) + " " + h.substr(33), "character 33"},
      {"half", h.substr(0, 32), "128-bit"},
      {"empty", "", "found 0"},
      {"raw-plus-newline", raw(key) + "\n", ""},
      {"raw-short", raw(key).substr(0, 31), ""},
  };
  for (const Bad& b : bad) {
    const fs::path file = write_with_mode(dir, b.name, b.content);
    const std::string error = error_of([&] { sec::master_key_from_file(file); });
    EXPECT_NE(error.find(file.string()), std::string::npos) << b.name << ": " << error;
    EXPECT_NE(error.find(b.says), std::string::npos) << b.name << ": " << error;
    EXPECT_EQ(error.find(h.substr(0, 16)), std::string::npos) << "key material in: " << error;
  }
}

TEST(MasterKey, FileReadableByOthersIsRefused) {
  tsunagu_test::TempDir dir;
  const DataKey key = DataKey::generate();
  const fs::path file = write_with_mode(dir, "master.key", hex(raw(key)) + "\n");
  for (const auto& [extra, mode] :
       std::vector<std::pair<fs::perms, std::string>>{{fs::perms::group_read, "0640"},
                                                      {fs::perms::others_read, "0604"},
                                                      {fs::perms::group_write, "0620"},
                                                      {fs::perms::others_exec, "0601"}}) {
    fs::permissions(file, kOwnerOnly | extra);
    const std::string error = error_of([&] { sec::master_key_from_file(file); });
    EXPECT_NE(error.find(file.string()), std::string::npos) << error;
    EXPECT_NE(error.find(mode), std::string::npos) << error;
    EXPECT_NE(error.find("chmod 600"), std::string::npos) << error;
  }
  fs::permissions(file, kOwnerOnly);
  EXPECT_TRUE(sec::master_key_from_file(file) == key);
}

TEST(MasterKey, MissingOrOddFilesNameThePath) {
  tsunagu_test::TempDir dir;
  const fs::path missing = dir / "absent.key";
  EXPECT_NE(error_of([&] { sec::master_key_from_file(missing); }).find(missing.string()),
            std::string::npos);
  const fs::path directory = dir / "a-directory";
  fs::create_directories(directory);
  fs::permissions(directory, fs::perms::owner_all);
  EXPECT_NE(error_of([&] { sec::master_key_from_file(directory); }).find(directory.string()),
            std::string::npos);
  const fs::path big = write_with_mode(dir, "big.key", std::string(10000, 'a'));
  EXPECT_NE(error_of([&] { sec::master_key_from_file(big); }).find(big.string()),
            std::string::npos);
}

TEST(MasterKey, FromHexAndEnvironment) {
  const DataKey key = DataKey::generate();
  const std::string h = hex(raw(key));
  EXPECT_TRUE(sec::master_key_from_hex(h, "test") == key);
  EXPECT_TRUE(sec::master_key_from_hex(" " + h + "\n", "test") == key);

  std::string error = error_of([&] { sec::master_key_from_hex(h.substr(2), "the source"); });
  EXPECT_NE(error.find("the source"), std::string::npos) << error;
  EXPECT_NE(error.find("64 hexadecimal digits"), std::string::npos) << error;
  EXPECT_EQ(error.find(h.substr(2, 16)), std::string::npos) << "key material in: " << error;
  error = error_of([&] { sec::master_key_from_hex("z" + h.substr(1), "the source"); });
  EXPECT_NE(error.find("character 1 "), std::string::npos) << error;
  error = error_of([&] { sec::master_key_from_hex(h.substr(0, 63) + "-", "the source"); });
  EXPECT_NE(error.find("character 64 "), std::string::npos) << error;

  const char* variable = "TSUNAGU_TEST_MASTER_KEY_AEAD";
  ::unsetenv(variable);
  EXPECT_FALSE(sec::master_key_from_env(variable).has_value());
  ::setenv(variable, h.c_str(), 1);
  const auto from_env = sec::master_key_from_env(variable);
  ASSERT_TRUE(from_env.has_value());
  EXPECT_TRUE(*from_env == key);
  for (const char* bad :
       {"", "abc", "not hex at all but sixty-four characters long, padded......"}) {
    ::setenv(variable, bad, 1);
    error = error_of([&] { sec::master_key_from_env(variable); });
    EXPECT_NE(error.find(variable), std::string::npos) << error;
  }
  ::unsetenv(variable);
}

}  // namespace
