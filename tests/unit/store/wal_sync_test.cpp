// The second stage of a deferred commit: a session that defers its syncs, and WalSync, which
// makes what it committed durable from another thread.
#include "store/wal_sync.hpp"

#include <filesystem>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "store/prepared.hpp"
#include "store/store.hpp"
#include "support/temp_dir.hpp"
#include "support/test_store.hpp"

namespace {

using namespace tsunagu;
namespace fs = std::filesystem;

std::string synchronous(store::Store& store) {
  auto q = store.query("PRAGMA synchronous");
  return q.next() ? std::to_string(q.integer(0)) : "";
}

TEST(WalSync, ASessionThatDefersItsSyncsNamesItsLogAndOthersKeepTheirs) {
  tsunagu_test::TempDir dir;
  auto deferring = tsunagu_test::open_test_store(dir / "store.db", {});
  if (tsunagu_test::store_on_postgres()) {
    EXPECT_FALSE(deferring->defer_log_sync()) << "PostgreSQL's COMMIT is durable as it is";
    return;
  }
  auto other = store::Store::open_sqlite(dir / "store.db", {});
  EXPECT_EQ(synchronous(*deferring), "2");  // FULL
  const auto log = deferring->defer_log_sync();
  ASSERT_TRUE(log);
  EXPECT_EQ(*log, fs::path((dir / "store.db").string() + "-wal"));
  EXPECT_EQ(synchronous(*deferring), "1");  // NORMAL: COMMIT writes the log, does not sync it
  EXPECT_EQ(synchronous(*other), "2");
  EXPECT_FALSE(deferring->defer_log_sync()) << "once is enough";

  // What the deferring session commits, the others read at once; the sync, from another
  // thread, makes it durable.
  {
    store::Transaction tx(*deferring);
    deferring->query("CREATE TABLE t (x INTEGER)").run();
    deferring->query("INSERT INTO t VALUES (1)").run();
    tx.commit();
  }
  auto q = other->query("SELECT count(*) FROM t");
  ASSERT_TRUE(q.next());
  EXPECT_EQ(q.integer(0), 1);
  store::WalSync sync(*log);
  std::thread([&] { EXPECT_NO_THROW(sync.sync()); }).join();
  EXPECT_NO_THROW(sync.sync());

  // At NORMAL from the start there is nothing to defer.
  store::SqliteOptions normal;
  normal.synchronous_full = false;
  auto relaxed = store::Store::open_sqlite(dir / "relaxed.db", normal);
  EXPECT_FALSE(relaxed->defer_log_sync());
}

TEST(WalSync, ALogThatCannotBeFoundIsAnErrorNamingIt) {
  tsunagu_test::TempDir dir;
  store::WalSync sync(dir / "gone.db-wal");
  try {
    sync.sync();
    FAIL() << "a missing log was synced";
  } catch (const store::StoreError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find((dir / "gone.db-wal").string()), std::string::npos) << what;
    EXPECT_NE(what.find("cannot find the write-ahead log"), std::string::npos) << what;
  }
}

}  // namespace
