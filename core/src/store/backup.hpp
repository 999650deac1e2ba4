// An online copy of an SQLite store: SQLite's backup API on a connection of its own, so tsunagud
// may keep running (and writing) while it is taken.
#pragma once

#include <filesystem>

namespace tsunagu::store {

// Copies the database `source` into the new file `destination` (which must not exist) as one
// consistent snapshot: all pages in a single step under one read transaction, which in WAL mode
// does not hold up the daemon's writers. The copy is one self-contained file (no -wal beside it
// once closed) that passes SQLite's quick_check. Throws StoreError naming the file and why.
void backup_sqlite(const std::filesystem::path& source, const std::filesystem::path& destination,
                   int busy_timeout_ms);

}  // namespace tsunagu::store
