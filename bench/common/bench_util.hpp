// What every benchmark driver shares: clocks, child processes measured with wait4 (wall time, CPU
// time and peak RSS, as /usr/bin/time -v reports them), and the RESULT lines bench/run.sh collects.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <sys/types.h>

namespace tsunagu::bench {

inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// One figure for the report: "RESULT <id> <key> <value>" on stdout (and a readable line on
// stderr). run.sh collects the RESULT lines; `tsunagu-bench report` turns them into RESULTS.md.
void result(const std::string& id, const std::string& key, double value);
void result_text(const std::string& id, const std::string& key, const std::string& value);

struct ChildUsage {
  int exit_code = -1;  // or 128 + signal
  double wall_s = 0;
  double user_s = 0, sys_s = 0;
  long max_rss_kb = 0;  // peak resident set size of the child (ru_maxrss)
};

// Starts argv[0] (searched in PATH) with stdout and stderr sent to the given files ("" keeps
// ours). Throws on failure to start.
pid_t spawn(const std::vector<std::string>& argv, const std::filesystem::path& out_file = {},
            const std::filesystem::path& err_file = {});
// Waits for it; wall time is counted from `started`.
ChildUsage wait_child(pid_t pid, std::chrono::steady_clock::time_point started);
// spawn + wait_child.
ChildUsage run_child(const std::vector<std::string>& argv,
                     const std::filesystem::path& out_file = {},
                     const std::filesystem::path& err_file = {});

// CPU time (user + system) of this process so far, in seconds: on a shared machine a better
// measure of the work done than wall time.
double self_cpu_s();
// The fields of /proc/<pid>/stat after the process's name, from field 3 (its state) on; "" if it
// is gone.
std::string proc_stat_fields(pid_t pid);
// utime + stime of another process so far, in seconds (0 if it is gone).
double process_cpu_s(pid_t pid);

// Peak RSS of this process so far, in kB.
long self_max_rss_kb();

// The whole content of a file ("" if it cannot be read).
std::string read_file(const std::filesystem::path& file);
void write_file(const std::filesystem::path& file, const std::string& content);

// Lines of "RESULT id key value" parsed back.
struct Figure {
  std::string id, key, value;
};
std::vector<Figure> read_results(const std::filesystem::path& file);

}  // namespace tsunagu::bench
