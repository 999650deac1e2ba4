#include "http/status_endpoints.hpp"

#include <chrono>
#include <cstdint>
#include <sstream>

#include <Poco/Logger.h>

#include "audit/audit_log.hpp"
#include "store/prepared.hpp"

namespace tsunagu::http {
namespace {

Poco::Logger& log() {
  return Poco::Logger::get("tsunagu.http");
}

void family(std::ostream& out, const char* name, const char* type, const char* help) {
  out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
}

// The rows of `SELECT key, COUNT(*) … GROUP BY …` as a map.
// (key, count) rows of a query, bound by the caller.
std::map<std::string, std::int64_t> counts_by(store::Query& q) {
  std::map<std::string, std::int64_t> out;
  while (q.next()) out[q.text(0)] += q.integer(1);
  return out;
}
std::map<std::string, std::int64_t> counts_by(store::Store& store, const std::string& sql) {
  auto q = store.query(sql);
  return counts_by(q);
}

// Delivery through the channels. Every attempt of the delivery outbox is a delivery.attempted
// entry of the exchange log with details.outcome (delivered, retry, dead), so the log is the
// durable count of attempts, across restarts. Then the outbox's rows by status.
void delivery_metrics(store::Store& store, std::ostream& out) {
  // The entries of that type, through the blocks that hold them (audit::entries_in_blocks_sql).
  const std::string type = audit::entry_type::kDeliveryAttempted;
  auto q = store.query("SELECT COALESCE(" + store.json_text_sql("entry", "details.outcome") +
                       ", ''), COUNT(*) FROM " +
                       audit::entries_in_blocks_sql("audit_type_blocks", "type") +
                       " AND type = ? GROUP BY 1 ORDER BY 1");
  q.bind(type).bind(INT64_MAX).bind(type);
  const auto outcomes = counts_by(q);
  family(out, "tsunagu_delivery_attempts_total", "counter",
         "Delivery attempts through the channels, by outcome (from the exchange log).");
  std::map<std::string, std::int64_t> by_outcome{{"delivered", 0}, {"retry", 0}, {"dead", 0}};
  for (const auto& [outcome, n] : outcomes) by_outcome[outcome] += n;
  for (const auto& [outcome, n] : by_outcome) {
    out << "tsunagu_delivery_attempts_total{outcome=\"" << prometheus_label(outcome) << "\"} " << n
        << '\n';
  }
  family(out, "tsunagu_delivery_outbox", "gauge",
         "Deliveries in the outbox, by status (pending, delivered, dead).");
  std::map<std::string, std::int64_t> by_status{{"pending", 0}, {"delivered", 0}, {"dead", 0}};
  for (const auto& [status, n] :
       counts_by(store, "SELECT status, COUNT(*) FROM outbox GROUP BY status ORDER BY status")) {
    by_status[status] = n;
  }
  for (const auto& [status, n] : by_status) {
    out << "tsunagu_delivery_outbox{status=\"" << prometheus_label(status) << "\"} " << n << '\n';
  }
}

}  // namespace

std::string route_class(const std::string& pattern) {
  auto starts = [&](const char* prefix) { return pattern.rfind(prefix, 0) == 0; };
  if (pattern.empty()) return "unmatched";
  if (starts("/api/v1/ingest/")) return "ingest";
  if (pattern == "/healthz" || pattern == "/metrics") return "status";
  if (starts("/api/v1/notices")) return "notice_api";
  if (pattern == "/inbox" || starts("/notices/")) return "notice_page";
  if (starts("/api/v1/audit/")) return "audit_api";
  if (pattern == "/audit") return "audit_page";
  if (pattern == "/" || pattern == "/login" || pattern == "/logout" || pattern == "/account" ||
      pattern == "/api/v1/session" || pattern == "/api/v1/me") {
    return "session";
  }
  if (starts("/assets/") || pattern == "/api/v1/openapi.json") return "static";
  return "other";
}

void ResponseCounters::count(int status, const std::string& route_class, double seconds) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++by_status_[status];
  ++by_class_[{route_class, status}];
  Latency& l = latency_[route_class];
  for (std::size_t i = 0; i < kLatencyBuckets.size(); ++i) {
    if (seconds <= kLatencyBuckets[i]) {
      ++l.buckets[i];
      break;
    }
  }
  ++l.count;
  l.sum += seconds;
}

std::map<int, std::uint64_t> ResponseCounters::snapshot() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return by_status_;
}

std::map<std::pair<std::string, int>, std::uint64_t> ResponseCounters::by_class() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return by_class_;
}

std::map<std::string, ResponseCounters::Latency> ResponseCounters::latency() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return latency_;
}

std::string prometheus_label(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

StatusEndpoints::StatusEndpoints(std::string instance, std::vector<std::string> systems,
                                 StoreOpener open_store, const ResponseCounters& counters,
                                 std::function<ConnectionStats()> connections)
    : instance_(std::move(instance)),
      systems_(std::move(systems)),
      open_store_(std::move(open_store)),
      counters_(counters),
      connections_(std::move(connections)) {}

void StatusEndpoints::add_health_check(std::string name, HealthProbe probe) {
  checks_.emplace_back(std::move(name), std::move(probe));
}

Response StatusEndpoints::health(Request&) const {
  auto o = json_object();
  auto checks = json_object();
  bool ok = true;
  o->set("instance", instance_);
  {
    auto store = json_object();
    try {
      StoreSession session(open_store_);
      const auto entries = session.audit->size();
      store->set("status", "ok");
      store->set("audit_entries", entries);
      o->set("store", "ok");
      o->set("audit_entries", entries);
    } catch (const std::exception& e) {
      // The detail (a path, an SQLite message) stays in the log: /healthz needs no certificate.
      log().error("health check: the store does not answer: %s", std::string(e.what()));
      store->set("status", "fail");
      o->set("store", "unavailable");
      ok = false;
    }
    checks->set("store", store);
  }
  for (const auto& [name, probe] : checks_) {
    auto check = json_object();
    HealthCheck result;
    try {
      result = probe();
    } catch (const std::exception& e) {
      log().error("health check %s failed: %s", name, std::string(e.what()));
      result.ok = false;
    }
    check->set("status", result.ok ? "ok" : "fail");
    for (const auto& [k, v] : result.details) check->set(k, v);
    checks->set(name, check);
    ok = ok && result.ok;
  }
  o->set("status", ok ? "ok" : "unavailable");
  o->set("checks", checks);
  return json_response(ok ? 200 : 503, o);
}

Response StatusEndpoints::metrics(Request&) const {
  std::ostringstream out;
  try {
    StoreSession session(open_store_);
    store::Store& store = *session.store;
    family(out, "tsunagu_events_stored", "gauge", "Events in the store, by source system.");
    for (const auto& s : systems_) {
      out << "tsunagu_events_stored{system=\"" << prometheus_label(s) << "\"} "
          << store.count_events(s) << '\n';
    }
    family(out, "tsunagu_records_quarantined", "gauge",
           "Quarantined records not yet resolved, by system.");
    for (const auto& s : systems_) {
      out << "tsunagu_records_quarantined{system=\"" << prometheus_label(s) << "\"} "
          << store.count_quarantine(s) << '\n';
    }
    // The store has no count of inputs by status (yet), so this one query is made here.
    const auto inputs =
        counts_by(store, "SELECT status, COUNT(*) FROM inputs GROUP BY status ORDER BY status");
    family(out, "tsunagu_inputs", "gauge", "Inputs received (spool files and pushes), by status.");
    for (const char* status : {"processing", "done", "failed"}) {
      const auto it = inputs.find(status);
      out << "tsunagu_inputs{status=\"" << status << "\"} " << (it == inputs.end() ? 0 : it->second)
          << '\n';
    }
    family(out, "tsunagu_audit_entries", "gauge", "Entries in the audit log.");
    out << "tsunagu_audit_entries " << session.audit->size() << '\n';

    const auto notices =
        counts_by(store, "SELECT status, COUNT(*) FROM notices GROUP BY status ORDER BY status");
    family(out, "tsunagu_notices", "gauge", "Notices in the store, by status.");
    for (const char* status : {"open", "acknowledged", "closed"}) {
      const auto it = notices.find(status);
      out << "tsunagu_notices{status=\"" << status << "\"} "
          << (it == notices.end() ? 0 : it->second) << '\n';
    }
    // The wall clock: deadlines are Unix seconds, and /metrics is read in real time.
    const std::int64_t now_unix = std::chrono::duration_cast<std::chrono::seconds>(
                                      std::chrono::system_clock::now().time_since_epoch())
                                      .count();
    std::int64_t overdue = 0, unread = 0;
    {
      auto q = store.query(
          "SELECT COUNT(*) FROM notices WHERE status = 'open' AND due_at > 0 AND due_at < ?");
      q.bind(now_unix);
      if (q.next()) overdue = q.integer(0);
    }
    {
      auto q = store.query("SELECT COUNT(*) FROM notices WHERE status = 'open' AND opened_at = ''");
      if (q.next()) unread = q.integer(0);
    }
    family(out, "tsunagu_notices_overdue", "gauge",
           "Open notices past their acknowledgement deadline.");
    out << "tsunagu_notices_overdue " << overdue << '\n';
    family(out, "tsunagu_notices_unread", "gauge", "Open notices that nobody has opened yet.");
    out << "tsunagu_notices_unread " << unread << '\n';
    delivery_metrics(store, out);
  } catch (const std::exception& e) {
    log().error("metrics: the store does not answer: %s", std::string(e.what()));
    return error_response(503, "store_unavailable", "the store does not answer; see the hub's log");
  }
  family(out, "tsunagu_http_responses_total", "counter",
         "HTTP responses sent since the hub started, by status code.");
  for (const auto& [status, n] : counters_.snapshot()) {
    out << "tsunagu_http_responses_total{code=\"" << status << "\"} " << n << '\n';
  }
  family(out, "tsunagu_http_requests_total", "counter",
         "HTTP requests answered since the hub started, by route class and status code.");
  for (const auto& [key, n] : counters_.by_class()) {
    out << "tsunagu_http_requests_total{class=\"" << prometheus_label(key.first) << "\",code=\""
        << key.second << "\"} " << n << '\n';
  }
  family(out, "tsunagu_http_request_duration_seconds", "histogram",
         "Time from a request's arrival to its response, by route class.");
  for (const auto& [cls, l] : counters_.latency()) {
    const std::string label = prometheus_label(cls);
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < kLatencyBuckets.size(); ++i) {
      cumulative += l.buckets[i];
      out << "tsunagu_http_request_duration_seconds_bucket{class=\"" << label << "\",le=\""
          << kLatencyBuckets[i] << "\"} " << cumulative << '\n';
    }
    out << "tsunagu_http_request_duration_seconds_bucket{class=\"" << label << "\",le=\"+Inf\"} "
        << l.count << '\n';
    out << "tsunagu_http_request_duration_seconds_sum{class=\"" << label << "\"} " << l.sum << '\n';
    out << "tsunagu_http_request_duration_seconds_count{class=\"" << label << "\"} " << l.count
        << '\n';
  }
  if (connections_) {
    const ConnectionStats c = connections_();
    family(out, "tsunagu_http_connections", "gauge",
           "HTTPS connections being served (state=\"current\") or waiting for a thread "
           "(state=\"queued\").");
    out << "tsunagu_http_connections{state=\"current\"} " << c.current << '\n';
    out << "tsunagu_http_connections{state=\"queued\"} " << c.queued << '\n';
    family(out, "tsunagu_http_connections_refused_total", "counter",
           "HTTPS connections dropped because max-queued connections were already waiting.");
    out << "tsunagu_http_connections_refused_total " << c.refused << '\n';
  }
  Response r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body = out.str();
  return r;
}

}  // namespace tsunagu::http
