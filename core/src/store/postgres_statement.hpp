// PostgreSQL: a libpq prepared statement on the connection Poco::Data::PostgreSQL opened.
//
// Parameters are sent as text (blobs as binary bytea); PostgreSQL infers their types from where
// they stand, so `?` means the same as in SQLite. Results come back as text: integers are parsed,
// bytea is decoded from its hex form, booleans read as 1 or 0. A result is fetched whole when the
// statement runs; statements that can return very many rows page with LIMIT.
#pragma once

#include <string>
#include <vector>

#include "store/prepared.hpp"

namespace tsunagu::store {

class PostgresPrepared final : public Prepared {
 public:
  // `name`: unique on the connection. Throws StoreError naming the statement if PostgreSQL
  // cannot prepare it.
  PostgresPrepared(pg_conn* conn, std::string sql, std::string name);
  ~PostgresPrepared() override;

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
  void prepare();
  void set(int index, std::string value, bool null, int format, unsigned type);
  pg_conn* conn_;
  std::string name_;
  std::string translated_;  // with $1, $2, …
  bool prepared_ = false;
  std::vector<unsigned> types_;  // parameter type OIDs at preparation (0: inferred)
  int params_ = 0;
  std::vector<std::string> values_;
  std::vector<char> null_;
  std::vector<int> formats_;
  pg_result* result_ = nullptr;
  int row_ = -1;
};

// Runs one statement without parameters (BEGIN, COMMIT, DDL); throws StoreError with
// PostgreSQL's message and SQLSTATE.
void postgres_exec(pg_conn* conn, const std::string& sql);

}  // namespace tsunagu::store
