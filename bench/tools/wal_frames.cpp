// A profiling aid, not a benchmark: which B-trees a workload's commits write, counted from the
// frames of a copy of its SQLite write-ahead log. Every COMMIT appends each page it changed to
// the log, so frames per commit by table and index show what a record costs in page writes
// (bench/RESULTS.md, B1 and B4).
//
//   1. run the workload with a log large enough not to be checkpointed meanwhile, e.g.
//      `tsunagu-bench https … --checkpoint-mb 4096` (or `spool … --checkpoint-mb 4096`);
//   2. while it runs, copy `data/store.db` and `data/store.db-wal` into an empty directory;
//   3. `tsunagu-wal-frames <copy>/store.db [--last N]`.
//
// Only the frames of the log's current generation are counted (those whose salts match its
// header), in whole commits; the last N commits (default 1000) are summarised, so that the
// start of the run does not weigh in. The pages are named through SQLite's `dbstat` table over
// the copy, as of its last commit.
#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

std::uint32_t big_endian(const unsigned char* p) {
  return (std::uint32_t{p[0]} << 24U) | (std::uint32_t{p[1]} << 16U) | (std::uint32_t{p[2]} << 8U) |
         std::uint32_t{p[3]};
}

// The pages of each commit of the log's current generation, in order.
std::vector<std::vector<std::uint32_t>> read_commits(const std::string& wal) {
  std::ifstream in(wal, std::ios::binary);
  if (!in) throw std::runtime_error(wal + ": cannot be opened");
  std::array<unsigned char, 32> header{};
  if (!in.read(reinterpret_cast<char*>(header.data()), header.size()))
    throw std::runtime_error(wal + ": shorter than a write-ahead log header");
  const std::uint32_t magic = big_endian(header.data());
  if (magic != 0x377f0682U && magic != 0x377f0683U)
    throw std::runtime_error(wal + ": not an SQLite write-ahead log (magic number)");
  const std::uint32_t page_size = big_endian(header.data() + 8);
  const std::uint32_t salt1 = big_endian(header.data() + 16);
  const std::uint32_t salt2 = big_endian(header.data() + 20);
  std::vector<std::vector<std::uint32_t>> commits;
  std::vector<std::uint32_t> current;
  std::array<unsigned char, 24> frame{};
  while (in.read(reinterpret_cast<char*>(frame.data()), frame.size())) {
    // A frame of an earlier generation (left behind a restart of the log) ends this one.
    if (big_endian(frame.data() + 8) != salt1 || big_endian(frame.data() + 12) != salt2) break;
    if (!in.seekg(page_size, std::ios::cur)) break;
    current.push_back(big_endian(frame.data()));
    if (big_endian(frame.data() + 4) != 0) {  // the commit's last frame: the database's size
      commits.push_back(std::move(current));
      current.clear();
    }
  }
  return commits;
}

std::map<std::uint32_t, std::string> page_owners(const std::string& db) {
  sqlite3* raw = nullptr;
  const std::string uri = "file:" + db + "?mode=ro";
  if (sqlite3_open_v2(uri.c_str(), &raw, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, nullptr) !=
      SQLITE_OK) {
    const std::string message = raw ? sqlite3_errmsg(raw) : "out of memory";
    sqlite3_close(raw);
    throw std::runtime_error(db + ": " + message);
  }
  std::map<std::uint32_t, std::string> owners;
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(raw, "SELECT name, pageno FROM dbstat", -1, &stmt, nullptr) != SQLITE_OK) {
    const std::string message = sqlite3_errmsg(raw);
    sqlite3_close(raw);
    throw std::runtime_error(db + ": dbstat: " + message);
  }
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    owners[static_cast<std::uint32_t>(sqlite3_column_int64(stmt, 1))] =
        reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  }
  sqlite3_finalize(stmt);
  sqlite3_close(raw);
  return owners;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2 && !(argc == 4 && std::string(argv[2]) == "--last")) {
    std::cerr << "usage: tsunagu-wal-frames <copy of store.db, its -wal beside it> [--last N]\n";
    return 2;
  }
  try {
    const std::string db = argv[1];
    std::size_t last = 1000;
    if (argc == 4) {
      const std::string text = argv[3];
      std::size_t used = 0;
      try {
        last = std::stoul(text, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used == 0 || used != text.size() || last == 0 || text.front() == '-')
        throw std::runtime_error("--last " + text + ": not a whole number of commits above 0");
    }
    const auto commits = read_commits(db + "-wal");
    if (commits.empty()) throw std::runtime_error(db + "-wal: no whole commit in the log");
    const std::size_t from = commits.size() > last ? commits.size() - last : 0;
    const auto owners = page_owners(db);
    std::map<std::string, std::uint64_t> frames;
    std::uint64_t total = 0;
    for (std::size_t c = from; c < commits.size(); ++c) {
      for (const std::uint32_t page : commits[c]) {
        const auto owner = owners.find(page);
        ++frames[owner == owners.end() ? "(free or new)" : owner->second];
        ++total;
      }
    }
    const double counted = static_cast<double>(commits.size() - from);
    std::printf("%zu commits in the log; the last %.0f: %.1f frames per commit\n", commits.size(),
                counted, static_cast<double>(total) / counted);
    std::vector<std::pair<std::uint64_t, std::string>> rows;
    rows.reserve(frames.size());
    for (const auto& [name, n] : frames) rows.emplace_back(n, name);
    std::sort(rows.rbegin(), rows.rend());
    for (const auto& [n, name] : rows) {
      std::printf("%-40s %8.2f frames per commit %5.1f%%\n", name.c_str(),
                  static_cast<double>(n) / counted,
                  100.0 * static_cast<double>(n) / static_cast<double>(total));
    }
  } catch (const std::exception& e) {
    std::cerr << "tsunagu-wal-frames: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
