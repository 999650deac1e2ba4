#include "store/page_cache.hpp"

#include <filesystem>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "store/prepared.hpp"
#include "store/store.hpp"
#include "support/temp_dir.hpp"
#include "support/test_store.hpp"

namespace {

using namespace tsunagu;
namespace fs = std::filesystem;

class PageCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (tsunagu_test::store_on_postgres()) GTEST_SKIP() << "SQLite's page cache";
    store_ = store::Store::open_sqlite(file_, options_);
    store_->query("CREATE TABLE keyed (k TEXT PRIMARY KEY, v TEXT NOT NULL)").run();
  }
  // `n` rows with random keys in one transaction: leaves split all over the index, and splits
  // reorder their new pages through SQLite's temporary page number.
  static void insert_random(store::Store& store, int n, bool commit = true) {
    store::Transaction tx(store);
    store
        .query("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < " +
               std::to_string(n) +
               ") INSERT INTO keyed SELECT hex(randomblob(16)), hex(randomblob(50)) FROM n")
        .run();
    if (commit) tx.commit();
  }
  static std::int64_t count(store::Store& store) {
    auto q = store.query("SELECT COUNT(*) FROM keyed");
    return q.next() ? q.integer(0) : -1;
  }
  static std::string integrity(store::Store& store) {
    auto q = store.query("PRAGMA integrity_check");
    return q.next() ? q.text(0) : "";
  }

  tsunagu_test::TempDir dir_;
  fs::path file_ = dir_ / "store.db";
  store::SqliteOptions options_;
  std::unique_ptr<store::Store> store_;
};

TEST_F(PageCacheTest, IsInPlaceBeforeSQLitesFirstUse) {
  // The test process used SQLite first through Store::open_sqlite, which installed it.
  EXPECT_TRUE(store::install_page_cache());
}

TEST_F(PageCacheTest, ACommitAfterSplitsDoesNotWalkTheCache) {
  insert_random(*store_, 2000);  // the cache holds pages now
  const auto before = store::page_cache_counts();
  for (int i = 0; i < 5; ++i) insert_random(*store_, 2000);
  const auto after = store::page_cache_counts();
  // Each commit truncates the cache to the file's size, where no page is. The splits moved pages
  // through page 262,145, so SQLite's cache would have walked all its pages each time.
  EXPECT_GE(after.walks_avoided - before.walks_avoided, 5u);
  EXPECT_EQ(count(*store_), 12000);
  EXPECT_EQ(integrity(*store_), "ok");
}

TEST_F(PageCacheTest, AnotherConnectionsWriteEmptiesTheCacheAsBefore) {
  store_->query("INSERT INTO keyed VALUES ('a', 'old')").run();
  insert_random(*store_, 3000);
  auto read = [&] {
    auto q = store_->query("SELECT v FROM keyed WHERE k = 'a'");
    return q.next() ? q.text(0) : "";
  };
  EXPECT_EQ(read(), "old");  // the page with 'a' is in this connection's cache
  const auto before = store::page_cache_counts();
  auto other = store::Store::open_sqlite(file_, options_);
  other->query("UPDATE keyed SET v = 'new' WHERE k = 'a'").run();
  // The next read sees the log changed and drops its cache: that truncation is passed on, or the
  // stale page would be read.
  EXPECT_EQ(read(), "new");
  EXPECT_GT(store::page_cache_counts().passed, before.passed);
}

TEST_F(PageCacheTest, ARolledBackGrowthLeavesTheStoreWhole) {
  insert_random(*store_, 1000);
  insert_random(*store_, 5000, false);  // grows the file in the transaction, then rolls back
  EXPECT_EQ(count(*store_), 1000);
  insert_random(*store_, 2000);
  EXPECT_EQ(count(*store_), 3000);
  EXPECT_EQ(integrity(*store_), "ok");
  // A new connection reads the same.
  auto other = store::Store::open_sqlite(file_, options_);
  EXPECT_EQ(count(*other), 3000);
}

}  // namespace
