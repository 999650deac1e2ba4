// Migration 11 adds notice_recipients, the (officer, notice) rows of each notice's recipients
// list, which an officer's inbox and unread count read instead of testing every notice's list.
// A store from before it gets the rows of every notice it holds; the fill splits the lists the
// same way on both engines (the router keeps the rows since: tests/unit/routing/router_test.cpp).
#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "store/migrations.hpp"
#include "store/prepared.hpp"
#include "store/store.hpp"
#include "support/old_store.hpp"
#include "support/temp_dir.hpp"
#include "support/test_store.hpp"

namespace {

using namespace tsunagu;

using Rows = std::set<std::pair<std::string, std::string>>;  // (officer_id, notice_id)

std::string notice_row(const std::string& id, const std::string& recipients) {
  return "INSERT INTO notices (id, dedupe_key, type, rule_id, policy_id, legal_basis, person_id, "
         "event_id, subject_id, recipient_role, recipient_ward, recipients, channels, title, "
         "reason, created_at, updated_at, status) VALUES ('" +
         id + "', 'key-" + id +
         "', 'route', 'r', 'p', 'l', 'person-1', 'event-1', 'subject-1', 'liaison', '01103', '" +
         recipients + "', 'inbox', 't', 'r', 'n', 'n', 'open')";
}

// Lists as the router writes them (",a,b,"), one addressed to nobody, one officer on two
// notices, an id with the characters LIKE would read as wildcards, one listed twice.
const std::vector<std::pair<std::string, std::string>> kNotices{
    {"notice-1", ",liaison-higashi,coord-higashi,"},
    {"notice-2", ",,"},
    {"notice-3", ",liaison-higashi,"},
    {"notice-4", ",cg_night%1,"},
    {"notice-5", ",liaison-chuo,liaison-chuo,"},
};
const Rows kExpected{{"liaison-higashi", "notice-1"},
                     {"coord-higashi", "notice-1"},
                     {"liaison-higashi", "notice-3"},
                     {"cg_night%1", "notice-4"},
                     {"liaison-chuo", "notice-5"}};

Rows rows(store::Store& s) {
  Rows out;
  auto q = s.query("SELECT officer_id, notice_id FROM notice_recipients");
  while (q.next()) out.emplace(q.text(0), q.text(1));
  return out;
}

const store::Migration& migration_11() {
  for (const auto& m : store::migrations()) {
    if (m.version == 11) return m;
  }
  throw std::logic_error("no migration 11");
}

TEST(NoticeRecipientsUpgrade, AVersion10StoreGetsARowForEveryOfficerOfEveryNotice) {
  if (tsunagu_test::store_on_postgres()) GTEST_SKIP() << "a SQLite store made by an older build";
  tsunagu_test::TempDir dir;
  const auto file = dir / "store.db";
  {
    const tsunagu_test::RawSqlite db = tsunagu_test::store_at_version(file, 10);
    for (const auto& [id, recipients] : kNotices) {
      ASSERT_EQ(tsunagu_test::exec(db.get(), notice_row(id, recipients)), "") << id;
    }
  }
  auto s = store::Store::open_sqlite(file, {});
  EXPECT_EQ(s->schema_version(), store::Store::known_schema_version());
  EXPECT_EQ(rows(*s), kExpected);
  // The rows refer to their notice, and that is enforced.
  EXPECT_THROW(s->query("INSERT INTO notice_recipients (officer_id, notice_id) VALUES ('a', "
                        "'no-such-notice')")
                   .run(),
               store::StoreError);
}

// The fill as each engine runs it (PostgreSQL has its own statements), on a fresh store whose
// rows are removed first.
TEST(NoticeRecipientsUpgrade, TheFillSplitsTheListsAlikeOnBothEngines) {
  tsunagu_test::TempDir dir;
  auto s = tsunagu_test::open_test_store(dir / "store.db", {});
  for (const auto& [id, recipients] : kNotices) s->query(notice_row(id, recipients)).run();
  s->query("DELETE FROM notice_recipients").run();
  const auto& m = migration_11();
  const auto& statements = tsunagu_test::store_on_postgres() ? m.postgres : m.statements;
  ASSERT_EQ(statements.size(), 2u);
  s->query(statements[1]).run();
  EXPECT_EQ(rows(*s), kExpected);
}

}  // namespace
