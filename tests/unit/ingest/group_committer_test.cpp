// The group committer over a real store (both engines): pushes from many threads share
// transactions, each answer holds for its own push only, and nobody is left waiting at shutdown.
#include "ingest/group_committer.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <sstream>
#include <thread>

#include "mapping/mapping.hpp"
#include "security/ed25519.hpp"
#include "security/keyring.hpp"
#include "store/prepared.hpp"
#include "support/line_adapter.hpp"
#include "support/temp_dir.hpp"
#include "support/test_store.hpp"

namespace {

using namespace tsunagu;
using ingest::PushOutcome;
namespace fs = std::filesystem;
using Status = PushOutcome::Status;

using tsunagu_test::LineAdapter;

// Polls `done` until it holds (true) or 10 s pass (false).
bool eventually(const std::function<bool()>& done) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

class GroupCommitterTest : public ::testing::Test {
 protected:
  GroupCommitterTest() {
    keyring_ = security::Keyring::open(dir_ / "keys", true);
    pipeline_.system = "public_assistance";
    pipeline_.adapter = std::make_shared<LineAdapter>();
    pipeline_.mapping = std::make_shared<const mapping::Mapping>(mapping::Mapping::load_file(
        fs::path(TSUNAGU_SOURCE_DIR) / "mappings" / "public_assistance.xml",
        fs::path(TSUNAGU_SOURCE_DIR) / "mappings" / "mapping.xsd"));
    // Stands in for routing: it runs inside the storing transaction and may fail there.
    pipeline_.on_stored = [this](store::Store&, audit::AuditLog&, const CaseEvent& event,
                                 const std::string&, const identity::LinkResult&) {
      ++routed_;
      if (event.source_ref == "FAIL") throw std::runtime_error("routing failed for FAIL");
    };
  }

  ingest::GroupCommitter::StoreOpener opener() {
    return [this] {
      auto store = tsunagu_test::open_test_store(dir_ / "store.db", {});
      store->set_keyring(keyring_);
      return store;
    };
  }

  ingest::DecodedPush decoded(const std::string& body) {
    return ingest::decode_push(pipeline_, {body, std::string(64, 'a'), "127.0.0.1:1"}, abort_);
  }

  // Each body from its own thread, all in ONE group: the committer is paused until every push
  // has been queued.
  std::vector<PushOutcome> push_together(ingest::GroupCommitter& committer,
                                         const std::vector<std::string>& bodies) {
    committer.pause();
    std::vector<PushOutcome> outcomes(bodies.size());
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < bodies.size(); ++i) {
      threads.emplace_back([&, i] { outcomes[i] = committer.commit(decoded(bodies[i])); });
    }
    while (committer.queued() < bodies.size()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    committer.resume();
    for (auto& t : threads) t.join();
    return outcomes;
  }

  // A sync of the log that blocks until `release` is set, counting the syncs begun.
  struct HeldSync {
    std::promise<void> release;
    std::shared_future<void> released = release.get_future().share();
    std::atomic<int> syncs{0};
  };
  ingest::GroupCommitter::Options held_sync_options(HeldSync& held) {
    ingest::GroupCommitter::Options options;
    options.sync_log = [this, &held](const fs::path& log) {
      EXPECT_EQ(log, fs::path((dir_ / "store.db").string() + "-wal"));
      ++held.syncs;
      held.released.wait();
    };
    return options;
  }
  // Pushes PA<n> from a thread of its own.
  std::future<PushOutcome> push_async(ingest::GroupCommitter& committer, int n) {
    return std::async(std::launch::async, [this, &committer, n] {
      return committer.commit(decoded("PA" + std::to_string(n) + ",01102\n"));
    });
  }

  std::int64_t count(const std::string& sql) {
    auto store = opener()();
    auto q = store->query(sql);
    return q.next() ? q.integer(0) : 0;
  }
  std::int64_t entries(const std::string& type) {
    return count("SELECT COUNT(*) FROM audit_entries WHERE type = '" + type + "'");
  }
  void expect_audit_verifies() {
    auto store = opener()();
    const auto report = audit::verify(*store, security::SigningKey::generate().verifying_key());
    std::string problems;
    for (const auto& p : report.problems) problems += p + "\n";
    EXPECT_TRUE(report.ok) << problems;
  }

  tsunagu_test::TempDir dir_;
  std::shared_ptr<const security::Keyring> keyring_;
  ingest::SystemPipeline pipeline_;
  std::atomic<int> routed_{0};
  std::atomic<bool> abort_{false};
};

TEST_F(GroupCommitterTest, PushesFromManyThreadsShareOneCommitAndAreEachStoredOnce) {
  ingest::GroupCommitter committer(opener(), abort_);
  std::vector<std::string> bodies;
  for (int i = 0; i < 12; ++i) bodies.push_back("PA" + std::to_string(i) + ",01102\n");
  bodies.push_back("PA0,01102\n");  // the same body twice in one group: the second duplicates
  const auto outcomes = push_together(committer, bodies);
  for (std::size_t i = 0; i < 12; ++i) {
    EXPECT_EQ(outcomes[i].status, Status::stored) << i << ": " << outcomes[i].message;
  }
  // Which of the two equal bodies came first is the committer's order; one stored, one duplicate.
  EXPECT_EQ(outcomes[0].accepted + outcomes[12].accepted, 1);
  EXPECT_EQ(outcomes[0].duplicates + outcomes[12].duplicates, 1);
  const auto stats = committer.stats();
  EXPECT_EQ(stats.groups, 1u);
  EXPECT_EQ(stats.pushes, 13u);
  EXPECT_EQ(stats.split_groups, 0u);
  EXPECT_EQ(count("SELECT COUNT(*) FROM events"), 12);
  EXPECT_EQ(count("SELECT COUNT(*) FROM inputs WHERE status = 'done'"), 13);
  EXPECT_EQ(entries("input.received"), 13);
  EXPECT_EQ(entries("input.completed"), 13);
  EXPECT_EQ(entries("event.stored"), 12);
  EXPECT_EQ(routed_, 12);
  expect_audit_verifies();
}

TEST_F(GroupCommitterTest, APushThatFailsWhileStoredFailsAloneAndTheOthersOfItsGroupAreStored) {
  ingest::GroupCommitter committer(opener(), abort_);
  const auto outcomes =
      push_together(committer, {"PA1,01102\n", "PA2,01102\nFAIL,01102\n", "PA3,01102\nPA4,01199\n",
                                "PA5,01102\n!\n", "PA6,01102\n"});
  EXPECT_EQ(outcomes[0].status, Status::stored) << outcomes[0].message;
  EXPECT_EQ(outcomes[1].status, Status::store_failed);
  EXPECT_NE(outcomes[1].message.find("routing failed for FAIL"), std::string::npos);
  EXPECT_EQ(outcomes[2].status, Status::partial);  // a rejected record is not a failure
  ASSERT_EQ(outcomes[2].rejected.size(), 1u);
  EXPECT_EQ(outcomes[2].rejected[0].field, "区コード");
  EXPECT_EQ(outcomes[3].status, Status::unusable);
  EXPECT_EQ(outcomes[4].status, Status::stored) << outcomes[4].message;
  EXPECT_EQ(committer.stats().split_groups, 1u);

  // PA2 came with FAIL in one push: neither is stored. PA5's body was unusable, PA4 quarantined.
  EXPECT_EQ(count("SELECT COUNT(*) FROM events"), 3);
  EXPECT_EQ(count("SELECT COUNT(*) FROM events WHERE source_ref IN ('PA2', 'FAIL', 'PA5')"), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM quarantine"), 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM inputs WHERE status = 'done'"), 3);
  EXPECT_EQ(count("SELECT COUNT(*) FROM inputs WHERE status = 'failed'"), 2);
  // Every request has its receipt, the failed one included.
  EXPECT_EQ(entries("input.received"), 5);
  EXPECT_EQ(entries("input.completed"), 5);
  expect_audit_verifies();

  // The committer goes on after the failure (with a new session).
  EXPECT_EQ(committer.commit(decoded("PA7,01102\n")).status, Status::stored);
  EXPECT_EQ(count("SELECT COUNT(*) FROM events"), 4);
}

TEST_F(GroupCommitterTest, AfterTheGracePeriodQueuedPushesGetOnlyTheirReceiptAndAFailure) {
  ingest::GroupCommitter committer(opener(), abort_);
  committer.pause();
  std::vector<PushOutcome> outcomes(2);
  std::thread a([&] { outcomes[0] = committer.commit(decoded("PA1,01102\n")); });
  std::thread b([&] { outcomes[1] = committer.commit(decoded("PA2,01102\n")); });
  while (committer.queued() < 2) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  abort_ = true;
  committer.resume();
  a.join();
  b.join();
  EXPECT_EQ(outcomes[0].status, Status::store_failed);
  EXPECT_EQ(outcomes[1].status, Status::store_failed);
  EXPECT_EQ(count("SELECT COUNT(*) FROM events"), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM inputs WHERE status = 'failed'"), 2);
  EXPECT_EQ(entries("input.received"), 2);
}

TEST_F(GroupCommitterTest, StopStoresWhatIsQueuedAndAnswersLaterPushesAtOnce) {
  ingest::GroupCommitter committer(opener(), abort_);
  committer.pause();
  PushOutcome queued;
  std::thread t([&] { queued = committer.commit(decoded("PA1,01102\n")); });
  while (committer.queued() < 1) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  committer.stop();  // paused, yet what was queued is stored before the thread ends
  t.join();
  EXPECT_EQ(queued.status, Status::stored) << queued.message;
  const PushOutcome late = committer.commit(decoded("PA2,01102\n"));
  EXPECT_EQ(late.status, Status::store_failed);
  EXPECT_EQ(count("SELECT COUNT(*) FROM events"), 1);
}

TEST_F(GroupCommitterTest, AStoreThatCannotBeOpenedFailsEachPushAndKeepsTrying) {
  std::atomic<int> opened{0};
  ingest::GroupCommitter committer(
      [&]() -> std::unique_ptr<store::Store> {
        if (opened++ < 2) throw store::StoreError("disk gone");
        return opener()();
      },
      abort_);
  EXPECT_EQ(committer.commit(decoded("PA1,01102\n")).status, Status::store_failed);
  // The next open succeeds: the push is stored.
  EXPECT_EQ(committer.commit(decoded("PA2,01102\n")).status, Status::stored);
  EXPECT_EQ(count("SELECT COUNT(*) FROM events"), 1);
}

TEST_F(GroupCommitterTest, AGroupHoldsAtMostMaxGroupRecords) {
  ingest::GroupCommitter committer(opener(), abort_, {.max_group_records = 3, .sync_log = {}});
  const auto outcomes =
      push_together(committer, {"PA1,01102\nPA2,01102\n", "PA3,01102\nPA4,01102\n", "PA5,01102\n",
                                "PA6,01102\nPA7,01102\nPA8,01102\nPA9,01102\n"});
  for (const auto& o : outcomes) EXPECT_EQ(o.status, Status::stored) << o.message;
  EXPECT_GE(committer.stats().groups, 3u);  // 2 + 2 > 3, and a push larger than 3 goes alone
  EXPECT_EQ(count("SELECT COUNT(*) FROM events"), 9);
}

// SQLite: a group's pushes are answered once the write-ahead log is synced, on a thread of its
// own. The pushes that arrive meanwhile are stored in the committer's open transaction, and
// committed together once that sync is done: one COMMIT for all of them.
TEST_F(GroupCommitterTest, APushIsAnsweredOnceTheLogIsSyncedAndThePushesMeanwhileShareOneCommit) {
  if (tsunagu_test::store_on_postgres()) GTEST_SKIP() << "PostgreSQL's COMMIT is durable";
  HeldSync held;
  ingest::GroupCommitter committer(opener(), abort_, held_sync_options(held));
  auto first = push_async(committer, 1);
  ASSERT_TRUE(eventually([&] { return held.syncs.load() == 1; }));
  EXPECT_EQ(count("SELECT COUNT(*) FROM events"), 1) << "committed, and readers see it";
  EXPECT_EQ(first.wait_for(std::chrono::milliseconds(100)), std::future_status::timeout)
      << "answered before its log was synced";
  std::vector<std::future<PushOutcome>> meanwhile;
  for (int i = 2; i <= 6; ++i) meanwhile.push_back(push_async(committer, i));
  // Routing runs inside the storing transaction: all five are stored while the sync is held...
  EXPECT_TRUE(eventually([&] { return routed_.load() == 6; }))
      << "the pushes waited for the sync before they were stored";
  // ...and not committed: a COMMIT now would only wait for the next sync.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(count("SELECT COUNT(*) FROM events"), 1) << "committed while the log was synced";
  EXPECT_EQ(committer.stats().groups, 1u);
  held.release.set_value();
  EXPECT_EQ(first.get().status, Status::stored);
  for (auto& m : meanwhile) EXPECT_EQ(m.get().status, Status::stored);
  EXPECT_EQ(count("SELECT COUNT(*) FROM events"), 6);
  committer.stop();
  EXPECT_EQ(committer.stats().groups, 2u);
  EXPECT_EQ(committer.stats().pushes, 6u);
  EXPECT_EQ(committer.stats().log_syncs, 2u);
  expect_audit_verifies();
}

// While a sync is held the open transaction still takes no more than max_group_records: a
// full group is committed, and the rest wait for the next one.
TEST_F(GroupCommitterTest, AGroupStoredWhileTheLogIsSyncedHoldsAtMostMaxGroupRecords) {
  if (tsunagu_test::store_on_postgres()) GTEST_SKIP() << "PostgreSQL's COMMIT is durable";
  HeldSync held;
  ingest::GroupCommitter::Options options = held_sync_options(held);
  options.max_group_records = 2;
  ingest::GroupCommitter committer(opener(), abort_, options);
  auto first = push_async(committer, 1);
  ASSERT_TRUE(eventually([&] { return held.syncs.load() == 1; }));
  std::vector<std::future<PushOutcome>> meanwhile;
  for (int i = 2; i <= 4; ++i) meanwhile.push_back(push_async(committer, i));
  // Two of the three fill a group, which is committed although the sync is held.
  EXPECT_TRUE(eventually([&] { return count("SELECT COUNT(*) FROM events") == 3; }));
  held.release.set_value();
  EXPECT_EQ(first.get().status, Status::stored);
  for (auto& m : meanwhile) EXPECT_EQ(m.get().status, Status::stored);
  committer.stop();
  EXPECT_EQ(count("SELECT COUNT(*) FROM events"), 4);
  EXPECT_EQ(committer.stats().groups, 3u);
}

// A push that fails makes the committer drop its session; the session is closed only once what
// it committed is synced. Closing the store's last connection checkpoints the log and deletes
// it: a sync still to come would find no log, fail, and every later push would be refused.
TEST_F(GroupCommitterTest, ASessionDroppedAfterAFailureIsClosedOnlyOnceItsCommitsAreSynced) {
  if (tsunagu_test::store_on_postgres()) GTEST_SKIP() << "PostgreSQL's COMMIT is durable";
  std::promise<void> release;
  const std::shared_future<void> released = release.get_future().share();
  std::atomic<int> syncs{0};
  std::atomic<bool> unlinked_before_synced{false};
  ingest::GroupCommitter::Options options;
  options.sync_log = [&](const fs::path& log) {
    const int fd = ::open(log.c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0) << log;
    ++syncs;
    released.wait();
    struct stat now {};
    ASSERT_EQ(::fstat(fd, &now), 0);
    if (now.st_nlink == 0) unlinked_before_synced = true;
    ::close(fd);
  };
  ingest::GroupCommitter committer(opener(), abort_, options);
  auto first = push_async(committer, 1);
  ASSERT_TRUE(eventually([&] { return syncs.load() == 1; }));
  auto failing =
      std::async(std::launch::async, [&] { return committer.commit(decoded("FAIL,01102\n")); });
  ASSERT_TRUE(eventually([&] { return routed_.load() == 2; }));  // FAIL's routing has thrown
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  release.set_value();
  EXPECT_EQ(first.get().status, Status::stored);
  EXPECT_EQ(failing.get().status, Status::store_failed);
  EXPECT_FALSE(unlinked_before_synced) << "the log was deleted before the sync it waited for";
  EXPECT_EQ(committer.log_failure(), "");
  EXPECT_EQ(committer.commit(decoded("PA2,01102\n")).status, Status::stored);
}

// A sync that fails: its pushes are answered as not stored, and so is every later push (their
// senders send them again once the hub has been restarted; what was committed is a duplicate then).
TEST_F(GroupCommitterTest, AFailedSyncFailsItsPushesAndEveryLaterOne) {
  if (tsunagu_test::store_on_postgres()) GTEST_SKIP() << "PostgreSQL's COMMIT is durable";
  ingest::GroupCommitter::Options options;
  options.sync_log = [](const fs::path&) { throw std::runtime_error("fdatasync: EIO (a test)"); };
  ingest::GroupCommitter committer(opener(), abort_, options);
  const PushOutcome first = committer.commit(decoded("PA1,01102\n"));
  EXPECT_EQ(first.status, Status::store_failed);
  EXPECT_NE(first.message.find("could not be synced to disk (fdatasync: EIO (a test))"),
            std::string::npos)
      << first.message;
  const PushOutcome later = committer.commit(decoded("PA2,01102\n"));
  EXPECT_EQ(later.status, Status::store_failed);
  EXPECT_NE(later.message.find("refused"), std::string::npos) << later.message;
  EXPECT_EQ(committer.log_failure(), "fdatasync: EIO (a test)");  // /healthz says so
  EXPECT_EQ(count("SELECT COUNT(*) FROM events WHERE source_ref = 'PA2'"), 0);
}

}  // namespace
