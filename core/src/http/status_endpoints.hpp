// GET /healthz and GET /metrics: what IT staff and their monitoring read.
//
// Both read the store (a fresh session per request, see store_session.hpp) and hold no personal
// data: counts only. They need no client certificate, so a load balancer or Prometheus can reach
// them; the listener binds 127.0.0.1 unless the config says otherwise.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <Poco/Dynamic/Var.h>

#include "http/router.hpp"
#include "http/store_session.hpp"

namespace tsunagu::http {

// The class of a route, for the request metrics: a handful of values whatever the paths, so that
// a latency histogram per class stays small. From the matched pattern (Request::route):
//   ingest (pushes), status (/healthz, /metrics), notice_page (/inbox, /notices/…), notice_api,
//   audit_page, audit_api, session (login, logout, /, /account, /api/v1/me, /api/v1/session),
//   static (style sheet, OpenAPI document), other, unmatched (no route: 404/405).
std::string route_class(const std::string& pattern);

// Upper bounds (seconds) of the latency histogram's buckets; +Inf is implied.
inline constexpr std::array<double, 11> kLatencyBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                           0.5,   1.0,  2.5,   5.0,  10.0};

// Responses sent since start: by status code, by route class and status, and how long each
// class took (from the request's arrival to its response being handed to the socket). Any thread
// may count.
class ResponseCounters {
 public:
  void count(int status, const std::string& route_class = "unmatched", double seconds = 0.0);

  struct Latency {
    std::array<std::uint64_t, kLatencyBuckets.size()> buckets{};  // not cumulative
    std::uint64_t count = 0;
    double sum = 0.0;
  };
  std::map<int, std::uint64_t> snapshot() const;
  std::map<std::pair<std::string, int>, std::uint64_t> by_class() const;
  std::map<std::string, Latency> latency() const;

 private:
  mutable std::mutex mutex_;
  std::map<int, std::uint64_t> by_status_;
  std::map<std::pair<std::string, int>, std::uint64_t> by_class_;
  std::map<std::string, Latency> latency_;
};

// One check of /healthz: whether it passes, and what it found (numbers, names; never personal
// data, never a path — /healthz needs no certificate).
struct HealthCheck {
  bool ok = true;
  std::vector<std::pair<std::string, Poco::Dynamic::Var>> details;
};
using HealthProbe = std::function<HealthCheck()>;

// The listener's connection counts, from Poco's TCPServer.
struct ConnectionStats {
  int current = 0;  // being served
  int queued = 0;   // accepted, waiting for a thread
  int refused = 0;  // dropped because <max-queued> were already waiting (Poco does not log them)
};

class StatusEndpoints {
 public:
  // `systems`: the configured systems, each with a line in the metrics even when it has nothing.
  // `connections` may be empty (no listener, as in tests).
  StatusEndpoints(std::string instance, std::vector<std::string> systems, StoreOpener open_store,
                  const ResponseCounters& counters,
                  std::function<ConnectionStats()> connections = {});

  // Adds a check to /healthz besides the store's ("plugins", "listeners", …). Call before the
  // listener serves; the probe runs on request threads and must be thread-safe.
  void add_health_check(std::string name, HealthProbe probe);

  // 200 {"status":"ok","checks":{"store":{"status":"ok",…},…},…} when every check passes; 503 with
  // "status":"unavailable" and the failing check's "status":"fail" when any does not.
  Response health(Request& request) const;
  // Prometheus text exposition format 0.0.4.
  Response metrics(Request& request) const;

 private:
  std::string instance_;
  std::vector<std::pair<std::string, HealthProbe>> checks_;
  std::vector<std::string> systems_;
  StoreOpener open_store_;
  const ResponseCounters& counters_;
  std::function<ConnectionStats()> connections_;
};

// A Prometheus label value: backslash, double quote and line feed escaped.
std::string prometheus_label(const std::string& value);

}  // namespace tsunagu::http
