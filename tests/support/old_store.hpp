// A SQLite store as an older build made it: the migrations up to a version, applied with the
// sqlite3 API and recorded in schema_migrations, so that opening it with this build runs the
// later ones (the upgrade tests of migrations 7 and 10). Rows are added with exec().
#pragma once

#include <sqlite3.h>

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

#include "store/migrations.hpp"

namespace tsunagu_test {

struct CloseSqlite {
  void operator()(sqlite3* db) const { sqlite3_close(db); }
};
using RawSqlite = std::unique_ptr<sqlite3, CloseSqlite>;

// Runs `sql`; returns "" or SQLite's error message.
inline std::string exec(sqlite3* db, const std::string& sql) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error) == SQLITE_OK) return "";
  std::string message = error != nullptr ? error : "failed";
  sqlite3_free(error);
  return message;
}

// Creates `file` at schema `version`; the connection has foreign keys on. Throws if SQLite
// refuses any statement (naming it).
inline RawSqlite store_at_version(const std::filesystem::path& file, int version) {
  sqlite3* raw = nullptr;
  if (sqlite3_open(file.c_str(), &raw) != SQLITE_OK) {
    sqlite3_close(raw);
    throw std::runtime_error("cannot open " + file.string());
  }
  RawSqlite db(raw);
  auto run = [&db](const std::string& sql) {
    if (const std::string error = exec(db.get(), sql); !error.empty()) {
      throw std::runtime_error(error + ": " + sql);
    }
  };
  run("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL, "
      "applied_at TEXT NOT NULL)");
  for (const auto& m : tsunagu::store::migrations()) {
    if (m.version > version) break;
    for (const auto& sql : m.statements) run(sql);
    run("INSERT INTO schema_migrations VALUES (" + std::to_string(m.version) +
        ", 'v', '2019-04-01')");
  }
  run("PRAGMA foreign_keys = ON");
  return db;
}

}  // namespace tsunagu_test
