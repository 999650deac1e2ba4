// B1 and B2: the real daemon on a spool. tsunagud is started on a fresh instance (this build's
// plugins, the checkout's mappings, SQLite synchronous=FULL, batches of 500), a generated file is
// dropped into its spool the way senders must (written under a dot-name, renamed), and the clock
// runs from the rename until the file reaches done/ — claim, SHA-256, decode, map, seal, store,
// audit, link and the final input row included. Peak memory is the daemon's VmHWM when the file
// reaches done/ — the high-water mark of its resident set, what /usr/bin/time -v prints as
// "Maximum resident set size".
#include <csignal>
#include <fstream>
#include <iostream>
#include <thread>

#include <unistd.h>

#include "bench_util.hpp"
#include "drivers.hpp"
#include "store/prepared.hpp"
#include "store/store.hpp"

namespace tsunagu::bench {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

long vm_hwm_kb(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

// rchar/wchar of /proc/<pid>/io: bytes the process read and wrote through system calls (the
// store's page reads and WAL writes, whether or not they reached the disk).
std::pair<double, double> io_mb(pid_t pid) {
  std::ifstream io("/proc/" + std::to_string(pid) + "/io");
  std::string key;
  double value = 0, read = 0, written = 0;
  while (io >> key >> value) {
    if (key == "rchar:") read = value / 1048576.0;
    if (key == "wchar:") written = value / 1048576.0;
  }
  return {read, written};
}

bool wait_for(const std::function<bool()>& done, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return done();
}

}  // namespace

// tsunagu-bench spool <system> <file> <work dir> [--id B1] [--prefix ""] [--batch 500]
//                     [--timeout-s 7200] [--checkpoint background|commit]
int spool_main(const Args& args) {
  if (args.size() < 3)
    throw std::invalid_argument("usage: spool <system> <file> <work dir> [--id ID] [--prefix P]");
  const std::string system = args[0];
  const fs::path input = fs::absolute(args[1]);
  const fs::path work = fs::absolute(args[2]);
  const std::string id = option(args, "--id", "B1");
  const std::string prefix = option(args, "--prefix", "");
  const auto timeout = std::chrono::seconds(option_number(args, "--timeout-s", 7200));

  fs::remove_all(work);
  const int batch = static_cast<int>(option_number(args, "--batch", 500));
  const fs::path config = write_instance_config(work, {system}, batch, "", sqlite_store_xml(args));
  const fs::path log = work / "daemon.log";
  const auto started = std::chrono::steady_clock::now();
  const pid_t pid =
      spawn({(layout().bin_dir / "tsunagud").string(), "--config", config.string()}, log, log);
  if (!wait_for([&] { return read_file(log).find("tsunagud ready") != std::string::npos; }, 120s)) {
    kill(pid, SIGKILL);
    wait_child(pid, started);
    throw std::runtime_error("tsunagud did not start: " + read_file(log));
  }
  const double startup = seconds_since(started);
  const fs::path spool = work / "data" / "spool" / system;
  const fs::path name = input.filename();
  const fs::path hidden = spool / ("." + name.string());
  fs::create_directories(spool);
  // A hard link (the data lives on the same file system): no copy of a gigabyte before the clock.
  std::error_code ec;
  fs::create_hard_link(input, hidden, ec);
  if (ec) fs::copy_file(input, hidden);
  const auto dropped = std::chrono::steady_clock::now();
  fs::rename(hidden, spool / name);
  const bool finished = wait_for(
      [&] { return fs::exists(spool / "done" / name) || fs::exists(spool / "failed" / name); },
      timeout);
  const double seconds = seconds_since(dropped);
  // The daemon's own high-water mark (VmHWM of its address space): wait4's ru_maxrss would add
  // this process's, which posix_spawn hands down.
  const long hwm_kb = vm_hwm_kb(pid);
  const auto [read_mb, written_mb] = io_mb(pid);
  kill(pid, SIGTERM);
  const ChildUsage usage = wait_child(pid, started);
  if (!finished)
    throw std::runtime_error("the file did not reach done/ within the timeout; see " +
                             log.string());

  store::SqliteOptions options;
  auto store = store::Store::open_sqlite(work / "data" / "store.db", options);
  const auto inputs = store->inputs(1);
  if (inputs.empty()) throw std::runtime_error("no input recorded");
  const auto& in = inputs.front();
  const double rows = static_cast<double>(in.records);
  std::cerr << "spool " << system << " " << name.string() << ": " << in.records << " records, "
            << in.events << " stored, " << in.quarantined << " quarantined, status " << in.status
            << "; " << seconds << " s from drop to done/ (" << rows / seconds << " rows/s); daemon "
            << "start-up " << startup << " s, CPU " << usage.user_s + usage.sys_s
            << " s, peak RSS (VmHWM) " << hwm_kb / 1024.0 << " MB, read " << read_mb
            << " MB, wrote " << written_mb << " MB, exit " << usage.exit_code << "\n";
  if (in.status != "done")
    throw std::runtime_error("the input ended " + in.status + ": " + in.message);
  result(id, prefix + "rows", rows);
  result(id, prefix + "events", static_cast<double>(in.events));
  result(id, prefix + "quarantined", static_cast<double>(in.quarantined));
  {
    // Routing is part of the pipeline measured: how many notices the run raised.
    auto q = store->query("SELECT COUNT(*) FROM notices");
    result(id, prefix + "notices", q.next() ? static_cast<double>(q.integer(0)) : 0.0);
  }
  result(id, prefix + "seconds", seconds);
  result(id, prefix + "rows_per_s", rows / seconds);
  result(id, prefix + "cpu_s", usage.user_s + usage.sys_s);
  result(id, prefix + "peak_rss_mb", hwm_kb / 1024.0);
  result(id, prefix + "read_mb", read_mb);
  result(id, prefix + "written_mb", written_mb);
  result(id, prefix + "input_mb", static_cast<double>(fs::file_size(input)) / 1048576.0);
  store.reset();
  if (option(args, "--keep", "no") != "yes") fs::remove_all(work);
  return 0;
}

}  // namespace tsunagu::bench
