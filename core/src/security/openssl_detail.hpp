// Internal to tsunagu_security: RAII owners for OpenSSL objects and small shared helpers.
// Not part of the module's API.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <openssl/bio.h>
#include <openssl/evp.h>

namespace tsunagu::security::detail {

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};

using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX, EVP_MD_CTX_free>>;
using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, Deleter<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free>>;
using CipherPtr = std::unique_ptr<EVP_CIPHER, Deleter<EVP_CIPHER, EVP_CIPHER_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;

// The oldest queued OpenSSL error as text ("unknown error" if none), clearing the queue so that a
// failure here does not surface later in unrelated code (Poco's TLS reads the same queue).
std::string take_openssl_error();

// Clears the queue after an expected failure (bad signature, wrong key).
void clear_openssl_errors();

// Everything a memory BIO holds, as a string.
std::string bio_contents(BIO* bio);

std::string to_hex(std::string_view bytes);

// Plain SHA-256, raw 32 bytes.
std::string sha256(std::string_view data);

}  // namespace tsunagu::security::detail
