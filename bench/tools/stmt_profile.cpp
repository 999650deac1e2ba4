// Where a process's SQLite time goes, statement by statement: an LD_PRELOAD library that wraps
// sqlite3_step and, when the process exits, writes one line per distinct SQL text — calls, CPU
// time of the calling thread inside sqlite3_step (kernel time for page reads and writes
// included), and SQLite's own counters for that statement: virtual-machine steps, rows stepped
// over by full scans, sorts and re-preparations. perf cannot say which statement a sample in
// libsqlite3 belongs to (Debian's library has no frame pointers and no debug information); this
// can, and it found the costs recorded in bench/RESULTS.md (migration 10's CHECK lists, the
// unindexed OR of PersonMaster::person).
//
//   export LD_PRELOAD=build/bench/lib/libtsunagu-stmt-profile.so TSUNAGU_STMT_PROFILE=/tmp/prof
//   build/bench/bin/tsunagu-bench spool public_assistance build/bench-data/PA_EVENTS_50000.csv w
//
// writes /tmp/prof.<pid> for every process that ran SQLite statements (the driver and tsunagud).
// sqlite3_step is counted per call, so a SELECT of n rows counts n + 1. A profiling aid for
// engineers: never loaded by the hub, its tests or bench/run.sh.
#include <dlfcn.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace {

struct Totals {
  long calls = 0;
  double cpu_s = 0;
  long vm_steps = 0;
  long scan_steps = 0;
  long sorts = 0;
  long reprepares = 0;
};

struct Profile {
  std::mutex mutex;
  std::unordered_map<std::string, Totals> by_sql;
};

// Never destroyed: the report runs from a destructor at exit, after other statics may be gone.
Profile& profile() {
  static auto* p = new Profile;
  return *p;
}

double thread_cpu_s() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

using StepFn = int (*)(sqlite3_stmt*);

StepFn real_step() {
  static const auto fn = reinterpret_cast<StepFn>(dlsym(RTLD_NEXT, "sqlite3_step"));
  return fn;
}

__attribute__((destructor)) void report() {
  const char* base = std::getenv("TSUNAGU_STMT_PROFILE");
  Profile& p = profile();
  const std::lock_guard<std::mutex> lock(p.mutex);
  if (base == nullptr || p.by_sql.empty()) return;
  std::vector<std::pair<std::string, Totals>> rows(p.by_sql.begin(), p.by_sql.end());
  std::sort(rows.begin(), rows.end(),
            [](const auto& a, const auto& b) { return a.second.cpu_s > b.second.cpu_s; });
  const std::string file = std::string(base) + "." + std::to_string(getpid());
  FILE* out = std::fopen(file.c_str(), "w");
  if (out == nullptr) {
    std::fprintf(stderr, "stmt_profile: cannot write %s: %s\n", file.c_str(), std::strerror(errno));
    return;
  }
  double total = 0;
  for (const auto& row : rows) total += row.second.cpu_s;
  std::fprintf(out,
               "# %.3f s of CPU in sqlite3_step; per statement: CPU s, calls, us/call, "
               "VM steps/call, full-scan steps, sorts, re-prepares, SQL\n",
               total);
  for (const auto& [sql, t] : rows) {
    std::fprintf(out, "%9.3f %10ld %9.1f %7ld %10ld %8ld %4ld  %s\n", t.cpu_s, t.calls,
                 t.cpu_s / static_cast<double>(t.calls) * 1e6, t.vm_steps / t.calls, t.scan_steps,
                 t.sorts, t.reprepares, sql.c_str());
  }
  std::fclose(out);
}

}  // namespace

extern "C" int sqlite3_step(sqlite3_stmt* statement) {
  const double before = thread_cpu_s();
  const int rc = real_step()(statement);
  const double spent = thread_cpu_s() - before;
  const char* sql = sqlite3_sql(statement);
  std::string key = sql != nullptr ? sql : "(no SQL text)";
  std::replace(key.begin(), key.end(), '\n', ' ');
  Profile& p = profile();
  const std::lock_guard<std::mutex> lock(p.mutex);
  Totals& t = p.by_sql[key];
  ++t.calls;
  t.cpu_s += spent;
  t.vm_steps += sqlite3_stmt_status(statement, SQLITE_STMTSTATUS_VM_STEP, 1);
  t.scan_steps += sqlite3_stmt_status(statement, SQLITE_STMTSTATUS_FULLSCAN_STEP, 1);
  t.sorts += sqlite3_stmt_status(statement, SQLITE_STMTSTATUS_SORT, 1);
  t.reprepares += sqlite3_stmt_status(statement, SQLITE_STMTSTATUS_REPREPARE, 1);
  return rc;
}
