// Copies an SQLite store's write-ahead log into the database on a thread of its own.
//
// SQLite's automatic checkpoint runs inside the COMMIT that takes the log over its size, so that
// one commit, and every writer queued behind it, waits while the whole log (256 MiB by default) is
// copied and the database fsynced: at 1,000 pushes a second that is a few hundred milliseconds
// in the 99th percentile (bench/RESULTS.md, B4). Here a commit that finds the log over its size
// only wakes this thread, which copies it (a PASSIVE checkpoint: it blocks no writer or reader)
// on its own connection while the writers go on. Then, with this process's writers held back in
// their queue for a moment, it copies what they wrote meanwhile: the log is then copied whole, and
// the next writer starts it again from its beginning. (Without that step a writer that never
// pauses keeps the log from ever being copied whole, and it grows: seen in B4.)
//
// Nothing about durability changes: a commit is durable in the log as before; the log restarts
// only after a checkpoint that copied all of it has fsynced the database (the thread also flushes
// the database after each of its other passes, so that the one in the writers' turn has little to
// flush); until then a crash replays the whole log, and SQLite recovers an interrupted checkpoint.
// Should the thread not keep up (a reader holding an old snapshot, a failing disk), a commit
// that finds the log at twice its size checkpoints itself, as SQLite's automatic checkpoint did,
// so the log stays bounded. The thread runs at a lower priority (nice 10), and flushes the
// database in small pieces at the idle I/O class before its fsync, so that the writers' own
// fsyncs do not wait behind the whole copy in the disk's queue.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "store/writer_queue.hpp"

struct sqlite3;

namespace tsunagu::store {

class Checkpointer {
 public:
  struct Options {
    std::int64_t start_pages = 65536;  // wake the thread when the log holds this many frames
    bool synchronous_full = true;      // the store's `synchronous`, for the thread's connection
    std::chrono::milliseconds turn_timeout{10000};  // how long to wait for the writers' turn
  };
  // What the checkpointer has done, for tests and diagnostics.
  struct Counts {
    std::uint64_t passes = 0;     // checkpoints run by the thread
    std::uint64_t rounds = 0;     // rounds that ended with the writers held back for a pass
    std::uint64_t failures = 0;   // of them, those SQLite refused or failed
    std::uint64_t by_commit = 0;  // checkpoints a commit ran itself (the log at twice its size)
    std::string last_error;       // of the latest failure, empty if none
    bool failing = false;         // the latest round failed (/healthz reports it)
  };

  // One per database file in this process, shared by every connection to it; the options of the
  // first caller hold while any connection has it.
  static std::shared_ptr<Checkpointer> for_file(const std::filesystem::path& file,
                                                const Options& options);
  Checkpointer(std::filesystem::path file, std::shared_ptr<WriterQueue> writers,
               const Options& options);
  ~Checkpointer();
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  // Installs the commit hook on `db`, a connection to this file (it replaces SQLite's automatic
  // checkpoint there); `detach` removes it before the connection closes.
  void attach(sqlite3* db);
  static void detach(sqlite3* db);

  Counts counts() const;

 private:
  static int on_commit(void* self, sqlite3* db, const char* schema, int frames);
  void wake(std::int64_t frames);
  void run();
  // One PASSIVE checkpoint on the thread's own connection (opened on first use); false and the
  // reason in `error` if it could not be done.
  bool pass(int& log_frames, int& copied_frames, std::string& error);
  // Flushes what the thread's checkpoints wrote to the database file to disk.
  bool sync_database(std::string& error);

  const std::filesystem::path file_;
  const std::shared_ptr<WriterQueue> writers_;
  const Options options_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::thread thread_;        // started by the first wake
  sqlite3* db_ = nullptr;     // the thread's connection; only the thread uses it
  std::int64_t frames_ = 0;   // frames in the log after the latest commit
  std::int64_t copied_ = -1;  // frames the latest pass left copied (-1: none yet)
  bool stopping_ = false;
  Counts counts_;
  std::uint64_t failures_at_last_success_ = 0;  // counts_.failures then: a spell's length
};

}  // namespace tsunagu::store
