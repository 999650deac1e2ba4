// /healthz and /metrics without a socket: every check in the health answer (503 when one fails
// or throws), route classes, and the request histogram in the Prometheus text.
#include <gtest/gtest.h>

#include <Poco/JSON/Parser.h>

#include "audit/audit_log.hpp"
#include "http/status_endpoints.hpp"
#include "store/store.hpp"
#include "support/temp_dir.hpp"
#include "support/test_store.hpp"

namespace {

using namespace tsunagu;
using namespace tsunagu::http;

class StatusEndpointsTest : public ::testing::Test {
 protected:
  StoreOpener opener() {
    return [this] { return tsunagu_test::open_test_store(dir_ / "store.db", {}); };
  }
  static Poco::JSON::Object::Ptr json(const Response& r) {
    Poco::JSON::Parser parser;
    return parser.parse(r.body).extract<Poco::JSON::Object::Ptr>();
  }

  tsunagu_test::TempDir dir_;
  ResponseCounters counters_;
};

TEST_F(StatusEndpointsTest, HealthRunsEveryCheckAndAnswers503WhenOneFails) {
  StatusEndpoints status("test", {"public_assistance"}, opener(), counters_);
  status.add_health_check("plugins", [] {
    HealthCheck c;
    c.details.emplace_back("loaded", 4);
    return c;
  });
  Request request;
  const Response ok = status.health(request);
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(json(ok)->getValue<std::string>("status"), "ok");
  const auto checks = json(ok)->getObject("checks");
  EXPECT_EQ(checks->getObject("store")->getValue<std::string>("status"), "ok");
  EXPECT_EQ(checks->getObject("plugins")->getValue<int>("loaded"), 4);

  status.add_health_check("listeners", [] { return HealthCheck{false, {}}; });
  status.add_health_check("throws", []() -> HealthCheck { throw std::runtime_error("boom"); });
  const Response failing = status.health(request);
  EXPECT_EQ(failing.status, 503);
  EXPECT_EQ(json(failing)->getValue<std::string>("status"), "unavailable");
  EXPECT_EQ(
      json(failing)->getObject("checks")->getObject("listeners")->getValue<std::string>("status"),
      "fail");
  EXPECT_EQ(
      json(failing)->getObject("checks")->getObject("throws")->getValue<std::string>("status"),
      "fail");
  EXPECT_EQ(failing.body.find("boom"), std::string::npos) << "reasons stay in the log";
}

TEST_F(StatusEndpointsTest, HealthFailsWhenTheStoreDoesNotOpen) {
  StatusEndpoints status(
      "test", {}, []() -> std::unique_ptr<store::Store> { throw std::runtime_error("gone"); },
      counters_);
  Request request;
  const Response r = status.health(request);
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(json(r)->getObject("checks")->getObject("store")->getValue<std::string>("status"),
            "fail");
}

TEST(RouteClass, FewClassesWhateverThePath) {
  EXPECT_EQ(route_class("/api/v1/ingest/{system}"), "ingest");
  EXPECT_EQ(route_class("/healthz"), "status");
  EXPECT_EQ(route_class("/inbox"), "notice_page");
  EXPECT_EQ(route_class("/notices/{id}/ack"), "notice_page");
  EXPECT_EQ(route_class("/api/v1/notices/{id}"), "notice_api");
  EXPECT_EQ(route_class("/audit"), "audit_page");
  EXPECT_EQ(route_class("/api/v1/audit/proof/{seq}"), "audit_api");
  EXPECT_EQ(route_class("/login"), "session");
  EXPECT_EQ(route_class("/assets/tsunagu.css"), "static");
  EXPECT_EQ(route_class(""), "unmatched");
}

TEST_F(StatusEndpointsTest, MetricsHaveNoticesRequestsByClassAndALatencyHistogram) {
  StatusEndpoints status("test", {"public_assistance"}, opener(), counters_);
  counters_.count(200, "notice_api", 0.004);
  counters_.count(200, "notice_api", 0.2);
  counters_.count(404, "unmatched", 0.001);
  Request request;
  std::string m = status.metrics(request).body;
  EXPECT_NE(m.find("tsunagu_notices{status=\"open\"} 0"), std::string::npos) << m;
  EXPECT_NE(m.find("tsunagu_notices_overdue 0"), std::string::npos);
  EXPECT_NE(m.find("tsunagu_http_requests_total{class=\"notice_api\",code=\"200\"} 2"),
            std::string::npos);
  EXPECT_NE(
      m.find("tsunagu_http_request_duration_seconds_bucket{class=\"notice_api\",le=\"0.005\"} 1"),
      std::string::npos);
  EXPECT_NE(
      m.find("tsunagu_http_request_duration_seconds_bucket{class=\"notice_api\",le=\"0.25\"} 2"),
      std::string::npos);
  EXPECT_NE(
      m.find("tsunagu_http_request_duration_seconds_bucket{class=\"notice_api\",le=\"+Inf\"} 2"),
      std::string::npos);
  EXPECT_NE(m.find("tsunagu_http_request_duration_seconds_count{class=\"unmatched\"} 1"),
            std::string::npos);
  EXPECT_NE(m.find("tsunagu_http_responses_total{code=\"404\"} 1"), std::string::npos);
  EXPECT_NE(m.find("tsunagu_delivery_attempts_total{outcome=\"delivered\"} 0"), std::string::npos);
  EXPECT_NE(m.find("tsunagu_delivery_outbox{status=\"pending\"} 0"), std::string::npos);

  // Every attempt of the outbox is a delivery.attempted entry with its outcome.
  {
    auto store = opener()();
    audit::AuditLog log(*store);
    for (const char* outcome : {"retry", "retry", "delivered", "dead"}) {
      log.append_now({"delivery.attempted", "hub", "", {{"outcome", outcome}}});
    }
  }
  m = status.metrics(request).body;
  EXPECT_NE(m.find("tsunagu_delivery_attempts_total{outcome=\"delivered\"} 1"), std::string::npos);
  EXPECT_NE(m.find("tsunagu_delivery_attempts_total{outcome=\"retry\"} 2"), std::string::npos);
  EXPECT_NE(m.find("tsunagu_delivery_attempts_total{outcome=\"dead\"} 1"), std::string::npos);
}

}  // namespace
