// Statements on the store's own SQLite connection that are compiled once and run many times.
//
// Poco::Data compiles `session << "…", now` anew on every call, and even a kept Poco Statement
// spends microseconds per execution in its binding and extraction machinery. The ingest path runs
// several statements per record (event, subject, audit entry, identity), so that was most of its
// time (bench/RESULTS.md). The hot statements therefore go through SQLite's C API on the same
// connection — same transactions, same busy timeout — while everything else keeps Poco::Data.
//
// The Store owns the compiled statements (Store::query) and finalises them before it closes the
// connection. A Query is one use of one statement: it binds the parameters in order, steps, reads
// columns, and resets the statement (clearing its bindings) when it goes out of scope, so no
// statement is ever left half-stepped holding a read snapshot. Bound text and blobs are NOT
// copied: they must stay alive until the Query is done.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace tsunagu::store {

class Prepared {
 public:
  // Throws StoreError naming the statement if SQLite cannot compile it.
  Prepared(sqlite3* db, std::string sql);
  ~Prepared();
  Prepared(const Prepared&) = delete;
  Prepared& operator=(const Prepared&) = delete;

  const std::string& sql() const { return sql_; }

 private:
  friend class Query;
  sqlite3* db_;
  std::string sql_;
  sqlite3_stmt* stmt_ = nullptr;
  bool in_use_ = false;
};

class Query {
 public:
  // Throws std::logic_error if the statement is already in use (a nested use of the same SQL).
  explicit Query(Prepared& statement);
  ~Query();
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;

  // Binds the next parameter (1, 2, …).
  Query& bind(std::string_view text);
  Query& bind(const char* text) { return bind(std::string_view(text)); }
  Query& bind(const std::string& text) { return bind(std::string_view(text)); }
  Query& bind(std::int64_t value);
  Query& bind(int value) { return bind(static_cast<std::int64_t>(value)); }
  Query& bind_blob(std::string_view bytes);  // an empty value binds NULL, as Poco's empty BLOB did
  Query& bind_null();

  // Steps once: true if a row is available to read. Throws StoreError on an SQLite error.
  bool next();
  // Steps to the end (INSERT, UPDATE, …); returns the rows it changed.
  std::int64_t run();

  bool is_null(int column) const;
  std::string text(int column) const;  // "" for NULL
  // Without a copy: valid until the next step or the end of the query.
  std::string_view text_view(int column) const;
  std::string blob(int column) const;  // "" for NULL
  std::int64_t integer(int column) const;

 private:
  [[noreturn]] void fail(int rc) const;
  Prepared& p_;
  int next_param_ = 1;
};

}  // namespace tsunagu::store
