// Group commit of HTTPS pushes: one writer stores the pushes of many request threads together,
// in one transaction, so they share its COMMIT (and, on SQLite synchronous=FULL, its fsync).
//
// A request thread decodes its push (decode_push), hands it to commit() and waits. The
// committer's thread, over a Store session of its own, takes every push queued by then (up to
// max_group_records records), stores them one after another with PushIngestor::store() inside
// ONE writer transaction, commits, and only then answers each waiting thread — so a 2xx still
// means that push is on disk. While it commits, the next pushes queue up: the busier the hub,
// the larger the groups and the fewer commits per push.
//
// One push's failure (a store or routing error while storing it) must not cost the others
// theirs: the group is rolled back and its pushes are stored again one transaction each, so only
// the failing one is answered store_failed (its receipt and failure recorded on their own).
// Rolling back a whole transaction rather than a SAVEPOINT keeps the state that sessions cache
// per transaction (the audit log's Merkle frontier, new subject keys) exact. An unusable body is
// not a failure of the group: it is decoded before, stored as a receipt and a failed input.
//
// Durability in two stages (SQLite at synchronous=FULL): the committer's session commits without
// syncing the write-ahead log (Store::defer_log_sync), hands the group to a second thread, and
// goes on with the next group; that thread syncs the log once for every group handed over
// meanwhile (store::WalSync) and only then answers their pushes. A 2xx still means on disk; the
// fsync no longer holds up the storing of the next pushes (bench/RESULTS.md, B4). While a sync
// runs, the committer keeps its transaction open and stores the pushes that arrive into it, and
// commits once the sync thread is free (or the group is full): committing earlier would only
// make them wait for the next sync anyway, and every COMMIT writes each page it changed to the
// log, so fewer, larger groups write the pages their pushes share once. Readers may see
// a group for the moment between its COMMIT and the sync; a power loss then undoes it, and
// nothing after it, and its pushes were never answered, so their senders send them again. A
// session dropped after an error is closed only once what it committed is synced (closing the
// store's last connection deletes the log). Should a sync fail, the pushes waiting for it are
// answered store_failed and so is every later push, until the hub is restarted: after a failed
// fsync the kernel may have dropped the unwritten pages, and what was committed after them could
// be lost with them. On PostgreSQL the server's COMMIT is durable, and each group is answered
// after it.
//
// Shutdown: once `abort` is set, pushes not yet stored get only their receipt and the failure
// recorded, and store_failed; after stop() commit() answers store_failed at once. Nobody waits
// for ever.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "audit/audit_log.hpp"
#include "ingest/push_ingestor.hpp"
#include "store/store.hpp"
#include "store/wal_sync.hpp"

namespace tsunagu::ingest {

class GroupCommitter {
 public:
  // Opens a new session on the instance's store, keyring set.
  using StoreOpener = std::function<std::unique_ptr<store::Store>()>;

  struct Options {
    // A group is closed once it holds this many records (at least one push per group), so one
    // large push does not make a group's transaction, and everyone's wait, unbounded.
    std::size_t max_group_records = 2000;
    // Makes the write-ahead log durable (tests replace it to hold or fail the sync); empty:
    // store::WalSync.
    std::function<void(const std::filesystem::path& log)> sync_log;
  };

  struct Stats {
    std::uint64_t groups = 0;        // transactions committed
    std::uint64_t pushes = 0;        // pushes answered
    std::uint64_t split_groups = 0;  // groups rolled back and stored again push by push
    std::uint64_t log_syncs = 0;     // syncs of the write-ahead log after groups (SQLite)
  };

  GroupCommitter(StoreOpener open_store, const std::atomic<bool>& abort, Options options);
  GroupCommitter(StoreOpener open_store, const std::atomic<bool>& abort)
      : GroupCommitter(std::move(open_store), abort, Options{}) {}
  ~GroupCommitter();
  GroupCommitter(const GroupCommitter&) = delete;
  GroupCommitter& operator=(const GroupCommitter&) = delete;

  // Stores `push` in the next group and returns its outcome once that group's COMMIT is done (or
  // failed). Thread-safe; blocks the calling thread; never throws.
  PushOutcome commit(DecodedPush push);

  // Stores what is queued (or, after `abort`, records it as failed), then ends the thread.
  void stop();

  Stats stats() const;
  // Why the log could not be synced, once that happened (every push is refused since); empty
  // while it has not. /healthz reports it.
  std::string log_failure() const;

  // For tests: while paused, pushes queue up and no group begins, so a test can make one group
  // of the pushes it chose.
  void pause();
  void resume();
  std::size_t queued() const;

 private:
  struct Pending {
    DecodedPush push;
    std::promise<PushOutcome> done;
  };
  using Group = std::vector<std::unique_ptr<Pending>>;
  // Committed, waiting for the log's sync to be answered.
  struct Committed {
    std::unique_ptr<Pending> pending;
    PushOutcome outcome;
  };

  void run();
  // Under mutex_: moves queued pushes into `group` while they fit in max_group_records (the
  // first always does); false once the next one does not.
  bool take_queued(Group& group, std::size_t& records);
  // While the sync thread is busy with earlier groups, waits for more pushes to store in the
  // open transaction: true with some added to `group`, false when it is time to COMMIT (the sync
  // thread is idle, the group is full, the hub is stopping, or the log failed).
  bool take_while_syncing(Group& group, std::size_t& records);
  // Under mutex_: the sync thread has a batch in hand or waiting.
  bool sync_busy() const { return syncing_ || !to_sync_.empty(); }
  void run_syncs();
  void sync_and_answer(std::vector<Committed>& batch, const std::filesystem::path& wal);
  // After a COMMIT: answers the group's pushes now, or once the log is synced.
  void answer(Group& group, std::vector<PushOutcome>& outcomes);
  // `records`: how many the group holds, as take_queued() counted them.
  void store_group(Group& group, std::size_t records);
  void store_alone(std::unique_ptr<Pending> pending);
  void fail(Pending& pending, const std::string& message);
  PushIngestor& ingestor();  // opens the session on first use and after an error
  void drop_session() noexcept;

  StoreOpener open_store_;
  const std::atomic<bool>& abort_;
  Options options_;
  // The committer thread's own session.
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<audit::AuditLog> audit_;
  std::unique_ptr<PushIngestor> ingestor_;
  // The log this session's commits wait to be synced in (nullopt: its COMMIT is durable).
  std::optional<std::filesystem::path> deferred_log_;
  std::unique_ptr<store::WalSync> wal_sync_;  // for the default sync_log

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::unique_ptr<Pending>> queue_;
  bool stopping_ = false;
  bool paused_ = false;
  Stats stats_;
  std::thread thread_;

  // The second stage: pushes committed and waiting for the log's sync.
  std::condition_variable synced_wake_;
  std::vector<Committed> to_sync_;
  std::optional<std::filesystem::path> to_sync_log_;  // the log they were committed in
  bool syncing_ = false;  // the sync thread is syncing a batch (answering it included)
  bool syncs_stopping_ = false;
  std::string log_failure_;  // set by a failed sync: every later push fails with it
  std::thread sync_thread_;
};

}  // namespace tsunagu::ingest
