#include "store/prepared.hpp"

#include <climits>
#include <stdexcept>

#include <sqlite3.h>

#include "store/store.hpp"

namespace tsunagu::store {

Prepared::Prepared(sqlite3* db, std::string sql) : db_(db), sql_(std::move(sql)) {
  if (sqlite3_prepare_v3(db_, sql_.c_str(), static_cast<int>(sql_.size()),
                         SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr) != SQLITE_OK) {
    throw StoreError("cannot compile '" + sql_ + "': " + sqlite3_errmsg(db_));
  }
}

Prepared::~Prepared() {
  sqlite3_finalize(stmt_);
}

Query::Query(Prepared& statement) : p_(statement) {
  if (p_.in_use_) throw std::logic_error("statement already in use: " + p_.sql_);
  p_.in_use_ = true;
}

Query::~Query() {
  sqlite3_reset(p_.stmt_);
  sqlite3_clear_bindings(p_.stmt_);
  p_.in_use_ = false;
}

void Query::fail(int rc) const {
  (void)rc;
  throw StoreError(std::string(sqlite3_errmsg(p_.db_)) + " (in '" + p_.sql_ + "')");
}

namespace {
int length_of(std::string_view bytes) {
  if (bytes.size() > static_cast<std::size_t>(INT_MAX))
    throw StoreError("value too large for SQLite");
  return static_cast<int>(bytes.size());
}
}  // namespace

Query& Query::bind(std::string_view text) {
  // SQLITE_STATIC: not copied; the caller keeps the value alive until the query is done. A null
  // data pointer would bind NULL, so an empty string gets a valid one.
  const int rc = sqlite3_bind_text(p_.stmt_, next_param_++, text.empty() ? "" : text.data(),
                                   length_of(text), SQLITE_STATIC);
  if (rc != SQLITE_OK) fail(rc);
  return *this;
}

Query& Query::bind(std::int64_t value) {
  const int rc = sqlite3_bind_int64(p_.stmt_, next_param_++, value);
  if (rc != SQLITE_OK) fail(rc);
  return *this;
}

Query& Query::bind_blob(std::string_view bytes) {
  const int rc = bytes.empty() ? sqlite3_bind_null(p_.stmt_, next_param_++)
                               : sqlite3_bind_blob(p_.stmt_, next_param_++, bytes.data(),
                                                   length_of(bytes), SQLITE_STATIC);
  if (rc != SQLITE_OK) fail(rc);
  return *this;
}

Query& Query::bind_null() {
  const int rc = sqlite3_bind_null(p_.stmt_, next_param_++);
  if (rc != SQLITE_OK) fail(rc);
  return *this;
}

bool Query::next() {
  const int rc = sqlite3_step(p_.stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  fail(rc);
}

std::int64_t Query::run() {
  while (next()) {
  }
  return sqlite3_changes64(p_.db_);
}

bool Query::is_null(int column) const {
  return sqlite3_column_type(p_.stmt_, column) == SQLITE_NULL;
}

std::string Query::text(int column) const {
  const auto* data = reinterpret_cast<const char*>(sqlite3_column_text(p_.stmt_, column));
  if (data == nullptr) return {};
  return std::string(data, static_cast<std::size_t>(sqlite3_column_bytes(p_.stmt_, column)));
}

std::string_view Query::text_view(int column) const {
  const auto* data = reinterpret_cast<const char*>(sqlite3_column_text(p_.stmt_, column));
  if (data == nullptr) return {};
  return {data, static_cast<std::size_t>(sqlite3_column_bytes(p_.stmt_, column))};
}

std::string Query::blob(int column) const {
  const auto* data = static_cast<const char*>(sqlite3_column_blob(p_.stmt_, column));
  if (data == nullptr) return {};
  return std::string(data, static_cast<std::size_t>(sqlite3_column_bytes(p_.stmt_, column)));
}

std::int64_t Query::integer(int column) const {
  return sqlite3_column_int64(p_.stmt_, column);
}

}  // namespace tsunagu::store
