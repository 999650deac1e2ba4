// The router and the responses it builds: matching, path parameters, JSON 404/405/500.
#include <stdexcept>

#include <gtest/gtest.h>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "http/response.hpp"
#include "http/router.hpp"

namespace {

using tsunagu::http::Request;
using tsunagu::http::Response;
using tsunagu::http::Router;

Request request(const std::string& method, const std::string& path) {
  Request r;
  r.method = method;
  r.path = path;
  return r;
}

Poco::JSON::Object::Ptr json(const Response& r) {
  Poco::JSON::Parser parser;
  return parser.parse(r.body).extract<Poco::JSON::Object::Ptr>();
}

Router sample_router() {
  Router router;
  router.add("POST", "/api/v1/ingest/{system}", [](Request& r) {
    Response out;
    out.body = "ingest " + r.param("system");
    return out;
  });
  router.add("GET", "/healthz", [](Request&) {
    return Response{200, "text/plain", "ok", {}, false};
  });
  router.add("PUT", "/healthz", [](Request&) { return Response{}; });
  router.add("GET", "/boom",
             [](Request&) -> Response { throw std::runtime_error("/secret/path"); });
  return router;
}

TEST(Router, RoutesByMethodAndPathAndFillsParameters) {
  const Router router = sample_router();
  auto r = request("POST", "/api/v1/ingest/child_guidance");
  const Response out = router.dispatch(r);
  EXPECT_EQ(out.status, 200);
  EXPECT_EQ(out.body, "ingest child_guidance");
  EXPECT_EQ(r.param("system"), "child_guidance");
  EXPECT_EQ(r.param("other"), "");
}

TEST(Router, UnknownPathIsJson404NamingThePath) {
  const Router router = sample_router();
  for (const char* path : {"/nothing", "/api/v1/ingest", "/api/v1/ingest/", "/healthz/",
                           "/api/v1/ingest/a/b", "", "healthz"}) {
    auto r = request("POST", path);
    const Response out = router.dispatch(r);
    EXPECT_EQ(out.status, 404) << path;
    EXPECT_EQ(out.content_type, tsunagu::http::kJson);
    EXPECT_EQ(json(out)->getValue<std::string>("error"), "not_found");
    EXPECT_NE(out.body.find(path), std::string::npos) << out.body;
  }
}

TEST(Router, KnownPathWithOtherMethodIs405ListingAllowedMethods) {
  const Router router = sample_router();
  auto r = request("DELETE", "/healthz");
  const Response out = router.dispatch(r);
  EXPECT_EQ(out.status, 405);
  ASSERT_EQ(out.headers.size(), 1u);
  EXPECT_EQ(out.headers[0].first, "Allow");
  EXPECT_EQ(out.headers[0].second, "GET, PUT");
  EXPECT_EQ(json(out)->getValue<std::string>("error"), "method_not_allowed");
  EXPECT_NE(out.body.find("DELETE is not allowed on /healthz"), std::string::npos) << out.body;

  auto get = request("GET", "/api/v1/ingest/x");
  EXPECT_EQ(router.dispatch(get).status, 405);
}

TEST(Router, AHandlerThatThrowsGivesA500ThatDoesNotLeakTheReason) {
  const Router router = sample_router();
  auto r = request("GET", "/boom");
  const Response out = router.dispatch(r);
  EXPECT_EQ(out.status, 500);
  EXPECT_TRUE(out.close);
  EXPECT_EQ(json(out)->getValue<std::string>("error"), "internal_error");
  EXPECT_EQ(out.body.find("secret"), std::string::npos) << out.body;
}

TEST(Router, ARouteAddedTwiceIsAProgrammingError) {
  Router router = sample_router();
  EXPECT_THROW(router.add("GET", "/healthz", [](Request&) { return Response{}; }),
               std::logic_error);
}

TEST(Response, ErrorBodyIsJsonWithCodeAndMessageAndKeepsJapaneseReadable) {
  const Response out =
      tsunagu::http::error_response(415, "unsupported_media_type", "区コード: 不明");
  EXPECT_EQ(out.status, 415);
  EXPECT_EQ(out.body, R"({"error":"unsupported_media_type","message":"区コード: 不明"})");
}

TEST(Response, ReasonPhrasesOfTheStatusesTheServerUses) {
  EXPECT_EQ(tsunagu::http::reason_phrase(207), "Multi-Status");
  EXPECT_EQ(tsunagu::http::reason_phrase(413), "Content Too Large");
  EXPECT_EQ(tsunagu::http::reason_phrase(415), "Unsupported Media Type");
  EXPECT_EQ(tsunagu::http::reason_phrase(503), "Service Unavailable");
}

TEST(Response, JsonObjectsKeepTheOrderTheirKeysWereSetIn) {
  auto o = tsunagu::http::json_object();
  o->set("zeta", 1);
  o->set("alpha", "a\"b");
  EXPECT_EQ(tsunagu::http::to_json(o), R"({"zeta":1,"alpha":"a\"b"})");
}

}  // namespace
