#include "store/prepared.hpp"

#include <climits>
#include <stdexcept>

#include <sqlite3.h>

#include "store/store.hpp"

namespace tsunagu::store {

Query::Query(Prepared& statement) : p_(statement) {
  if (p_.in_use_) throw std::logic_error("statement already in use: " + p_.sql());
  p_.in_use_ = true;
}

Query::~Query() {
  p_.reset();
  p_.in_use_ = false;
}

Query& Query::bind(std::string_view text) {
  p_.bind_text(next_param_++, text);
  return *this;
}

Query& Query::bind(std::int64_t value) {
  p_.bind_integer(next_param_++, value);
  return *this;
}

Query& Query::bind_blob(std::string_view bytes) {
  p_.bind_blob(next_param_++, bytes);
  return *this;
}

Query& Query::bind_null() {
  p_.bind_null(next_param_++);
  return *this;
}

bool Query::next() {
  return p_.step();
}

std::int64_t Query::run() {
  while (p_.step()) {
  }
  return p_.changes();
}

// SQLite ------------------------------------------------------------------------------------

SqlitePrepared::SqlitePrepared(sqlite3* db, std::string sql) : Prepared(std::move(sql)), db_(db) {
  if (sqlite3_prepare_v3(db_, this->sql().c_str(), static_cast<int>(this->sql().size()),
                         SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr) != SQLITE_OK) {
    throw StoreError("cannot compile '" + this->sql() + "': " + sqlite3_errmsg(db_));
  }
}

SqlitePrepared::~SqlitePrepared() {
  sqlite3_finalize(stmt_);
}

void SqlitePrepared::fail() const {
  throw StoreError(std::string(sqlite3_errmsg(db_)) + " (in '" + sql() + "')");
}

namespace {
int length_of(std::string_view bytes) {
  if (bytes.size() > static_cast<std::size_t>(INT_MAX))
    throw StoreError("value too large for SQLite");
  return static_cast<int>(bytes.size());
}
}  // namespace

void SqlitePrepared::bind_text(int index, std::string_view text) {
  // SQLITE_STATIC: not copied; the caller keeps the value alive until the query is done. A null
  // data pointer would bind NULL, so an empty string gets a valid one.
  if (sqlite3_bind_text(stmt_, index, text.empty() ? "" : text.data(), length_of(text),
                        SQLITE_STATIC) != SQLITE_OK)
    fail();
}

void SqlitePrepared::bind_integer(int index, std::int64_t value) {
  if (sqlite3_bind_int64(stmt_, index, value) != SQLITE_OK) fail();
}

void SqlitePrepared::bind_blob(int index, std::string_view bytes) {
  const int rc = bytes.empty() ? sqlite3_bind_null(stmt_, index)
                               : sqlite3_bind_blob(stmt_, index, bytes.data(), length_of(bytes),
                                                   SQLITE_STATIC);
  if (rc != SQLITE_OK) fail();
}

void SqlitePrepared::bind_null(int index) {
  if (sqlite3_bind_null(stmt_, index) != SQLITE_OK) fail();
}

bool SqlitePrepared::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  fail();
}

std::int64_t SqlitePrepared::changes() const {
  return sqlite3_changes64(db_);
}

std::optional<std::int64_t> SqlitePrepared::inserted_id() {
  while (step()) {
  }
  if (sqlite3_changes64(db_) == 0) return std::nullopt;
  return sqlite3_last_insert_rowid(db_);
}

bool SqlitePrepared::is_null(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

std::string_view SqlitePrepared::text(int column) const {
  const auto* data = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  if (data == nullptr) return {};
  return {data, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column))};
}

std::string SqlitePrepared::blob(int column) const {
  const auto* data = static_cast<const char*>(sqlite3_column_blob(stmt_, column));
  if (data == nullptr) return {};
  return std::string(data, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)));
}

std::int64_t SqlitePrepared::integer(int column) const {
  return sqlite3_column_int64(stmt_, column);
}

void SqlitePrepared::reset() noexcept {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

}  // namespace tsunagu::store
