// The store a test runs on: SQLite at the file it names, or — in ctest's `pg.` copies of the store
// tests (TSUNAGU_TEST_STORE=postgresql) — a PostgreSQL database of its own on the throwaway server
// scripts/test.sh starts (TSUNAGU_TEST_PG: a libpq connection string for its maintenance
// database). The same file always maps to the same database, so a test that reopens "its store"
// reopens the same data on either engine.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>

#include <libpq-fe.h>

#include "store/store.hpp"

namespace tsunagu_test {

inline bool store_on_postgres() {
  const char* engine = std::getenv("TSUNAGU_TEST_STORE");
  return engine != nullptr && std::string(engine) == "postgresql";
}

// The test server's maintenance connection string; throws with what to do if there is none.
inline std::string test_postgres_conninfo() {
  const char* conninfo = std::getenv("TSUNAGU_TEST_PG");
  if (conninfo == nullptr || *conninfo == '\0') {
    throw std::runtime_error(
        "TSUNAGU_TEST_PG is not set: the PostgreSQL tests need the server scripts/test.sh starts "
        "(or `scripts/pg.sh start <dir>` and export TSUNAGU_TEST_PG=\"$(cat <dir>/conninfo)\")");
  }
  return conninfo;
}

// Creates database `name` on the test server unless it exists; returns its connection string.
inline std::string test_postgres_database(const std::string& name) {
  const std::string maintenance = test_postgres_conninfo();
  PGconn* conn = PQconnectdb(maintenance.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    const std::string message = PQerrorMessage(conn);
    PQfinish(conn);
    throw std::runtime_error("cannot connect to the test PostgreSQL: " + message);
  }
  PGresult* result = PQexec(conn, ("CREATE DATABASE " + name).c_str());
  const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
  const bool exists = state != nullptr && std::string(state) == "42P04";  // duplicate_database
  if (PQresultStatus(result) != PGRES_COMMAND_OK && !exists) {
    const std::string message = PQresultErrorMessage(result);
    PQclear(result);
    PQfinish(conn);
    throw std::runtime_error("cannot create the test database " + name + ": " + message);
  }
  PQclear(result);
  PQfinish(conn);
  return maintenance + " dbname=" + name;  // the later dbname wins
}

// The database name for a test's store file.
inline std::string test_database_name(const std::filesystem::path& file) {
  const std::string key = std::filesystem::absolute(file).lexically_normal().string();
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016zx", std::hash<std::string>{}(key));
  return std::string("t_") + hex;
}

inline std::unique_ptr<tsunagu::store::Store> open_test_store(
    const std::filesystem::path& sqlite_file, const tsunagu::store::SqliteOptions& options = {}) {
  if (!store_on_postgres()) return tsunagu::store::Store::open_sqlite(sqlite_file, options);
  return tsunagu::store::Store::open_postgres(
      test_postgres_database(test_database_name(sqlite_file)));
}

}  // namespace tsunagu_test
