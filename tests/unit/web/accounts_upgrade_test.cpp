// A store made by a build at schema version 6 (before the section-chief roles) with an account, a
// page session and an API token: opened by this build, migration 7 rebuilds `accounts` with the
// wider role CHECK and everything that was there still works — the same ids, the password, the
// session, the token — and foreign keys are still enforced. The version-6 store is made with the
// sqlite3 API from the first six migrations, as that build would have made it.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <memory>

#include "audit/audit_log.hpp"
#include "store/prepared.hpp"
#include "store/store.hpp"
#include "support/old_store.hpp"
#include "support/temp_dir.hpp"
#include "support/test_store.hpp"
#include "web/accounts.hpp"
#include "web/secret_token.hpp"

namespace {

using namespace tsunagu;
using namespace tsunagu::web;

constexpr ScryptParams kFast{10, 8, 1};
constexpr const char* kPassword = "correct horse battery";
constexpr const char* kSessionId = "a-session-id-from-before-the-upgrade-000000";
constexpr const char* kToken = "tsu_a-token-from-before-the-upgrade";

using tsunagu_test::exec;

class AccountsUpgrade : public ::testing::Test {
 protected:
  void SetUp() override {
    if (tsunagu_test::store_on_postgres()) {
      // PostgreSQL changes the CHECK in place (migrations.cpp); every fresh pg. store runs it.
      GTEST_SKIP() << "the SQLite table rebuild of migration 7; PostgreSQL alters in place";
    }
    const tsunagu_test::RawSqlite db = tsunagu_test::store_at_version(file_, 6);
    const std::string hash = hash_password(kPassword, kFast);
    // Two accounts, the second since removed: AUTOINCREMENT has handed out id 2 already.
    ASSERT_EQ(exec(db.get(),
                   "INSERT INTO accounts (login, role, officer_id, ward_code, password_hash, "
                   "created_at, updated_at) VALUES "
                   "('sato', 'liaison', 'higashi-liaison-1', '01103', '" +
                       hash + "', '2019-04-01', '2019-04-01'), ('gone', 'auditor', '', '', '" +
                       hash + "', '2019-04-01', '2019-04-01')"),
              "");
    ASSERT_EQ(exec(db.get(), "DELETE FROM accounts WHERE login = 'gone'"), "");
    const std::string now = std::to_string(now_unix());
    ASSERT_EQ(exec(db.get(), "INSERT INTO web_sessions VALUES ('" + token_hash(kSessionId) +
                                 "', 1, " + now + ", " + now + ", '192.0.2.1')"),
              "");
    ASSERT_EQ(exec(db.get(),
                   "INSERT INTO api_tokens (account_id, token_hash, label, created_at) "
                   "VALUES (1, '" +
                       token_hash(kToken) + "', 'monitoring', '2019-04-01')"),
              "");
    // What the upgrade is for: version 6 refuses a section chief.
    EXPECT_NE(exec(db.get(),
                   "INSERT INTO accounts (login, role, password_hash, created_at, updated_at) "
                   "VALUES ('chief', 'pa_section_chief', 'x', 'now', 'now')"),
              "");
  }

  std::int64_t now_unix() const {
    return std::chrono::duration_cast<std::chrono::seconds>(clock_.now().time_since_epoch())
        .count();
  }
  std::int64_t count(const std::string& table) {
    auto q = store_->query("SELECT COUNT(*) FROM " + table);
    return q.next() ? q.integer(0) : -1;
  }
  void open() {
    store_ = store::Store::open_sqlite(file_, {});
    log_ = std::make_unique<audit::AuditLog>(*store_);
    accounts_ = std::make_unique<Accounts>(*store_, *log_, clock_);
  }

  tsunagu_test::TempDir dir_;
  std::filesystem::path file_ = dir_ / "store.db";
  ManualClock clock_{TimePoint(std::chrono::hours(24 * 365 * 50))};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<audit::AuditLog> log_;
  std::unique_ptr<Accounts> accounts_;
};

TEST_F(AccountsUpgrade, AVersion6StoreKeepsItsAccountSessionAndTokenAndTakesSectionChiefs) {
  ASSERT_NO_FATAL_FAILURE(open());
  EXPECT_EQ(store_->schema_version(), store::Store::known_schema_version());
  EXPECT_EQ(count("accounts"), 1);
  EXPECT_EQ(count("web_sessions"), 1);
  EXPECT_EQ(count("api_tokens"), 1);

  // Signs in as before, with the same id the session and token refer to.
  std::optional<Account> sato;
  ASSERT_EQ(accounts_->check_password("sato", kPassword, sato), Accounts::CheckResult::ok);
  EXPECT_EQ(sato->id, 1);
  EXPECT_EQ(sato->role, Role::liaison);
  EXPECT_EQ(sato->officer_id, "higashi-liaison-1");
  EXPECT_EQ(sato->ward_code, "01103");
  EXPECT_EQ(sato->created_at, "2019-04-01");
  const auto session = accounts_->session(kSessionId, SessionPolicy{});
  ASSERT_TRUE(session);
  EXPECT_EQ(session->account.login, "sato");
  const auto token = accounts_->api_token(kToken);
  ASSERT_TRUE(token);
  EXPECT_EQ(token->account.id, 1);
  EXPECT_EQ(accounts_->open_session(*sato, "192.0.2.2", "page").principal.account.id, 1);

  // The new roles are accepted; ids go on after the highest ever handed out (2, removed).
  const Account chief =
      accounts_->create({"shimizu", Role::pa_section_chief, "higashi-pa-chief", "01103"}, kPassword,
                        "cli:test", kFast);
  EXPECT_EQ(chief.id, 3);
  EXPECT_EQ(accounts_->find("shimizu")->role, Role::pa_section_chief);
  const Account cg = accounts_->create({"ishida", Role::cg_section_chief, "cg-section-chief", ""},
                                       kPassword, "cli:test", kFast);
  EXPECT_EQ(cg.role, Role::cg_section_chief);

  // The table is still what it was: the CHECK, the index, the foreign keys enforced. (SQLite's
  // catalogue and pragmas: this is the SQLite migration's test.)
  const auto run = [&](const std::string& sql) { store_->query(sql).run(); };
  EXPECT_THROW(run("INSERT INTO accounts (login, role, password_hash, created_at, updated_at) "
                   "VALUES ('x', 'bogus', 'x', 'n', 'n')"),
               store::StoreError);
  EXPECT_EQ(count("sqlite_master WHERE type = 'index' AND name = 'accounts_by_officer' AND "
                  "tbl_name = 'accounts'"),
            1);
  EXPECT_EQ(count("sqlite_master WHERE name = 'accounts_v7'"), 0) << "no table left behind";
  EXPECT_EQ(count("pragma_foreign_key_check"), 0);
  {
    auto q = store_->query("PRAGMA foreign_keys");
    ASSERT_TRUE(q.next());
    EXPECT_EQ(q.integer(0), 1);
  }
  EXPECT_THROW(run("INSERT INTO web_sessions VALUES ('h', 99, 0, 0, '')"), store::StoreError);
  EXPECT_THROW(run("DELETE FROM accounts WHERE id = 1"), store::StoreError)
      << "its session and token still refer to it";
}

TEST_F(AccountsUpgrade, ReopeningAfterTheUpgradeChangesNothing) {
  ASSERT_NO_FATAL_FAILURE(open());
  accounts_.reset();
  log_.reset();
  store_.reset();
  ASSERT_NO_FATAL_FAILURE(open());
  EXPECT_EQ(store_->schema_version(), store::Store::known_schema_version());
  EXPECT_EQ(count("accounts"), 1);
  EXPECT_TRUE(accounts_->api_token(kToken));
}

}  // namespace
