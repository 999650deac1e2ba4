// A bare sqlite3 bulk insert: the reference the hub's stores are measured against.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace tsunagu::bench {

class RawInsert {
 public:
  // Creates the database afresh (WAL, synchronous=FULL) with `table_sql`, prepares `insert_sql`.
  RawInsert(const std::filesystem::path& file, const std::string& table_sql,
            const std::string& insert_sql);
  ~RawInsert();
  RawInsert(const RawInsert&) = delete;
  RawInsert& operator=(const RawInsert&) = delete;

  // Inserts `rows` rows, committing every `batch` (0: one transaction); `fill` appends row i's
  // values (text, bound without copying). Returns the seconds taken, commits included.
  double run(std::size_t rows, std::size_t batch,
             const std::function<void(std::size_t, std::vector<std::string_view>&)>& fill);

 private:
  void begin();
  void commit();
  void row(const std::vector<std::string_view>& values);
  sqlite3* db_ = nullptr;
  sqlite3_stmt* insert_ = nullptr;
};

}  // namespace tsunagu::bench
