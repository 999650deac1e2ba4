// Login throttling, in memory: per account (login name) and per client address, with an
// exponential lock-out.
//
// In memory rather than in the store: it is consulted before every password check and updated
// after every failure, and what it protects against (guessing, and making the hub pay for scrypt)
// happens within one process's lifetime. A restart forgets it, which is an administrator's act,
// not a client's. With several hub processes behind one address each keeps its own.
//
// After `free_failures` consecutive failures a key is locked for `base_lockout`, doubling with
// each further failure up to `max_lockout`. A success clears the account's key but not the
// address's (one valid account must not reset an address's count while it guesses others).
// Failures older than `forget_after` are forgotten. At most `max_keys` keys are kept (the
// least recently failed go first), so a flood of addresses cannot grow memory without bound.
//
// Thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <string>

#include "common/clock.hpp"

namespace tsunagu::web {

struct ThrottlePolicy {
  int free_failures = 5;
  std::chrono::seconds base_lockout{2};
  std::chrono::seconds max_lockout{15 * 60};
  std::chrono::seconds forget_after{60 * 60};
  std::size_t max_keys = 10000;
};

class LoginThrottle {
 public:
  // Addresses get more free failures than accounts: an office's NAT is many people.
  explicit LoginThrottle(const Clock& clock = SystemClock::instance(),
                         ThrottlePolicy account_policy = {},
                         ThrottlePolicy address_policy = {20, std::chrono::seconds(2),
                                                          std::chrono::seconds(15 * 60),
                                                          std::chrono::seconds(60 * 60), 10000});

  // Zero if a login attempt for `login` from `address` may go ahead now, else how long to wait.
  std::chrono::seconds wait_before(const std::string& login, const std::string& address);
  void record_failure(const std::string& login, const std::string& address);
  void record_success(const std::string& login);

 private:
  struct Entry {
    int failures = 0;
    TimePoint last_failure{};
    TimePoint locked_until{};
  };
  using Table = std::map<std::string, Entry>;
  std::chrono::seconds wait(Table& table, const std::string& key, const ThrottlePolicy& policy,
                            TimePoint now);
  void fail(Table& table, const std::string& key, const ThrottlePolicy& policy, TimePoint now);

  const Clock& clock_;
  ThrottlePolicy account_policy_;
  ThrottlePolicy address_policy_;
  std::mutex mutex_;
  Table accounts_;
  Table addresses_;
};

// "192.0.2.1:51234" → "192.0.2.1", "[::1]:443" → "::1": the address without its port.
std::string address_without_port(const std::string& remote);

}  // namespace tsunagu::web
