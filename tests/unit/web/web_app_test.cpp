// The web surface without a socket: routes through http::Router into WebApp over a real store.
// Authentication, the access table, CSRF (session forms and the login form's double submit),
// Origin checks, throttling and the OpenAPI document's agreement with the table.
#include <gtest/gtest.h>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "http/router.hpp"
#include "store/store.hpp"
#include "support/temp_dir.hpp"
#include "support/test_store.hpp"
#include "web/access_policy.hpp"
#include "web/accounts.hpp"
#include "web/forms.hpp"
#include "web/web_app.hpp"

namespace {

using namespace tsunagu;
using namespace tsunagu::web;

const std::string kPassword = "correct horse battery";

class StringBody final : public http::BodyReader {
 public:
  explicit StringBody(std::string body) : body_(std::move(body)) {}
  std::optional<std::string> read(std::size_t max) override {
    if (body_.size() > max) return std::nullopt;
    return body_;
  }

 private:
  std::string body_;
};

struct Call {
  Call(std::string m, std::string t, std::string c = "", std::string type = "", std::string b = "")
      : method(std::move(m)),
        target(std::move(t)),
        cookie(std::move(c)),
        content_type(std::move(type)),
        body(std::move(b)) {}
  std::string method;
  std::string target;
  std::string cookie;
  std::string content_type;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

std::string header(const http::Response& r, const std::string& name) {
  for (const auto& [n, v] : r.headers) {
    if (n == name) return v;
  }
  return "";
}

std::vector<std::string> set_cookies(const http::Response& r) {
  std::vector<std::string> out;
  for (const auto& [n, v] : r.headers) {
    if (n == "Set-Cookie") out.push_back(v);
  }
  return out;
}

// "name=value; Path=/…" of `name` among the Set-Cookie headers → value ("" if absent).
std::string cookie_set(const http::Response& r, const std::string& name) {
  for (const auto& c : set_cookies(r)) {
    if (c.rfind(name + "=", 0) == 0)
      return c.substr(name.size() + 1, c.find(';') - name.size() - 1);
  }
  return "";
}

class WebAppTest : public ::testing::Test {
 protected:
  void SetUp() override {
    {
      auto store = open();
      audit::AuditLog log(*store);
      Accounts accounts(*store, log);
      for (const auto& [login, role] : std::vector<std::pair<std::string, Role>>{
               {"lia", Role::liaison}, {"aud", Role::auditor}, {"adm", Role::admin}}) {
        accounts.create({login, role, "", ""}, kPassword, "cli:test", ScryptParams{10, 8, 1});
      }
      auditor_token_ = accounts.create_api_token("aud", "", std::nullopt, "cli:test").token;
      liaison_token_ = accounts.create_api_token("lia", "", std::nullopt, "cli:test").token;
    }
    app_ = std::make_unique<WebApp>([this] { return open(); }, WebOptions{});
    app_->install(router_);
  }

  std::unique_ptr<store::Store> open() {
    return tsunagu_test::open_test_store(dir_ / "store.db", {});
  }

  http::Response call(const Call& c) {
    http::Request r;
    r.method = c.method;
    const auto q = c.target.find('?');
    r.path = c.target.substr(0, q);
    r.query = q == std::string::npos ? "" : c.target.substr(q + 1);
    r.remote = "192.0.2.10:50000";
    r.content_type = c.content_type;
    StringBody body(c.body);
    r.body = &body;
    r.content_length = static_cast<std::int64_t>(c.body.size());
    r.headers.emplace_back("host", "hub.example:8443");
    if (!c.cookie.empty()) r.headers.emplace_back("cookie", c.cookie);
    for (const auto& h : c.headers) r.headers.push_back(h);
    return router_.dispatch(r);
  }

  // Logs in through the login form, as a browser does; returns the session id.
  std::string login(const std::string& who) {
    const auto page = call({"GET", "/login"});
    const std::string form_token = cookie_set(page, kLoginCookie);
    EXPECT_FALSE(form_token.empty());
    const auto r =
        call({"POST", "/login", std::string(kLoginCookie) + "=" + form_token,
              "application/x-www-form-urlencoded",
              "csrf=" + form_token + "&login=" + who + "&password=" + url_encode(kPassword)});
    EXPECT_EQ(r.status, 303) << r.body;
    return cookie_set(r, kSessionCookie);
  }

  std::string session_cookie(const std::string& id) {
    return std::string(kSessionCookie) + "=" + id;
  }

  tsunagu_test::TempDir dir_;
  http::Router router_;
  std::unique_ptr<WebApp> app_;
  std::string auditor_token_;
  std::string liaison_token_;
};

TEST_F(WebAppTest, EveryRouteNeedsARowInTheAccessTable) {
  http::Router other;
  WebApp app([this] { return open(); }, WebOptions{});
  EXPECT_THROW(app.route(other, "GET", "/not-in-the-table",
                         [](WebApp::Context&) { return http::Response{}; }),
               std::logic_error);
}

TEST_F(WebAppTest, AnonymousVisitorsAreSentToLoginOrGet401) {
  auto r = call({"GET", "/inbox"});
  EXPECT_EQ(r.status, 303);
  EXPECT_EQ(header(r, "Location"), "/login");
  r = call({"GET", "/api/v1/me"});
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(header(r, "WWW-Authenticate"), "Bearer");
  EXPECT_EQ(call({"GET", "/login"}).status, 200);
  EXPECT_EQ(call({"GET", "/assets/tsunagu.css"}).status, 200);
  EXPECT_EQ(call({"GET", "/api/v1/openapi.json"}).status, 200);
}

TEST_F(WebAppTest, TheLoginFormSetsASecureSessionCookieAndRedirectsByRole) {
  const auto page = call({"GET", "/login"});
  const std::string form_token = cookie_set(page, kLoginCookie);
  EXPECT_NE(page.body.find("name=\"csrf\" value=\"" + form_token + "\""), std::string::npos);
  const auto r = call({"POST", "/login", std::string(kLoginCookie) + "=" + form_token,
                       "application/x-www-form-urlencoded",
                       "csrf=" + form_token + "&login=aud&password=" + url_encode(kPassword)});
  ASSERT_EQ(r.status, 303);
  bool found = false;
  for (const auto& c : set_cookies(r)) {
    if (c.rfind(std::string(kSessionCookie) + "=", 0) != 0) continue;
    found = true;
    EXPECT_NE(c.find("; HttpOnly"), std::string::npos);
    EXPECT_NE(c.find("; Secure"), std::string::npos);
    EXPECT_NE(c.find("; SameSite=Strict"), std::string::npos);
    EXPECT_NE(c.find("; Path=/"), std::string::npos);
  }
  EXPECT_TRUE(found);
  const std::string id = cookie_set(r, kSessionCookie);
  EXPECT_EQ(header(call({"GET", "/", session_cookie(id)}), "Location"), "/audit");
  EXPECT_EQ(header(call({"GET", "/", session_cookie(login("lia"))}), "Location"), "/inbox");
  EXPECT_EQ(header(call({"GET", "/", session_cookie(login("adm"))}), "Location"), "/account");
}

TEST_F(WebAppTest, TheLoginFormWithoutItsCookieTokenIsRefused) {
  const auto page = call({"GET", "/login"});
  const std::string form_token = cookie_set(page, kLoginCookie);
  const std::string body = "csrf=" + form_token + "&login=aud&password=" + url_encode(kPassword);
  EXPECT_EQ(call({"POST", "/login", "", "application/x-www-form-urlencoded", body}).status, 403);
  EXPECT_EQ(call({"POST", "/login", std::string(kLoginCookie) + "=other",
                  "application/x-www-form-urlencoded", body})
                .status,
            403);
}

TEST_F(WebAppTest, AWrongPasswordIs401WithTheSameMessageAsAnUnknownLogin) {
  const auto page = call({"GET", "/login"});
  const std::string t = cookie_set(page, kLoginCookie);
  const std::string cookie = std::string(kLoginCookie) + "=" + t;
  const auto wrong = call({"POST", "/login", cookie, "application/x-www-form-urlencoded",
                           "csrf=" + t + "&login=aud&password=wrong+password+here"});
  const auto unknown = call({"POST", "/login", cookie, "application/x-www-form-urlencoded",
                             "csrf=" + t + "&login=nobody&password=wrong+password+here"});
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(unknown.status, 401);
  EXPECT_NE(wrong.body.find("ログイン ID またはパスワードが違います"), std::string::npos);
  EXPECT_NE(unknown.body.find("ログイン ID またはパスワードが違います"), std::string::npos);
  EXPECT_EQ(cookie_set(wrong, kSessionCookie), "");
}

TEST_F(WebAppTest, PostsOnASessionNeedItsCsrfToken) {
  const std::string id = login("lia");
  const std::string csrf = csrf_token_of(id);
  auto r = call({"POST", "/logout", session_cookie(id), "application/x-www-form-urlencoded", ""});
  EXPECT_EQ(r.status, 403);
  r = call({"POST", "/logout", session_cookie(id), "application/x-www-form-urlencoded",
            "csrf=" + csrf + "x"});
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(call({"GET", "/inbox", session_cookie(id)}).status, 200) << "still signed in";
  r = call(
      {"POST", "/logout", session_cookie(id), "application/x-www-form-urlencoded", "csrf=" + csrf});
  EXPECT_EQ(r.status, 303);
  EXPECT_EQ(header(r, "Location"), "/login");
  EXPECT_EQ(call({"GET", "/inbox", session_cookie(id)}).status, 303) << "signed out";
}

TEST_F(WebAppTest, ApiCallsOnASessionNeedTheCsrfHeader) {
  const std::string id = login("aud");
  EXPECT_EQ(call({"DELETE", "/api/v1/session", session_cookie(id)}).status, 403);
  Call c{"DELETE", "/api/v1/session", session_cookie(id)};
  c.headers.emplace_back("x-csrf-token", csrf_token_of(id));
  EXPECT_EQ(call(c).status, 200);
  EXPECT_EQ(call({"GET", "/api/v1/me", session_cookie(id)}).status, 401);
}

TEST_F(WebAppTest, UnsafeRequestsFromAnotherOriginAreRefused) {
  const std::string id = login("lia");
  Call c{"POST", "/logout", session_cookie(id), "application/x-www-form-urlencoded",
         "csrf=" + csrf_token_of(id)};
  c.headers.emplace_back("origin", "https://evil.example");
  EXPECT_EQ(call(c).status, 403);
  c.headers.back().second = "https://hub.example:8443";
  EXPECT_EQ(call(c).status, 303);
}

TEST_F(WebAppTest, RolesOutsideARowGet403) {
  const std::string lia = login("lia"), aud = login("aud");
  EXPECT_EQ(call({"GET", "/audit", session_cookie(lia)}).status, 403);
  EXPECT_EQ(call({"GET", "/inbox", session_cookie(aud)}).status, 403);
  EXPECT_EQ(call({"GET", "/audit", session_cookie(aud)}).status, 200);
  EXPECT_EQ(call({"GET", "/api/v1/audit/entries", session_cookie(lia)}).status, 403);
}

TEST_F(WebAppTest, BearerTokensWorkOnTheApiOnly) {
  Call c{"GET", "/api/v1/audit/entries?type=user."};
  c.headers.emplace_back("authorization", "Bearer " + auditor_token_);
  auto r = call(c);
  EXPECT_EQ(r.status, 200) << r.body;
  c.headers.back().second = "Bearer " + liaison_token_;
  EXPECT_EQ(call(c).status, 403);
  c.headers.back().second = "Bearer tsu_forged";
  EXPECT_EQ(call(c).status, 401);
  Call page{"GET", "/audit"};
  page.headers.emplace_back("authorization", "Bearer " + auditor_token_);
  EXPECT_EQ(call(page).status, 303);
}

TEST_F(WebAppTest, AnExpiredOrUnknownCookieIsClearedAndTheVisitorIsAnonymous) {
  const auto r = call({"GET", "/inbox", session_cookie("unknown")});
  EXPECT_EQ(r.status, 303);
  bool cleared = false;
  for (const auto& c : set_cookies(r)) {
    cleared = cleared || (c.rfind(std::string(kSessionCookie) + "=;", 0) == 0 &&
                          c.find("Max-Age=0") != std::string::npos);
  }
  EXPECT_TRUE(cleared);
}

TEST_F(WebAppTest, RepeatedFailuresAreThrottledWith429AndRetryAfter) {
  const std::string bad = R"({"login":"aud","password":"wrong password here"})";
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(call({"POST", "/api/v1/session", "", "application/json", bad}).status, 401) << i;
  }
  const auto r = call({"POST", "/api/v1/session", "", "application/json", bad});
  EXPECT_EQ(r.status, 429);
  EXPECT_FALSE(header(r, "Retry-After").empty());
  const std::string good = R"({"login":"aud","password":")" + kPassword + R"("})";
  EXPECT_EQ(call({"POST", "/api/v1/session", "", "application/json", good}).status, 429)
      << "even the right password waits";
}

TEST_F(WebAppTest, ApiLoginNeedsJson) {
  EXPECT_EQ(call({"POST", "/api/v1/session", "", "text/plain", "{}"}).status, 415);
  EXPECT_EQ(call({"POST", "/api/v1/session", "", "application/json", "[1"}).status, 400);
  const auto r = call({"POST", "/api/v1/session", "", "application/json",
                       R"({"login":"aud","password":")" + kPassword + R"("})"});
  ASSERT_EQ(r.status, 200) << r.body;
  Poco::JSON::Parser parser;
  const auto o = parser.parse(r.body).extract<Poco::JSON::Object::Ptr>();
  EXPECT_EQ(o->getValue<std::string>("role"), "auditor");
  EXPECT_EQ(o->getValue<std::string>("csrf_token"), csrf_token_of(cookie_set(r, kSessionCookie)));
}

TEST_F(WebAppTest, TheOpenApiDocumentDescribesEveryApiRouteOfTheTable) {
  Poco::JSON::Parser parser;
  const auto doc = parser.parse(openapi_document()).extract<Poco::JSON::Object::Ptr>();
  EXPECT_EQ(doc->getValue<std::string>("openapi").rfind("3.", 0), 0U);
  const auto paths = doc->getObject("paths");
  for (const auto& rule : access_table()) {
    if (rule.surface != Surface::api) continue;
    ASSERT_TRUE(paths->has(rule.pattern)) << rule.pattern;
    std::string method = rule.method;
    for (char& ch : method) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    EXPECT_TRUE(paths->getObject(rule.pattern)->has(method)) << rule.method << " " << rule.pattern;
  }
}

}  // namespace
