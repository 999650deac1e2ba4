#include "store/postgres_statement.hpp"

#include <cstdlib>

#include <libpq-fe.h>

#include "store/dialect.hpp"
#include "store/store.hpp"

namespace tsunagu::store {
namespace {

constexpr Oid kByteaOid = 17;
constexpr Oid kInt8Oid = 20;

// PostgreSQL's message for a failed result, with its SQLSTATE, or the connection's.
std::string failure_of(pg_conn* conn, const PGresult* result) {
  std::string message;
  if (result != nullptr) {
    message = PQresultErrorMessage(result);
    if (const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE); state != nullptr) {
      message += std::string(" [SQLSTATE ") + state + "]";
    }
  }
  if (message.empty()) message = PQerrorMessage(conn);
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  if (PQstatus(conn) != CONNECTION_OK) message += " (the connection to PostgreSQL is lost)";
  return message;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

void postgres_exec(pg_conn* conn, const std::string& sql) {
  PGresult* result = PQexec(conn, sql.c_str());
  const ExecStatusType status = PQresultStatus(result);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    std::string message = failure_of(conn, result);
    PQclear(result);
    throw StoreError(message + " (in '" + sql + "')");
  }
  PQclear(result);
}

PostgresPrepared::PostgresPrepared(pg_conn* conn, std::string sql, std::string name)
    : Prepared(std::move(sql)), conn_(conn), name_(std::move(name)) {
  translated_ = dialect::postgres_placeholders(this->sql(), &params_);
  values_.resize(static_cast<std::size_t>(params_));
  null_.assign(static_cast<std::size_t>(params_), 1);
  formats_.assign(static_cast<std::size_t>(params_), 0);
  types_.assign(static_cast<std::size_t>(params_), 0);
}

void PostgresPrepared::prepare() {
  // On first use, when the parameters' C++ types are known: an integer is a bigint (as SQLite's
  // integers are 64-bit; PostgreSQL would type `? > 0` as a 32-bit integer), a blob is bytea, and
  // text is left for PostgreSQL to infer from where it stands.
  PGresult* result = PQprepare(conn_, name_.c_str(), translated_.c_str(), params_, types_.data());
  if (PQresultStatus(result) != PGRES_COMMAND_OK) {
    std::string message = failure_of(conn_, result);
    PQclear(result);
    throw StoreError("cannot prepare '" + sql() + "': " + message);
  }
  PQclear(result);
  prepared_ = true;
}

PostgresPrepared::~PostgresPrepared() {
  PQclear(result_);
  // The statement goes with the connection; deallocating it here could fail inside an aborted
  // transaction, and the Store destroys its statements just before it closes the connection.
}

void PostgresPrepared::set(int index, std::string value, bool null, int format, Oid type) {
  if (index < 1 || index > params_) {
    throw StoreError("parameter " + std::to_string(index) + " out of range (the statement has " +
                     std::to_string(params_) + ") in '" + sql() + "'");
  }
  const auto i = static_cast<std::size_t>(index - 1);
  values_[i] = std::move(value);
  null_[i] = null ? 1 : 0;
  formats_[i] = format;
  if (!prepared_ && type != 0) types_[i] = type;
}

void PostgresPrepared::bind_text(int index, std::string_view text) {
  set(index, std::string(text), false, 0, 0);
}

void PostgresPrepared::bind_integer(int index, std::int64_t value) {
  set(index, std::to_string(value), false, 0, kInt8Oid);
}

void PostgresPrepared::bind_blob(int index, std::string_view bytes) {
  set(index, std::string(bytes), bytes.empty(), 1, kByteaOid);
}

void PostgresPrepared::bind_null(int index) {
  set(index, {}, true, 0, 0);
}

bool PostgresPrepared::step() {
  if (result_ == nullptr) {
    if (!prepared_) prepare();
    std::vector<const char*> values(values_.size());
    std::vector<int> lengths(values_.size());
    for (std::size_t i = 0; i < values_.size(); ++i) {
      values[i] = null_[i] != 0 ? nullptr : values_[i].c_str();
      lengths[i] = static_cast<int>(values_[i].size());
    }
    result_ = PQexecPrepared(conn_, name_.c_str(), params_, values.data(), lengths.data(),
                             formats_.data(), 0);
    const ExecStatusType status = PQresultStatus(result_);
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
      std::string message = failure_of(conn_, result_);
      PQclear(result_);
      result_ = nullptr;
      throw StoreError(message + " (in '" + sql() + "')");
    }
    row_ = -1;
  }
  ++row_;
  return row_ < PQntuples(result_);
}

std::int64_t PostgresPrepared::changes() const {
  if (result_ == nullptr) return 0;
  const char* n = PQcmdTuples(result_);
  return (n == nullptr || *n == '\0') ? 0 : std::strtoll(n, nullptr, 10);
}

std::optional<std::int64_t> PostgresPrepared::inserted_id() {
  // The statement ends in RETURNING id (Store::insert_query): one row, or none.
  std::optional<std::int64_t> id;
  if (step()) id = integer(0);
  while (step()) {
  }
  return id;
}

bool PostgresPrepared::is_null(int column) const {
  return PQgetisnull(result_, row_, column) != 0;
}

std::string_view PostgresPrepared::text(int column) const {
  if (PQgetisnull(result_, row_, column) != 0) return {};
  return {PQgetvalue(result_, row_, column),
          static_cast<std::size_t>(PQgetlength(result_, row_, column))};
}

std::string PostgresPrepared::blob(int column) const {
  const std::string_view value = text(column);
  if (PQftype(result_, column) != kByteaOid) return std::string(value);
  // bytea's text form: \x followed by two hex digits per byte.
  if (value.size() < 2 || value[0] != '\\' || value[1] != 'x') {
    throw StoreError("unexpected bytea text form in '" + sql() + "'");
  }
  std::string out;
  out.reserve((value.size() - 2) / 2);
  for (std::size_t i = 2; i + 1 < value.size(); i += 2) {
    const int hi = hex_value(value[i]), lo = hex_value(value[i + 1]);
    if (hi < 0 || lo < 0) throw StoreError("bad bytea hex digit in '" + sql() + "'");
    out += static_cast<char>((hi << 4) | lo);
  }
  return out;
}

std::int64_t PostgresPrepared::integer(int column) const {
  const std::string_view value = text(column);
  if (value == "t") return 1;
  if (value == "f") return 0;
  if (value.empty()) return 0;
  return std::strtoll(std::string(value).c_str(), nullptr, 10);
}

void PostgresPrepared::reset() noexcept {
  PQclear(result_);
  result_ = nullptr;
  row_ = -1;
  for (std::size_t i = 0; i < values_.size(); ++i) {
    values_[i].clear();
    null_[i] = 1;
    formats_[i] = 0;
  }
}

}  // namespace tsunagu::store
