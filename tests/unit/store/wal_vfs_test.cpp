// The frame-joining WAL VFS: each frame's header and page reach the file in one write, a held
// header is written out alone before anything else touches the file (checked byte by byte
// through the VFS itself), and under Store::open_sqlite every committed row is there for another
// connection of this process, for a plain SQLite connection (default VFS) and after reopening —
// including a transaction large enough to spill the page cache mid-way (SQLite then reads its
// own frames back) and one rolled back after spilling, at either synchronous setting. A path
// that a URI must escape opens the file at that very path. (A process killed right after its
// commits: tests/integration, DaemonIngest.KillNineMidFileThenRestartStoresEveryRecordExactlyOnce.)
#include "store/wal_vfs.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fstream>
#include <string>
#include <vector>

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

TEST_F(WalVfs, EachFrameIsWrittenInOneCallAndEveryConnectionReadsThem) {
  auto writer = open();
  auto reader = open();  // another connection of this process, opened before the commit
  const store::WalWriteCounts before = store::wal_write_counts();
  write_rows(*writer, 0, 500);  // ~500 KB: about 130 pages, two writes asked for each
  const store::WalWriteCounts after = store::wal_write_counts();
  const auto requested = after.requested - before.requested;
  const auto issued = after.issued - before.issued;
  // Two asked for per frame, one made; anything else (the log's own header) one for one.
  EXPECT_GE(requested - issued, 100u) << issued << " writes for " << requested;
  EXPECT_LE(2 * issued - requested, 4u) << issued << " writes for " << requested;

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

TEST_F(WalVfs, NormalSynchronousJoinsFramesToo) {
  auto s = open(false);
  const store::WalWriteCounts before = store::wal_write_counts();
  write_rows(*s, 0, 100);
  const store::WalWriteCounts after = store::wal_write_counts();
  EXPECT_GE(after.requested - before.requested, 2 * (after.issued - before.issued) - 4);
  EXPECT_GT(after.issued, before.issued);
  EXPECT_TRUE(has_rows(*s, 100));
}

// The layer itself, through SQLite's VFS interface: what is held, what is joined, and that a
// held header reaches the file before a read or a write elsewhere.
TEST_F(WalVfs, AHeldHeaderIsWrittenOutBeforeAnythingElseTouchesTheFile) {
  sqlite3_vfs* vfs = sqlite3_vfs_find(store::wal_frame_vfs());
  ASSERT_NE(vfs, nullptr);
  const fs::path db = dir_ / "direct.db";
  const fs::path wal = dir_ / "direct.db-wal";
  std::ofstream(db).put('\0');  // SQLite gives a WAL its database file's mode
  std::vector<std::max_align_t> memory(
      static_cast<std::size_t>(vfs->szOsFile) / sizeof(std::max_align_t) + 1);
  auto* file = reinterpret_cast<sqlite3_file*>(memory.data());
  int out = 0;
  ASSERT_EQ(vfs->xOpen(vfs, wal.c_str(), file,
                       SQLITE_OPEN_WAL | SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &out),
            SQLITE_OK);
  const sqlite3_io_methods* io = file->pMethods;
  const std::string h(24, 'h'), page(4096, 'p'), h2(24, 'H'), h3(24, 'I'), other(100, 'q');
  const store::WalWriteCounts before = store::wal_write_counts();
  ASSERT_EQ(io->xWrite(file, h.data(), 24, 0), SQLITE_OK);
  EXPECT_EQ(fs::file_size(wal), 0u) << "a header is held until its page";
  ASSERT_EQ(io->xWrite(file, page.data(), 4096, 24), SQLITE_OK);
  EXPECT_EQ(fs::file_size(wal), 4120u);
  EXPECT_EQ(store::wal_write_counts().issued - before.issued, 1u) << "header and page together";
  ASSERT_EQ(io->xWrite(file, h2.data(), 24, 4120), SQLITE_OK);
  std::string back(24, '\0');
  ASSERT_EQ(io->xRead(file, back.data(), 24, 4120), SQLITE_OK);
  EXPECT_EQ(back, h2) << "a read sees the held header";
  ASSERT_EQ(io->xWrite(file, h3.data(), 24, 8000), SQLITE_OK);
  ASSERT_EQ(io->xWrite(file, other.data(), 100, 5000), SQLITE_OK);  // not its page
  sqlite3_int64 size = 0;
  ASSERT_EQ(io->xFileSize(file, &size), SQLITE_OK);
  EXPECT_EQ(size, 8024);
  ASSERT_EQ(io->xClose(file), SQLITE_OK);
  std::ifstream in(wal, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_EQ(bytes.size(), 8024u);
  EXPECT_EQ(bytes.substr(0, 24), h);
  EXPECT_EQ(bytes.substr(24, 4096), page);
  EXPECT_EQ(bytes.substr(4120, 24), h2);
  EXPECT_EQ(bytes.substr(5000, 100), other);
  EXPECT_EQ(bytes.substr(8000, 24), h3);
}

TEST_F(WalVfs, APathAUriMustEscapeOpensThatVeryFile) {
  file_ = dir_ / "つなぐ data #1 ?x=%41&y" / "store.db";
  {
    auto s = open();
    write_rows(*s, 0, 10);
  }
  EXPECT_TRUE(fs::exists(file_));
  EXPECT_EQ(store::wal_frame_uri("/a b/%.db").rfind("file:/a%20b/%25.db?vfs=", 0), 0u);
  EXPECT_TRUE(has_rows(*open(), 10));
}

}  // namespace
