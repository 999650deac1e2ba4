#include "store/wal_vfs.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/uio.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <new>
#include <stdexcept>

namespace tsunagu::store {

namespace {

constexpr const char* kName = "tsunagu-wal";
constexpr std::size_t kFrameHeader = 24;  // SQLite's WAL_FRAME_HDRSIZE

std::atomic<std::uint64_t> g_requested{0};
std::atomic<std::uint64_t> g_issued{0};

// What a WAL file keeps: the header of a frame whose page has not been written yet.
struct State {
  int fd = -1;  // our own descriptor on the WAL, for pwritev
  std::array<char, kFrameHeader> header{};
  bool held = false;
  sqlite3_int64 header_at = 0;
};

// What SQLite allocates for each open file (szOsFile bytes): our header, then the platform
// VFS's own file object. SQLite requires `base` first. `state` is null for every file that is
// not a WAL.
struct File {
  sqlite3_file base;
  sqlite3_file* real;
  State* state;
};

sqlite3_vfs* g_real = nullptr;

File* self(sqlite3_file* f) {
  return reinterpret_cast<File*>(f);
}
const sqlite3_io_methods* real_methods(File* f) {
  return f->real->pMethods;
}

// A held header, alone, before anything else touches the file.
int write_out(File* f) {
  State* s = f->state;
  if (s == nullptr || !s->held) return SQLITE_OK;
  s->held = false;
  g_issued.fetch_add(1, std::memory_order_relaxed);
  return real_methods(f)->xWrite(f->real, s->header.data(), static_cast<int>(kFrameHeader),
                                 s->header_at);
}

// pwritev until every byte is written; the SQLite code of a failure.
int write_all(int fd, iovec* iov, int count, sqlite3_int64 offset) {
  while (count > 0) {
    const ssize_t n = ::pwritev(fd, iov, count, offset);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno == ENOSPC ? SQLITE_FULL : SQLITE_IOERR_WRITE;
    }
    offset += n;
    auto left = static_cast<std::size_t>(n);
    while (count > 0 && left >= iov->iov_len) {
      left -= iov->iov_len;
      ++iov;
      --count;
    }
    if (count > 0) {
      iov->iov_base = static_cast<char*>(iov->iov_base) + left;
      iov->iov_len -= left;
    }
  }
  return SQLITE_OK;
}

int x_close(sqlite3_file* file) {
  File* f = self(file);
  const int flushed = write_out(f);
  const int rc = real_methods(f)->xClose(f->real);
  if (f->state != nullptr) {
    if (f->state->fd >= 0) ::close(f->state->fd);
    delete f->state;
    f->state = nullptr;
  }
  return flushed != SQLITE_OK ? flushed : rc;
}

int x_read(sqlite3_file* file, void* out, int amount, sqlite3_int64 offset) {
  File* f = self(file);
  if (const int rc = write_out(f); rc != SQLITE_OK) return rc;
  return real_methods(f)->xRead(f->real, out, amount, offset);
}

int x_write(sqlite3_file* file, const void* data, int amount, sqlite3_int64 offset) {
  File* f = self(file);
  State* s = f->state;
  if (s == nullptr) return real_methods(f)->xWrite(f->real, data, amount, offset);
  g_requested.fetch_add(1, std::memory_order_relaxed);
  const auto size = static_cast<std::size_t>(amount);
  if (s->held) {
    if (offset == s->header_at + static_cast<sqlite3_int64>(kFrameHeader)) {
      // The frame's page: header and page in one call, the page from SQLite's buffer.
      std::array<iovec, 2> iov{{{s->header.data(), kFrameHeader}, {const_cast<void*>(data), size}}};
      s->held = false;
      g_issued.fetch_add(1, std::memory_order_relaxed);
      return write_all(s->fd, iov.data(), 2, s->header_at);
    }
    if (const int rc = write_out(f); rc != SQLITE_OK) return rc;
  }
  if (size == kFrameHeader) {
    std::memcpy(s->header.data(), data, kFrameHeader);
    s->header_at = offset;
    s->held = true;
    return SQLITE_OK;
  }
  g_issued.fetch_add(1, std::memory_order_relaxed);
  return real_methods(f)->xWrite(f->real, data, amount, offset);
}

int x_truncate(sqlite3_file* file, sqlite3_int64 size) {
  File* f = self(file);
  if (const int rc = write_out(f); rc != SQLITE_OK) return rc;
  return real_methods(f)->xTruncate(f->real, size);
}

int x_sync(sqlite3_file* file, int flags) {
  File* f = self(file);
  if (const int rc = write_out(f); rc != SQLITE_OK) return rc;
  return real_methods(f)->xSync(f->real, flags);
}

int x_file_size(sqlite3_file* file, sqlite3_int64* size) {
  File* f = self(file);
  if (const int rc = write_out(f); rc != SQLITE_OK) return rc;
  return real_methods(f)->xFileSize(f->real, size);
}

int x_lock(sqlite3_file* file, int level) {
  File* f = self(file);
  return real_methods(f)->xLock(f->real, level);
}

int x_unlock(sqlite3_file* file, int level) {
  File* f = self(file);
  return real_methods(f)->xUnlock(f->real, level);
}

int x_check_reserved_lock(sqlite3_file* file, int* out) {
  File* f = self(file);
  return real_methods(f)->xCheckReservedLock(f->real, out);
}

int x_file_control(sqlite3_file* file, int op, void* arg) {
  File* f = self(file);
  if (const int rc = write_out(f); rc != SQLITE_OK) return rc;
  if (op == SQLITE_FCNTL_VFSNAME) {
    // Name this layer in front of the platform VFS's name.
    const int rc = real_methods(f)->xFileControl(f->real, op, arg);
    if (rc == SQLITE_OK && arg != nullptr) {
      char** name = static_cast<char**>(arg);
      char* both = sqlite3_mprintf("%s/%z", kName, *name);
      *name = both;
    }
    return rc;
  }
  return real_methods(f)->xFileControl(f->real, op, arg);
}

int x_sector_size(sqlite3_file* file) {
  File* f = self(file);
  return real_methods(f)->xSectorSize(f->real);
}

int x_device_characteristics(sqlite3_file* file) {
  File* f = self(file);
  return real_methods(f)->xDeviceCharacteristics(f->real);
}

int x_shm_map(sqlite3_file* file, int page, int size, int extend, void volatile** out) {
  File* f = self(file);
  return real_methods(f)->xShmMap(f->real, page, size, extend, out);
}

int x_shm_lock(sqlite3_file* file, int offset, int n, int flags) {
  File* f = self(file);
  return real_methods(f)->xShmLock(f->real, offset, n, flags);
}

void x_shm_barrier(sqlite3_file* file) {
  File* f = self(file);
  real_methods(f)->xShmBarrier(f->real);
}

int x_shm_unmap(sqlite3_file* file, int delete_flag) {
  File* f = self(file);
  return real_methods(f)->xShmUnmap(f->real, delete_flag);
}

int x_fetch(sqlite3_file* file, sqlite3_int64 offset, int amount, void** out) {
  File* f = self(file);
  if (const int rc = write_out(f); rc != SQLITE_OK) return rc;
  return real_methods(f)->xFetch(f->real, offset, amount, out);
}

int x_unfetch(sqlite3_file* file, sqlite3_int64 offset, void* page) {
  File* f = self(file);
  return real_methods(f)->xUnfetch(f->real, offset, page);
}

const sqlite3_io_methods kMethods = {
    3,
    x_close,
    x_read,
    x_write,
    x_truncate,
    x_sync,
    x_file_size,
    x_lock,
    x_unlock,
    x_check_reserved_lock,
    x_file_control,
    x_sector_size,
    x_device_characteristics,
    x_shm_map,
    x_shm_lock,
    x_shm_barrier,
    x_shm_unmap,
    x_fetch,
    x_unfetch,
};

int x_open(sqlite3_vfs* vfs, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
  File* f = self(file);
  f->base.pMethods = nullptr;
  f->real = reinterpret_cast<sqlite3_file*>(f + 1);
  f->state = nullptr;
  const int rc = g_real->xOpen(g_real, name, f->real, flags, out_flags);
  if (rc != SQLITE_OK || f->real->pMethods == nullptr) return rc;
  if (f->real->pMethods->iVersion < 3) {
    f->real->pMethods->xClose(f->real);
    return SQLITE_CANTOPEN;
  }
  if ((flags & SQLITE_OPEN_WAL) != 0 && name != nullptr) {
    // The platform VFS has just opened (or created) it: a second descriptor on the same file,
    // whose writes the first one's reads and syncs see (one inode, one page cache).
    const int fd = ::open(name, O_RDWR | O_CLOEXEC);
    auto* s = fd >= 0 ? new (std::nothrow) State : nullptr;
    if (s == nullptr) {
      if (fd >= 0) ::close(fd);
      f->real->pMethods->xClose(f->real);
      return fd < 0 ? SQLITE_CANTOPEN : SQLITE_NOMEM;
    }
    s->fd = fd;
    f->state = s;
  }
  f->base.pMethods = &kMethods;
  (void)vfs;
  return SQLITE_OK;
}

// The rest of the VFS is the platform's.
int x_delete(sqlite3_vfs*, const char* name, int sync_dir) {
  return g_real->xDelete(g_real, name, sync_dir);
}
int x_access(sqlite3_vfs*, const char* name, int flags, int* out) {
  return g_real->xAccess(g_real, name, flags, out);
}
int x_full_pathname(sqlite3_vfs*, const char* name, int size, char* out) {
  return g_real->xFullPathname(g_real, name, size, out);
}
void* x_dl_open(sqlite3_vfs*, const char* name) {
  return g_real->xDlOpen(g_real, name);
}
void x_dl_error(sqlite3_vfs*, int size, char* out) {
  g_real->xDlError(g_real, size, out);
}
void (*x_dl_sym(sqlite3_vfs*, void* handle, const char* symbol))(void) {
  return g_real->xDlSym(g_real, handle, symbol);
}
void x_dl_close(sqlite3_vfs*, void* handle) {
  g_real->xDlClose(g_real, handle);
}
int x_randomness(sqlite3_vfs*, int size, char* out) {
  return g_real->xRandomness(g_real, size, out);
}
int x_sleep(sqlite3_vfs*, int microseconds) {
  return g_real->xSleep(g_real, microseconds);
}
int x_current_time(sqlite3_vfs*, double* out) {
  return g_real->xCurrentTime(g_real, out);
}
int x_get_last_error(sqlite3_vfs*, int size, char* out) {
  return g_real->xGetLastError(g_real, size, out);
}
int x_current_time_int64(sqlite3_vfs*, sqlite3_int64* out) {
  return g_real->xCurrentTimeInt64(g_real, out);
}

sqlite3_vfs g_vfs{};

}  // namespace

const char* wal_frame_vfs() {
  static const int registered = [] {
    if (sqlite3_initialize() != SQLITE_OK) return SQLITE_ERROR;
    g_real = sqlite3_vfs_find(nullptr);
    if (g_real == nullptr || g_real->iVersion < 2 || g_real->xCurrentTimeInt64 == nullptr) {
      return SQLITE_ERROR;
    }
    g_vfs.iVersion = 2;
    g_vfs.szOsFile = static_cast<int>(sizeof(File)) + g_real->szOsFile;
    g_vfs.mxPathname = g_real->mxPathname;
    g_vfs.zName = kName;
    g_vfs.xOpen = x_open;
    g_vfs.xDelete = x_delete;
    g_vfs.xAccess = x_access;
    g_vfs.xFullPathname = x_full_pathname;
    g_vfs.xDlOpen = x_dl_open;
    g_vfs.xDlError = x_dl_error;
    g_vfs.xDlSym = x_dl_sym;
    g_vfs.xDlClose = x_dl_close;
    g_vfs.xRandomness = x_randomness;
    g_vfs.xSleep = x_sleep;
    g_vfs.xCurrentTime = x_current_time;
    g_vfs.xGetLastError = x_get_last_error;
    g_vfs.xCurrentTimeInt64 = x_current_time_int64;
    return sqlite3_vfs_register(&g_vfs, 0);
  }();
  if (registered != SQLITE_OK) {
    throw std::runtime_error(std::string("SQLite refused the VFS ") + kName + ": " +
                             sqlite3_errstr(registered));
  }
  return kName;
}

std::string wal_frame_uri(const std::string& path) {
  std::string uri = "file:";
  for (const unsigned char c : path) {
    // A URI path holds these as they are; everything else is percent-encoded.
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '/' || c == '-' || c == '_' || c == '.' || c == '~';
    if (plain) {
      uri += static_cast<char>(c);
    } else {
      char escaped[4];
      std::snprintf(escaped, sizeof escaped, "%%%02X", c);
      uri += escaped;
    }
  }
  return uri + "?vfs=" + wal_frame_vfs();
}

WalWriteCounts wal_write_counts() {
  return {g_requested.load(std::memory_order_relaxed), g_issued.load(std::memory_order_relaxed)};
}

}  // namespace tsunagu::store
