#include "ingest/group_committer.hpp"

#include <Poco/Logger.h>

namespace tsunagu::ingest {
namespace {

Poco::Logger& log() {
  return Poco::Logger::get("tsunagu.ingest");
}

PushOutcome failed_outcome(const DecodedPush& push, const std::string& message) {
  PushOutcome o;
  o.status = PushOutcome::Status::store_failed;
  o.sha256 = push.sha256;
  o.origin = push.origin;
  o.records = push.decoded.records;
  o.message = message;
  return o;
}

}  // namespace

GroupCommitter::GroupCommitter(StoreOpener open_store, const std::atomic<bool>& abort,
                               Options options)
    : open_store_(std::move(open_store)), abort_(abort), options_(std::move(options)) {
  thread_ = std::thread([this] { run(); });
  sync_thread_ = std::thread([this] { run_syncs(); });
}

GroupCommitter::~GroupCommitter() {
  stop();
}

PushOutcome GroupCommitter::commit(DecodedPush push) {
  auto pending = std::make_unique<Pending>();
  pending->push = std::move(push);
  std::future<PushOutcome> done = pending->done.get_future();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) {
      return failed_outcome(pending->push, "the hub is stopping; nothing of this push was stored");
    }
    queue_.push_back(std::move(pending));
  }
  wake_.notify_one();
  return done.get();
}

void GroupCommitter::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (!thread_.joinable()) return;
  thread_.join();
  {
    // Everything the committer handed over is synced and answered before the thread ends.
    std::lock_guard<std::mutex> lock(mutex_);
    syncs_stopping_ = true;
  }
  synced_wake_.notify_one();
  if (sync_thread_.joinable()) sync_thread_.join();
  const Stats s = stats();
  if (s.pushes > 0) {
    // How much the pushes shared their commits: pushes per transaction.
    log().notice("HTTPS pushes: %s stored in %s transactions (%s groups stored again push by push)",
                 std::to_string(s.pushes), std::to_string(s.groups),
                 std::to_string(s.split_groups));
  }
}

GroupCommitter::Stats GroupCommitter::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

std::string GroupCommitter::log_failure() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return log_failure_;
}

void GroupCommitter::pause() {
  std::lock_guard<std::mutex> lock(mutex_);
  paused_ = true;
}

void GroupCommitter::resume() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    paused_ = false;
  }
  wake_.notify_one();
}

std::size_t GroupCommitter::queued() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return queue_.size();
}

void GroupCommitter::run() {
  for (;;) {
    Group group;
    std::size_t records = 0;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || (!paused_ && !queue_.empty()); });
      if (queue_.empty()) return;  // stopping, and nothing left to store
      take_queued(group, records);
    }
    store_group(group, records);
  }
}

bool GroupCommitter::take_queued(Group& group, std::size_t& records) {
  while (!queue_.empty()) {
    const std::size_t next = queue_.front()->push.records.size();
    if (!group.empty() && records + next > options_.max_group_records) return false;
    records += next;
    group.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  return true;
}

bool GroupCommitter::take_while_syncing(Group& group, std::size_t& records) {
  if (!deferred_log_) return false;  // the COMMIT itself is durable: nothing to wait for
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    if (!sync_busy() || stopping_ || !log_failure_.empty() || abort_.load()) return false;
    if (!paused_ && !queue_.empty()) {
      const std::size_t before = group.size();
      const bool room = take_queued(group, records);
      if (group.size() > before) return true;  // store these first
      if (!room) return false;                 // full: commit now
    }
    wake_.wait(lock);
  }
}

void GroupCommitter::run_syncs() {
  for (;;) {
    std::vector<Committed> batch;
    std::filesystem::path wal;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      synced_wake_.wait(lock, [&] { return syncs_stopping_ || !to_sync_.empty(); });
      if (to_sync_.empty()) return;  // stopping, and everything answered
      batch.swap(to_sync_);
      wal = *to_sync_log_;
      syncing_ = true;
    }
    sync_and_answer(batch, wal);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      syncing_ = false;
    }
    wake_.notify_one();  // the committer commits what it stored meanwhile
  }
}

void GroupCommitter::sync_and_answer(std::vector<Committed>& batch,
                                     const std::filesystem::path& wal) {
  // After a failed sync a later one may succeed with the pages the failed one lost: nothing
  // committed after it counts as durable.
  std::string failure = log_failure();
  const bool earlier = !failure.empty();
  if (!earlier) {
    try {
      if (options_.sync_log) {
        options_.sync_log(wal);
      } else {
        if (!wal_sync_ || wal_sync_->log() != wal)
          wal_sync_ = std::make_unique<store::WalSync>(wal);
        wal_sync_->sync();
      }
    } catch (const std::exception& e) {
      failure = e.what();
    }
  }
  if (failure.empty()) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ++stats_.log_syncs;
    }
    for (auto& c : batch) c.pending->done.set_value(std::move(c.outcome));
    return;
  }
  if (!earlier) {
    log().critical(
        "the write-ahead log could not be synced to disk (%s): %s pushes committed before it "
        "are answered as not stored, and every later push is refused until the hub is "
        "restarted (check the disk first)",
        failure, std::to_string(batch.size()));
    std::lock_guard<std::mutex> lock(mutex_);
    log_failure_ = failure;  // only this thread sets it
  }
  const std::string message =
      std::string("the store's write-ahead log could not be synced to disk") +
      (earlier ? " earlier" : "") + " (" + failure +
      "); send the push again once the hub has been restarted";
  for (auto& c : batch) c.pending->done.set_value(failed_outcome(c.pending->push, message));
}

void GroupCommitter::answer(Group& group, std::vector<PushOutcome>& outcomes) {
  if (!deferred_log_) {
    for (std::size_t i = 0; i < group.size(); ++i) group[i]->done.set_value(std::move(outcomes[i]));
    return;
  }
  {
    // The whole group at once, so that one sync covers it.
    std::lock_guard<std::mutex> lock(mutex_);
    for (std::size_t i = 0; i < group.size(); ++i)
      to_sync_.push_back({std::move(group[i]), std::move(outcomes[i])});
    to_sync_log_ = *deferred_log_;
  }
  synced_wake_.notify_one();
}

PushIngestor& GroupCommitter::ingestor() {
  if (!ingestor_) {
    store_ = open_store_();
    deferred_log_ = store_->defer_log_sync();
    audit_ = std::make_unique<audit::AuditLog>(*store_);
    ingestor_ = std::make_unique<PushIngestor>(*store_, *audit_);
  }
  return *ingestor_;
}

void GroupCommitter::drop_session() noexcept {
  // A session that saw an error is not trusted with the next group: a new one is opened. What
  // it committed is synced first: closing the last connection to the store checkpoints the
  // log and deletes it, and the sync thread would then find no log to sync.
  {
    std::unique_lock<std::mutex> lock(mutex_);
    wake_.wait(lock, [&] { return !sync_busy(); });
  }
  ingestor_.reset();
  audit_.reset();
  store_.reset();
  deferred_log_.reset();
}

void GroupCommitter::store_group(Group& group, std::size_t records) {
  std::string log_failure;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stats_.pushes += group.size();
    log_failure = log_failure_;
  }
  if (!log_failure.empty()) {
    for (auto& p : group) {
      fail(*p, "refused: the store's write-ahead log could not be synced to disk earlier (" +
                   log_failure + "); the hub must be restarted");
    }
    return;
  }
  if (abort_.load()) {
    // Past the grace period: no more records, but every push keeps its receipt.
    for (auto& p : group) {
      if (p->push.failure.empty()) {
        p->push.failure = "the hub stopped before this push was stored; nothing of it was stored";
        p->push.records.clear();
      }
    }
  }
  std::vector<PushOutcome> outcomes;
  outcomes.reserve(group.size());
  try {
    PushIngestor& in = ingestor();
    store::Transaction tx(*store_);
    for (;;) {
      for (std::size_t i = outcomes.size(); i < group.size(); ++i)
        outcomes.push_back(in.store(group[i]->push));
      // While the previous groups' log is being synced, a COMMIT now would only wait for the
      // next sync with the pushes that arrive meanwhile: they join this transaction instead,
      // so that each COMMIT writes the pages they share once (bench/RESULTS.md, B4).
      const std::size_t before = group.size();
      if (!take_while_syncing(group, records)) break;
      std::lock_guard<std::mutex> lock(mutex_);
      stats_.pushes += group.size() - before;
    }
    tx.commit();
  } catch (const std::exception& e) {
    log().error("a group of %s pushes was not stored (%s)%s", std::to_string(group.size()),
                std::string(e.what()),
                std::string(group.size() > 1 ? "; storing them one by one" : ""));
    drop_session();
    if (group.size() == 1) {
      fail(*group.front(), std::string("store error: ") + e.what());
    } else {
      {
        std::lock_guard<std::mutex> lock(mutex_);
        ++stats_.split_groups;
      }
      for (auto& p : group) store_alone(std::move(p));
    }
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ++stats_.groups;
  }
  answer(group, outcomes);
}

void GroupCommitter::store_alone(std::unique_ptr<Pending> pending) {
  try {
    PushIngestor& in = ingestor();
    store::Transaction tx(*store_);
    std::vector<PushOutcome> outcome{in.store(pending->push)};
    tx.commit();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ++stats_.groups;
    }
    Group alone;
    alone.push_back(std::move(pending));
    answer(alone, outcome);
  } catch (const std::exception& e) {
    drop_session();
    fail(*pending, std::string("store error: ") + e.what());
  }
}

void GroupCommitter::fail(Pending& pending, const std::string& message) {
  log().error("%s push %s not stored: %s", pending.push.pipeline.system, pending.push.origin,
              message);
  try {
    if (!ingestor().record_failure(pending.push, message)) drop_session();
  } catch (const std::exception& e) {  // the store cannot even be opened
    log().error("%s push %s: could not record the failure: %s", pending.push.pipeline.system,
                pending.push.origin, std::string(e.what()));
    drop_session();
  }
  pending.done.set_value(failed_outcome(pending.push, message));
}

}  // namespace tsunagu::ingest
