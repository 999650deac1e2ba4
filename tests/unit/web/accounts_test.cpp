// Accounts, sessions and API tokens over a real SQLite store: every change with its audit entry,
// sessions that expire when idle and at their absolute limit (manual clock), and no secret in
// the store or the log.
#include <gtest/gtest.h>

#include "audit/audit_log.hpp"
#include "store/prepared.hpp"
#include "store/store.hpp"
#include "support/temp_dir.hpp"
#include "support/test_store.hpp"
#include "web/accounts.hpp"
#include "web/secret_token.hpp"

namespace {

using namespace tsunagu;
using namespace tsunagu::web;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr ScryptParams kFast{10, 8, 1};
const std::string kPassword = "correct horse battery";

class AccountsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = tsunagu_test::open_test_store(dir_ / "store.db", {});
    log_ = std::make_unique<audit::AuditLog>(*store_);
    accounts_ = std::make_unique<Accounts>(*store_, *log_, clock_);
  }

  Account add(const std::string& login, Role role = Role::liaison) {
    return accounts_->create({login, role, "officer-" + login, "01101"}, kPassword, "cli:test",
                             kFast);
  }

  // Every entry's bytes, in order, and everything the store holds as text.
  std::vector<std::string> entries() {
    return column("SELECT entry FROM audit_entries ORDER BY seq");
  }
  std::vector<std::string> column(const std::string& sql) {
    std::vector<std::string> out;
    auto q = store_->query(sql);
    while (q.next()) out.push_back(q.text(0));
    return out;
  }
  std::string all_stored_text() {
    std::string all;
    for (const char* sql :
         {"SELECT entry FROM audit_entries ORDER BY seq",
          "SELECT login || role || password_hash FROM accounts", "SELECT id_hash FROM web_sessions",
          "SELECT token_hash FROM api_tokens"}) {
      for (const auto& r : column(sql)) all += r + "\n";
    }
    return all;
  }

  tsunagu_test::TempDir dir_;
  ManualClock clock_{TimePoint(std::chrono::hours(24 * 365 * 50))};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<audit::AuditLog> log_;
  std::unique_ptr<Accounts> accounts_;
  SessionPolicy policy_{minutes(30), minutes(12 * 60), seconds(60)};
};

TEST_F(AccountsTest, CreatingAnAccountIsAuditedInItsTransaction) {
  const Account a = add("alice", Role::auditor);
  EXPECT_EQ(a.login, "alice");
  EXPECT_EQ(a.role, Role::auditor);
  EXPECT_EQ(a.officer_id, "officer-alice");
  ASSERT_EQ(entries().size(), 1U);
  EXPECT_NE(entries()[0].find("\"type\":\"user.created\""), std::string::npos);
  EXPECT_NE(entries()[0].find("\"actor\":\"cli:test\""), std::string::npos);
  EXPECT_NE(entries()[0].find("\"role\":\"auditor\""), std::string::npos);
}

TEST_F(AccountsTest, BadAccountsAreRefusedAndNothingIsWritten) {
  add("alice");
  EXPECT_THROW(add("alice"), AccountError);
  EXPECT_THROW(add("has space"), AccountError);
  EXPECT_THROW(add(""), AccountError);
  EXPECT_THROW(accounts_->create({"bob", Role::liaison, "", "99999"}, kPassword, "t", kFast),
               AccountError);
  EXPECT_THROW(accounts_->create({"bob", Role::liaison, "", ""}, "short", "t", kFast),
               AccountError);
  EXPECT_EQ(accounts_->list().size(), 1U);
  EXPECT_EQ(entries().size(), 1U);
}

TEST_F(AccountsTest, PasswordChecksTellTheOutcome) {
  add("alice");
  std::optional<Account> a;
  EXPECT_EQ(accounts_->check_password("alice", kPassword, a), Accounts::CheckResult::ok);
  ASSERT_TRUE(a);
  EXPECT_EQ(accounts_->check_password("alice", "wrong password!", a),
            Accounts::CheckResult::bad_password);
  EXPECT_EQ(accounts_->check_password("nobody", kPassword, a),
            Accounts::CheckResult::unknown_account);
  EXPECT_EQ(accounts_->check_password("bad login!", kPassword, a),
            Accounts::CheckResult::unknown_account);
  accounts_->set_disabled("alice", true, "cli:test");
  EXPECT_EQ(accounts_->check_password("alice", kPassword, a), Accounts::CheckResult::disabled);
  // A disabled account with a wrong password is just a wrong password.
  EXPECT_EQ(accounts_->check_password("alice", "wrong password!", a),
            Accounts::CheckResult::bad_password);
}

TEST_F(AccountsTest, ASessionResolvesUntilItIsIdleTooLong) {
  const Account a = add("alice");
  const auto opened = accounts_->open_session(a, "192.0.2.1", "page");
  EXPECT_EQ(opened.id.size(), 43U);
  auto p = accounts_->session(opened.id, policy_);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->account.login, "alice");
  EXPECT_EQ(p->csrf_token, opened.csrf_token);
  EXPECT_FALSE(accounts_->session(opened.id + "x", policy_));
  clock_.advance(minutes(29));
  EXPECT_TRUE(accounts_->session(opened.id, policy_));  // use resets the idle time
  clock_.advance(minutes(29));
  EXPECT_TRUE(accounts_->session(opened.id, policy_));
  clock_.advance(minutes(30));
  EXPECT_FALSE(accounts_->session(opened.id, policy_));
  clock_.advance(-minutes(30));
  EXPECT_FALSE(accounts_->session(opened.id, policy_)) << "an expired session is deleted";
}

TEST_F(AccountsTest, ASessionEndsAtItsAbsoluteLimitHoweverBusy) {
  const Account a = add("alice");
  const auto opened = accounts_->open_session(a, "192.0.2.1", "page");
  for (int i = 0; i < 12 * 60 / 20 - 1; ++i) {
    clock_.advance(minutes(20));
    ASSERT_TRUE(accounts_->session(opened.id, policy_)) << i;
  }
  clock_.advance(minutes(20));
  EXPECT_FALSE(accounts_->session(opened.id, policy_));
}

TEST_F(AccountsTest, LogoutDeletesTheSessionAndIsAudited) {
  const Account a = add("alice");
  const auto opened = accounts_->open_session(a, "192.0.2.1", "page");
  const auto p = accounts_->session(opened.id, policy_);
  ASSERT_TRUE(p);
  EXPECT_TRUE(accounts_->end_session(*p, "192.0.2.1"));
  EXPECT_FALSE(accounts_->session(opened.id, policy_));
  EXPECT_FALSE(accounts_->end_session(*p, "192.0.2.1"));
  const auto e = entries();
  ASSERT_EQ(e.size(), 3U);  // created, login, logout
  EXPECT_NE(e[1].find("\"type\":\"user.login\""), std::string::npos);
  EXPECT_NE(e[2].find("\"type\":\"user.logout\""), std::string::npos);
}

TEST_F(AccountsTest, DisablingOrANewPasswordEndsEverySession) {
  const Account a = add("alice");
  const auto s1 = accounts_->open_session(a, "192.0.2.1", "page");
  accounts_->set_password("alice", "another good password", "cli:test", kFast);
  EXPECT_FALSE(accounts_->session(s1.id, policy_));
  std::optional<Account> checked;
  EXPECT_EQ(accounts_->check_password("alice", "another good password", checked),
            Accounts::CheckResult::ok);
  const auto s2 = accounts_->open_session(a, "192.0.2.1", "page");
  accounts_->set_disabled("alice", true, "cli:test");
  EXPECT_FALSE(accounts_->session(s2.id, policy_));
  accounts_->set_disabled("alice", false, "cli:test");
  EXPECT_FALSE(accounts_->session(s2.id, policy_));
  EXPECT_THROW(accounts_->set_password("nobody", "another good password", "t", kFast),
               AccountError);
}

TEST_F(AccountsTest, ApiTokensResolveUntilRevokedOrExpired) {
  add("alice", Role::auditor);
  const auto t =
      accounts_->create_api_token("alice", "monitoring", std::chrono::days(2), "cli:test");
  EXPECT_EQ(t.token.rfind("tsu_", 0), 0U);
  auto p = accounts_->api_token(t.token);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->account.login, "alice");
  EXPECT_EQ(p->via, Principal::Via::api_token);
  EXPECT_FALSE(accounts_->api_token(t.token + "x"));
  EXPECT_FALSE(accounts_->api_token("not-a-token"));
  clock_.advance(std::chrono::hours(49));
  EXPECT_FALSE(accounts_->api_token(t.token));

  const auto forever = accounts_->create_api_token("alice", "", std::nullopt, "cli:test");
  EXPECT_TRUE(accounts_->api_token(forever.token));
  accounts_->set_disabled("alice", true, "cli:test");
  EXPECT_FALSE(accounts_->api_token(forever.token));
  accounts_->set_disabled("alice", false, "cli:test");
  EXPECT_TRUE(accounts_->api_token(forever.token));
  accounts_->revoke_api_token(forever.id, "cli:test");
  EXPECT_FALSE(accounts_->api_token(forever.token));
  EXPECT_THROW(accounts_->revoke_api_token(forever.id, "cli:test"), AccountError);
}

TEST_F(AccountsTest, FailedLoginsNameOnlyRealAccounts) {
  add("alice");
  accounts_->record_failure("alice", "bad_password", "192.0.2.1", "page");
  accounts_->record_failure("MySecretPassw0rd", "unknown_account", "192.0.2.1", "page");
  const auto e = entries();
  ASSERT_EQ(e.size(), 3U);
  EXPECT_NE(e[1].find("\"login\":\"alice\""), std::string::npos);
  EXPECT_NE(e[1].find("\"reason\":\"bad_password\""), std::string::npos);
  EXPECT_EQ(e[2].find("MySecretPassw0rd"), std::string::npos);
  EXPECT_NE(e[2].find("\"reason\":\"unknown_account\""), std::string::npos);
}

TEST_F(AccountsTest, NoPasswordSessionIdOrTokenIsStoredOrLogged) {
  const Account a = add("alice");
  accounts_->set_password("alice", "second password here", "cli:test", kFast);
  const auto s = accounts_->open_session(a, "192.0.2.1", "page");
  const auto t = accounts_->create_api_token("alice", "x", std::nullopt, "cli:test");
  const std::string all = all_stored_text();
  for (const std::string& secret :
       {kPassword, std::string("second password here"), s.id, s.csrf_token, t.token}) {
    EXPECT_EQ(all.find(secret), std::string::npos) << secret;
  }
  EXPECT_NE(all.find(token_hash(s.id)), std::string::npos);
  EXPECT_NE(all.find(token_hash(t.token)), std::string::npos);
}

TEST(Roles, EveryRoleRoundTripsByNameAndHasAJapaneseLabel) {
  for (const Role r : kAllRoles) {
    EXPECT_EQ(role_from_string(to_string(r)), r) << to_string(r);
    EXPECT_STRNE(display_name(r), "") << to_string(r);
    EXPECT_NE(role_names().find(to_string(r)), std::string::npos) << to_string(r);
  }
  EXPECT_EQ(role_from_string("pa_section_chief"), Role::pa_section_chief);
  EXPECT_EQ(role_from_string("cg_section_chief"), Role::cg_section_chief);
  EXPECT_STREQ(display_name(Role::pa_section_chief), "保護課長");
  EXPECT_STREQ(display_name(Role::cg_section_chief), "児童相談所 緊急対応担当課長");
  EXPECT_FALSE(role_from_string("section_chief"));
  for (const Role r : {Role::pa_section_chief, Role::cg_section_chief})
    EXPECT_TRUE(receives_notices(r)) << to_string(r);
  for (const Role r : {Role::auditor, Role::admin}) EXPECT_FALSE(receives_notices(r));
}

TEST_F(AccountsTest, SectionChiefsHaveAccountsOfTheirOwnRole) {
  const Account ward_chief =
      accounts_->create({"shimizu", Role::pa_section_chief, "higashi-pa-chief", "01103"}, kPassword,
                        "cli:test", kFast);
  const Account cg_chief = accounts_->create(
      {"ishida", Role::cg_section_chief, "cg-section-chief", ""}, kPassword, "cli:test", kFast);
  EXPECT_EQ(accounts_->find("shimizu")->role, Role::pa_section_chief);
  EXPECT_EQ(accounts_->find("shimizu")->ward_code, "01103");
  EXPECT_EQ(accounts_->find("ishida")->role, Role::cg_section_chief);
  EXPECT_EQ(ward_chief.officer_id, "higashi-pa-chief");
  EXPECT_EQ(cg_chief.ward_code, "");
  ASSERT_EQ(entries().size(), 2U);
  EXPECT_NE(entries()[0].find("\"role\":\"pa_section_chief\""), std::string::npos);
  // Like a liaison's, a ward chief's ward code must be one of Sapporo's.
  EXPECT_THROW(accounts_->create({"bad", Role::pa_section_chief, "x", "01111"}, kPassword,
                                 "cli:test", kFast),
               AccountError);
}

TEST_F(AccountsTest, AccountsListInLoginOrder) {
  add("carol", Role::admin);
  add("alice", Role::cg_emergency);
  add("bob", Role::cg_caseworker);
  const auto list = accounts_->list();
  ASSERT_EQ(list.size(), 3U);
  EXPECT_EQ(list[0].login, "alice");
  EXPECT_EQ(list[0].role, Role::cg_emergency);
  EXPECT_EQ(list[2].role, Role::admin);
}

}  // namespace
