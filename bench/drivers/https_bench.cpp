// B4: child_guidance pushes over HTTPS to the real tsunagud (client certificates made by
// scripts/make-certs.sh, SQLite synchronous=FULL, routing on with config/*.xml), from a small
// load client in this process: OpenSSL, one keep-alive TLS connection per thread, one JSON event
// per POST /api/v1/ingest/child_guidance. Runs:
//   - throughput: every connection sends back to back; events/s counts 2xx answers, each of
//     which the hub gives only once the event is durable;
//   - latency at a fixed offered rate (open loop: each request has a scheduled start, and its
//     latency is counted from that schedule, so a stalled server cannot hide its queue), to the
//     2xx and to the notice being visible.
//
// Notices: every pushed report_received is about one of kPersons children whom a
// public_assistance file, spooled before the load, put on public assistance — so the route
// pa_cg_report raises a notice for each (cg.report_received on public assistance → liaison).
// "Notice visible" is measured as a reader of the store sees it: after each 2xx the request's
// source_ref goes to one watcher thread, which looks the notice up (events ⋈ notices, both
// indexed) over its own read-only SQLite connection — the way the web UI's reads see committed
// rows, without a login, a TLS handshake or JSON in the way — and counts from the request's
// scheduled start to the moment the lookup first finds it. The watcher costs the server one
// indexed read per event on the shared CPUs and nothing else (no lock: WAL readers do not block
// the writer). A notice not found within 2 s of its 2xx counts as missing.
//
// Each report's occurred_at is the moment it is sent (Japan time), as a live child guidance
// system's would be: its 48-hour safety-confirmation timer then runs out long after the run.
// (Until 2026-12 every report was dated 2019-06-05, so every timer it started had already run
// out and the routing scheduler fired one per push, beside the pushes being measured.)
#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <ctime>
#include <deque>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <latch>
#include <mutex>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <codec/cp932.hpp>

#include "bench_data.hpp"
#include "bench_util.hpp"
#include "drivers.hpp"

namespace tsunagu::bench {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

class Connection {
 public:
  Connection(SSL_CTX* ctx, int port) : ctx_(ctx), port_(port) {}
  ~Connection() { close(); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // POSTs `body`; returns the HTTP status (0 on a transport failure, after one reconnect).
  int post(const std::string& path, const std::string& body) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (!open()) continue;
      const std::string request = "POST " + path +
                                  " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                  "Content-Type: application/json\r\nContent-Length: " +
                                  std::to_string(body.size()) +
                                  "\r\nConnection: keep-alive\r\n\r\n" + body;
      if (SSL_write(ssl_, request.data(), static_cast<int>(request.size())) <= 0) {
        close();
        continue;
      }
      const int status = read_response();
      if (status > 0) return status;
      close();
    }
    return 0;
  }

  // Connects and completes the TLS handshake; false if it failed (post tries again).
  bool open() {
    if (ssl_ != nullptr) return true;
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port_));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      close();
      return false;
    }
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd_);
    SSL_set_tlsext_host_name(ssl_, "localhost");
    if (SSL_connect(ssl_) != 1) {
      ERR_clear_error();
      close();
      return false;
    }
    buffer_.clear();
    return true;
  }

 private:
  void close() {
    if (ssl_ != nullptr) {
      SSL_free(ssl_);
      ssl_ = nullptr;
    }
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }

  bool fill() {
    char chunk[16384];
    const int n = SSL_read(ssl_, chunk, sizeof chunk);
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }

  int read_response() {
    std::size_t end;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) return 0;
    }
    const std::string head = buffer_.substr(0, end);
    int status = 0;
    if (head.size() > 12) status = std::atoi(head.c_str() + 9);
    std::size_t length = 0;
    std::string lower = head;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    if (const auto p = lower.find("content-length:"); p != std::string::npos) {
      length = std::strtoul(head.c_str() + p + 15, nullptr, 10);
    }
    while (buffer_.size() < end + 4 + length) {
      if (!fill()) return 0;
    }
    buffer_.erase(0, end + 4 + length);
    if (lower.find("connection: close") != std::string::npos) close();
    return status;
  }

  SSL_CTX* ctx_;
  int port_;
  int fd_ = -1;
  SSL* ssl_ = nullptr;
  std::string buffer_;
};

// The children the pushed reports are about, all on public assistance (pa_file()).
constexpr std::uint64_t kPersons = 500;
constexpr std::uint64_t kSeed = 7;

// public_assistance: one 世帯開始 (01) row per child, so each becomes a person on public
// assistance before any report about it arrives.
std::string pa_file() {
  codec::Cp932Encoder encoder;
  std::string out, bytes, error;
  auto add = [&](const std::string& utf8) {
    bytes.clear();
    if (!encoder.encode(utf8, bytes, error)) throw std::runtime_error("B4 PA file: " + error);
    out += bytes + "\r\n";
  };
  add("処理番号,版,異動区分,発生日,世帯番号,宛名番号,氏名,氏名カナ,生年月日,性別,続柄,区コード,"
      "住所,担当CW,備考");
  for (std::uint64_t i = 0; i < kPersons; ++i) {
    const Person p = person(kSeed, i);
    add("PAB" + std::to_string(100000 + i) + ",1,01,2019-04-01," +
        std::to_string(20000000 + p.household % 10000000) + "," + p.resident_id + "," + p.family +
        "\u3000" + p.given + "," + kana_name(p, KanaStyle::full_width) + "," + iso(p.birth) + "," +
        (p.sex == 'M' ? "1" : "2") + ",子," + ward_code(p.ward) +
        ",札幌市北区北1条西1丁目1-1,CW0100,");
  }
  return out;
}

// Watches for the notice of each answered push (see the header comment).
class NoticeWatcher {
 public:
  explicit NoticeWatcher(const fs::path& db) {
    if (sqlite3_open_v2(db.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK ||
        sqlite3_prepare_v2(db_,
                           "SELECT 1 FROM events e JOIN notices n ON n.event_id = e.id "
                           "WHERE e.source = 'child_guidance' AND e.source_ref = ? LIMIT 1",
                           -1, &lookup_, nullptr) != SQLITE_OK) {
      const std::string why = sqlite3_errmsg(db_);
      sqlite3_close(db_);
      throw std::runtime_error("B4 notice watcher: " + why);
    }
    sqlite3_busy_timeout(db_, 1000);
    thread_ = std::thread([this] { run(); });
  }
  ~NoticeWatcher() {
    finish();
    sqlite3_finalize(lookup_);
    sqlite3_close(db_);
  }
  NoticeWatcher(const NoticeWatcher&) = delete;
  NoticeWatcher& operator=(const NoticeWatcher&) = delete;

  void watch(std::uint64_t n, std::chrono::steady_clock::time_point due) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      incoming_.push_back({"CGB-" + std::to_string(n), due, std::chrono::steady_clock::now()});
    }
    wake_.notify_one();
  }

  // Waits until every watched notice was seen or given up; latencies sorted.
  void finish() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    if (thread_.joinable()) thread_.join();
    std::sort(latencies_ms.begin(), latencies_ms.end());
  }

  std::vector<double> latencies_ms;
  std::uint64_t missing = 0;

 private:
  struct Item {
    std::string ref;
    std::chrono::steady_clock::time_point due, answered;
  };

  // Reset at once: a statement left on its row holds its read transaction, and with it the
  // write-ahead log, which then cannot be copied past this reader's snapshot nor start again.
  bool visible(const std::string& ref) {
    sqlite3_bind_text(lookup_, 1, ref.c_str(), static_cast<int>(ref.size()), SQLITE_TRANSIENT);
    const bool found = sqlite3_step(lookup_) == SQLITE_ROW;
    sqlite3_reset(lookup_);
    return found;
  }

  void run() {
    std::vector<Item> pending;
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mutex_);
        if (pending.empty()) wake_.wait(lock, [&] { return stopping_ || !incoming_.empty(); });
        if (stopping_ && incoming_.empty() && pending.empty()) return;
        pending.insert(pending.end(), incoming_.begin(), incoming_.end());
        incoming_.clear();
      }
      std::vector<Item> still;
      for (auto& item : pending) {
        if (visible(item.ref)) {
          latencies_ms.push_back(seconds_since(item.due) * 1e3);
        } else if (seconds_since(item.answered) > 2) {
          ++missing;
        } else {
          still.push_back(std::move(item));
        }
      }
      pending.swap(still);
      if (!pending.empty()) std::this_thread::sleep_for(1ms);  // not yet visible: look again soon
    }
  }

  sqlite3* db_ = nullptr;
  sqlite3_stmt* lookup_ = nullptr;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Item> incoming_;
  bool stopping_ = false;
  std::thread thread_;
};

// Now in Japan time, "2026-12-07T10:20:30+09:00".
std::string jst_now() {
  const std::time_t t = std::time(nullptr) + 9 * 3600;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char out[32];
  std::strftime(out, sizeof out, "%Y-%m-%dT%H:%M:%S+09:00", &tm);
  return out;
}

std::string event_body(std::uint64_t n) {
  const Person p = person(kSeed, n % kPersons);
  return "{\"event_id\": \"CGB-" + std::to_string(n) +
         "\", \"revision\": 1, \"type\": \"report_received\", "
         "\"occurred_at\": \"" +
         jst_now() + "\", \"child\": {\"resident_id\": " +
         (n % 3 == 0 ? std::string("null") : "\"" + p.resident_id + "\"") + ", \"name\": \"" +
         p.family + " " + p.given + "\", \"name_kana\": \"" + p.family_kana + " " + p.given_kana +
         "\", \"birth_date\": \"" + iso(p.birth) + "\", \"sex\": \"" + p.sex +
         "\"}, \"ward_code\": \"" + ward_code(p.ward) +
         "\", \"risk_level\": \"B\", \"report_source\": \"警察\", \"address\": null, "
         "\"note\": \"泣き声通告\"}";
}

struct RunStats {
  std::uint64_t ok = 0, failed = 0;
  double seconds = 0;
  std::chrono::steady_clock::time_point start;
  // Each request's scheduled start (ms after the run's) and latency to its answer, by start, for
  // --latency-log: whether the slow ones come together (a stall) or apart (the queue).
  std::vector<std::pair<double, double>> timeline;
  std::vector<double> latencies_ms;  // the same latencies, sorted
};

// `rate` 0: back to back. Otherwise request k of the run is due at start + k / rate.
RunStats run_load(SSL_CTX* ctx, int port, std::uint64_t first, std::uint64_t requests,
                  unsigned connections, double rate, NoticeWatcher* notices = nullptr) {
  RunStats total;
  std::mutex mutex;
  std::atomic<std::uint64_t> next{0};
  // Every connection is open (TLS handshake with the client certificate done) before the first
  // request is due: 16 handshakes at once at the start had the first ~100 paced requests queue
  // for ~30 ms behind them, a cost of connecting, not of a push over keep-alive.
  std::latch opened(connections);
  std::latch go(1);
  std::chrono::steady_clock::time_point start;
  std::vector<std::thread> threads;
  for (unsigned c = 0; c < connections; ++c) {
    threads.emplace_back([&] {
      Connection conn(ctx, port);
      conn.open();
      opened.count_down();
      go.wait();
      RunStats mine;
      for (std::uint64_t k; (k = next.fetch_add(1)) < requests;) {
        auto due = std::chrono::steady_clock::now();
        if (rate > 0) {
          due = start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                            std::chrono::duration<double>(static_cast<double>(k) / rate));
          std::this_thread::sleep_until(due);
        }
        const int status = conn.post("/api/v1/ingest/child_guidance", event_body(first + k));
        mine.timeline.emplace_back(std::chrono::duration<double, std::milli>(due - start).count(),
                                   seconds_since(due) * 1e3);
        if (status >= 200 && status < 300) {
          ++mine.ok;
          if (notices != nullptr) notices->watch(first + k, due);
        } else {
          ++mine.failed;
        }
      }
      std::lock_guard<std::mutex> lock(mutex);
      total.ok += mine.ok;
      total.failed += mine.failed;
      total.timeline.insert(total.timeline.end(), mine.timeline.begin(), mine.timeline.end());
    });
  }
  opened.wait();
  start = std::chrono::steady_clock::now() + 10ms;
  go.count_down();
  for (auto& t : threads) t.join();
  total.seconds = seconds_since(start);
  total.start = start;
  std::sort(total.timeline.begin(), total.timeline.end());
  for (const auto& [at, ms] : total.timeline) total.latencies_ms.push_back(ms);
  std::sort(total.latencies_ms.begin(), total.latencies_ms.end());
  return total;
}

double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  return sorted[std::min(sorted.size() - 1,
                         static_cast<std::size_t>(p * static_cast<double>(sorted.size())))];
}

// Thrown to skip the phases after the burst (--only-burst).
struct Done {};

}  // namespace

// tsunagu-bench https <work dir> [--requests N] [--connections C] [--rate R] [--rate-requests N]
//                    [--only-burst yes] [--checkpoint background|commit] [--checkpoint-mb N]
//                    [--latency-log FILE]  (the paced run's requests: start, latency)
int https_main(const Args& args) {
  if (args.empty())
    throw std::invalid_argument("usage: https <work dir> [--requests N] [--connections C]");
  const fs::path work = fs::absolute(args[0]);
  const std::uint64_t requests = option_number(args, "--requests", 5000);
  const auto connections = static_cast<unsigned>(option_number(args, "--connections", 16));
  const double rate = static_cast<double>(option_number(args, "--rate", 1000));
  const std::uint64_t rate_requests = option_number(args, "--rate-requests", 5000);
  // yes: only the back-to-back burst, its figures named more_* (run.sh runs it on a fresh
  // instance with more connections: how throughput grows when more pushes share each COMMIT).
  const bool only_burst = option(args, "--only-burst", "no") == "yes";
  fs::remove_all(work);
  const fs::path tls = work / "data" / "tls";
  fs::create_directories(tls);
  const ChildUsage certs = run_child({(layout().source_dir / "scripts" / "make-certs.sh").string(),
                                      tls.string(), "child_guidance"},
                                     work / "certs.log", work / "certs.log");
  if (certs.exit_code != 0)
    throw std::runtime_error("make-certs.sh failed: " + read_file(work / "certs.log"));
  const fs::path config = write_instance_config(
      // Every system the bundled routing files name (a routing file naming an unconfigured
      // system is refused); only child_guidance pushes, and public_assistance's one file.
      work, {"child_guidance", "public_assistance", "health_centre", "education"}, 500,
      "  <http><enabled>true</enabled><bind>127.0.0.1</bind><port>0</port><threads>" +
          std::to_string(std::max(8U, connections)) +
          "</threads>"
          "<clients><child_guidance><certificate-cn>child_guidance</certificate-cn>"
          "<content-types>application/json, application/x-ndjson</content-types>"
          "</child_guidance></clients></http>\n",
      sqlite_store_xml(args));
  const fs::path log = work / "daemon.log";
  const auto started = std::chrono::steady_clock::now();
  const pid_t pid =
      spawn({(layout().bin_dir / "tsunagud").string(), "--config", config.string()}, log, log);
  const fs::path port_file = work / "data" / "run" / "https.port";
  while (!fs::exists(port_file) && seconds_since(started) < 60) std::this_thread::sleep_for(20ms);
  if (!fs::exists(port_file)) {
    kill(pid, SIGKILL);
    wait_child(pid, started);
    throw std::runtime_error("tsunagud did not open HTTPS: " + read_file(log));
  }
  std::this_thread::sleep_for(100ms);
  const int port = std::stoi(read_file(port_file));
  {
    // The children go on public assistance first (spooled the way senders must: a dot-name, then
    // renamed), so that every report about them raises a notice.
    const fs::path spool = work / "data" / "spool" / "public_assistance";
    fs::create_directories(spool);
    std::ofstream(spool / ".PA_B4.csv", std::ios::binary) << pa_file();
    fs::rename(spool / ".PA_B4.csv", spool / "PA_B4.csv");
    const auto dropped = std::chrono::steady_clock::now();
    while (!fs::exists(spool / "done" / "PA_B4.csv") && seconds_since(dropped) < 120) {
      if (fs::exists(spool / "failed" / "PA_B4.csv")) break;
      std::this_thread::sleep_for(50ms);
    }
    if (!fs::exists(spool / "done" / "PA_B4.csv")) {
      kill(pid, SIGKILL);
      wait_child(pid, started);
      throw std::runtime_error("B4: the public_assistance file was not ingested: " +
                               read_file(log));
    }
  }
  const fs::path store_file = work / "data" / "store.db";

  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_load_verify_locations(ctx, (tls / "ca.crt").c_str(), nullptr);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  if (SSL_CTX_use_certificate_file(ctx, (tls / "clients" / "child_guidance.crt").c_str(),
                                   SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx, (tls / "clients" / "child_guidance.key").c_str(),
                                  SSL_FILETYPE_PEM) != 1) {
    throw std::runtime_error("cannot load the client certificate");
  }
  int exit_code = 0;
  try {
    const double cpu_before = process_cpu_s(pid);
    const double client_cpu_before = self_cpu_s();
    const RunStats burst = run_load(ctx, port, 0, requests, connections, 0);
    // The load client's share of the same two cores (TLS, HTTP, JSON bodies): what the daemon
    // cannot have while it runs on this machine.
    const double client_cpu_us_per_push = (self_cpu_s() - client_cpu_before) * 1e6 /
                                          static_cast<double>(std::max<std::uint64_t>(burst.ok, 1));
    const double per_s = static_cast<double>(burst.ok) / burst.seconds;
    // The daemon's CPU per push: its one committer stores every push, so this bounds the
    // throughput, and it moves far less with the machine's load than the wall clock does.
    const double cpu_us_per_push = (process_cpu_s(pid) - cpu_before) * 1e6 /
                                   static_cast<double>(std::max<std::uint64_t>(burst.ok, 1));
    std::cerr << "https: " << requests << " pushes over " << connections
              << " keep-alive connections: " << burst.ok << " 2xx, " << burst.failed << " failed, "
              << burst.seconds << " s (" << per_s << " events/s), p50 "
              << percentile(burst.latencies_ms, 0.5) << " ms, p99 "
              << percentile(burst.latencies_ms, 0.99) << " ms; tsunagud CPU " << cpu_us_per_push
              << " µs per push, the load client's " << client_cpu_us_per_push << " µs\n";
    if (only_burst) {
      result("B4", "more_cpu_us_per_push", cpu_us_per_push);
      result("B4", "more_client_cpu_us_per_push", client_cpu_us_per_push);
      result("B4", "more_connections", connections);
      result("B4", "more_events_per_s", per_s);
      result("B4", "more_failed", static_cast<double>(burst.failed));
      result("B4", "more_p99_ms", percentile(burst.latencies_ms, 0.99));
      throw Done{};
    }
    NoticeWatcher paced_notices(store_file);
    const RunStats paced =
        run_load(ctx, port, requests, rate_requests, connections, rate, &paced_notices);
    paced_notices.finish();
    if (const std::string path = option(args, "--latency-log", ""); !path.empty()) {
      std::ofstream out(path);
      out << std::fixed << std::setprecision(3);  // the start is ~10^7 ms: not in 6 digits
      // CLOCK_MONOTONIC is the machine's: the daemon's own timestamps can be set beside these.
      out << "# the paced run started at "
          << std::chrono::duration<double, std::milli>(paced.start.time_since_epoch()).count()
          << " ms of CLOCK_MONOTONIC\n"
          << "# scheduled start (ms into the paced run)\tlatency to the 2xx (ms)\n";
      for (const auto& [at, ms] : paced.timeline) out << at << '\t' << ms << '\n';
    }
    std::cerr << "https: " << rate_requests << " pushes offered at " << rate << "/s: " << paced.ok
              << " 2xx, " << paced.failed << " failed, p50 " << percentile(paced.latencies_ms, 0.5)
              << " ms, p99 " << percentile(paced.latencies_ms, 0.99)
              << " ms (from scheduled start to 2xx); notice visible p50 "
              << percentile(paced_notices.latencies_ms, 0.5) << " ms, p99 "
              << percentile(paced_notices.latencies_ms, 0.99) << " ms ("
              << paced_notices.latencies_ms.size() << " seen, " << paced_notices.missing
              << " missing)\n";
    // Offered more than it can take, the open-loop run measures the queue; once more at half the
    // throughput just measured, to show the service latency when the hub keeps up.
    const double sustainable = std::min(rate, std::floor(per_s / 2));
    NoticeWatcher kept_notices(store_file);
    const RunStats kept_up =
        run_load(ctx, port, requests + rate_requests, static_cast<std::uint64_t>(sustainable * 5),
                 connections, sustainable, &kept_notices);
    kept_notices.finish();
    std::cerr << "https: " << kept_up.ok + kept_up.failed << " pushes offered at " << sustainable
              << "/s: p50 " << percentile(kept_up.latencies_ms, 0.5) << " ms, p99 "
              << percentile(kept_up.latencies_ms, 0.99) << " ms; notice visible p99 "
              << percentile(kept_notices.latencies_ms, 0.99) << " ms\n";
    result("B4", "kept_up_rate", sustainable);
    result("B4", "kept_up_p50_ms", percentile(kept_up.latencies_ms, 0.5));
    result("B4", "kept_up_p99_ms", percentile(kept_up.latencies_ms, 0.99));
    result("B4", "events_per_s", per_s);
    result("B4", "cpu_us_per_push", cpu_us_per_push);
    result("B4", "client_cpu_us_per_push", client_cpu_us_per_push);
    result("B4", "failed", static_cast<double>(burst.failed + paced.failed));
    result("B4", "connections", connections);
    result("B4", "burst_p99_ms", percentile(burst.latencies_ms, 0.99));
    result("B4", "rate", rate);
    result("B4", "rate_p50_ms", percentile(paced.latencies_ms, 0.5));
    result("B4", "rate_p99_ms", percentile(paced.latencies_ms, 0.99));
    result("B4", "rate_notice_p50_ms", percentile(paced_notices.latencies_ms, 0.5));
    result("B4", "rate_notice_p99_ms", percentile(paced_notices.latencies_ms, 0.99));
    result("B4", "rate_notices_seen", static_cast<double>(paced_notices.latencies_ms.size()));
    result("B4", "rate_notices_missing", static_cast<double>(paced_notices.missing));
    result("B4", "kept_up_notice_p99_ms", percentile(kept_notices.latencies_ms, 0.99));
  } catch (const Done&) {
  } catch (const std::exception& e) {
    std::cerr << "https: " << e.what() << "\n";
    exit_code = 1;
  }
  SSL_CTX_free(ctx);
  kill(pid, SIGTERM);
  const ChildUsage usage = wait_child(pid, started);
  std::cerr << "https: tsunagud exit " << usage.exit_code << ", peak RSS "
            << usage.max_rss_kb / 1024.0 << " MB\n";
  if (option(args, "--keep", "no") != "yes" && exit_code == 0) fs::remove_all(work);
  return exit_code;
}

}  // namespace tsunagu::bench
