// Statements on the store's own connection that are compiled once and run many times, on either
// engine.
//
// Poco::Data compiles `session << "…", now` anew on every call, and even a kept Poco Statement
// spends microseconds per execution in its binding and extraction machinery. The ingest path runs
// several statements per record (event, subject, audit entry, identity), so that was most of its
// time (bench/RESULTS.md). Every statement therefore goes through the engine's C API on the
// connection Poco::Data opened — same transactions, same settings: SQLite's sqlite3_stmt, or a
// libpq prepared statement for PostgreSQL.
//
// SQL is written once, in the subset both engines accept, with `?` placeholders; the PostgreSQL
// statement renumbers them ($1, $2, …) (store/dialect.hpp). The Store owns the compiled
// statements (Store::query) and finalises them before it closes the connection. A Query is one
// use of one statement: it binds the parameters in order, steps, reads columns, and resets the
// statement when it goes out of scope, so no statement is ever left half-stepped holding a read
// snapshot. Bound text and blobs are NOT copied by SQLite: they must stay alive until the Query
// is done.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;
struct pg_conn;
struct pg_result;

namespace tsunagu::store {

// One compiled statement of one engine.
class Prepared {
 public:
  explicit Prepared(std::string sql) : sql_(std::move(sql)) {}
  virtual ~Prepared() = default;
  Prepared(const Prepared&) = delete;
  Prepared& operator=(const Prepared&) = delete;

  const std::string& sql() const { return sql_; }
  bool in_use() const { return in_use_; }

 protected:
  friend class Query;
  // Parameters are numbered from 1.
  virtual void bind_text(int index, std::string_view text) = 0;
  virtual void bind_integer(int index, std::int64_t value) = 0;
  virtual void bind_blob(int index, std::string_view bytes) = 0;  // empty: NULL
  virtual void bind_null(int index) = 0;
  virtual bool step() = 0;                   // true: a row is there to read
  virtual std::int64_t changes() const = 0;  // rows the finished statement changed
  virtual bool is_null(int column) const = 0;
  virtual std::string_view text(int column) const = 0;  // valid until the next step
  virtual std::string blob(int column) const = 0;
  virtual std::int64_t integer(int column) const = 0;
  virtual void reset() noexcept = 0;  // clears bindings and results
  // Steps an INSERT made by Store::insert_query to its end: the id of the row it inserted, or
  // nullopt if it inserted none (ON CONFLICT … DO NOTHING).
  virtual std::optional<std::int64_t> inserted_id() = 0;

 private:
  std::string sql_;
  bool in_use_ = false;
};

// SQLite: a persistent sqlite3_stmt.
class SqlitePrepared final : public Prepared {
 public:
  // Throws StoreError naming the statement if SQLite cannot compile it.
  SqlitePrepared(sqlite3* db, std::string sql);
  ~SqlitePrepared() override;

 protected:
  void bind_text(int index, std::string_view text) override;
  void bind_integer(int index, std::int64_t value) override;
  void bind_blob(int index, std::string_view bytes) override;
  void bind_null(int index) override;
  bool step() override;
  std::int64_t changes() const override;
  bool is_null(int column) const override;
  std::string_view text(int column) const override;
  std::string blob(int column) const override;
  std::int64_t integer(int column) const override;
  void reset() noexcept override;
  std::optional<std::int64_t> inserted_id() override;

 private:
  [[noreturn]] void fail() const;
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
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

  // Steps once: true if a row is available to read. Throws StoreError on an engine error.
  bool next();
  // Steps to the end (INSERT, UPDATE, …); returns the rows it changed.
  std::int64_t run();
  // For a statement from Store::insert_query: steps to the end; the id of the inserted row, or
  // nullopt if none was inserted.
  std::optional<std::int64_t> inserted_id() { return p_.inserted_id(); }

  bool is_null(int column) const { return p_.is_null(column); }
  std::string text(int column) const { return std::string(p_.text(column)); }  // "" for NULL
  // Without a copy: valid until the next step or the end of the query.
  std::string_view text_view(int column) const { return p_.text(column); }
  std::string blob(int column) const { return p_.blob(column); }  // "" for NULL
  std::int64_t integer(int column) const { return p_.integer(column); }

 private:
  Prepared& p_;
  int next_param_ = 1;
};

}  // namespace tsunagu::store
