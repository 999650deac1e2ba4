#include "web/login_throttle.hpp"

#include <algorithm>
#include <cctype>

namespace tsunagu::web {
namespace {

std::string lower(const std::string& s) {
  std::string out = s;
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::string address_without_port(const std::string& remote) {
  if (!remote.empty() && remote.front() == '[') {
    const auto close = remote.find(']');
    return close == std::string::npos ? remote : remote.substr(1, close - 1);
  }
  const auto colon = remote.rfind(':');
  if (colon == std::string::npos || remote.find(':') != colon) return remote;  // bare IPv6
  return remote.substr(0, colon);
}

LoginThrottle::LoginThrottle(const Clock& clock, ThrottlePolicy account_policy,
                             ThrottlePolicy address_policy)
    : clock_(clock), account_policy_(account_policy), address_policy_(address_policy) {}

std::chrono::seconds LoginThrottle::wait(Table& table, const std::string& key,
                                         const ThrottlePolicy& policy, TimePoint now) {
  auto it = table.find(key);
  if (it == table.end()) return std::chrono::seconds(0);
  if (now - it->second.last_failure >= policy.forget_after) {
    table.erase(it);
    return std::chrono::seconds(0);
  }
  if (it->second.locked_until <= now) return std::chrono::seconds(0);
  // Rounded up, so that a client waiting exactly this long is let in.
  return std::chrono::ceil<std::chrono::seconds>(it->second.locked_until - now);
}

void LoginThrottle::fail(Table& table, const std::string& key, const ThrottlePolicy& policy,
                         TimePoint now) {
  if (table.size() >= policy.max_keys && table.count(key) == 0) {
    // Forget the key whose last failure is oldest.
    auto oldest = std::min_element(table.begin(), table.end(), [](const auto& a, const auto& b) {
      return a.second.last_failure < b.second.last_failure;
    });
    if (oldest != table.end()) table.erase(oldest);
  }
  Entry& e = table[key];
  if (e.failures > 0 && now - e.last_failure >= policy.forget_after) e = Entry{};
  ++e.failures;
  e.last_failure = now;
  if (e.failures >= policy.free_failures) {
    const int doublings = std::min(e.failures - policy.free_failures, 20);
    auto lockout = policy.base_lockout * (1LL << doublings);
    lockout = std::min<std::chrono::seconds>(lockout, policy.max_lockout);
    e.locked_until = now + lockout;
  }
}

std::chrono::seconds LoginThrottle::wait_before(const std::string& login,
                                                const std::string& address) {
  const TimePoint now = clock_.now();
  std::lock_guard<std::mutex> lock(mutex_);
  return std::max(wait(accounts_, lower(login), account_policy_, now),
                  wait(addresses_, address, address_policy_, now));
}

void LoginThrottle::record_failure(const std::string& login, const std::string& address) {
  const TimePoint now = clock_.now();
  std::lock_guard<std::mutex> lock(mutex_);
  fail(accounts_, lower(login), account_policy_, now);
  fail(addresses_, address, address_policy_, now);
}

void LoginThrottle::record_success(const std::string& login) {
  std::lock_guard<std::mutex> lock(mutex_);
  accounts_.erase(lower(login));
}

}  // namespace tsunagu::web
