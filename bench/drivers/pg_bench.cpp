// B7: PostgreSQL, one tsunagud against two sharing the database. The same public_assistance CSV
// is cut into two halves (header repeated, rows in order). "one": a single tsunagud on a fresh
// database gets both halves in its spool; "two": two tsunagud on another fresh database, each with
// its own data directory and the same keys (master.key and the audit signing key pair, copied
// from the first as docs/postgresql.md says), get one half each. Both runs happen here, one after
// the other, against the same server. The clock runs as in B1 — from the renames into the spool(s)
// until every half is in a done/ — and the instances are configured as B1's (this build's plugins,
// the checkout's mappings, batches of 500, routing with the bundled files), only the store differs.
//
// Why the two may not overlap is measured, not guessed: a sampler thread asks the server every
// 10 ms who holds and who waits for the writer lock (the transaction-scoped advisory
// lock every writing transaction takes, store.cpp kWriterLock), each instance's backends named by
// application_name. It also reads the CPU time of the daemons, of the PostgreSQL server's
// processes and of the whole machine over the measured interval.
#include <atomic>
#include <csignal>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>

#include <libpq-fe.h>
#include <unistd.h>

#include "bench_util.hpp"
#include "drivers.hpp"
#include "store/store.hpp"

namespace tsunagu::bench {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// The writer lock's key (core/src/store/store.cpp kWriterLock: pg_advisory_xact_lock(1953723758)).
// A bigint key below 2^32 shows in pg_locks as classid 0, objid = the key, objsubid 1.
constexpr const char* kWriterLockObjid = "1953723758";

using Conn = std::unique_ptr<PGconn, decltype(&PQfinish)>;

Conn connect(const std::string& conninfo) {
  Conn c(PQconnectdb(conninfo.c_str()), &PQfinish);
  if (!c || PQstatus(c.get()) != CONNECTION_OK) {
    throw std::runtime_error("cannot connect to PostgreSQL (" + conninfo +
                             "): " + (c ? PQerrorMessage(c.get()) : "out of memory"));
  }
  return c;
}

void exec(PGconn* c, const std::string& sql) {
  std::unique_ptr<PGresult, decltype(&PQclear)> r(PQexec(c, sql.c_str()), &PQclear);
  const auto status = PQresultStatus(r.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    throw std::runtime_error(sql + ": " + PQerrorMessage(c));
  }
}

// A fresh database (UTF8, C collation, as docs/postgresql.md recommends) on the server of
// `conninfo`, which must connect as a role that may create databases.
void fresh_database(const std::string& conninfo, const std::string& name) {
  Conn c = connect(conninfo);
  exec(c.get(), "DROP DATABASE IF EXISTS " + name);
  exec(c.get(), "CREATE DATABASE " + name +
                    " TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'");
}

void drop_database(const std::string& conninfo, const std::string& name) {
  Conn c = connect(conninfo);
  exec(c.get(), "DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
}

// libpq takes the last value of a repeated keyword: the base conninfo with other settings.
std::string with(const std::string& conninfo, const std::string& more) {
  return conninfo + " " + more;
}

// The value of `key` in a "key=value key=value" conninfo ("" if absent or quoted).
std::string conninfo_value(const std::string& conninfo, const std::string& key) {
  std::istringstream words(conninfo);
  std::string word, value;
  while (words >> word) {
    if (word.rfind(key + "=", 0) == 0) value = word.substr(key.size() + 1);
  }
  return value;
}

// Cuts a CSV (header line, then records) into `parts` files of consecutive records, each with the
// header. A line break ends a record only outside double quotes: the generator's remarks hold
// quoted line breaks (CP932 never has 0x22 or 0x0A as a trail byte). Returns the files.
std::vector<fs::path> split_csv(const fs::path& input, const fs::path& dir, const std::string& stem,
                                std::size_t parts, std::size_t& records) {
  const std::string all = read_file(input);
  std::vector<std::size_t> ends;  // one past each record's line break, header first
  bool quoted = false;
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (all[i] == '"')
      quoted = !quoted;
    else if (all[i] == '\n' && !quoted)
      ends.push_back(i + 1);
  }
  if (ends.empty() || quoted)
    throw std::runtime_error(input.string() + ": not a CSV with a header line");
  if (ends.back() != all.size()) ends.push_back(all.size());  // a last record without a line break
  const std::string header = all.substr(0, ends.front());
  records = ends.size() - 1;
  std::vector<fs::path> out;
  fs::create_directories(dir);
  for (std::size_t p = 0; p < parts; ++p) {
    const std::size_t first = records * p / parts, last = records * (p + 1) / parts;
    const std::size_t from = ends[first], to = ends[last];  // record k runs ends[k] .. ends[k + 1]
    const fs::path file = dir / (stem + "_part" + std::to_string(p + 1) + ".csv");
    write_file(file, header + all.substr(from, to - from));
    out.push_back(file);
  }
  return out;
}

pid_t parent_of(pid_t pid) {
  const std::string text = proc_stat_fields(pid);
  if (text.empty()) return 0;
  std::istringstream fields(text);
  std::string state;
  pid_t ppid = 0;
  fields >> state >> ppid;
  return ppid;
}

// CPU seconds of the PostgreSQL server: its postmaster (first line of <data>/postmaster.pid, the
// cluster scripts/pg.sh made in the conninfo's host directory) and every child of it that is
// alive now. Backends that exit in between are lost, so measure between two points where the
// same backends live. `except`: a backend left out (the sampler's own). Returns -1 if the
// postmaster cannot be found.
double server_cpu_s(const std::string& conninfo, pid_t except) {
  const std::string host = conninfo_value(conninfo, "host");
  if (host.empty() || host[0] != '/') return -1;
  std::ifstream pidfile(fs::path(host) / "data" / "postmaster.pid");
  pid_t postmaster = 0;
  if (!(pidfile >> postmaster) || postmaster <= 0) return -1;
  double total = process_cpu_s(postmaster);
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    const std::string name = e.path().filename().string();
    char* end = nullptr;
    const long pid = std::strtol(name.c_str(), &end, 10);
    if (*end != '\0' || pid <= 0 || pid == except) continue;
    if (parent_of(static_cast<pid_t>(pid)) == postmaster)
      total += process_cpu_s(static_cast<pid_t>(pid));
  }
  return total;
}

// Busy and total jiffies of the whole machine (/proc/stat "cpu" line).
std::pair<double, double> machine_jiffies() {
  std::ifstream stat("/proc/stat");
  std::string cpu;
  stat >> cpu;
  double v = 0, total = 0, idle = 0;
  for (int i = 0; i < 8 && stat >> v; ++i) {
    total += v;
    if (i == 3 || i == 4) idle += v;  // idle, iowait
  }
  return {total - idle, total};
}

bool wait_for(const std::function<bool()>& done, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return done();
}

// Who holds and who waits for the writer lock, sampled from pg_locks. Per instance (by
// application_name): samples in which one of its backends held the lock, and in which one waited.
class LockSampler {
 public:
  LockSampler(const std::string& conninfo, std::chrono::milliseconds every)
      : conn_(connect(with(conninfo, "application_name=b7-sampler"))), every_(every) {
    backend_ = PQbackendPID(conn_.get());
    thread_ = std::thread([this] { run(); });
  }
  pid_t backend() const { return backend_; }  // its server process, to count its CPU apart
  ~LockSampler() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  std::size_t samples() const { return samples_; }
  std::size_t free_samples() const { return free_; }  // nobody held it
  std::size_t held(const std::string& app) const { return lookup(held_, app); }
  std::size_t waited(const std::string& app) const { return lookup(waited_, app); }
  std::size_t all_waiting() const { return all_waiting_; }  // every instance waited (≥ 2 waiters)

 private:
  static std::size_t lookup(const std::map<std::string, std::size_t>& m, const std::string& k) {
    const auto it = m.find(k);
    return it == m.end() ? 0 : it->second;
  }
  void run() {
    const std::string sql =
        "SELECT a.application_name, l.granted FROM pg_locks l JOIN pg_stat_activity a ON a.pid = "
        "l.pid "
        "WHERE l.locktype = 'advisory' AND l.objid = " +
        std::string(kWriterLockObjid) +
        " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())";
    auto next = std::chrono::steady_clock::now();
    while (!stop_) {
      std::unique_ptr<PGresult, decltype(&PQclear)> r(PQexec(conn_.get(), sql.c_str()), &PQclear);
      if (PQresultStatus(r.get()) == PGRES_TUPLES_OK) {
        ++samples_;
        bool any_held = false;
        std::size_t waiters = 0;
        std::map<std::string, bool> held_now, waited_now;
        for (int i = 0; i < PQntuples(r.get()); ++i) {
          const std::string app = PQgetvalue(r.get(), i, 0);
          const bool granted = std::string(PQgetvalue(r.get(), i, 1)) == "t";
          (granted ? held_now : waited_now)[app] = true;
          if (granted)
            any_held = true;
          else
            ++waiters;
        }
        for (const auto& [app, yes] : held_now) ++held_[app];
        for (const auto& [app, yes] : waited_now) ++waited_[app];
        if (!any_held) ++free_;
        if (waiters >= 2) ++all_waiting_;
      }
      next += every_;
      std::this_thread::sleep_until(next);
    }
  }
  Conn conn_;
  std::chrono::milliseconds every_;
  pid_t backend_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::size_t samples_ = 0, free_ = 0, all_waiting_ = 0;
  std::map<std::string, std::size_t> held_, waited_;
};

struct Instance {
  fs::path work, config, log, spool;
  std::string app;  // application_name of its connections
  pid_t pid = 0;
  std::chrono::steady_clock::time_point started;
};

void stop_instances(std::vector<Instance>& instances) {
  for (auto& in : instances) {
    if (in.pid > 0) kill(in.pid, SIGTERM);
  }
  for (auto& in : instances) {
    if (in.pid > 0) wait_child(in.pid, in.started);
    in.pid = 0;
  }
}

struct Outcome {
  double seconds = 0, rows = 0, events = 0, quarantined = 0;
  std::vector<double> daemon_cpu_s;  // per instance, over the measured interval
  double server_cpu_s = -1, machine_busy = 0;
  double sampler_cpu_s = 0;  // the sampler's backend and this process: what measuring costs
  std::size_t samples = 0, free_samples = 0, all_waiting = 0;
  std::vector<double> held, waited;  // fraction of samples, per instance
};

// Runs `n` instances on database `db`, the parts dealt out round-robin, and measures.
Outcome run_instances(const std::string& label, std::size_t n, const std::string& base_conninfo,
                      const std::string& db, const std::vector<fs::path>& parts,
                      const fs::path& work, int batch, std::chrono::seconds timeout) {
  const std::string system = "public_assistance";
  fresh_database(base_conninfo, db);
  std::vector<Instance> instances(n);
  Outcome o;
  try {
    for (std::size_t i = 0; i < n; ++i) {
      Instance& in = instances[i];
      in.work = work / (label + "-" + std::to_string(i + 1));
      fs::remove_all(in.work);
      in.app = "b7-" + label + "-" + std::to_string(i + 1);
      const std::string conninfo =
          with(base_conninfo, "dbname=" + db + " application_name=" + in.app);
      in.config =
          write_instance_config(in.work, {system}, batch, "",
                                "<store><backend>postgresql</backend><postgresql><conninfo>" +
                                    conninfo + "</conninfo></postgresql></store>",
                                in.app);
      in.log = in.work / "daemon.log";
      in.spool = in.work / "data" / "spool" / system;
      if (i > 0) {
        // The keys of the first instance (docs/postgresql.md §3): the same master key, so that
        // every instance opens the others' sealed data and links the same persons, and the same
        // audit signing key.
        fs::create_directories(in.work / "data" / "keys");
        for (const char* key : {"master.key", "audit-ed25519.pem", "audit-ed25519.pub.pem"}) {
          fs::copy_file(instances[0].work / "data" / "keys" / key, in.work / "data" / "keys" / key,
                        fs::copy_options::overwrite_existing);
        }
        fs::permissions(in.work / "data" / "keys", fs::perms::owner_all, fs::perm_options::replace);
      }
      in.started = std::chrono::steady_clock::now();
      in.pid = spawn({(layout().bin_dir / "tsunagud").string(), "--config", in.config.string()},
                     in.log, in.log);
      // One at a time: the first applies the migrations and makes the keys the others copy.
      if (!wait_for([&] { return read_file(in.log).find("tsunagud ready") != std::string::npos; },
                    120s)) {
        throw std::runtime_error(in.app + " did not start: " + read_file(in.log));
      }
      fs::create_directories(in.spool);
    }

    // Each part under a dot-name in its instance's spool (a hard link: no copy on the clock).
    std::vector<std::pair<fs::path, fs::path>> drops;  // hidden, visible
    std::vector<fs::path> done_names, failed_names;
    for (std::size_t p = 0; p < parts.size(); ++p) {
      const Instance& in = instances[p % n];
      const fs::path name = parts[p].filename();
      const fs::path hidden = in.spool / ("." + name.string());
      std::error_code ec;
      fs::create_hard_link(parts[p], hidden, ec);
      if (ec) fs::copy_file(parts[p], hidden);
      drops.emplace_back(hidden, in.spool / name);
      done_names.push_back(in.spool / "done" / name);
      failed_names.push_back(in.spool / "failed" / name);
    }

    LockSampler sampler(with(base_conninfo, "dbname=" + db), 10ms);
    std::vector<double> cpu_before;
    for (const auto& in : instances) cpu_before.push_back(process_cpu_s(in.pid));
    const double server_before = server_cpu_s(base_conninfo, sampler.backend());
    const double sampler_before = process_cpu_s(sampler.backend()) + self_cpu_s();
    const auto [busy_before, total_before] = machine_jiffies();
    const auto dropped = std::chrono::steady_clock::now();
    for (const auto& [hidden, visible] : drops) fs::rename(hidden, visible);
    const bool finished = wait_for(
        [&] {
          for (std::size_t p = 0; p < parts.size(); ++p) {
            if (!fs::exists(done_names[p]) && !fs::exists(failed_names[p])) return false;
          }
          return true;
        },
        timeout);
    o.seconds = seconds_since(dropped);
    const auto [busy_after, total_after] = machine_jiffies();
    const double server_after = server_cpu_s(base_conninfo, sampler.backend());
    o.sampler_cpu_s = process_cpu_s(sampler.backend()) + self_cpu_s() - sampler_before;
    for (std::size_t i = 0; i < n; ++i) {
      o.daemon_cpu_s.push_back(process_cpu_s(instances[i].pid) - cpu_before[i]);
    }
    sampler.stop();
    if (!finished) throw std::runtime_error(label + ": the parts did not reach done/ in time");
    for (std::size_t p = 0; p < parts.size(); ++p) {
      if (!fs::exists(done_names[p]))
        throw std::runtime_error(label + ": " + failed_names[p].string());
    }
    if (server_before >= 0 && server_after >= 0) o.server_cpu_s = server_after - server_before;
    o.machine_busy =
        total_after > total_before ? (busy_after - busy_before) / (total_after - total_before) : 0;
    o.samples = sampler.samples();
    o.free_samples = sampler.free_samples();
    o.all_waiting = sampler.all_waiting();
    for (const auto& in : instances) {
      const double s = o.samples ? static_cast<double>(o.samples) : 1.0;
      o.held.push_back(static_cast<double>(sampler.held(in.app)) / s);
      o.waited.push_back(static_cast<double>(sampler.waited(in.app)) / s);
    }
  } catch (...) {
    for (auto& in : instances) {
      if (in.pid > 0) kill(in.pid, SIGKILL);
    }
    stop_instances(instances);
    throw;
  }
  stop_instances(instances);

  // What the database holds: every part an input, done, with its records stored.
  {
    auto store = store::Store::open_postgres(
        with(base_conninfo, "dbname=" + db + " application_name=b7-check"));
    const auto inputs = store->inputs(parts.size() + 10);
    if (inputs.size() != parts.size()) {
      throw std::runtime_error(label + ": " + std::to_string(inputs.size()) +
                               " inputs recorded, expected " + std::to_string(parts.size()));
    }
    for (const auto& in : inputs) {
      if (in.status != "done")
        throw std::runtime_error(label + ": input " + in.origin + " ended " + in.status + ": " +
                                 in.message);
      o.rows += static_cast<double>(in.records);
      o.events += static_cast<double>(in.events);
      o.quarantined += static_cast<double>(in.quarantined);
    }
  }
  return o;
}

void report(const std::string& id, const std::string& label, const Outcome& o) {
  const std::string k = label + "_";
  double daemons = 0;
  for (double c : o.daemon_cpu_s) daemons += c;
  std::cerr << "B7 " << label << ": " << o.rows << " records (" << o.events << " stored, "
            << o.quarantined << " quarantined) in " << o.seconds << " s = " << o.rows / o.seconds
            << " rows/s; CPU over the interval: daemons " << daemons << " s";
  for (std::size_t i = 0; i < o.daemon_cpu_s.size(); ++i)
    std::cerr << (i ? " + " : " (") << o.daemon_cpu_s[i];
  std::cerr << "), PostgreSQL server " << o.server_cpu_s << " s, the sampler " << o.sampler_cpu_s
            << " s, machine " << o.machine_busy * 100 << "% busy; writer lock over " << o.samples
            << " samples: free "
            << 100.0 * static_cast<double>(o.free_samples) /
                   static_cast<double>(std::max<std::size_t>(o.samples, 1))
            << "%";
  for (std::size_t i = 0; i < o.held.size(); ++i) {
    std::cerr << ", instance " << i + 1 << " holds " << o.held[i] * 100 << "% waits "
              << o.waited[i] * 100 << "%";
  }
  std::cerr << "\n";
  result(id, k + "instances", static_cast<double>(o.held.size()));
  result(id, k + "rows", o.rows);
  result(id, k + "events", o.events);
  result(id, k + "quarantined", o.quarantined);
  result(id, k + "seconds", o.seconds);
  result(id, k + "rows_per_s", o.rows / o.seconds);
  result(id, k + "daemon_cpu_s", daemons);
  if (o.server_cpu_s >= 0) result(id, k + "server_cpu_s", o.server_cpu_s);
  result(id, k + "sampler_cpu_s", o.sampler_cpu_s);
  result(id, k + "machine_busy_pct", o.machine_busy * 100);
  result(id, k + "lock_samples", static_cast<double>(o.samples));
  const double s = static_cast<double>(std::max<std::size_t>(o.samples, 1));
  result(id, k + "lock_free_pct", 100.0 * static_cast<double>(o.free_samples) / s);
  double held = 0, waited = 0;
  for (std::size_t i = 0; i < o.held.size(); ++i) {
    result(id, k + "lock_held_pct_" + std::to_string(i + 1), o.held[i] * 100);
    result(id, k + "lock_wait_pct_" + std::to_string(i + 1), o.waited[i] * 100);
    result(id, k + "daemon_cpu_s_" + std::to_string(i + 1), o.daemon_cpu_s[i]);
    held += o.held[i];
    waited += o.waited[i];
  }
  // Mean over the instances: of its wall time, how much each spent holding / waiting for the lock.
  result(id, k + "lock_held_pct_mean", 100 * held / static_cast<double>(o.held.size()));
  result(id, k + "lock_wait_pct_mean", 100 * waited / static_cast<double>(o.held.size()));
  if (o.held.size() > 1)
    result(id, k + "both_waiting_pct", 100.0 * static_cast<double>(o.all_waiting) / s);
}

}  // namespace

// tsunagu-bench pg <public_assistance CSV> <work dir> --conninfo "host=… port=… user=… dbname=…"
//                  [--id B7] [--batch 500] [--timeout-s 3600] [--keep yes]
// The conninfo reaches the maintenance database as a role that may create databases (the
// throwaway server of scripts/pg.sh): the driver makes and drops its two databases itself.
int pg_main(const Args& args) {
  if (args.size() < 2)
    throw std::invalid_argument("usage: pg <csv> <work dir> --conninfo C [--id B7] [--batch 500]");
  const fs::path input = fs::absolute(args[0]);
  const fs::path work = fs::absolute(args[1]);
  const std::string conninfo = option(args, "--conninfo", "");
  if (conninfo.empty()) throw std::invalid_argument("pg: --conninfo is required");
  const std::string id = option(args, "--id", "B7");
  const int batch = static_cast<int>(option_number(args, "--batch", 500));
  const auto timeout = std::chrono::seconds(option_number(args, "--timeout-s", 3600));

  fs::remove_all(work);
  std::size_t records = 0;
  const std::vector<fs::path> parts =
      split_csv(input, work / "parts", input.stem().string(), 2, records);
  std::cerr << "B7: " << input.filename().string() << " cut into " << parts.size() << " parts of "
            << records / parts.size() << " records\n";

  const Outcome one =
      run_instances("one", 1, conninfo, "tsunagu_b7_one", parts, work, batch, timeout);
  report(id, "one", one);
  const Outcome two =
      run_instances("two", 2, conninfo, "tsunagu_b7_two", parts, work, batch, timeout);
  report(id, "two", two);
  if (one.rows != static_cast<double>(records) || two.rows != static_cast<double>(records)) {
    throw std::runtime_error("the runs stored " + std::to_string(one.rows) + " and " +
                             std::to_string(two.rows) + " records of " + std::to_string(records));
  }
  result(id, "rows", one.rows);
  result(id, "batch", batch);
  result(id, "ratio", (two.rows / two.seconds) / (one.rows / one.seconds));
  if (option(args, "--keep", "no") != "yes") {
    drop_database(conninfo, "tsunagu_b7_one");
    drop_database(conninfo, "tsunagu_b7_two");
    fs::remove_all(work);
  }
  return 0;
}

}  // namespace tsunagu::bench
