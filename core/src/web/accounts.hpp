// Accounts, page sessions and API tokens in the store — every change in the same transaction as
// its audit entry (user.created, user.changed, user.login, user.login_failed, user.logout).
//
// Secrets never reach the store or the log in clear: passwords as scrypt hashes, session ids and
// API tokens as their SHA-256. Audit entries hold the login, role, remote address and what
// changed — never a password, session id or token. A failed login for a name that is no account
// logs no name at all (people type passwords into the login field).
//
// One Accounts object per store session (per request, per CLI run); not shared between threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "audit/audit_log.hpp"
#include "common/clock.hpp"
#include "store/store.hpp"
#include "web/password_hash.hpp"
#include "web/roles.hpp"

namespace tsunagu::web {

class AccountError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Account {
  std::int64_t id = 0;
  std::string login;
  Role role = Role::liaison;
  std::string officer_id;  // roster officer id (routing), or empty
  std::string ward_code;   // 01101 … 01110, or empty
  bool disabled = false;
  std::string created_at;
  std::string updated_at;
};

struct NewAccount {
  std::string login;
  Role role = Role::liaison;
  std::string officer_id;
  std::string ward_code;
};

// Who a request is, once authenticated.
struct Principal {
  Account account;
  enum class Via { session, api_token } via = Via::session;
  std::string session_hash;   // via session: the stored hash (to end it)
  std::string csrf_token;     // via session: what forms and X-CSRF-Token must carry
  std::int64_t token_id = 0;  // via api_token
};

struct SessionPolicy {
  std::chrono::seconds idle{30 * 60};
  std::chrono::seconds absolute{12 * 60 * 60};
  // last_seen is written at most this often, so reading a page is not a write every time.
  std::chrono::seconds touch_interval{60};
};

struct OpenedSession {
  std::string id;  // for the cookie; never stored
  std::string csrf_token;
  Principal principal;
};

struct IssuedToken {
  std::int64_t id = 0;
  std::string token;  // shown once
};

// The CSRF token of a session: derived from the session id (never stored), so that it is known
// only to whoever holds the cookie, and differs from the stored hash.
std::string csrf_token_of(const std::string& session_id);

// A login name: 1–64 of a-z A-Z 0-9 . _ - @. Returns "" if valid, else why not.
std::string login_problem(const std::string& login);

class Accounts {
 public:
  Accounts(store::Store& store, audit::AuditLog& audit,
           const Clock& clock = SystemClock::instance());

  // --- administration (the CLI); `actor` is who does it ("cli:<os user>") ---
  // Throws AccountError (bad login, officer id or ward code, weak password, login taken).
  Account create(const NewAccount& account, std::string_view password, const std::string& actor,
                 const ScryptParams& params = kDefaultScrypt);
  // Both end every session of the account. Throw AccountError if there is no such login.
  void set_password(const std::string& login, std::string_view password, const std::string& actor,
                    const ScryptParams& params = kDefaultScrypt);
  void set_disabled(const std::string& login, bool disabled, const std::string& actor);
  IssuedToken create_api_token(const std::string& login, const std::string& label,
                               std::optional<std::chrono::days> valid_for,
                               const std::string& actor);
  void revoke_api_token(std::int64_t id, const std::string& actor);

  std::vector<Account> list();
  std::optional<Account> find(const std::string& login);

  // --- signing in (the pages and the API) ---
  enum class CheckResult { ok, unknown_account, bad_password, disabled };
  // Verifies the password (about as slow for an unknown login as for a known one). Writes
  // nothing: the caller records the outcome with open_session or record_failure.
  CheckResult check_password(const std::string& login, std::string_view password,
                             std::optional<Account>& account);
  // Creates a session and its user.login entry in one transaction.
  OpenedSession open_session(const Account& account, const std::string& remote,
                             const std::string& via);
  // A user.login_failed entry. `reason`: unknown_account, bad_password, disabled, throttled.
  // The login is logged only if it is an account's.
  void record_failure(const std::string& login, const std::string& reason,
                      const std::string& remote, const std::string& via);
  // The session's principal if it exists, has not expired (idle or absolute) and its account is
  // enabled; an expired session is deleted.
  std::optional<Principal> session(const std::string& session_id, const SessionPolicy& policy);
  // Deletes the session and writes user.logout in one transaction; false if it did not exist.
  bool end_session(const Principal& principal, const std::string& remote);
  // The principal of a valid (not revoked, not expired) API token of an enabled account.
  std::optional<Principal> api_token(const std::string& token);

 private:
  std::int64_t now_unix() const;
  std::optional<Account> read_account(const std::string& sql, const std::string& key,
                                      std::string* password_hash = nullptr);
  void end_all_sessions(std::int64_t account_id);

  store::Store& store_;
  audit::AuditLog& audit_;
  const Clock& clock_;
};

}  // namespace tsunagu::web
