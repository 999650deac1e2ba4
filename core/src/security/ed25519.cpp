#include "security/ed25519.hpp"

#include <climits>
#include <fstream>

#include <openssl/pem.h>

#include "security/openssl_detail.hpp"

namespace tsunagu::security {
namespace {

using detail::BioPtr;
using detail::MdCtxPtr;
using detail::PkeyCtxPtr;
using detail::PkeyPtr;

// Key files are a few hundred bytes; anything far larger is not a key.
constexpr std::size_t kMaxPemSize = 64 * 1024;

std::string quoted(const std::filesystem::path& path) {
  return "'" + path.string() + "'";
}

std::shared_ptr<evp_pkey_st> share(PkeyPtr key) {
  return std::shared_ptr<evp_pkey_st>(key.release(), EVP_PKEY_free);
}

// OpenSSL's default callback would prompt on the terminal for an encrypted key; a daemon has no
// one to ask, so an encrypted key simply fails to load.
int no_passphrase(char*, int, int, void*) {
  return 0;
}

BioPtr read_only_bio(std::string_view text) {
  if (text.size() > static_cast<std::size_t>(INT_MAX)) throw KeyError("PEM text too large");
  BioPtr bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  if (!bio) throw CryptoError("cannot allocate a BIO: " + detail::take_openssl_error());
  return bio;
}

// Empty messages are valid; OpenSSL gets a real pointer either way.
const unsigned char* message_bytes(std::string_view message) {
  static const unsigned char kNothing = 0;
  return message.empty() ? &kNothing : reinterpret_cast<const unsigned char*>(message.data());
}

bool is_ed25519(EVP_PKEY* key) {
  return EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519;
}

std::string type_name(EVP_PKEY* key) {
  const char* name = EVP_PKEY_get0_type_name(key);
  return name != nullptr ? name : "unknown";
}

std::string public_pem_of(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key) != 1) {
    throw CryptoError("cannot encode an Ed25519 public key: " + detail::take_openssl_error());
  }
  return detail::bio_contents(bio.get());
}

std::string raw_public_of(EVP_PKEY* key) {
  std::string raw(kEd25519PublicKeySize, '\0');
  std::size_t length = raw.size();
  if (EVP_PKEY_get_raw_public_key(key, reinterpret_cast<unsigned char*>(raw.data()), &length) !=
          1 ||
      length != kEd25519PublicKeySize) {
    throw CryptoError("cannot extract an Ed25519 public key: " + detail::take_openssl_error());
  }
  return raw;
}

std::string key_id_of(EVP_PKEY* key) {
  return detail::to_hex(detail::sha256(raw_public_of(key)));
}

PkeyPtr public_from_pem(std::string_view pem, const std::string& origin) {
  BioPtr bio = read_only_bio(pem);
  PkeyPtr key(PEM_read_bio_PUBKEY(bio.get(), nullptr, no_passphrase, nullptr));
  if (!key) {
    throw KeyError(origin + ": not a PEM public key (" + detail::take_openssl_error() + ")");
  }
  if (!is_ed25519(key.get())) {
    throw KeyError(origin + ": a " + type_name(key.get()) + " key, not Ed25519");
  }
  return key;
}

}  // namespace

SigningKey SigningKey::generate() {
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "ED25519", nullptr));
  EVP_PKEY* raw = nullptr;
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 || EVP_PKEY_generate(ctx.get(), &raw) != 1) {
    throw CryptoError("cannot generate an Ed25519 key: " + detail::take_openssl_error());
  }
  return SigningKey(share(PkeyPtr(raw)));
}

SigningKey SigningKey::load_pem_file(const std::filesystem::path& file) {
  const std::string what = "cannot load the Ed25519 signing key " + quoted(file);
  std::string pem;
  try {
    pem = read_secret_file(file, kMaxPemSize);
  } catch (const KeyError& e) {
    throw KeyError("cannot load the Ed25519 signing key: " + std::string(e.what()));
  }
  PkeyPtr key;
  {
    BioPtr bio = read_only_bio(pem);
    key.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr));
  }
  wipe(pem);
  if (!key) {
    throw KeyError(what + ": not an unencrypted PEM private key (" + detail::take_openssl_error() +
                   ")");
  }
  if (!is_ed25519(key.get())) {
    throw KeyError(what + ": it holds a " + type_name(key.get()) + " key, not Ed25519");
  }
  return SigningKey(share(std::move(key)));
}

void SigningKey::save_pem_file(const std::filesystem::path& file, Overwrite overwrite) const {
  // A secure-heap BIO: the PEM text is cleared when the BIO is freed.
  BioPtr bio(BIO_new(BIO_s_secmem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    throw CryptoError("cannot encode the Ed25519 signing key: " + detail::take_openssl_error());
  }
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio.get(), &data);
  if (length <= 0 || data == nullptr) throw CryptoError("cannot encode the Ed25519 signing key");
  write_secret_file(file, std::string_view(data, static_cast<std::size_t>(length)), overwrite);
}

std::string SigningKey::sign(std::string_view message) const {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  std::string signature(kEd25519SignatureSize, '\0');
  std::size_t length = signature.size();
  // Ed25519 hashes internally (PureEdDSA), hence no digest and the one-shot call.
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key_.get()) != 1 ||
      EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                     message_bytes(message), message.size()) != 1 ||
      length != kEd25519SignatureSize) {
    throw CryptoError("Ed25519 signing failed: " + detail::take_openssl_error());
  }
  return signature;
}

std::string SigningKey::public_key_pem() const {
  return public_pem_of(key_.get());
}
std::string SigningKey::public_key_raw() const {
  return raw_public_of(key_.get());
}
std::string SigningKey::key_id() const {
  return key_id_of(key_.get());
}

VerifyingKey SigningKey::verifying_key() const {
  return VerifyingKey::from_raw(public_key_raw());
}

VerifyingKey VerifyingKey::from_pem(std::string_view pem) {
  return VerifyingKey(share(public_from_pem(pem, "Ed25519 public key")));
}

VerifyingKey VerifyingKey::from_raw(std::string_view raw) {
  if (raw.size() != kEd25519PublicKeySize) {
    throw KeyError("an Ed25519 public key is 32 bytes, got " + std::to_string(raw.size()));
  }
  PkeyPtr key(EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(raw.data()), raw.size()));
  if (!key) {
    throw KeyError("not a valid Ed25519 public key (" + detail::take_openssl_error() + ")");
  }
  return VerifyingKey(share(std::move(key)));
}

VerifyingKey VerifyingKey::load_pem_file(const std::filesystem::path& file) {
  const std::string what = "cannot load the Ed25519 public key " + quoted(file);
  std::ifstream in(file, std::ios::binary);
  if (!in) throw KeyError(what + ": cannot open it");
  std::string pem;
  pem.resize(kMaxPemSize + 1);
  in.read(pem.data(), static_cast<std::streamsize>(pem.size()));
  if (in.bad()) throw KeyError(what + ": cannot read it");
  pem.resize(static_cast<std::size_t>(in.gcount()));
  if (pem.size() > kMaxPemSize) throw KeyError(what + ": too large to be a key");
  // public_from_pem's message starts with the origin, so the file name leads the error.
  return VerifyingKey(share(public_from_pem(pem, what)));
}

bool VerifyingKey::verify(std::string_view message, std::string_view signature) const {
  if (signature.size() != kEd25519SignatureSize) return false;
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key_.get()) != 1) {
    throw CryptoError("Ed25519 verification set-up failed: " + detail::take_openssl_error());
  }
  const int result =
      EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                       signature.size(), message_bytes(message), message.size());
  if (result != 1) detail::clear_openssl_errors();
  return result == 1;
}

std::string VerifyingKey::public_key_pem() const {
  return public_pem_of(key_.get());
}
std::string VerifyingKey::public_key_raw() const {
  return raw_public_of(key_.get());
}
std::string VerifyingKey::key_id() const {
  return key_id_of(key_.get());
}

}  // namespace tsunagu::security
