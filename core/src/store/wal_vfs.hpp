// A SQLite VFS that writes each WAL frame with one system call instead of two.
//
// SQLite appends a frame to the write-ahead log with two writes: its 24-byte header, then its
// page. A commit that changed n pages costs 2n pwrite calls, and on this project's virtual
// machine a system call is dear: in bench B4 the push committer spent ~36% of its CPU in the
// kernel, most of it entering and leaving these calls (bench/RESULTS.md). This VFS wraps the
// platform one ("unix") and changes one thing for files SQLite opens as a WAL: a 24-byte write
// is held, and when the next write continues it (the frame's page), both go to the file in one
// pwritev, straight from SQLite's own buffers, through a descriptor of the VFS's own on the same
// file. Anything else that touches the WAL first writes a held header out alone: another write,
// a read, a sync, its size, truncation, a file control, closing. Nothing else is buffered, so
// no other connection, in this process or another, can be told of a frame that is not in the
// file, and a failed write fails the very call SQLite made (a commit's, which is then rolled
// back). Every other file, and every other call, goes straight to the platform VFS.
//
// The page is written from SQLite's buffer, not copied: a first version (4db5979, reverted)
// copied whole runs of frames into a buffer of its own, and inclusion proofs (B5) then took
// twice as long. Measured since: that slowdown came with the copying, not with the size of the
// runs (one frame per write, copied, was as slow); writing from SQLite's buffers leaves a far
// smaller one (core/DESIGN.md, bench/RESULTS.md).
//
// Used by Store::open_sqlite for every connection it opens; other SQLite users of the same file
// (the sqlite3 shell, a backup, the checkpointer) are unaffected, as the file format is SQLite's
// own.
#pragma once

#include <cstdint>
#include <string>

namespace tsunagu::store {

// Registers the VFS (once per process, not as the default) and returns its name for a URI's
// `vfs=` parameter. Throws std::runtime_error if SQLite refuses it.
const char* wal_frame_vfs();

// A `file:` URI for `path` (percent-encoding what a URI path cannot hold) that opens it with the
// frame-joining WAL VFS.
std::string wal_frame_uri(const std::string& path);

// Since the process started: WAL writes SQLite asked for, and writes made to the file for them.
struct WalWriteCounts {
  std::uint64_t requested = 0;
  std::uint64_t issued = 0;
};
WalWriteCounts wal_write_counts();

}  // namespace tsunagu::store
