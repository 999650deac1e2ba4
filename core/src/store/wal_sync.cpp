#include "store/wal_sync.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>
#include <utility>

#include "store/store.hpp"

namespace tsunagu::store {

WalSync::WalSync(std::filesystem::path log) : log_(std::move(log)) {}

WalSync::~WalSync() {
  if (fd_ >= 0) ::close(fd_);
}

void WalSync::sync() {
  const std::lock_guard lock(mutex_);
  auto fail = [this](const char* what) {
    const int error = errno;
    throw StoreError(log_.string() + ": " + what + ": " + std::strerror(error));
  };
  struct stat now {};
  if (::stat(log_.c_str(), &now) != 0) fail("cannot find the write-ahead log to sync it");
  struct stat held {};
  if (fd_ >= 0 &&
      (::fstat(fd_, &held) != 0 || held.st_ino != now.st_ino || held.st_dev != now.st_dev)) {
    ::close(fd_);
    fd_ = -1;
  }
  if (fd_ < 0) {
    fd_ = ::open(log_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) fail("cannot open the write-ahead log to sync it");
    // A log made since the last look: its name in the directory must be durable too (SQLite
    // syncs the directory when a session at FULL makes the log; this one is at NORMAL).
    const std::string dir = log_.has_parent_path() ? log_.parent_path().string() : ".";
    const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd < 0) fail("cannot open the write-ahead log's directory to sync it");
    const bool synced = ::fsync(dir_fd) == 0;
    const int error = errno;
    ::close(dir_fd);
    if (!synced) {
      errno = error;
      fail("cannot sync the write-ahead log's directory to disk");
    }
  }
  if (::fdatasync(fd_) != 0) fail("cannot sync the write-ahead log to disk");
}

}  // namespace tsunagu::store
