// Migration 12 finds the exchange log's entries of a subject or a type through the blocks of
// 256 entries that hold them (audit_subject_blocks, audit_type_blocks) instead of two indexes of
// every entry. A store from before it gets the rows of every block of its log and loses the two
// indexes; the fill is the same on both engines (the appender keeps the rows since:
// tests/unit/web/audit_search_test.cpp, AuditSearchBlocks).
#include <gtest/gtest.h>

#include <set>
#include <stdexcept>
#include <string>
#include <utility>

#include "store/migrations.hpp"
#include "store/prepared.hpp"
#include "store/store.hpp"
#include "support/old_store.hpp"
#include "support/temp_dir.hpp"
#include "support/test_store.hpp"

namespace {

using namespace tsunagu;

using Rows = std::set<std::pair<std::string, std::int64_t>>;  // (subject or type, block)

// 600 entries: seq 1–256 are block 0, 257–512 block 1, 513–600 block 2. Subjects change every
// 100 entries, one in five entries has none; types cycle through three.
constexpr int kEntries = 600;
std::string subject_of(int seq) {
  return seq % 5 == 0 ? "" : "subject-" + std::to_string(seq / 100);
}
std::string type_of(int seq) {
  static const char* types[] = {"event.stored", "identity.linked", "routing.routed"};
  return seq <= 300 ? types[seq % 2] : types[seq % 3];
}
std::string entry_row(int seq) {
  return "INSERT INTO audit_entries (seq, time, type, subject, entry, leaf_hash) VALUES (" +
         std::to_string(seq) + ", '2019-04-01T00:00:00.000000+00:00', '" + type_of(seq) + "', '" +
         subject_of(seq) + "', '{}', '" + std::string(64, '0') + "')";
}
Rows expected(bool by_subject) {
  Rows out;
  for (int seq = 1; seq <= kEntries; ++seq) {
    const std::string key = by_subject ? subject_of(seq) : type_of(seq);
    if (!key.empty()) out.emplace(key, (seq - 1) / 256);
  }
  return out;
}
Rows rows(store::Store& s, const std::string& table, const std::string& column) {
  Rows out;
  auto q = s.query("SELECT " + column + ", block FROM " + table);
  while (q.next()) out.emplace(q.text(0), q.integer(1));
  return out;
}

const store::Migration& migration_12() {
  for (const auto& m : store::migrations()) {
    if (m.version == 12) return m;
  }
  throw std::logic_error("no migration 12");
}

TEST(AuditBlocksUpgrade, AVersion11StoreGetsTheBlocksOfItsLogAndLosesTheTwoIndexes) {
  if (tsunagu_test::store_on_postgres()) GTEST_SKIP() << "a SQLite store made by an older build";
  tsunagu_test::TempDir dir;
  const auto file = dir / "store.db";
  {
    const tsunagu_test::RawSqlite db = tsunagu_test::store_at_version(file, 11);
    for (int seq = 1; seq <= kEntries; ++seq) {
      ASSERT_EQ(tsunagu_test::exec(db.get(), entry_row(seq)), "") << seq;
    }
  }
  auto s = store::Store::open_sqlite(file, {});
  EXPECT_EQ(s->schema_version(), store::Store::known_schema_version());
  EXPECT_EQ(rows(*s, "audit_subject_blocks", "subject"), expected(true));
  EXPECT_EQ(rows(*s, "audit_type_blocks", "type"), expected(false));
  auto q = s->query(
      "SELECT COUNT(*) FROM sqlite_master WHERE name IN ('audit_by_subject', 'audit_by_type')");
  ASSERT_TRUE(q.next());
  EXPECT_EQ(q.integer(0), 0);
}

// The fill as each engine runs it, on a fresh store whose block rows are removed first.
TEST(AuditBlocksUpgrade, TheFillIsTheSameOnBothEngines) {
  tsunagu_test::TempDir dir;
  auto s = tsunagu_test::open_test_store(dir / "store.db", {});
  for (int seq = 1; seq <= kEntries; ++seq) s->query(entry_row(seq)).run();
  s->query("DELETE FROM audit_subject_blocks").run();
  s->query("DELETE FROM audit_type_blocks").run();
  const auto& m = migration_12();
  const auto& statements = tsunagu_test::store_on_postgres() ? m.postgres : m.statements;
  ASSERT_EQ(statements.size(), 6u);
  s->query(statements[2]).run();
  s->query(statements[3]).run();
  EXPECT_EQ(rows(*s, "audit_subject_blocks", "subject"), expected(true));
  EXPECT_EQ(rows(*s, "audit_type_blocks", "type"), expected(false));
}

}  // namespace
