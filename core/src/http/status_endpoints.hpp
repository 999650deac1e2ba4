// GET /healthz and GET /metrics: what IT staff and their monitoring read.
//
// Both read the store (a fresh session per request, see store_session.hpp) and hold no personal
// data: counts only. They need no client certificate, so a load balancer or Prometheus can reach
// them; the listener binds 127.0.0.1 unless the config says otherwise.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "http/router.hpp"
#include "http/store_session.hpp"

namespace tsunagu::http {

// Responses sent since start, by status code. Any thread may count.
class ResponseCounters {
 public:
  void count(int status);
  std::map<int, std::uint64_t> snapshot() const;

 private:
  mutable std::mutex mutex_;
  std::map<int, std::uint64_t> by_status_;
};

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

  // 200 {"status":"ok",…} when the store answers; 503 {"status":"unavailable",…} when it does not.
  Response health(Request& request) const;
  // Prometheus text exposition format 0.0.4.
  Response metrics(Request& request) const;

 private:
  std::string instance_;
  std::vector<std::string> systems_;
  StoreOpener open_store_;
  const ResponseCounters& counters_;
  std::function<ConnectionStats()> connections_;
};

// A Prometheus label value: backslash, double quote and line feed escaped.
std::string prometheus_label(const std::string& value);

}  // namespace tsunagu::http
