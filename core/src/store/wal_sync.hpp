// Makes an SQLite store's write-ahead log durable from a thread other than the one committing:
// the group committer's second stage (ingest/group_committer.hpp). Its session commits without
// syncing the log (Store::defer_log_sync) and answers a group's pushes only after sync() has
// returned, while it stores the next group.
//
// It syncs through a descriptor of its own: fdatasync makes every write to the file durable,
// whichever descriptor made it. Should the log be a new file (SQLite deletes it when the last
// connection closes and makes it again at the next open), the descriptor follows it, and the
// directory is synced too, so that the new file's name is as durable as its contents.
#pragma once

#include <filesystem>
#include <mutex>

namespace tsunagu::store {

class WalSync {
 public:
  explicit WalSync(std::filesystem::path log);  // the "<database>-wal" file
  ~WalSync();
  WalSync(const WalSync&) = delete;
  WalSync& operator=(const WalSync&) = delete;

  // Every commit made before the call is durable when it returns. Throws StoreError naming the
  // file and the reason if the log cannot be opened or synced. Thread-safe.
  void sync();

  const std::filesystem::path& log() const { return log_; }

 private:
  std::filesystem::path log_;
  std::mutex mutex_;
  int fd_ = -1;
};

}  // namespace tsunagu::store
