#include "store/backup.hpp"

#include <sqlite3.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "store/store.hpp"

namespace tsunagu::store {
namespace fs = std::filesystem;
namespace {

struct CloseDb {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using Db = std::unique_ptr<sqlite3, CloseDb>;

Db open(const fs::path& file, int flags) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(file.c_str(), &raw, flags, nullptr);
  Db db(raw);
  if (rc != SQLITE_OK) {
    throw StoreError(file.string() + ": cannot open: " +
                     (raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  }
  return db;
}

}  // namespace

void backup_sqlite(const fs::path& source, const fs::path& destination, int busy_timeout_ms) {
  std::error_code ec;
  if (!fs::is_regular_file(source, ec)) throw StoreError(source.string() + ": no store here");
  if (fs::exists(destination, ec)) {
    throw StoreError(destination.string() + ": already exists; a backup never overwrites");
  }
  {
    // Read-only: the copy must not be able to change the store it copies.
    Db from = open(source, SQLITE_OPEN_READONLY);
    sqlite3_busy_timeout(from.get(), busy_timeout_ms);
    Db to = open(destination, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    sqlite3_backup* backup = sqlite3_backup_init(to.get(), "main", from.get(), "main");
    if (backup == nullptr) {
      throw StoreError(destination.string() +
                       ": cannot start the backup: " + sqlite3_errmsg(to.get()));
    }
    // -1: every page in one step, so the copy is one snapshot even while the daemon writes (an
    // incremental copy would start over after each of its commits). BUSY/LOCKED: try again.
    int rc = SQLITE_OK;
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(busy_timeout_ms);
    for (;;) {
      rc = sqlite3_backup_step(backup, -1);
      if ((rc == SQLITE_BUSY || rc == SQLITE_LOCKED) &&
          std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        continue;
      }
      break;
    }
    sqlite3_backup_finish(backup);
    if (rc != SQLITE_DONE) {
      const std::string why = sqlite3_errstr(rc);
      to.reset();
      fs::remove(destination, ec);
      throw StoreError(source.string() + ": backup failed: " + why);
    }
    sqlite3_stmt* check = nullptr;
    std::string verdict;
    if (sqlite3_prepare_v2(to.get(), "PRAGMA quick_check", -1, &check, nullptr) == SQLITE_OK &&
        sqlite3_step(check) == SQLITE_ROW) {
      verdict = reinterpret_cast<const char*>(sqlite3_column_text(check, 0));
    }
    sqlite3_finalize(check);
    if (verdict != "ok") {
      throw StoreError(destination.string() + ": the copy fails SQLite's quick_check: " + verdict);
    }
  }
}

}  // namespace tsunagu::store
