// The references every pipeline figure is compared with: a bare SQLite bulk insert through the
// sqlite3 C API — one prepared statement, bound and stepped per row, inside transactions — into
// one table without indexes, with the store's own durability (WAL, synchronous=FULL). Nothing
// the hub does per row (decode, map, seal, audit, link) is in it: it is the ceiling.
#include "ceiling.hpp"

#include <fstream>
#include <iostream>
#include <stdexcept>

#include <sqlite3.h>

#include <codec/csv_reader.hpp>

#include "bench_util.hpp"
#include "drivers.hpp"

namespace tsunagu::bench {
namespace fs = std::filesystem;
namespace {

void exec(sqlite3* db, const std::string& sql) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    const std::string message = error ? error : "?";
    sqlite3_free(error);
    throw std::runtime_error("sqlite: " + sql + ": " + message);
  }
}

}  // namespace

RawInsert::RawInsert(const fs::path& file, const std::string& table_sql, const std::string& insert_sql) {
  fs::remove(file);
  fs::remove(file.string() + "-wal");
  fs::remove(file.string() + "-shm");
  if (sqlite3_open(file.c_str(), &db_) != SQLITE_OK) throw std::runtime_error("cannot open " + file.string());
  exec(db_, "PRAGMA journal_mode = WAL");
  exec(db_, "PRAGMA synchronous = FULL");
  exec(db_, table_sql);
  if (sqlite3_prepare_v2(db_, insert_sql.c_str(), -1, &insert_, nullptr) != SQLITE_OK) {
    throw std::runtime_error(std::string("sqlite prepare: ") + sqlite3_errmsg(db_));
  }
}

RawInsert::~RawInsert() {
  sqlite3_finalize(insert_);
  sqlite3_close(db_);
}

void RawInsert::begin() { exec(db_, "BEGIN IMMEDIATE"); }
void RawInsert::commit() { exec(db_, "COMMIT"); }

void RawInsert::row(const std::vector<std::string_view>& values) {
  for (std::size_t i = 0; i < values.size(); ++i) {
    sqlite3_bind_text(insert_, static_cast<int>(i + 1), values[i].data(),
                      static_cast<int>(values[i].size()), SQLITE_STATIC);
  }
  if (sqlite3_step(insert_) != SQLITE_DONE) {
    throw std::runtime_error(std::string("sqlite step: ") + sqlite3_errmsg(db_));
  }
  sqlite3_reset(insert_);
}

double RawInsert::run(std::size_t rows, std::size_t batch,
                      const std::function<void(std::size_t, std::vector<std::string_view>&)>& fill) {
  std::vector<std::string_view> values;
  const auto started = std::chrono::steady_clock::now();
  begin();
  for (std::size_t i = 0; i < rows; ++i) {
    if (batch != 0 && i != 0 && i % batch == 0) {
      commit();
      begin();
    }
    values.clear();
    fill(i, values);
    row(values);
  }
  commit();
  return seconds_since(started);
}

// tsunagu-bench ceiling <pa.csv> <work dir>: the rows of the CSV (15 fields, as CP932 bytes) into
// one table, first in one transaction (the ceiling of B1), then committed every 500 rows (what the
// hub's batches cost in fsyncs alone).
int ceiling_main(const Args& args) {
  if (args.size() < 2) throw std::invalid_argument("usage: ceiling <pa.csv> <work dir>");
  const fs::path csv = args[0], work = args[1];
  fs::create_directories(work);
  // Loaded first, untimed: the ceiling is the insert, not the reading.
  std::string bytes;
  std::vector<std::uint32_t> offsets;  // 16 per row: field starts and the end
  {
    std::ifstream in(csv, std::ios::binary);
    codec::CsvReader reader(in);
    codec::CsvRecord record;
    bool header = true;
    while (reader.next(record)) {
      if (header) {
        header = false;
        continue;
      }
      if (record.fields.size() != 15) continue;
      for (const auto& f : record.fields) {
        offsets.push_back(static_cast<std::uint32_t>(bytes.size()));
        bytes += f;
      }
      offsets.push_back(static_cast<std::uint32_t>(bytes.size()));
    }
  }
  const std::size_t rows = offsets.size() / 16;
  if (rows < 300) throw std::runtime_error(csv.string() + ": fewer than 300 rows");
  auto fill = [&](std::size_t r, std::vector<std::string_view>& values) {
    const std::uint32_t* o = &offsets[r * 16];
    for (int f = 0; f < 15; ++f) values.emplace_back(bytes.data() + o[f], o[f + 1] - o[f]);
  };
  std::string table = "CREATE TABLE rows (";
  std::string insert = "INSERT INTO rows VALUES (";
  for (int f = 1; f <= 15; ++f) {
    table += (f > 1 ? ", c" : "c") + std::to_string(f) + " TEXT";
    insert += f > 1 ? ", ?" : "?";
  }
  table += ")";
  insert += ")";
  double one = 0, batched = 0;
  {
    RawInsert raw(work / "ceiling.db", table, insert);
    one = raw.run(rows, 0, fill);
  }
  {
    RawInsert raw(work / "ceiling-batched.db", table, insert);
    batched = raw.run(rows, 500, fill);
  }
  std::cerr << "ceiling: " << rows << " rows into one table: " << one << " s in one transaction ("
            << rows / one << " rows/s), " << batched << " s committing every 500 (" << rows / batched
            << " rows/s)\n";
  result("B1", "ceiling_rows", static_cast<double>(rows));
  result("B1", "ceiling_rows_per_s", rows / one);
  result("B1", "ceiling_batched_rows_per_s", rows / batched);
  // What one durable commit costs here: single-row transactions (B4's "fsync ceiling").
  double commit_s = 0;
  constexpr std::size_t kCommits = 300;
  {
    RawInsert raw(work / "ceiling.db", table, insert);
    commit_s = raw.run(kCommits, 1, fill);
  }
  std::cerr << "ceiling: " << kCommits / commit_s << " single-row commits/s (synchronous=FULL)\n";
  result("B1", "commits_per_s", kCommits / commit_s);
  fs::remove(work / "ceiling.db");
  fs::remove(work / "ceiling-batched.db");
  return 0;
}

}  // namespace tsunagu::bench
