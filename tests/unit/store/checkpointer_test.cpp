#include "store/checkpointer.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <Poco/AutoPtr.h>
#include <Poco/Channel.h>
#include <Poco/Logger.h>
#include <Poco/Message.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "store/prepared.hpp"
#include "store/store.hpp"
#include "support/temp_dir.hpp"
#include "support/test_store.hpp"

namespace {

using namespace tsunagu;
namespace fs = std::filesystem;

// Keeps what a logger was given (the checkpointer logs from its own thread).
class KeptMessages final : public Poco::Channel {
 public:
  void log(const Poco::Message& message) override {
    const std::lock_guard lock(mutex_);
    kept_.emplace_back(message.getPriority(), message.getText());
  }
  std::vector<std::pair<Poco::Message::Priority, std::string>> kept() const {
    const std::lock_guard lock(mutex_);
    return kept_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::pair<Poco::Message::Priority, std::string>> kept_;
};

class CheckpointerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (tsunagu_test::store_on_postgres()) GTEST_SKIP() << "SQLite's write-ahead log";
    options_.checkpoint_mb = 1;  // 256 frames of 4 KiB
    store_ = store::Store::open_sqlite(file_, options_);
    store_->query("CREATE TABLE filler (b BLOB)").run();
    // The migrations' frames out of the way: the log starts empty.
    store_->query("PRAGMA wal_checkpoint(TRUNCATE)").run();
  }
  // `kib` KiB of random rows into `filler` (four rows to a page, a frame per page).
  static std::string filler_sql(int kib) {
    return "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < " +
           std::to_string(kib) + ") INSERT INTO filler SELECT randomblob(1000) FROM n";
  }
  // One transaction of them, so ~kib / 4 frames.
  static void commit_kib(store::Store& store, int kib) {
    store::Transaction tx(store);
    store.query(filler_sql(kib)).run();
    tx.commit();
  }
  void commit_kib(int kib) {
    commit_kib(*store_, kib);
    rows_ += kib;
  }
  static std::uintmax_t wal_bytes(const fs::path& file) {
    return fs::file_size(fs::path(file.string() + "-wal"));
  }
  // The log's checkpoint sequence number, in its header: one more each time the log starts again
  // from its beginning.
  static std::uint32_t wal_restarts(const fs::path& file) {
    std::ifstream in(file.string() + "-wal", std::ios::binary);
    std::array<unsigned char, 16> header{};
    in.read(reinterpret_cast<char*>(header.data()), header.size());
    EXPECT_TRUE(in) << "no log header";
    return (std::uint32_t{header[12]} << 24) | (std::uint32_t{header[13]} << 16) |
           (std::uint32_t{header[14]} << 8) | header[15];
  }
  store::Checkpointer::Counts counts() const {
    return store::Checkpointer::for_file(file_, {})->counts();  // the store's own, while it is open
  }
  // Waits (at most 10 s) until the thread has run a round to its end: passes while the writers
  // go on, then one in their turn.
  bool wait_for_round() const {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (counts().rounds < 1) {
      if (std::chrono::steady_clock::now() > until) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
  }

  tsunagu_test::TempDir dir_;
  fs::path file_ = dir_ / "store.db";
  store::SqliteOptions options_;
  std::unique_ptr<store::Store> store_;
  int rows_ = 0;
};

// The commit that takes the log over its size does not copy it; the thread does, and the next
// commit starts the log again from its beginning.
TEST_F(CheckpointerTest, AThreadCopiesTheLogAndTheNextCommitStartsItAgain) {
  commit_kib(100);
  EXPECT_EQ(counts().passes, 0U) << "the log is under its size: nothing to do";
  const auto restarts = wal_restarts(file_);
  commit_kib(1400);  // the log now holds ~1.5 MiB, over 1 MiB and under twice that
  EXPECT_GT(wal_bytes(file_), 1400U * 1024);
  ASSERT_TRUE(wait_for_round()) << "no checkpoint within 10 s";
  EXPECT_GE(counts().passes, 2U);
  EXPECT_EQ(counts().by_commit, 0U);
  EXPECT_EQ(counts().failures, 0U) << counts().last_error;
  EXPECT_EQ(wal_restarts(file_), restarts);
  commit_kib(10);  // finds the log copied whole: starts it again at its beginning
  EXPECT_EQ(wal_restarts(file_), restarts + 1);
  // Everything committed is there, through another connection.
  auto other = store::Store::open_sqlite(file_, options_);
  auto q = other->query("SELECT count(*) FROM filler");
  ASSERT_TRUE(q.next());
  EXPECT_EQ(q.integer(0), rows_);
}

// A commit that finds the log at twice its size (the thread did not keep up) copies it itself,
// so the log stays bounded whatever the thread does.
TEST_F(CheckpointerTest, ACommitThatFindsTheLogAtTwiceItsSizeCopiesItItself) {
  commit_kib(10);
  const auto restarts = wal_restarts(file_);
  commit_kib(2500);
  EXPECT_EQ(counts().by_commit, 1U);
  EXPECT_GT(wal_bytes(file_), 2U * 1024 * 1024);
  commit_kib(10);  // the log was copied whole: this commit starts it again, and cuts its file
  EXPECT_EQ(wal_restarts(file_), restarts + 1);
  EXPECT_LE(wal_bytes(file_), 2U * 1024 * 1024);  // to twice the log's size (journal_size_limit)
}

// A thread that cannot checkpoint says so in its counts (/healthz reports `failing`) and, once
// per spell of failures, in the log with the file and SQLite's reason; the commits go on.
TEST_F(CheckpointerTest, AFailingThreadSaysSo) {
  Poco::Logger& logger = Poco::Logger::get("tsunagu.store");
  const Poco::AutoPtr<Poco::Channel> previous_channel(logger.getChannel(), true);
  const int previous_level = logger.getLevel();
  const Poco::AutoPtr<KeptMessages> messages(new KeptMessages);
  logger.setChannel(messages);
  logger.setLevel(Poco::Message::PRIO_INFORMATION);
  struct Restore {
    Poco::Logger& logger;
    const Poco::AutoPtr<Poco::Channel>& channel;
    int level;
    ~Restore() {
      logger.setChannel(channel);
      logger.setLevel(level);
    }
  } restore{logger, previous_channel, previous_level};

  // A connection of its own (not a Store: its hook would be the store's checkpointer), and a
  // checkpointer for a file that is not there, so that the thread's connection cannot open.
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open_v2((dir_ / "raw.db").c_str(), &raw,
                            SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw, "PRAGMA journal_mode = WAL; CREATE TABLE filler (b BLOB)", nullptr,
                         nullptr, nullptr),
            SQLITE_OK);
  store::Checkpointer::Options options;
  options.start_pages = 16;
  const fs::path missing = dir_ / "missing" / "store.db";
  store::Checkpointer broken(missing, store::WriterQueue::for_file(missing), options);
  broken.attach(raw);
  EXPECT_EQ(sqlite3_exec(raw, filler_sql(100).c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  // Two failed rounds (a second second apart): the log says it once.
  while (broken.counts().failures < 2 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const auto counts = broken.counts();
  EXPECT_TRUE(counts.failing);
  EXPECT_GE(counts.failures, 2U);
  EXPECT_FALSE(counts.last_error.empty());
  const auto kept = messages->kept();
  ASSERT_EQ(kept.size(), 1U) << "one message per spell of failures";
  EXPECT_EQ(kept[0].first, Poco::Message::PRIO_ERROR);
  EXPECT_NE(kept[0].second.find(missing.string()), std::string::npos) << kept[0].second;
  EXPECT_NE(kept[0].second.find(counts.last_error), std::string::npos) << kept[0].second;
  // The file appears (the disk is back): the next round succeeds, and the log says so.
  fs::create_directories(missing.parent_path());
  sqlite3* appeared = nullptr;
  ASSERT_EQ(sqlite3_open(missing.c_str(), &appeared), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(appeared, "PRAGMA journal_mode = WAL", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(appeared);
  while (broken.counts().failing && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_FALSE(broken.counts().failing);
  const auto after = messages->kept();
  ASSERT_EQ(after.size(), 2U);
  EXPECT_EQ(after[1].first, Poco::Message::PRIO_NOTICE);
  EXPECT_NE(after[1].second.find("succeed again"), std::string::npos) << after[1].second;
  store::Checkpointer::detach(raw);
  sqlite3_close_v2(raw);
}

// With `checkpoint` set to commit, SQLite's automatic checkpoint copies the log in the commit.
TEST_F(CheckpointerTest, WithCheckpointsOnCommitTheCommitCopiesTheLog) {
  options_.checkpoint_in_background = false;
  const fs::path other = dir_ / "by-commit.db";
  auto s = store::Store::open_sqlite(other, options_);
  s->query("CREATE TABLE filler (b BLOB)").run();
  commit_kib(*s, 1500);
  // The commit copied the log itself, before it returned: the next one starts it again.
  s->query("INSERT INTO filler VALUES (x'00')").run();
  EXPECT_LE(wal_bytes(other), 1024U * 1024);
}

}  // namespace
