// The order in which one process's connections to an SQLite file write to it.
//
// SQLite hands its write lock to whichever connection asks when it is free, with no queue, and a
// waiting connection's busy handler sleeps between tries. An ingest that commits batch after
// batch takes the lock again within microseconds of each COMMIT, so a web page acknowledging a
// notice, the outbox or the escalation timers — other connections of the same daemon — almost
// never found it free and waited out their busy timeout. The connections one process holds to
// one file therefore queue here first, in arrival order, before BEGIN IMMEDIATE, and SQLite's lock
// only arbitrates between processes (the CLI, a second instance on PostgreSQL has its own lock).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace tsunagu::store {

// The name by which this process knows a database file, whichever path reached it.
std::string file_key(const std::filesystem::path& file);

// The one T of this process for the database `file`, made by `make(key)` on first use and shared
// while anything holds it (one registry per T, whoever calls).
template <class T>
std::shared_ptr<T> shared_per_file(
    const std::filesystem::path& file,
    const std::function<std::shared_ptr<T>(const std::string&)>& make) {
  static std::mutex mutex;
  static std::map<std::string, std::weak_ptr<T>> made;
  const std::string key = file_key(file);
  std::lock_guard lock(mutex);
  auto& slot = made[key];
  auto shared = slot.lock();
  if (!shared) {
    shared = make(key);
    slot = shared;
  }
  return shared;
}

class WriterQueue {
 public:
  // One queue per database file in this process, shared by every connection to it.
  static std::shared_ptr<WriterQueue> for_file(const std::filesystem::path& file);

  // Waits for this caller's turn, at most `timeout`; false if it did not come.
  bool enter(std::chrono::milliseconds timeout);
  void leave();

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::uint64_t> waiting_;
  std::uint64_t next_ = 0;
  bool held_ = false;
};

}  // namespace tsunagu::store
