// The pages and API of people on the real tsunagud over HTTPS, without client certificates:
// logging in and out, CSRF, the authorisation matrix (every page and endpoint × every role and
// anonymous), the liaison's notices (routed by the shipped routing configuration from a dropped
// public-assistance file: who sees them, opening, acknowledging, recording an action, and a
// liaison of another ward guessing the id), the 保護課長's escalation of such a notice (and
// another ward's chief guessing its id), the auditor's search over those steps, tree head
// and proofs, /healthz and /metrics, and — with the openssl s_client binary — the TLS versions
// the listener takes and the client certificate ingest still needs.
#include <gtest/gtest.h>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/NetSSL.h>
#include <Poco/StreamCopier.h>

#include <set>

#include "store/prepared.hpp"
#include "store/store.hpp"
#include "support/routed_notice.hpp"
#include "support/web_instance.hpp"

namespace {

using namespace tsunagu_test;
namespace fs = std::filesystem;

struct Reply {
  int status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string header(const std::string& name) const {
    for (const auto& [n, v] : headers) {
      if (Poco::icompare(n, name) == 0) return v;
    }
    return "";
  }
  Poco::JSON::Object::Ptr json() const {
    Poco::JSON::Parser parser;
    return parser.parse(body).extract<Poco::JSON::Object::Ptr>();
  }
};

// A minimal browser: keeps cookies (by name, honouring Max-Age=0), sends them back, presents no
// client certificate and verifies the hub's certificate against the test CA.
class Client {
 public:
  Client(const WebInstance& hub, Poco::Net::Context::Ptr context)
      : hub_(hub), context_(std::move(context)) {}

  Reply send(const std::string& method, const std::string& target, const std::string& body = "",
             const std::string& content_type = "",
             const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    Poco::Net::HTTPSClientSession session("localhost", hub_.port(), context_);
    session.setTimeout(Poco::Timespan(60, 0));
    Poco::Net::HTTPRequest req(method, target, Poco::Net::HTTPMessage::HTTP_1_1);
    if (!content_type.empty()) req.setContentType(content_type);
    if (method != "GET") req.setContentLength(static_cast<std::streamsize>(body.size()));
    std::string cookie;
    for (const auto& [name, value] : cookies_)
      cookie += (cookie.empty() ? "" : "; ") + name + "=" + value;
    if (!cookie.empty()) req.set("Cookie", cookie);
    for (const auto& [n, v] : headers) req.set(n, v);
    session.sendRequest(req) << body;
    Poco::Net::HTTPResponse response;
    std::istream& in = session.receiveResponse(response);
    Reply r;
    r.status = response.getStatus();
    Poco::StreamCopier::copyToString(in, r.body);
    for (const auto& [n, v] : response) {
      r.headers.emplace_back(n, v);
      if (Poco::icompare(n, "Set-Cookie") != 0) continue;
      const auto eq = v.find('=');
      const std::string name = v.substr(0, eq);
      const std::string value = v.substr(eq + 1, v.find(';') - eq - 1);
      if (v.find("Max-Age=0") != std::string::npos) {
        cookies_.erase(name);
      } else {
        cookies_[name] = value;
      }
    }
    return r;
  }

  // The login form, as a browser fills it in.
  Reply login_form(const std::string& login, const std::string& password) {
    const Reply page = send("GET", "/login");
    const std::string token = cookies_["__Host-tsunagu_login"];
    EXPECT_NE(page.body.find(token), std::string::npos);
    return send("POST", "/login",
                "csrf=" + token + "&login=" + login + "&password=" + form_value(password),
                "application/x-www-form-urlencoded");
  }

  // POST /api/v1/session; returns the CSRF token for later unsafe requests.
  std::string login_api(const std::string& login) {
    const Reply r =
        send("POST", "/api/v1/session",
             R"({"login":")" + login + R"(","password":")" + WebInstance::kPassword + R"("})",
             "application/json");
    EXPECT_EQ(r.status, 200) << login << ": " << r.body;
    return r.status == 200 ? r.json()->getValue<std::string>("csrf_token") : "";
  }

  bool has_session() const { return cookies_.count("__Host-tsunagu_session") != 0; }
  void forget_cookies() { cookies_.clear(); }

  static std::string form_value(const std::string& s) {
    std::string out;
    for (const char c : s) out += c == ' ' ? std::string("+") : std::string(1, c);
    return out;
  }

 private:
  const WebInstance& hub_;
  Poco::Net::Context::Ptr context_;
  std::map<std::string, std::string> cookies_;
};

const std::vector<std::string> kRoles = {"liaison",      "coordinator",   "pa_section_chief",
                                         "cg_emergency", "cg_caseworker", "cg_section_chief",
                                         "auditor",      "admin"};

Poco::Net::Context::Ptr client_context(const WebInstance& hub) {
  Poco::Net::Context::Params p;
  p.caLocation = hub.ca().string();
  p.verificationMode = Poco::Net::Context::VERIFY_STRICT;
  p.loadDefaultCAs = false;
  return new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, p);
}

// Entries of the log of one type, read straight from the store as an auditor's tool would.
std::vector<std::string> entries_of(const WebInstance& hub, const std::string& type) {
  auto store = tsunagu::store::Store::open_sqlite(hub.data() / "store.db", {});
  std::vector<std::string> out;
  auto q = store->query("SELECT entry FROM audit_entries WHERE type = ? ORDER BY seq");
  q.bind(type);
  while (q.next()) out.push_back(q.text(0));
  return out;
}

class WebAccess : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    Poco::Net::initializeSSL();
    hub_ = new WebInstance(1, /*with_routing=*/true);
    for (const auto& role : kRoles)
      hub_->add_account("u_" + role, role, "officer-" + role, "01101");
    // 東区's liaison as the roster knows her; a colleague of her ward without an officer id (sees
    // the ward's liaison notices by role); 北区's liaison; the child guidance centre (city-wide).
    hub_->add_account("u_higashi", "liaison", "higashi-liaison-1", "01103");
    hub_->add_account("u_higashi_team", "liaison", "", "01103");
    hub_->add_account("u_kita", "liaison", "kita-liaison-1", "01102");
    hub_->add_account("u_cg", "cg_caseworker", "cg-caseworker-1");
    hub_->start();
    route_a_higashi_notice(hub_->spool("public_assistance"));
    auto store = tsunagu::store::Store::open_sqlite(hub_->data() / "store.db", {});
    std::vector<std::string> ids;
    {
      auto q = store->query("SELECT id FROM notices WHERE rule_id = 'pa_visit_child_not_seen'");
      while (q.next()) ids.push_back(q.text(0));
    }
    if (ids.size() == 1) notice_id_ = ids.front();
  }
  static void TearDownTestSuite() {
    if (hub_ != nullptr) {
      EXPECT_EQ(hub_->stop(), 0);
    }
    delete hub_;
    hub_ = nullptr;
    Poco::Net::uninitializeSSL();
  }

  void SetUp() override { ASSERT_FALSE(notice_id_.empty()) << "the PA files routed no notice"; }

  static Poco::Net::Context::Ptr context() { return client_context(*hub_); }
  static Client client() { return Client(*hub_, context()); }
  static std::vector<std::string> entries(const std::string& type) {
    return entries_of(*hub_, type);
  }

  static WebInstance* hub_;
  static std::string notice_id_;  // 東区's notice (pa_visit_child_not_seen)
};

WebInstance* WebAccess::hub_ = nullptr;
std::string WebAccess::notice_id_;

TEST_F(WebAccess, PagesNeedNoClientCertificateAndEveryResponseCarriesTheSecurityHeaders) {
  Client c = client();
  for (const std::string path :
       {"/login", "/api/v1/openapi.json", "/healthz", "/inbox", "/api/v1/me", "/no-such-page"}) {
    const Reply r = c.send("GET", path);
    EXPECT_NE(r.status, 0) << path;
    EXPECT_EQ(r.header("Strict-Transport-Security"), "max-age=31536000; includeSubDomains") << path;
    EXPECT_EQ(r.header("X-Frame-Options"), "DENY") << path;
    EXPECT_NE(r.header("Content-Security-Policy").find("default-src 'none'"), std::string::npos)
        << path;
    EXPECT_NE(r.header("Content-Security-Policy").find("frame-ancestors 'none'"), std::string::npos)
        << path;
  }
  const Reply login = c.send("GET", "/login");
  EXPECT_EQ(login.status, 200);
  EXPECT_NE(login.body.find("ログイン"), std::string::npos);
  EXPECT_EQ(login.body.find("<script"), std::string::npos);
}

TEST_F(WebAccess, AnAuditorLogsInSeesTheLoginInTheLogAndLogsOut) {
  Client c = client();
  const Reply in = c.login_form("u_auditor", WebInstance::kPassword);
  ASSERT_EQ(in.status, 303) << in.body;
  ASSERT_TRUE(c.has_session());
  const std::string set_cookie = [&] {
    for (const auto& [n, v] : in.headers) {
      if (n == "Set-Cookie" && v.rfind("__Host-tsunagu_session=", 0) == 0) return v;
    }
    return std::string();
  }();
  for (const char* attribute : {"; HttpOnly", "; Secure", "; SameSite=Strict", "; Path=/"}) {
    EXPECT_NE(set_cookie.find(attribute), std::string::npos) << set_cookie;
  }
  EXPECT_EQ(c.send("GET", "/").header("Location"), "/audit");

  const Reply page = c.send("GET", "/audit?type=user.login&actor=u_auditor");
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("<span class=\"type\">user.login</span>"), std::string::npos);
  EXPECT_NE(page.body.find("u_auditor"), std::string::npos);
  EXPECT_NE(page.body.find("署名付きツリーヘッド"), std::string::npos);

  // The logout form carries the session's CSRF token.
  const auto at = page.body.find("name=\"csrf\" value=\"");
  ASSERT_NE(at, std::string::npos);
  const std::string csrf = page.body.substr(at + 19, page.body.find('"', at + 19) - at - 19);
  const Reply out = c.send("POST", "/logout", "csrf=" + csrf, "application/x-www-form-urlencoded");
  EXPECT_EQ(out.status, 303);
  EXPECT_EQ(out.header("Location"), "/login");
  EXPECT_FALSE(c.has_session());
  EXPECT_EQ(c.send("GET", "/audit").header("Location"), "/login");

  bool logged_in = false, logged_out = false, searched = false;
  for (const auto& e : entries("user.login")) logged_in |= e.find("u_auditor") != std::string::npos;
  for (const auto& e : entries("user.logout"))
    logged_out |= e.find("u_auditor") != std::string::npos;
  for (const auto& e : entries("audit.searched")) {
    searched |= e.find("\"filter_type\":\"user.login\"") != std::string::npos;
  }
  EXPECT_TRUE(logged_in);
  EXPECT_TRUE(logged_out);
  EXPECT_TRUE(searched);
}

TEST_F(WebAccess, AWrongPasswordIs401AndAuditedWithoutThePassword) {
  Client c = client();
  const Reply r = c.login_form("u_liaison", "not the password at all");
  EXPECT_EQ(r.status, 401);
  EXPECT_FALSE(c.has_session());
  bool found = false;
  for (const auto& e : entries("user.login_failed")) {
    EXPECT_EQ(e.find("not the password"), std::string::npos);
    found |= e.find("\"login\":\"u_liaison\"") != std::string::npos &&
             e.find("\"reason\":\"bad_password\"") != std::string::npos;
  }
  EXPECT_TRUE(found);
}

TEST_F(WebAccess, PostsWithoutTheCsrfTokenAreRefused) {
  Client c = client();
  const std::string csrf = c.login_api("u_coordinator");
  ASSERT_FALSE(csrf.empty());
  EXPECT_EQ(c.send("POST", "/logout", "", "application/x-www-form-urlencoded").status, 403);
  EXPECT_EQ(c.send("POST", "/logout", "csrf=forged", "application/x-www-form-urlencoded").status,
            403);
  EXPECT_EQ(c.send("DELETE", "/api/v1/session").status, 403);
  EXPECT_EQ(c.send("GET", "/api/v1/me").status, 200) << "the refused requests changed nothing";
  EXPECT_EQ(c.send("DELETE", "/api/v1/session", "", "", {{"X-CSRF-Token", csrf}}).status, 200);
  EXPECT_EQ(c.send("GET", "/api/v1/me").status, 401);
}

TEST_F(WebAccess, ALoginFormPostedFromAnotherSiteIsRefused) {
  Client c = client();
  const Reply r =
      c.send("POST", "/login", "csrf=x&login=u_admin&password=y",
             "application/x-www-form-urlencoded", {{"Origin", "https://attacker.example"}});
  EXPECT_EQ(r.status, 403);
}

// The authorisation matrix. Each row: a request, who may make it, and the status it gets when
// they may. Whoever may not gets 403 — or, without an account, the login page (303) on a page
// and 401 on the API. Add a row per new page or endpoint.
struct MatrixRow {
  std::string method;
  std::string target;
  std::vector<std::string> allowed;  // roles, and "anonymous"
  int status_if_allowed;
  bool api;
};

const std::vector<std::string> kEveryone = {"anonymous",        "liaison",      "coordinator",
                                            "pa_section_chief", "cg_emergency", "cg_caseworker",
                                            "cg_section_chief", "auditor",      "admin"};
const std::vector<std::string> kSignedIn = {"liaison",      "coordinator",   "pa_section_chief",
                                            "cg_emergency", "cg_caseworker", "cg_section_chief",
                                            "auditor",      "admin"};
// Those routes reach, and the section chiefs (保護課長, 児童相談所の課長) their escalations reach.
const std::vector<std::string> kNoticeRoles = {"liaison",      "coordinator",   "pa_section_chief",
                                               "cg_emergency", "cg_caseworker", "cg_section_chief"};

// `notice`: 東区's notice. None of the matrix's accounts (all of 中央区, with officer ids the
// roster does not have) may read it: whoever may use the notice routes gets 404 for it — the
// same as for an id that does not exist — and whoever may not, the usual 403 / 401 / 303.
std::vector<MatrixRow> matrix(const std::string& notice) {
  return {
      {"GET", "/login", kEveryone, 200, false},  // signed in: 303 to the home page, see below
      {"GET", "/", kSignedIn, 303, false},
      {"GET", "/account", kSignedIn, 200, false},
      {"GET", "/inbox", kNoticeRoles, 200, false},
      {"GET", "/audit", {"auditor"}, 200, false},
      {"GET", "/assets/tsunagu.css", kEveryone, 200, false},
      {"GET", "/api/v1/me", kSignedIn, 200, true},
      {"GET", "/api/v1/openapi.json", kEveryone, 200, true},
      {"GET", "/api/v1/audit/entries", {"auditor"}, 200, true},
      {"GET", "/api/v1/audit/entries?type=user.&limit=5", {"auditor"}, 200, true},
      {"GET", "/api/v1/audit/tree-head", {"auditor"}, 200, true},
      {"GET", "/api/v1/audit/proof/1", {"auditor"}, 200, true},
      {"GET", "/api/v1/notices", kNoticeRoles, 200, true},
      {"GET", "/api/v1/notices?status=open", kNoticeRoles, 200, true},
      {"GET", "/notices/" + notice, kNoticeRoles, 404, false},
      {"GET", "/notices/no-such-notice", kNoticeRoles, 404, false},
      {"GET", "/api/v1/notices/" + notice, kNoticeRoles, 404, true},
      {"GET", "/api/v1/notices/no-such-notice", kNoticeRoles, 404, true},
      {"POST", "/notices/" + notice + "/ack", kNoticeRoles, 404, false},
      {"POST", "/notices/" + notice + "/action", kNoticeRoles, 404, false},
      {"POST", "/api/v1/notices/" + notice + "/ack", kNoticeRoles, 404, true},
      {"POST", "/api/v1/notices/" + notice + "/actions", kNoticeRoles, 404, true},
      {"POST", "/logout", kSignedIn, 303, false},
      {"DELETE", "/api/v1/session", kSignedIn, 200, true},
  };
}

TEST_F(WebAccess, AuthorisationMatrix) {
  // Proofs need a signed head; the hub signs one every second here.
  ASSERT_TRUE(wait_until([] {
    return !entries("user.created").empty() && [] {
      auto store = tsunagu::store::Store::open_sqlite(hub_->data() / "store.db", {});
      auto q = store->query("SELECT COUNT(*) FROM audit_heads");
      return q.next() && q.integer(0) > 0;
    }();
  }));
  int checked = 0;
  const auto rows = matrix(notice_id_);
  for (const auto& who : kEveryone) {
    for (const auto& row : rows) {
      Client c = client();
      std::string csrf;
      if (who != "anonymous") csrf = c.login_api("u_" + who);
      const bool safe = row.method == "GET";
      std::vector<std::pair<std::string, std::string>> headers;
      std::string body;
      std::string type;
      if (!safe && row.method == "POST") {
        body = "csrf=" + csrf;
        type = "application/x-www-form-urlencoded";
      } else if (!safe) {
        headers.emplace_back("X-CSRF-Token", csrf);
      }
      const Reply r = c.send(row.method, row.target, body, type, headers);
      const bool allowed =
          std::find(row.allowed.begin(), row.allowed.end(), who) != row.allowed.end();
      int expected = row.status_if_allowed;
      if (allowed && who != "anonymous" && row.target == "/login") expected = 303;
      if (!allowed) expected = who != "anonymous" ? 403 : row.api ? 401 : 303;
      EXPECT_EQ(r.status, expected)
          << who << " " << row.method << " " << row.target << ": " << r.body.substr(0, 200);
      if (!allowed && who == "anonymous" && !row.api) {
        EXPECT_EQ(r.header("Location"), "/login") << row.target;
      }
      ++checked;
    }
  }
  EXPECT_EQ(checked, static_cast<int>(kEveryone.size() * rows.size()));
}

// The value of a hidden form field in a page.
std::string form_field(const std::string& page, const std::string& name) {
  const std::string marker = "name=\"" + name + "\" value=\"";
  const auto at = page.find(marker);
  if (at == std::string::npos) return "";
  const auto start = at + marker.size();
  return page.substr(start, page.find('"', start) - start);
}

TEST_F(WebAccess, ALiaisonOfAnotherWardCannotReadANoticeByGuessingItsId) {
  Client kita = client();
  const std::string csrf = kita.login_api("u_kita");
  const Reply inbox = kita.send("GET", "/inbox");
  ASSERT_EQ(inbox.status, 200);
  EXPECT_NE(inbox.body.find("通知はありません"), std::string::npos);
  EXPECT_EQ(inbox.body.find(notice_id_), std::string::npos);
  const Reply list = kita.send("GET", "/api/v1/notices");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.json()->getArray("notices")->size(), 0U);

  // The real id and a made-up one get the same answer: nothing is confirmed.
  const Reply page = kita.send("GET", "/notices/" + notice_id_);
  const Reply none = kita.send("GET", "/notices/00000000-0000-4000-8000-000000000000");
  EXPECT_EQ(page.status, 404);
  EXPECT_EQ(page.body, none.body);
  EXPECT_EQ(page.body.find(kHigashiChildName), std::string::npos);
  const Reply api = kita.send("GET", "/api/v1/notices/" + notice_id_);
  EXPECT_EQ(api.status, 404);
  EXPECT_EQ(api.json()->getValue<std::string>("error"), "not_found");
  EXPECT_EQ(kita.send("POST", "/notices/" + notice_id_ + "/ack", "csrf=" + csrf + "&note=x",
                      "application/x-www-form-urlencoded")
                .status,
            404);
  EXPECT_EQ(kita.send("POST", "/api/v1/notices/" + notice_id_ + "/actions", R"({"note":"x"})",
                      "application/json", {{"X-CSRF-Token", csrf}})
                .status,
            404);
  // The child guidance centre's caseworker (city-wide) is not a recipient of this route either.
  Client cg = client();
  cg.login_api("u_cg");
  EXPECT_EQ(cg.send("GET", "/api/v1/notices/" + notice_id_).status, 404);
  EXPECT_EQ(cg.send("GET", "/api/v1/notices").json()->getArray("notices")->size(), 0U);

  for (const auto& e : entries("notice.opened")) {
    EXPECT_EQ(e.find("u_kita"), std::string::npos) << e;
    EXPECT_EQ(e.find("u_cg"), std::string::npos) << e;
  }
  for (const auto& e : entries("notice.acknowledged"))
    EXPECT_EQ(e.find("u_kita"), std::string::npos);
}

TEST_F(WebAccess, ALiaisonOpensAcknowledgesAndRecordsAnActionAndTheAuditorFindsEachStep) {
  Client higashi = client();
  const std::string csrf = higashi.login_api("u_higashi");

  // The inbox: one notice, unread, not yet overdue; its due time in Japan time.
  const Reply inbox = higashi.send("GET", "/inbox");
  ASSERT_EQ(inbox.status, 200);
  EXPECT_NE(inbox.body.find("/notices/" + notice_id_), std::string::npos) << inbox.body;
  EXPECT_NE(inbox.body.find("<strong id=\"unread-count\">1</strong>"), std::string::npos);
  EXPECT_NE(inbox.body.find("ケースワーカー訪問時に子どもを確認できず"), std::string::npos);
  EXPECT_NE(inbox.body.find("東区"), std::string::npos);
  EXPECT_EQ(inbox.body.find(kHigashiChildName), std::string::npos) << "no fields in the list";
  const Reply list = higashi.send("GET", "/api/v1/notices?status=open");
  ASSERT_EQ(list.status, 200) << list.body;
  ASSERT_EQ(list.json()->getArray("notices")->size(), 1U);
  EXPECT_EQ(list.json()->getValue<int>("unread"), 1);
  const auto summary = list.json()->getArray("notices")->getObject(0);
  EXPECT_EQ(summary->getValue<std::string>("id"), notice_id_);
  EXPECT_EQ(summary->getValue<std::string>("ward_code"), "01103");
  EXPECT_FALSE(summary->has("fields"));
  EXPECT_EQ(higashi.send("GET", "/api/v1/notices?status=bogus").status, 400);
  // Her ward colleague without an officer id sees the ward's liaison notices too.
  Client team = client();
  team.login_api("u_higashi_team");
  EXPECT_EQ(team.send("GET", "/api/v1/notices").json()->getArray("notices")->size(), 1U);

  // The notice page: fields under Japanese labels, reason, legal basis; opening is recorded once.
  const Reply page = higashi.send("GET", "/notices/" + notice_id_);
  ASSERT_EQ(page.status, 200);
  for (const std::string& expected :
       {std::string(kHigashiChildName), std::string("氏名"), std::string("カナ"),
        std::string("生年月日"), std::string("月齢"), std::string("訪問時に子どもを確認できず"),
        std::string("個人情報保護法69条2項2号"), std::string("pa_liaison_welfare_visit"),
        std::string("東区の子ども支援窓口で"), std::string("受領を確認する")}) {
    EXPECT_NE(page.body.find(expected), std::string::npos) << expected;
  }
  EXPECT_EQ(page.body.find("0088000002"), std::string::npos) << "never the 宛名番号";
  EXPECT_EQ(page.body.find("札幌市東区北15条"), std::string::npos) << "never the address";
  ASSERT_EQ(higashi.send("GET", "/notices/" + notice_id_).status, 200);
  const Reply detail = higashi.send("GET", "/api/v1/notices/" + notice_id_);
  ASSERT_EQ(detail.status, 200);
  EXPECT_FALSE(detail.json()->getValue<bool>("unread"));
  std::size_t opened = 0;
  for (const auto& e : entries("notice.opened")) {
    opened += e.find(notice_id_) != std::string::npos ? 1 : 0;
    EXPECT_NE(e.find("user:u_higashi"), std::string::npos) << e;
  }
  EXPECT_EQ(opened, 1U) << "opened three times, recorded once";
  EXPECT_NE(higashi.send("GET", "/inbox").body.find("<strong id=\"unread-count\">0</strong>"),
            std::string::npos);

  // Acknowledge with the page's form (its CSRF token), then an action through the API.
  const std::string form_csrf = form_field(page.body, "csrf");
  EXPECT_EQ(form_csrf, csrf);
  EXPECT_EQ(higashi
                .send("POST", "/notices/" + notice_id_ + "/ack", "note=x",
                      "application/x-www-form-urlencoded")
                .status,
            403)
      << "without its CSRF token";
  const Reply ack =
      higashi.send("POST", "/notices/" + notice_id_ + "/ack",
                   "csrf=" + form_csrf + "&note=%E5%AD%A6%E6%A0%A1%E3%81%AB%E7%A2%BA%E8%AA%8D",
                   "application/x-www-form-urlencoded");
  ASSERT_EQ(ack.status, 303) << ack.body;
  EXPECT_EQ(ack.header("Location"), "/notices/" + notice_id_ + "?done=ack");
  const Reply after = higashi.send("GET", ack.header("Location"));
  EXPECT_NE(after.body.find("data-status=\"acknowledged\">確認済み"), std::string::npos);
  EXPECT_NE(after.body.find("学校に確認"), std::string::npos)
      << "the note, to those who may read it";
  EXPECT_EQ(
      higashi
          .send("POST", "/api/v1/notices/" + notice_id_ + "/ack", "", "", {{"X-CSRF-Token", csrf}})
          .status,
      409)
      << "already acknowledged";
  EXPECT_EQ(higashi
                .send("POST", "/api/v1/notices/" + notice_id_ + "/actions", R"({"note":"  "})",
                      "application/json", {{"X-CSRF-Token", csrf}})
                .status,
            400)
      << "an action needs a note";
  const Reply action = higashi.send("POST", "/api/v1/notices/" + notice_id_ + "/actions",
                                    R"({"note":"保育所に登園状況を確認した"})", "application/json",
                                    {{"X-CSRF-Token", csrf}});
  ASSERT_EQ(action.status, 201) << action.body;
  EXPECT_EQ(action.json()->getValue<std::string>("status"), "acknowledged");
  const auto history = action.json()->getArray("history");
  EXPECT_EQ(history->getObject(history->size() - 1)->getValue<std::string>("action"), "action");

  // The auditor: every step of this notice, found by its id and by its recipient — metadata only.
  Client auditor = client();
  auditor.login_api("u_auditor");
  const Reply steps = auditor.send("GET", "/api/v1/audit/entries?notice=" + notice_id_);
  ASSERT_EQ(steps.status, 200) << steps.body;
  std::set<std::string> types;
  const auto found = steps.json()->getArray("entries");
  for (std::size_t i = 0; i < found->size(); ++i)
    types.insert(found->getObject(i)->getValue<std::string>("type"));
  EXPECT_EQ(types, (std::set<std::string>{"routing.routed", "notice.opened", "notice.acknowledged",
                                          "notice.action"}));
  for (const std::string& body :
       {steps.body, auditor.send("GET", "/audit?notice=" + notice_id_).body}) {
    EXPECT_EQ(body.find(kHigashiChildName), std::string::npos);
    EXPECT_EQ(body.find("学校に確認"), std::string::npos) << "notes are not in the log";
    EXPECT_EQ(body.find("保育所に登園状況"), std::string::npos);
  }
  const Reply routed =
      auditor.send("GET", "/api/v1/audit/entries?type=routing.routed&notice=" + notice_id_);
  const auto routed_details =
      routed.json()->getArray("entries")->getObject(0)->getObject("details");
  EXPECT_EQ(routed_details->getValue<std::string>("recipients"),
            "higashi-liaison-1,higashi-liaison-2");
  EXPECT_NE(routed_details->getValue<std::string>("legal_basis").find("個人情報保護法69条2項2号"),
            std::string::npos);
  // By recipient: the routing to her officer id, and what her account did with it.
  const Reply by_recipient = auditor.send(
      "GET", "/api/v1/audit/entries?recipient=higashi-liaison-1&type=notice.acknowledged");
  ASSERT_EQ(by_recipient.json()->getArray("entries")->size(), 1U) << by_recipient.body;
  const Reply page_presets = auditor.send("GET", "/audit?recipient=higashi-liaison-1");
  EXPECT_NE(page_presets.body.find("id=\"preset-withheld\""), std::string::npos);
  EXPECT_NE(page_presets.body.find("type=routing.routed"), std::string::npos);
  // Auditors never read a notice itself.
  EXPECT_EQ(auditor.send("GET", "/api/v1/notices/" + notice_id_).status, 403);
}

TEST_F(WebAccess, HealthzRunsEveryCheckAndMetricsCountNoticesAndRequestsByRouteClass) {
  Client c = client();
  const Reply health = c.send("GET", "/healthz");
  ASSERT_EQ(health.status, 200) << health.body;
  const auto checks = health.json()->getObject("checks");
  for (const char* name : {"store", "plugins", "listeners", "checkpoints", "pushes"}) {
    ASSERT_TRUE(checks->has(name)) << name;
    EXPECT_EQ(checks->getObject(name)->getValue<std::string>("status"), "ok") << name;
  }
  EXPECT_GE(checks->getObject("plugins")->getValue<int>("loaded"), 4);
  EXPECT_EQ(checks->getObject("listeners")->getValue<int>("https_port"), hub_->port());
  EXPECT_EQ(checks->getObject("checkpoints")->getValue<int>("failures"), 0);

  c.send("GET", "/login");
  const Reply metrics = c.send("GET", "/metrics");
  ASSERT_EQ(metrics.status, 200);
  const std::string& m = metrics.body;
  EXPECT_NE(m.find("tsunagu_events_stored{system=\"public_assistance\"} 3"), std::string::npos)
      << m;
  EXPECT_NE(m.find("tsunagu_records_quarantined{system=\"public_assistance\"} 0"),
            std::string::npos);
  EXPECT_NE(m.find("# TYPE tsunagu_notices gauge"), std::string::npos);
  EXPECT_NE(m.find("tsunagu_notices_overdue "), std::string::npos);
  EXPECT_NE(m.find("tsunagu_http_requests_total{class=\"session\",code=\"200\"}"),
            std::string::npos);
  EXPECT_NE(m.find("tsunagu_http_request_duration_seconds_bucket{class=\"status\",le=\"+Inf\"}"),
            std::string::npos);
  EXPECT_NE(m.find("tsunagu_http_request_duration_seconds_count{class=\"session\"}"),
            std::string::npos);
  EXPECT_NE(m.find("tsunagu_delivery_attempts_total{outcome=\"dead\"} 0"), std::string::npos)
      << "the routes deliver to the inbox only: no channel attempts";
  EXPECT_NE(m.find("tsunagu_delivery_outbox{status=\"dead\"} 0"), std::string::npos);
  EXPECT_EQ(m.find("higashi"), std::string::npos);
}

TEST_F(WebAccess, AnAuditorsApiTokenSearchesAndGetsProofsThatCheckOffline) {
  std::string token;
  ASSERT_EQ(hub_->cli({"user", "token", "u_auditor", "--label", "integration"}, token), 0) << token;
  token = token.substr(token.find("tsu_"));
  token = token.substr(0, token.find('\n'));
  Client c = client();
  const std::vector<std::pair<std::string, std::string>> bearer{
      {"Authorization", "Bearer " + token}};

  const Reply r = c.send("GET", "/api/v1/audit/entries?type=user.created&limit=2", "", "", bearer);
  ASSERT_EQ(r.status, 200) << r.body;
  const auto list = r.json()->getArray("entries");
  ASSERT_EQ(list->size(), 2U);
  const auto first = list->getObject(0);
  EXPECT_EQ(first->getValue<std::string>("type"), "user.created");
  EXPECT_GT(first->getValue<Poco::Int64>("seq"), list->getObject(1)->getValue<Poco::Int64>("seq"));
  EXPECT_FALSE(r.json()->isNull("next_before"));
  EXPECT_EQ(c.send("GET", "/api/v1/audit/entries?from=yesterday", "", "", bearer).status, 400);

  ASSERT_TRUE(wait_until(
      [&] { return c.send("GET", "/api/v1/audit/tree-head", "", "", bearer).status == 200; }));
  const Reply head = c.send("GET", "/api/v1/audit/tree-head", "", "", bearer);
  EXPECT_GT(head.json()->getValue<Poco::Int64>("tree_size"), 0);

  const Reply proof = c.send("GET", "/api/v1/audit/proof/1", "", "", bearer);
  ASSERT_EQ(proof.status, 200) << proof.body;
  const fs::path file = hub_->dir().write("proof.json", proof.body);
  std::string out;
  EXPECT_EQ(hub_->cli({"audit", "check-proof", file.string(), "--public-key",
                       (hub_->data() / "keys" / "audit-ed25519.pub.pem").string()},
                      out),
            0)
      << out;
  EXPECT_EQ(c.send("GET", "/api/v1/audit/proof/999999", "", "", bearer).status, 404);
  EXPECT_EQ(c.send("GET", "/api/v1/audit/proof/x", "", "", bearer).status, 400);
  EXPECT_EQ(c.send("GET", "/api/v1/audit/entries", "", "", {{"Authorization", "Bearer tsu_forged"}})
                .status,
            401);
}

TEST_F(WebAccess, ADisabledAccountsSessionEndsAtOnce) {
  hub_->add_account("u_leaver", "liaison");
  Client c = client();
  ASSERT_FALSE(c.login_api("u_leaver").empty());
  EXPECT_EQ(c.send("GET", "/inbox").status, 200);
  std::string out;
  ASSERT_EQ(hub_->cli({"user", "disable", "u_leaver"}, out), 0) << out;
  EXPECT_EQ(c.send("GET", "/inbox").header("Location"), "/login");
  const Reply again =
      c.send("POST", "/api/v1/session",
             R"({"login":"u_leaver","password":")" + std::string(WebInstance::kPassword) + R"("})",
             "application/json");
  EXPECT_EQ(again.status, 401);
}

// --- The section chiefs: an escalation made by the daemon, read by its addressee only ---

// A hub of its own (the shared one's notice must not escalate under the other tests): 東区's notice
// is routed to its liaisons, then escalated twice by the daemon's own tick — to 東区's 支援調整課,
// then to 東区's 保護課長 (route pa_visit_child_not_seen). Only the clock is not waited for: the
// notice's next escalation time is moved back to 2019-04-10 (Wed) 10:00 JST, inside office hours,
// so each tick takes the chain's next step rather than the after-hours team.
class WebChiefs : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    Poco::Net::initializeSSL();
    hub_ = new WebInstance(1, /*with_routing=*/true);
    hub_->add_account("u_higashi_chief", "pa_section_chief", "higashi-pa-chief", "01103");
    hub_->add_account("u_higashi_chief_team", "pa_section_chief", "", "01103");
    hub_->add_account("u_kita_chief", "pa_section_chief", "kita-pa-chief", "01102");
    hub_->add_account("u_cg_chief", "cg_section_chief", "cg-section-chief");
    hub_->start();
    route_a_higashi_notice(hub_->spool("public_assistance"));
    const auto routed = notices("type = 'route' AND rule_id = 'pa_visit_child_not_seen'");
    if (routed.size() != 1) return;
    notice_id_ = routed.front();
    if (!escalate_once("coordinator") || !escalate_once("pa_section_chief")) return;
    const auto to_chief = notices("type = 'escalation' AND recipient_role = 'pa_section_chief'");
    if (to_chief.size() == 1) escalation_id_ = to_chief.front();
  }
  static void TearDownTestSuite() {
    if (hub_ != nullptr) {
      EXPECT_EQ(hub_->stop(), 0);
    }
    delete hub_;
    hub_ = nullptr;
    Poco::Net::uninitializeSSL();
  }

  void SetUp() override {
    ASSERT_FALSE(notice_id_.empty()) << "the PA files routed no notice";
    ASSERT_FALSE(escalation_id_.empty()) << "the daemon did not escalate to the 保護課長";
  }

  static std::vector<std::string> notices(const std::string& where) {
    auto store = tsunagu::store::Store::open_sqlite(hub_->data() / "store.db", {});
    std::vector<std::string> ids;
    auto q = store->query("SELECT id FROM notices WHERE " + where);
    while (q.next()) ids.push_back(q.text(0));
    return ids;
  }

  // Moves the routed notice's next escalation back into office hours in 2019 and waits until the
  // daemon has escalated it to `role`.
  static bool escalate_once(const std::string& role) {
    {
      auto store = tsunagu::store::Store::open_sqlite(hub_->data() / "store.db", {});
      store->query("UPDATE notices SET next_escalation_at = 1554858000 WHERE id = ?")
          .bind(notice_id_)
          .run();
    }
    return wait_until([&] {
      return notices("type = 'escalation' AND parent_id = '" + notice_id_ +
                     "' AND recipient_role = '" + role + "'")
                 .size() == 1;
    });
  }

  static Client client() { return Client(*hub_, client_context(*hub_)); }

  static WebInstance* hub_;
  static std::string notice_id_;      // to 東区's liaisons
  static std::string escalation_id_;  // to 東区's 保護課長
};

WebInstance* WebChiefs::hub_ = nullptr;
std::string WebChiefs::notice_id_;
std::string WebChiefs::escalation_id_;

TEST_F(WebChiefs, TheWardsSectionChiefReadsAndAcknowledgesTheEscalationAddressedToHim) {
  Client chief = client();
  const std::string csrf = chief.login_api("u_higashi_chief");
  EXPECT_EQ(chief.send("GET", "/").header("Location"), "/inbox");
  EXPECT_NE(chief.send("GET", "/account").body.find("保護課長"), std::string::npos);

  const Reply list = chief.send("GET", "/api/v1/notices");
  ASSERT_EQ(list.status, 200) << list.body;
  const auto items = list.json()->getArray("notices");
  ASSERT_EQ(items->size(), 1U) << list.body;
  EXPECT_EQ(items->getObject(0)->getValue<std::string>("id"), escalation_id_);
  EXPECT_EQ(items->getObject(0)->getValue<std::string>("ward_code"), "01103");
  const Reply inbox = chief.send("GET", "/inbox");
  ASSERT_EQ(inbox.status, 200);
  EXPECT_NE(inbox.body.find("/notices/" + escalation_id_), std::string::npos);
  EXPECT_NE(inbox.body.find("【期限超過】"), std::string::npos);

  const Reply page = chief.send("GET", "/notices/" + escalation_id_);
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.body.find(kHigashiChildName), std::string::npos);
  EXPECT_NE(page.body.find("higashi-pa-chief"), std::string::npos);
  // The liaisons' notice itself is not his: only what was escalated to him.
  EXPECT_EQ(chief.send("GET", "/api/v1/notices/" + notice_id_).status, 404);
  const Reply ack = chief.send("POST", "/api/v1/notices/" + escalation_id_ + "/ack",
                               R"({"note":"担当と状況を確認した"})", "application/json",
                               {{"X-CSRF-Token", csrf}});
  EXPECT_EQ(ack.status, 200) << ack.body;

  // A colleague's account of the same ward and role, without an officer id: the ward's inbox.
  Client team = client();
  team.login_api("u_higashi_chief_team");
  EXPECT_EQ(team.send("GET", "/api/v1/notices/" + escalation_id_).status, 200);

  bool opened = false;
  for (const auto& e : entries_of(*hub_, "notice.opened"))
    opened |= e.find(escalation_id_) != std::string::npos &&
              e.find("user:u_higashi_chief") != std::string::npos;
  EXPECT_TRUE(opened);
}

TEST_F(WebChiefs, AnotherWardsChiefAndTheChildGuidanceChiefGet404) {
  for (const std::string login : {"u_kita_chief", "u_cg_chief"}) {
    Client other = client();
    const std::string csrf = other.login_api(login);
    const Reply list = other.send("GET", "/api/v1/notices");
    ASSERT_EQ(list.status, 200) << login;
    EXPECT_EQ(list.json()->getArray("notices")->size(), 0U) << login;
    EXPECT_EQ(other.send("GET", "/inbox").body.find(escalation_id_), std::string::npos) << login;
    const Reply page = other.send("GET", "/notices/" + escalation_id_);
    const Reply none = other.send("GET", "/notices/00000000-0000-4000-8000-000000000000");
    EXPECT_EQ(page.status, 404) << login;
    EXPECT_EQ(page.body, none.body) << login;
    EXPECT_EQ(page.body.find(kHigashiChildName), std::string::npos) << login;
    EXPECT_EQ(other.send("GET", "/api/v1/notices/" + escalation_id_).status, 404) << login;
    EXPECT_EQ(other
                  .send("POST", "/api/v1/notices/" + escalation_id_ + "/actions", R"({"note":"x"})",
                        "application/json", {{"X-CSRF-Token", csrf}})
                  .status,
              404)
        << login;
  }
  for (const auto& e : entries_of(*hub_, "notice.opened")) {
    EXPECT_EQ(e.find("u_kita_chief"), std::string::npos) << e;
    EXPECT_EQ(e.find("u_cg_chief"), std::string::npos) << e;
  }
}

// --- TLS, with the openssl command line ---

struct SClient {
  int rc = 0;
  std::string out;
};

class WebTls : public WebAccess {
 protected:
  static SClient run(std::vector<std::string> args, const std::string& input = "") {
    std::vector<std::string> all{"s_client",
                                 "-connect",
                                 "localhost:" + std::to_string(hub_->port()),
                                 "-servername",
                                 "localhost",
                                 "-CAfile",
                                 hub_->ca().string(),
                                 "-verify_return_error"};
    all.insert(all.end(), args.begin(), args.end());
    SClient r;
    r.rc = run_program("openssl", all, input, r.out);
    return r;
  }
  static std::string http_request(const std::string& method, const std::string& path,
                                  const std::string& content_type = "") {
    return method + " " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n" +
           (content_type.empty() ? "" : "Content-Type: " + content_type + "\r\n") +
           (method == "POST" ? "Content-Length: 9\r\n\r\na,b,c\r\n\r\n" : "\r\n");
  }
};

TEST_F(WebTls, Tls10And11AreRefusedAndTls12And13Accepted) {
  // SECLEVEL=0 lets the client offer the old versions at all: the refusal seen is the hub's.
  for (const char* old : {"-tls1", "-tls1_1"}) {
    const SClient r = run({old, "-cipher", "DEFAULT@SECLEVEL=0", "-brief"});
    EXPECT_NE(r.rc, 0) << old << ":\n" << r.out;
    EXPECT_NE(r.out.find("alert protocol version"), std::string::npos) << old << ":\n" << r.out;
  }
  for (const auto& [flag, name] : std::vector<std::pair<std::string, std::string>>{
           {"-tls1_2", "TLSv1.2"}, {"-tls1_3", "TLSv1.3"}}) {
    const SClient r = run({flag, "-brief"});
    EXPECT_EQ(r.rc, 0) << flag << ":\n" << r.out;
    EXPECT_NE(r.out.find("Protocol version: " + name), std::string::npos) << r.out;
  }
  // TLS 1.2 with a weak suite: refused.
  const SClient weak = run({"-tls1_2", "-cipher", "AES128-SHA", "-brief"});
  EXPECT_NE(weak.rc, 0) << weak.out;
}

TEST_F(WebTls, PagesAnswerWithoutACertificateButIngestRefusesAPushWithoutOne) {
  const SClient page = run({"-quiet"}, http_request("GET", "/login"));
  EXPECT_NE(page.out.find("HTTP/1.1 200"), std::string::npos) << page.out;
  const SClient push =
      run({"-quiet"}, http_request("POST", "/api/v1/ingest/public_assistance", "text/csv"));
  EXPECT_NE(push.out.find("HTTP/1.1 401"), std::string::npos) << push.out;
  EXPECT_NE(push.out.find("no_certificate"), std::string::npos) << push.out;
}

TEST_F(WebTls, ACertificateOfAnotherCaEndsTheHandshake) {
  const fs::path other = hub_->dir().path() / "other-ca";
  std::string out;
  ASSERT_EQ(run_program((kSourceDir / "scripts" / "make-certs.sh").string(),
                        {other.string(), "public_assistance"}, "", out),
            0)
      << out;
  const SClient r = run({"-quiet", "-cert", (other / "clients" / "public_assistance.crt").string(),
                         "-key", (other / "clients" / "public_assistance.key").string()},
                        http_request("POST", "/api/v1/ingest/public_assistance", "text/csv"));
  EXPECT_EQ(r.out.find("HTTP/1.1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("alert"), std::string::npos) << r.out;
}

}  // namespace
