#include "security/openssl_detail.hpp"

#include <openssl/err.h>

#include "security/errors.hpp"

namespace tsunagu::security::detail {

std::string take_openssl_error() {
  const unsigned long code = ERR_get_error();
  std::string text = "unknown error";
  if (code != 0) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof buffer);
    text = buffer;
  }
  ERR_clear_error();
  return text;
}

void clear_openssl_errors() {
  ERR_clear_error();
}

std::string bio_contents(BIO* bio) {
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio, &data);
  if (length < 0 || (length > 0 && data == nullptr)) {
    throw CryptoError("cannot read an OpenSSL memory buffer");
  }
  return std::string(data, static_cast<std::size_t>(length));
}

std::string to_hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    out += kDigits[b >> 4];
    out += kDigits[b & 0x0F];
  }
  return out;
}

std::string sha256(std::string_view data) {
  std::string out(32, '\0');
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), reinterpret_cast<unsigned char*>(out.data()), &length,
                 EVP_sha256(), nullptr) != 1 ||
      length != out.size()) {
    throw CryptoError("SHA-256 failed: " + take_openssl_error());
  }
  return out;
}

}  // namespace tsunagu::security::detail
