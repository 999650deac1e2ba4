// The coalescing WAL VFS under Store::open_sqlite (synchronous=FULL): a commit's frames reach the
// file in far fewer writes than SQLite asked for, and every committed row is there for another
// connection of this process, for a plain SQLite connection (default VFS) and after reopening —
// including a transaction large enough to spill the page cache mid-way (SQLite then reads its
// own frames back) and one rolled back after spilling. NORMAL does not use it. A path that a URI
// must escape opens the file at that very path. (A process killed right after its commits:
// tests/integration, DaemonIngest.KillNineMidFileThenRestartStoresEveryRecordExactlyOnce.)
#include "store/wal_vfs.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <string>

#include "store/prepared.hpp"
#include "store/store.hpp"
#include "support/old_store.hpp"
#include "support/temp_dir.hpp"
#include "support/test_store.hpp"

namespace {

using namespace tsunagu;
namespace fs = std::filesystem;

// Row i's payload: 1,000 bytes that differ per row, so a page read from the wrong frame shows.
std::string payload(int i) {
  std::string p(1000, static_cast<char>('a' + i % 26));
  const std::string n = std::to_string(i);
  return p.replace(0, n.size(), n);
}

void write_rows(store::Store& s, int from, int to) {
  store::Transaction tx(s);
  for (int i = from; i < to; ++i) {
    s.query("INSERT INTO probe (id, payload) VALUES (?, ?)").bind(i).bind(payload(i)).run();
  }
  tx.commit();
}

// Every row in [0, n) with its own payload, read through `s`.
::testing::AssertionResult has_rows(store::Store& s, int n) {
  auto q = s.query("SELECT id, payload FROM probe ORDER BY id");
  int expected = 0;
  while (q.next()) {
    if (q.integer(0) != expected || q.text(1) != payload(expected)) {
      return ::testing::AssertionFailure() << "row " << expected << " is wrong";
    }
    ++expected;
  }
  if (expected != n) return ::testing::AssertionFailure() << expected << " rows, not " << n;
  return ::testing::AssertionSuccess();
}

class WalVfs : public ::testing::Test {
 protected:
  void SetUp() override {
    if (tsunagu_test::store_on_postgres()) GTEST_SKIP() << "SQLite's WAL";
  }
  std::unique_ptr<store::Store> open(bool full = true, int cache_mb = 64) {
    store::SqliteOptions o;
    o.synchronous_full = full;
    o.cache_mb = cache_mb;
    auto s = store::Store::open_sqlite(file_, o);
    s->query("CREATE TABLE IF NOT EXISTS probe (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)")
        .run();
    return s;
  }
  tsunagu_test::TempDir dir_;
  fs::path file_ = dir_ / "store.db";
};

TEST_F(WalVfs, ACommitsFramesAreWrittenTogetherAndEveryConnectionReadsThem) {
  auto writer = open();
  auto reader = open();  // another connection of this process, opened before the commit
  const store::WalWriteCounts before = store::wal_write_counts();
  write_rows(*writer, 0, 500);  // ~500 KB: about 130 pages, two writes asked for each
  const store::WalWriteCounts after = store::wal_write_counts();
  const auto requested = after.requested - before.requested;
  const auto issued = after.issued - before.issued;
  EXPECT_GE(requested, 200u);
  EXPECT_LE(issued * 20, requested) << issued << " writes for " << requested;
  EXPECT_GE(issued, 4u) << "no write over 128 KiB";

  EXPECT_TRUE(has_rows(*reader, 500));
  EXPECT_TRUE(has_rows(*writer, 500));
  // A plain connection, through SQLite's own VFS.
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open_v2(file_.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  const tsunagu_test::RawSqlite plain(raw);
  sqlite3_stmt* count = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(raw, "SELECT COUNT(*), SUM(length(payload)) FROM probe", -1, &count,
                               nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(count), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int64(count, 0), 500);
  EXPECT_EQ(sqlite3_column_int64(count, 1), 500 * 1000);
  sqlite3_finalize(count);

  writer.reset();
  reader.reset();
  EXPECT_TRUE(has_rows(*open(), 500)) << "after reopening";
}

TEST_F(WalVfs, ATransactionThatSpillsItsCacheCommitsWholeOrRollsBackToNothing) {
  {
    auto s = open(true, 1);  // a 1 MiB cache: 4 MB of rows spill to the WAL before COMMIT
    {
      store::Transaction tx(*s);
      for (int i = 0; i < 4000; ++i) {
        s->query("INSERT INTO probe (id, payload) VALUES (?, ?)").bind(i).bind(payload(i)).run();
      }
      // Read back while the spilled frames may still be buffered.
      auto q = s->query("SELECT payload FROM probe WHERE id = 7");
      ASSERT_TRUE(q.next());
      EXPECT_EQ(q.text(0), payload(7));
    }  // rolled back
    EXPECT_TRUE(has_rows(*s, 0));
    write_rows(*s, 0, 4000);
    EXPECT_TRUE(has_rows(*s, 4000));
  }
  EXPECT_TRUE(has_rows(*open(), 4000)) << "after reopening";
}

TEST_F(WalVfs, NormalSynchronousWritesThroughSQLitesOwnVfs) {
  auto s = open(false);
  const store::WalWriteCounts before = store::wal_write_counts();
  write_rows(*s, 0, 100);
  EXPECT_EQ(store::wal_write_counts().requested, before.requested);
  EXPECT_TRUE(has_rows(*s, 100));
}

TEST_F(WalVfs, APathAUriMustEscapeOpensThatVeryFile) {
  file_ = dir_ / "つなぐ data #1 ?x=%41&y" / "store.db";
  {
    auto s = open();
    write_rows(*s, 0, 10);
  }
  EXPECT_TRUE(fs::exists(file_));
  EXPECT_EQ(store::coalescing_wal_uri("/a b/%.db").rfind("file:/a%20b/%25.db?vfs=", 0), 0u);
  EXPECT_TRUE(has_rows(*open(), 10));
}

}  // namespace
