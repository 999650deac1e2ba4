// A SQLite VFS that writes a connection's WAL frames with one pwrite per run of frames (up to
// 128 KiB, the most the unix VFS writes at once) instead of two per frame.
//
// SQLite appends each frame of a commit to the WAL with two writes, its 24-byte header and its
// page. A commit that dirtied n pages costs 2n pwrite calls before its fsync: in B4 (one push,
// ~60 frames per group commit) that was ~40% of the COMMIT's CPU and more of its wall time,
// measured against one pwrite of the same bytes (bench/RESULTS.md). This VFS wraps the platform
// one ("unix") and changes one thing for files SQLite opens as a WAL: writes that continue the
// previous one are gathered in memory (up to 128 KiB - 1) and written together, in order,
// before anything that could observe them:
//
//   - the WAL's own xSync, xRead of a buffered range, xFileSize, xTruncate, xFileControl and
//     xClose, so a sync covers every frame written before it and SQLite reads back what it wrote;
//   - the database file's xShmLock and xShmBarrier, of the same connection, which SQLite calls
//     before it publishes new frames in the wal-index for other connections to read — so no
//     reader, in this process or another, can be told of a frame still in a buffer, whatever the
//     synchronous setting.
//
// A write that does not continue the buffer (a frame rewritten in place, the WAL header after a
// restart) first writes the buffer out, so writes reach the file in SQLite's order. A failed
// write-out is returned by the call that caused it (a commit's xSync fails, and the transaction
// with it). Everything else, and every file that is not a WAL, goes straight to the platform VFS.
//
// Used by Store::open_sqlite for every connection it opens; other SQLite users of the same file
// (the sqlite3 shell, a backup) are unaffected, as the file format is SQLite's own.
#pragma once

#include <cstdint>
#include <string>

namespace tsunagu::store {

// Registers the VFS (once per process, not as the default) and returns its name for a URI's
// `vfs=` parameter. Throws std::runtime_error if SQLite refuses it.
const char* coalescing_wal_vfs();

// A `file:` URI for `path` (percent-encoding what a URI path cannot hold) that opens it with the
// coalescing WAL VFS.
std::string coalescing_wal_uri(const std::string& path);

// Since the process started: WAL writes SQLite asked for, and writes made to the file for them.
struct WalWriteCounts {
  std::uint64_t requested = 0;
  std::uint64_t issued = 0;
};
WalWriteCounts wal_write_counts();

}  // namespace tsunagu::store
