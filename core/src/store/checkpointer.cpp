#include "store/checkpointer.hpp"

#include <chrono>
#include <utility>

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <Poco/Logger.h>

namespace fs = std::filesystem;

namespace tsunagu::store {

namespace {
// After a round (a pass, then one in the writers' turn) the thread waits at least this long
// before the next: should the log not start again (a reader was still reading frames of it),
// the writers are not held back again at once.
constexpr std::chrono::milliseconds kRoundPause{100};
// Passes outside the writers' turn after the first, at most, and the frames the writers may add
// during one below which the next is left to their turn (a commit of a push adds ~60).
constexpr int kMorePasses = 3;
constexpr int kFewFrames = 256;
// The thread's nice value (Linux schedules threads, not processes, by it).
constexpr int kNice = 10;
// After a failed pass (SQLITE_BUSY from another process's checkpoint, an I/O error).
constexpr std::chrono::milliseconds kRetryPause{1000};
// The database file is written out in pieces of this size before its fsync (see sync_database).
constexpr off_t kFlushPiece = off_t{256} * 1024;

// This thread's I/O priority (Linux ioprio_set: glibc has no wrapper), set for a scope. The
// writes of a lower class wait in the disk's queue (mq-deadline serves classes in order, and a
// request waiting long is served anyway) while others' are pending.
class IoPriority {
 public:
  explicit IoPriority(int priority_class) {
    previous_ = static_cast<int>(syscall(SYS_ioprio_get, kWhoThread, 0));
    set_ = previous_ >= 0 &&
           syscall(SYS_ioprio_set, kWhoThread, 0, priority_class << kClassShift) == 0;
  }
  ~IoPriority() {
    if (set_) syscall(SYS_ioprio_set, kWhoThread, 0, previous_);
  }
  IoPriority(const IoPriority&) = delete;
  IoPriority& operator=(const IoPriority&) = delete;

  static constexpr int kIdle = 3;  // IOPRIO_CLASS_IDLE

 private:
  static constexpr int kWhoThread = 1;  // IOPRIO_WHO_PROCESS: with 0, the calling thread
  static constexpr int kClassShift = 13;
  int previous_ = -1;
  bool set_ = false;
};
}  // namespace

std::shared_ptr<Checkpointer> Checkpointer::for_file(const fs::path& file, const Options& options) {
  return shared_per_file<Checkpointer>(file, [&](const std::string& key) {
    return std::make_shared<Checkpointer>(key, WriterQueue::for_file(key), options);
  });
}

Checkpointer::Checkpointer(fs::path file, std::shared_ptr<WriterQueue> writers,
                           const Options& options)
    : file_(std::move(file)), writers_(std::move(writers)), options_(options) {}

Checkpointer::~Checkpointer() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    if (db_ != nullptr) sqlite3_interrupt(db_);  // a pass in progress stops at its next page
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (db_ != nullptr) sqlite3_close_v2(db_);
}

void Checkpointer::attach(sqlite3* db) {
  sqlite3_wal_hook(db, &Checkpointer::on_commit, this);
}

void Checkpointer::detach(sqlite3* db) {
  sqlite3_wal_hook(db, nullptr, nullptr);
}

Checkpointer::Counts Checkpointer::counts() const {
  std::lock_guard lock(mutex_);
  return counts_;
}

int Checkpointer::on_commit(void* self, sqlite3* db, const char* schema, int frames) {
  auto* checkpointer = static_cast<Checkpointer*>(self);
  if (frames >= 2 * checkpointer->options_.start_pages) {
    // The thread has not kept up: this commit copies the log itself, as SQLite's automatic
    // checkpoint would (its result, like SQLite's, does not change the commit's).
    sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    std::lock_guard lock(checkpointer->mutex_);
    ++checkpointer->counts_.by_commit;
  } else if (frames >= checkpointer->options_.start_pages) {
    checkpointer->wake(frames);
  }
  return SQLITE_OK;
}

void Checkpointer::wake(std::int64_t frames) {
  {
    std::lock_guard lock(mutex_);
    frames_ = frames;
    if (stopping_) return;
    if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
  }
  changed_.notify_all();
}

void Checkpointer::run() {
  // Background work: on a busy machine the committing thread and the request threads go first.
  setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), kNice);
  std::unique_lock lock(mutex_);
  for (;;) {
    changed_.wait(
        lock, [&] { return stopping_ || (frames_ >= options_.start_pages && frames_ != copied_); });
    if (stopping_) return;
    lock.unlock();
    int log_frames = -1;
    int copied_frames = -1;
    std::string error;
    // What is in the log now, while the writers go on, and the database file flushed to disk:
    // SQLite syncs it only in a checkpoint that copies the log whole, which would otherwise be
    // the one in the writers' turn below, and it would hold them back for the whole flush.
    bool done = pass(log_frames, copied_frames, error) && sync_database(error);
    std::uint64_t passes = 1;
    // Again while the writers wrote a good deal meanwhile, so that little is left for their turn.
    for (int again = 0; done && again < kMorePasses; ++again) {
      const int before = log_frames;
      done = pass(log_frames, copied_frames, error) && sync_database(error);
      ++passes;
      if (log_frames - before < kFewFrames) break;
    }
    bool in_turn = false;
    // What they wrote meanwhile, with them held back: the log is then copied whole, and the next
    // writer starts it again (a reader still reading frames of it can keep it from that).
    if (done && writers_->enter(options_.turn_timeout)) {
      done = pass(log_frames, copied_frames, error);
      writers_->leave();
      ++passes;
      in_turn = true;
    }
    lock.lock();
    counts_.passes += passes;
    if (in_turn) ++counts_.rounds;
    // The operator's log says why, once per spell of failures (a failing disk fails every
    // second), and when it ends; /healthz only says that it fails.
    if (!done && !counts_.failing) {
      Poco::Logger::get("tsunagu.store")
          .error(
              "%s: the write-ahead log's checkpoint failed: %s; retried every %s ms, and a "
              "commit that finds the log at twice its size copies it itself",
              file_.string(), error, std::to_string(kRetryPause.count()));
    } else if (done && counts_.failing) {
      Poco::Logger::get("tsunagu.store")
          .notice("%s: the write-ahead log's checkpoints succeed again (after %s failed rounds)",
                  file_.string(), std::to_string(counts_.failures - failures_at_last_success_));
    }
    if (done) failures_at_last_success_ = counts_.failures;
    counts_.failing = !done;
    if (done) {
      copied_ = copied_frames;
    } else {
      ++counts_.failures;
      counts_.last_error = std::move(error);
    }
    changed_.wait_for(lock, done ? kRoundPause : kRetryPause, [&] { return stopping_; });
  }
}

bool Checkpointer::sync_database(std::string& error) {
  // A pass leaves up to checkpoint-mb of the database's pages dirty in the page cache, and one
  // fsync sent them to the disk at once: the committer's own fsyncs of the log then queued behind
  // them, the slowest pushes of bench B4. So they are written out first in small pieces, at the
  // idle I/O class, each waited for; the fsync after it finds little left, and makes it durable
  // as before (and reports what failed: the pieces' own errors are not needed for that). Clean
  // ranges cost a system call each: ~4,000 for a 1 GB store. (Measured in bench/RESULTS.md.)
  if (const int fd = ::open(file_.c_str(), O_RDONLY | O_CLOEXEC); fd >= 0) {
    IoPriority idle(IoPriority::kIdle);
    struct stat st {};
    if (::fstat(fd, &st) == 0) {
      for (off_t at = 0; at < st.st_size; at += kFlushPiece) {
        ::sync_file_range(
            fd, at, kFlushPiece,
            SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER);
      }
    }
    ::close(fd);
  }
  sqlite3_file* file = nullptr;
  if (sqlite3_file_control(db_, "main", SQLITE_FCNTL_FILE_POINTER, &file) != SQLITE_OK ||
      file == nullptr || file->pMethods == nullptr) {
    return true;  // not open: nothing written to flush
  }
  const int flags = options_.synchronous_full ? SQLITE_SYNC_FULL : SQLITE_SYNC_NORMAL;
  if (file->pMethods->xSync(file, flags) != SQLITE_OK) {
    error = "cannot flush the database file to disk";
    return false;
  }
  return true;
}

bool Checkpointer::pass(int& log_frames, int& copied_frames, std::string& error) {
  if (db_ == nullptr) {
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(file_.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
      error = db != nullptr ? sqlite3_errmsg(db) : "cannot open";
      sqlite3_close_v2(db);
      return false;
    }
    // Reading the schema opens the write-ahead log, which a checkpoint needs; the database is
    // fsynced after each checkpoint in both modes, and the log before it.
    const std::string setup = std::string("PRAGMA synchronous = ") +
                              (options_.synchronous_full ? "FULL" : "NORMAL") +
                              "; PRAGMA schema_version;";
    if (sqlite3_exec(db, setup.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
      error = sqlite3_errmsg(db);
      sqlite3_close_v2(db);
      return false;
    }
    std::lock_guard lock(mutex_);
    db_ = db;
    if (stopping_) return false;
  }
  const int rc = sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log_frames,
                                           &copied_frames);
  if (rc != SQLITE_OK) {
    error = sqlite3_errmsg(db_);
    return false;
  }
  return true;
}

}  // namespace tsunagu::store
