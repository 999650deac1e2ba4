#include "web/accounts.hpp"

#include <regex>

#include "store/prepared.hpp"
#include "web/secret_token.hpp"

namespace tsunagu::web {
namespace {

namespace type = audit::entry_type;

constexpr const char* kAccountColumns =
    "id, login, role, officer_id, ward_code, disabled, created_at, updated_at, password_hash";

Account account_from(const store::Query& q) {
  Account a;
  a.id = q.integer(0);
  a.login = q.text(1);
  a.role = role_from_string(q.text(2)).value_or(Role::liaison);  // CHECK constraint: always known
  a.officer_id = q.text(3);
  a.ward_code = q.text(4);
  a.disabled = q.integer(5) != 0;
  a.created_at = q.text(6);
  a.updated_at = q.text(7);
  return a;
}

std::string officer_problem(const std::string& officer) {
  if (officer.size() > 64) return "officer id is longer than 64 characters";
  for (const char c : officer) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7F) {
      return "officer id has a space or control character";
    }
  }
  return "";
}

std::string ward_problem(const std::string& ward) {
  static const std::regex kWard("011(0[1-9]|10)");  // Sapporo's ten wards, 01101 … 01110
  if (ward.empty() || std::regex_match(ward, kWard)) return "";
  return "ward code '" + ward + "' is not one of Sapporo's (01101 … 01110)";
}

}  // namespace

std::string csrf_token_of(const std::string& session_id) {
  return token_hash("tsunagu-csrf-v1:" + session_id).substr(0, 43);
}

std::string login_problem(const std::string& login) {
  if (login.empty() || login.size() > 64) return "a login has 1 to 64 characters";
  for (const char c : login) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-' || c == '@';
    if (!ok) return "a login has only a-z, A-Z, 0-9, '.', '_', '-' and '@'";
  }
  return "";
}

Accounts::Accounts(store::Store& store, audit::AuditLog& audit, const Clock& clock)
    : store_(store), audit_(audit), clock_(clock) {}

std::int64_t Accounts::now_unix() const {
  return std::chrono::duration_cast<std::chrono::seconds>(clock_.now().time_since_epoch()).count();
}

std::optional<Account> Accounts::read_account(const std::string& sql, const std::string& key,
                                              std::string* password_hash) {
  auto q = store_.query(sql);
  q.bind(key);
  if (!q.next()) return std::nullopt;
  Account a = account_from(q);
  if (password_hash != nullptr) *password_hash = q.text(8);
  return a;
}

std::optional<Account> Accounts::find(const std::string& login) {
  return read_account(std::string("SELECT ") + kAccountColumns + " FROM accounts WHERE login = ?",
                      login);
}

std::vector<Account> Accounts::list() {
  std::vector<Account> out;
  auto q = store_.query(std::string("SELECT ") + kAccountColumns + " FROM accounts ORDER BY login");
  while (q.next()) out.push_back(account_from(q));
  return out;
}

Account Accounts::create(const NewAccount& account, std::string_view password,
                         const std::string& actor, const ScryptParams& params) {
  if (auto p = login_problem(account.login); !p.empty()) throw AccountError(p);
  if (auto p = officer_problem(account.officer_id); !p.empty()) throw AccountError(p);
  if (auto p = ward_problem(account.ward_code); !p.empty()) throw AccountError(p);
  if (auto p = password_problem(password); !p.empty()) throw AccountError(p);
  const std::string hash = hash_password(password, params);  // slow: before the write lock
  store::Transaction tx(store_);
  if (find(account.login)) throw AccountError("login '" + account.login + "' already exists");
  const std::string now = store::utc_now();
  const std::string role = to_string(account.role);
  {
    auto q = store_.query(
        "INSERT INTO accounts (login, role, officer_id, ward_code, password_hash, disabled, "
        "created_at, updated_at) VALUES (?, ?, ?, ?, ?, 0, ?, ?)");
    q.bind(account.login).bind(role).bind(account.officer_id).bind(account.ward_code).bind(hash);
    q.bind(now).bind(now).run();
  }
  auto created = find(account.login);
  if (!created) throw AccountError("the account vanished while it was created");
  audit_.append({type::kUserCreated,
                 actor,
                 "",
                 {{"login", account.login},
                  {"account_id", std::to_string(created->id)},
                  {"role", role},
                  {"officer_id", account.officer_id},
                  {"ward_code", account.ward_code}}});
  tx.commit();
  return *created;
}

void Accounts::end_all_sessions(std::int64_t account_id) {
  auto q = store_.query("DELETE FROM web_sessions WHERE account_id = ?");
  q.bind(account_id).run();
}

void Accounts::set_password(const std::string& login, std::string_view password,
                            const std::string& actor, const ScryptParams& params) {
  if (auto p = password_problem(password); !p.empty()) throw AccountError(p);
  const std::string hash = hash_password(password, params);
  store::Transaction tx(store_);
  const auto account = find(login);
  if (!account) throw AccountError("no account '" + login + "'");
  const std::string now = store::utc_now();
  {
    auto q = store_.query("UPDATE accounts SET password_hash = ?, updated_at = ? WHERE id = ?");
    q.bind(hash).bind(now).bind(account->id).run();
  }
  end_all_sessions(account->id);
  audit_.append(
      {type::kUserChanged,
       actor,
       "",
       {{"login", login}, {"account_id", std::to_string(account->id)}, {"change", "password"}}});
  tx.commit();
}

void Accounts::set_disabled(const std::string& login, bool disabled, const std::string& actor) {
  store::Transaction tx(store_);
  const auto account = find(login);
  if (!account) throw AccountError("no account '" + login + "'");
  const std::string now = store::utc_now();
  {
    auto q = store_.query("UPDATE accounts SET disabled = ?, updated_at = ? WHERE id = ?");
    q.bind(disabled ? 1 : 0).bind(now).bind(account->id).run();
  }
  if (disabled) end_all_sessions(account->id);
  audit_.append({type::kUserChanged,
                 actor,
                 "",
                 {{"login", login},
                  {"account_id", std::to_string(account->id)},
                  {"change", disabled ? "disabled" : "enabled"}}});
  tx.commit();
}

IssuedToken Accounts::create_api_token(const std::string& login, const std::string& label,
                                       std::optional<std::chrono::days> valid_for,
                                       const std::string& actor) {
  if (label.size() > 200) throw AccountError("a token label has at most 200 bytes");
  store::Transaction tx(store_);
  const auto account = find(login);
  if (!account) throw AccountError("no account '" + login + "'");
  IssuedToken issued;
  issued.token = "tsu_" + random_token(32);
  const std::string hash = token_hash(issued.token);
  const std::string now = store::utc_now();
  {
    auto q = store_.insert_query(
        "INSERT INTO api_tokens (account_id, token_hash, label, created_at, expires_unix) "
        "VALUES (?, ?, ?, ?, ?)");
    q.bind(account->id).bind(hash).bind(label).bind(now);
    if (valid_for) {
      q.bind(now_unix() + std::chrono::duration_cast<std::chrono::seconds>(*valid_for).count());
    } else {
      q.bind_null();
    }
    const auto id = q.inserted_id();
    if (!id) throw AccountError("the API token was not stored");
    issued.id = *id;
  }
  std::map<std::string, std::string> details{{"login", login},
                                             {"account_id", std::to_string(account->id)},
                                             {"change", "api_token_created"},
                                             {"token_id", std::to_string(issued.id)}};
  if (valid_for) details["valid_days"] = std::to_string(valid_for->count());
  audit_.append({type::kUserChanged, actor, "", details});
  tx.commit();
  return issued;
}

void Accounts::revoke_api_token(std::int64_t id, const std::string& actor) {
  store::Transaction tx(store_);
  std::int64_t account_id = 0;
  std::string login;
  {
    auto q = store_.query(
        "SELECT t.account_id, a.login FROM api_tokens t JOIN accounts a ON a.id = t.account_id "
        "WHERE t.id = ? AND t.revoked_at IS NULL");
    q.bind(id);
    if (!q.next()) throw AccountError("no active API token " + std::to_string(id));
    account_id = q.integer(0);
    login = q.text(1);
  }
  const std::string now = store::utc_now();
  {
    auto q = store_.query("UPDATE api_tokens SET revoked_at = ? WHERE id = ?");
    q.bind(now).bind(id).run();
  }
  audit_.append({type::kUserChanged,
                 actor,
                 "",
                 {{"login", login},
                  {"account_id", std::to_string(account_id)},
                  {"change", "api_token_revoked"},
                  {"token_id", std::to_string(id)}}});
  tx.commit();
}

Accounts::CheckResult Accounts::check_password(const std::string& login, std::string_view password,
                                               std::optional<Account>& account) {
  std::string stored;
  account = login_problem(login).empty() ? read_account(std::string("SELECT ") + kAccountColumns +
                                                            " FROM accounts WHERE login = ?",
                                                        login, &stored)
                                         : std::nullopt;
  if (!account) {
    burn_verification_time(password);
    return CheckResult::unknown_account;
  }
  if (!verify_password(password, stored)) return CheckResult::bad_password;
  // Checked after the password, so that the reply does not tell a guesser which accounts are
  // disabled.
  if (account->disabled) return CheckResult::disabled;
  return CheckResult::ok;
}

OpenedSession Accounts::open_session(const Account& account, const std::string& remote,
                                     const std::string& via) {
  OpenedSession opened;
  opened.id = random_token(32);
  opened.csrf_token = csrf_token_of(opened.id);
  const std::string hash = token_hash(opened.id);
  const std::int64_t now = now_unix();
  store::Transaction tx(store_);
  {
    auto q = store_.query(
        "INSERT INTO web_sessions (id_hash, account_id, created_unix, last_seen_unix, remote) "
        "VALUES (?, ?, ?, ?, ?)");
    q.bind(hash).bind(account.id).bind(now).bind(now).bind(remote).run();
  }
  audit_.append({type::kUserLogin,
                 "user:" + account.login,
                 "",
                 {{"login", account.login},
                  {"account_id", std::to_string(account.id)},
                  {"role", to_string(account.role)},
                  {"remote", remote},
                  {"via", via}}});
  tx.commit();
  opened.principal.account = account;
  opened.principal.via = Principal::Via::session;
  opened.principal.session_hash = hash;
  opened.principal.csrf_token = opened.csrf_token;
  return opened;
}

void Accounts::record_failure(const std::string& login, const std::string& reason,
                              const std::string& remote, const std::string& via) {
  std::map<std::string, std::string> details{{"reason", reason}, {"remote", remote}, {"via", via}};
  const auto account = login_problem(login).empty() ? find(login) : std::nullopt;
  if (account) {
    details["login"] = account->login;
    details["account_id"] = std::to_string(account->id);
  }
  audit_.append_now({type::kUserLoginFailed, "anonymous", "", details});
}

std::optional<Principal> Accounts::session(const std::string& session_id,
                                           const SessionPolicy& policy) {
  const std::string hash = token_hash(session_id);
  std::optional<Account> account;
  std::int64_t created = 0, last_seen = 0;
  {
    auto q = store_.query(
        "SELECT a.id, a.login, a.role, a.officer_id, a.ward_code, a.disabled, a.created_at, "
        "a.updated_at, '', s.created_unix, s.last_seen_unix FROM web_sessions s "
        "JOIN accounts a ON a.id = s.account_id WHERE s.id_hash = ?");
    q.bind(hash);
    if (!q.next()) return std::nullopt;
    account = account_from(q);
    created = q.integer(9);
    last_seen = q.integer(10);
  }
  const std::int64_t now = now_unix();
  const bool expired = now - last_seen >= policy.idle.count() ||
                       now - created >= policy.absolute.count() || now < created;
  if (expired || account->disabled) {
    auto q = store_.query("DELETE FROM web_sessions WHERE id_hash = ?");
    q.bind(hash).run();
    return std::nullopt;
  }
  if (now - last_seen >= policy.touch_interval.count()) {
    auto q = store_.query("UPDATE web_sessions SET last_seen_unix = ? WHERE id_hash = ?");
    q.bind(now).bind(hash).run();
  }
  Principal p;
  p.account = *account;
  p.via = Principal::Via::session;
  p.session_hash = hash;
  p.csrf_token = csrf_token_of(session_id);
  return p;
}

bool Accounts::end_session(const Principal& principal, const std::string& remote) {
  if (principal.via != Principal::Via::session) return false;
  store::Transaction tx(store_);
  std::int64_t changed = 0;
  {
    auto q = store_.query("DELETE FROM web_sessions WHERE id_hash = ?");
    changed = q.bind(principal.session_hash).run();
  }
  if (changed == 0) return false;
  audit_.append({type::kUserLogout,
                 "user:" + principal.account.login,
                 "",
                 {{"login", principal.account.login},
                  {"account_id", std::to_string(principal.account.id)},
                  {"remote", remote}}});
  tx.commit();
  return true;
}

std::optional<Principal> Accounts::api_token(const std::string& token) {
  if (token.rfind("tsu_", 0) != 0 || token.size() > 200) return std::nullopt;
  const std::string hash = token_hash(token);
  auto q = store_.query(
      "SELECT a.id, a.login, a.role, a.officer_id, a.ward_code, a.disabled, a.created_at, "
      "a.updated_at, '', t.id, t.expires_unix FROM api_tokens t "
      "JOIN accounts a ON a.id = t.account_id WHERE t.token_hash = ? AND t.revoked_at IS NULL");
  q.bind(hash);
  if (!q.next()) return std::nullopt;
  Principal p;
  p.account = account_from(q);
  p.via = Principal::Via::api_token;
  p.token_id = q.integer(9);
  if (!q.is_null(10) && q.integer(10) <= now_unix()) return std::nullopt;
  if (p.account.disabled) return std::nullopt;
  return p;
}

}  // namespace tsunagu::web
