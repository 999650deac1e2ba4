#include <security/ed25519.hpp>

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using tsunagu::security::KeyError;
using tsunagu::security::Overwrite;
using tsunagu::security::SigningKey;
using tsunagu::security::VerifyingKey;

std::string unhex(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  }
  return out;
}

std::string hex(std::string_view bytes) {
  std::string out;
  char buffer[3];
  for (char c : bytes) {
    std::snprintf(buffer, sizeof buffer, "%02x", static_cast<unsigned char>(c));
    out += buffer;
  }
  return out;
}

unsigned file_mode(const fs::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return 0xFFFF;
  return st.st_mode & 07777;
}

fs::path write_with_mode(const tsunagu_test::TempDir& dir, const std::string& name,
                         const std::string& content, fs::perms mode) {
  const fs::path p = dir.write(name, content);
  fs::permissions(p, mode);
  return p;
}

// PEM of an OpenSSL-made key, written by OpenSSL itself rather than by the code under test.
std::string pem_of(EVP_PKEY* key, const EVP_CIPHER* cipher = nullptr,
                   const char* passphrase = nullptr) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(
      bio, key, cipher, reinterpret_cast<const unsigned char*>(passphrase),
      passphrase != nullptr ? static_cast<int>(std::string(passphrase).size()) : 0, nullptr,
      nullptr);
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(length));
  BIO_free(bio);
  return out;
}

std::string ed25519_pem_from_seed(const std::string& seed) {
  EVP_PKEY* key = EVP_PKEY_new_raw_private_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(seed.data()), seed.size());
  std::string pem = pem_of(key);
  EVP_PKEY_free(key);
  return pem;
}

constexpr auto kOwnerOnly = fs::perms::owner_read | fs::perms::owner_write;

TEST(Ed25519, SignAndVerify) {
  const SigningKey key = SigningKey::generate();
  const std::string message = "tree head: size=42 root=e3b0c442";
  const std::string signature = key.sign(message);
  EXPECT_EQ(signature.size(), 64U);
  EXPECT_EQ(key.sign(message), signature) << "Ed25519 is deterministic";
  EXPECT_TRUE(key.verifying_key().verify(message, signature));

  const std::string empty_signature = key.sign("");
  EXPECT_TRUE(key.verifying_key().verify("", empty_signature));
  EXPECT_FALSE(key.verifying_key().verify("", signature));

  EXPECT_EQ(key.public_key_raw().size(), 32U);
  EXPECT_EQ(key.key_id().size(), 64U);
  EXPECT_EQ(key.key_id(), key.verifying_key().key_id());
}

TEST(Ed25519, TamperedMessageIsRejected) {
  const SigningKey key = SigningKey::generate();
  const VerifyingKey verifier = key.verifying_key();
  const std::string message = "received system=health_centre sha256=9f86d081";
  const std::string signature = key.sign(message);
  for (std::size_t i = 0; i < message.size(); ++i) {
    std::string tampered = message;
    tampered[i] = static_cast<char>(tampered[i] ^ 0x01);
    EXPECT_FALSE(verifier.verify(tampered, signature)) << "byte " << i;
  }
  EXPECT_FALSE(verifier.verify(message + " ", signature));
  EXPECT_FALSE(verifier.verify(message.substr(1), signature));
  EXPECT_FALSE(verifier.verify("", signature));
}

TEST(Ed25519, TamperedSignatureIsRejected) {
  const SigningKey key = SigningKey::generate();
  const VerifyingKey verifier = key.verifying_key();
  const std::string message = "routed policy=jidou-fukushi-hou-25";
  const std::string signature = key.sign(message);
  for (std::size_t i = 0; i < signature.size(); ++i) {
    for (int bit : {0x01, 0x80}) {
      std::string tampered = signature;
      tampered[i] = static_cast<char>(tampered[i] ^ bit);
      EXPECT_FALSE(verifier.verify(message, tampered)) << "byte " << i << " bit " << bit;
    }
  }
  EXPECT_FALSE(verifier.verify(message, ""));
  EXPECT_FALSE(verifier.verify(message, signature.substr(0, 63)));
  EXPECT_FALSE(verifier.verify(message, signature + '\0'));
  EXPECT_FALSE(verifier.verify(message, std::string(64, '\0')));
}

TEST(Ed25519, AnotherKeyIsRejected) {
  const SigningKey key = SigningKey::generate();
  const SigningKey other = SigningKey::generate();
  EXPECT_NE(key.key_id(), other.key_id());
  const std::string signature = key.sign("m");
  EXPECT_FALSE(other.verifying_key().verify("m", signature));
  EXPECT_TRUE(other.verifying_key().verify("m", other.sign("m")));
}

// RFC 8032 §7.1, tests 1 and 2: the key is loaded from a PEM that OpenSSL wrote from the seed.
TEST(Ed25519, Rfc8032Vectors) {
  struct Vector {
    const char* seed;
    const char* public_key;
    const char* message;
    const char* signature;
  };
  const Vector vectors[] = {
      {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
       "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
       "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf"
       "9b46bd25bf5f0595bbe24655141438e7a100b"},
      {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
       "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
       "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f"
       "11d8c387b2eaeb4302aeeb00d291612bb0c00"},
  };
  tsunagu_test::TempDir dir;
  int n = 0;
  for (const Vector& v : vectors) {
    const fs::path file = write_with_mode(dir, "rfc" + std::to_string(n++) + ".pem",
                                          ed25519_pem_from_seed(unhex(v.seed)), kOwnerOnly);
    const SigningKey key = SigningKey::load_pem_file(file);
    EXPECT_EQ(hex(key.public_key_raw()), v.public_key);
    EXPECT_EQ(hex(key.sign(unhex(v.message))), v.signature);
    const VerifyingKey verifier = VerifyingKey::from_raw(unhex(v.public_key));
    EXPECT_TRUE(verifier.verify(unhex(v.message), unhex(v.signature)));
    EXPECT_FALSE(verifier.verify(unhex(v.message) + "x", unhex(v.signature)));

    // The key id is the hex SHA-256 of the raw public key, computed independently here.
    unsigned char digest[32];
    unsigned int length = 0;
    const std::string raw = unhex(v.public_key);
    EVP_Digest(raw.data(), raw.size(), digest, &length, EVP_sha256(), nullptr);
    EXPECT_EQ(key.key_id(), hex(std::string(reinterpret_cast<char*>(digest), length)));
  }
}

TEST(Ed25519, PemFileRoundTripWithMode0600) {
  tsunagu_test::TempDir dir;
  const fs::path file = dir / "keys" / "audit-signing.pem";
  fs::create_directories(file.parent_path());
  const SigningKey key = SigningKey::generate();

  // Even a permissive umask must not widen the key file's mode.
  const mode_t previous = ::umask(0);
  key.save_pem_file(file);
  ::umask(previous);
  EXPECT_EQ(file_mode(file), 0600U);
  EXPECT_NE(tsunagu_test::read_file(file).find("-----BEGIN PRIVATE KEY-----"), std::string::npos);
  // No temporary file is left behind.
  EXPECT_EQ(std::distance(fs::directory_iterator(file.parent_path()), fs::directory_iterator()), 1);

  const SigningKey loaded = SigningKey::load_pem_file(file);
  EXPECT_EQ(loaded.key_id(), key.key_id());
  EXPECT_EQ(loaded.public_key_raw(), key.public_key_raw());
  EXPECT_EQ(loaded.public_key_pem(), key.public_key_pem());
  EXPECT_EQ(loaded.sign("head"), key.sign("head"));
  EXPECT_TRUE(key.verifying_key().verify("head", loaded.sign("head")));
}

TEST(Ed25519, SaveRefusesToReplaceAKeyUnlessAsked) {
  tsunagu_test::TempDir dir;
  const fs::path file = dir / "signing.pem";
  const SigningKey first = SigningKey::generate();
  const SigningKey second = SigningKey::generate();
  first.save_pem_file(file);
  try {
    second.save_pem_file(file);
    FAIL() << "an existing key file was replaced";
  } catch (const KeyError& e) {
    EXPECT_NE(std::string(e.what()).find(file.string()), std::string::npos) << e.what();
  }
  EXPECT_EQ(SigningKey::load_pem_file(file).key_id(), first.key_id());
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);

  second.save_pem_file(file, Overwrite::replace);
  EXPECT_EQ(SigningKey::load_pem_file(file).key_id(), second.key_id());
  EXPECT_EQ(file_mode(file), 0600U);

  EXPECT_THROW(first.save_pem_file(dir / "missing-dir" / "k.pem"), KeyError);
}

TEST(Ed25519, PublicKeyFormsRoundTrip) {
  tsunagu_test::TempDir dir;
  const SigningKey key = SigningKey::generate();
  const std::string signature = key.sign("x");
  const std::string pem = key.public_key_pem();
  EXPECT_EQ(pem.rfind("-----BEGIN PUBLIC KEY-----", 0), 0U);

  const VerifyingKey from_pem = VerifyingKey::from_pem(pem);
  const VerifyingKey from_raw = VerifyingKey::from_raw(key.public_key_raw());
  const VerifyingKey from_file = VerifyingKey::load_pem_file(dir.write("pub.pem", pem));
  for (const VerifyingKey* v : {&from_pem, &from_raw, &from_file}) {
    EXPECT_TRUE(v->verify("x", signature));
    EXPECT_EQ(v->key_id(), key.key_id());
    EXPECT_EQ(v->public_key_pem(), pem);
    EXPECT_EQ(v->public_key_raw(), key.public_key_raw());
  }
}

std::string load_error(const fs::path& file) {
  try {
    SigningKey::load_pem_file(file);
  } catch (const KeyError& e) {
    return e.what();
  }
  return "(loaded)";
}

TEST(Ed25519, LoadErrorsNameTheFile) {
  tsunagu_test::TempDir dir;
  const fs::path missing = dir / "missing.pem";
  EXPECT_NE(load_error(missing).find(missing.string()), std::string::npos) << load_error(missing);

  // A group-readable key is refused, with the way out in the message.
  const SigningKey key = SigningKey::generate();
  const fs::path shared = dir / "shared.pem";
  key.save_pem_file(shared);
  fs::permissions(shared, kOwnerOnly | fs::perms::group_read);
  std::string error = load_error(shared);
  EXPECT_NE(error.find(shared.string()), std::string::npos) << error;
  EXPECT_NE(error.find("chmod 600"), std::string::npos) << error;
  fs::permissions(shared, kOwnerOnly | fs::perms::others_read);
  EXPECT_NE(load_error(shared).find("0604"), std::string::npos) << load_error(shared);
  fs::permissions(shared, fs::perms::owner_read);
  EXPECT_EQ(load_error(shared), "(loaded)");

  const fs::path garbage = write_with_mode(dir, "garbage.pem", "not a key\n", kOwnerOnly);
  error = load_error(garbage);
  EXPECT_NE(error.find(garbage.string()), std::string::npos) << error;

  const fs::path public_only = write_with_mode(dir, "public.pem", key.public_key_pem(), kOwnerOnly);
  error = load_error(public_only);
  EXPECT_NE(error.find(public_only.string()), std::string::npos) << error;

  EVP_PKEY* ec = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  ASSERT_NE(ec, nullptr);
  const fs::path ec_file = write_with_mode(dir, "ec.pem", pem_of(ec), kOwnerOnly);
  error = load_error(ec_file);
  EXPECT_NE(error.find(ec_file.string()), std::string::npos) << error;
  EXPECT_NE(error.find("not Ed25519"), std::string::npos) << error;

  // An encrypted key fails instead of prompting for a passphrase on the terminal.
  EVP_PKEY* ed = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  ASSERT_NE(ed, nullptr);
  const fs::path encrypted = write_with_mode(
      dir, "encrypted.pem", pem_of(ed, EVP_aes_256_cbc(), "passphrase"), kOwnerOnly);
  error = load_error(encrypted);
  EXPECT_NE(error.find(encrypted.string()), std::string::npos) << error;
  EVP_PKEY_free(ec);
  EVP_PKEY_free(ed);

  EXPECT_NE(load_error(dir.path()).find(dir.path().string()), std::string::npos);
}

TEST(Ed25519, PublicKeyErrors) {
  EXPECT_THROW(VerifyingKey::from_pem("garbage"), KeyError);
  EXPECT_THROW(VerifyingKey::from_pem(""), KeyError);
  EXPECT_THROW(VerifyingKey::from_raw(std::string(31, 'a')), KeyError);
  EXPECT_THROW(VerifyingKey::from_raw(std::string(33, 'a')), KeyError);

  EVP_PKEY* ec = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  ASSERT_NE(ec, nullptr);
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, ec);
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio, &data);
  const std::string ec_pem(data, static_cast<std::size_t>(length));
  BIO_free(bio);
  EVP_PKEY_free(ec);
  try {
    VerifyingKey::from_pem(ec_pem);
    FAIL() << "an EC public key was accepted";
  } catch (const KeyError& e) {
    EXPECT_NE(std::string(e.what()).find("not Ed25519"), std::string::npos) << e.what();
  }

  tsunagu_test::TempDir dir;
  try {
    VerifyingKey::load_pem_file(dir / "nope.pem");
    FAIL() << "a missing file loaded";
  } catch (const KeyError& e) {
    EXPECT_NE(std::string(e.what()).find((dir / "nope.pem").string()), std::string::npos);
  }
}

TEST(Ed25519, SharedAcrossThreads) {
  const SigningKey key = SigningKey::generate();
  const SigningKey copy = key;  // copies share the key
  const VerifyingKey verifier = key.verifying_key();
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        const std::string message = std::to_string(t) + ":" + std::to_string(i);
        if (!verifier.verify(message, (i % 2 != 0 ? copy : key).sign(message))) ++failures[t];
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int f : failures) EXPECT_EQ(f, 0);
}

}  // namespace
