// The exceptions the security building blocks throw. Verification and decryption failures are not
// exceptions (they return false / nullopt): a forged or damaged input is an expected outcome there.
#pragma once

#include <stdexcept>

namespace tsunagu::security {

// A key could not be loaded, parsed, created or saved. The message names the file (or the source,
// such as an environment variable) and the reason, and never contains key material.
class KeyError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// OpenSSL failed where it should not (out of memory, no random source, missing algorithm).
class CryptoError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace tsunagu::security
