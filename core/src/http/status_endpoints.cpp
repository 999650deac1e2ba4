#include "http/status_endpoints.hpp"

#include <sstream>

#include <Poco/Data/Session.h>
#include <Poco/Logger.h>

namespace tsunagu::http {
namespace {

Poco::Logger& log() {
  return Poco::Logger::get("tsunagu.http");
}

void family(std::ostream& out, const char* name, const char* type, const char* help) {
  out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
}

}  // namespace

void ResponseCounters::count(int status) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++by_status_[status];
}

std::map<int, std::uint64_t> ResponseCounters::snapshot() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return by_status_;
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

Response StatusEndpoints::health(Request&) const {
  auto o = json_object();
  o->set("instance", instance_);
  try {
    StoreSession session(open_store_);
    const auto entries = session.audit->size();
    o->set("status", "ok");
    o->set("store", "ok");
    o->set("audit_entries", entries);
    return json_response(200, o);
  } catch (const std::exception& e) {
    // The detail (a path, an SQLite message) stays in the log: /healthz needs no certificate.
    log().error("health check: the store does not answer: %s", std::string(e.what()));
    o->set("status", "unavailable");
    o->set("store", "unavailable");
    return json_response(503, o);
  }
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
    std::vector<std::string> statuses;
    std::vector<Poco::Int64> counts;
    using namespace Poco::Data::Keywords;
    store.session() << "SELECT status, COUNT(*) FROM inputs GROUP BY status ORDER BY status",
        into(statuses), into(counts), now;
    family(out, "tsunagu_inputs", "gauge", "Inputs received (spool files and pushes), by status.");
    for (const char* status : {"processing", "done", "failed"}) {
      Poco::Int64 n = 0;
      for (std::size_t i = 0; i < statuses.size(); ++i) {
        if (statuses[i] == status) n = counts[i];
      }
      out << "tsunagu_inputs{status=\"" << status << "\"} " << n << '\n';
    }
    family(out, "tsunagu_audit_entries", "gauge", "Entries in the audit log.");
    out << "tsunagu_audit_entries " << session.audit->size() << '\n';
  } catch (const std::exception& e) {
    log().error("metrics: the store does not answer: %s", std::string(e.what()));
    return error_response(503, "store_unavailable", "the store does not answer; see the hub's log");
  }
  family(out, "tsunagu_http_responses_total", "counter",
         "HTTP responses sent since the hub started, by status code.");
  for (const auto& [status, n] : counters_.snapshot()) {
    out << "tsunagu_http_responses_total{code=\"" << status << "\"} " << n << '\n';
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
