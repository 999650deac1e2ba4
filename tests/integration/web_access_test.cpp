// The pages and API of people on the real tsunagud over HTTPS, without client certificates:
// logging in and out, CSRF, the authorisation matrix (every page and endpoint × every role and
// anonymous), the auditor's search, tree head and proofs, and — with the openssl s_client
// binary — the TLS versions the listener takes and the client certificate ingest still needs.
#include <gtest/gtest.h>

#include <Poco/Data/Session.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/NetSSL.h>
#include <Poco/StreamCopier.h>

#include "store/store.hpp"
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

const std::vector<std::string> kRoles = {"liaison",       "coordinator", "cg_emergency",
                                         "cg_caseworker", "auditor",     "admin"};

class WebAccess : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    Poco::Net::initializeSSL();
    hub_ = new WebInstance;
    for (const auto& role : kRoles)
      hub_->add_account("u_" + role, role, "officer-" + role, "01101");
    hub_->start();
  }
  static void TearDownTestSuite() {
    if (hub_ != nullptr) {
      EXPECT_EQ(hub_->stop(), 0);
    }
    delete hub_;
    hub_ = nullptr;
    Poco::Net::uninitializeSSL();
  }

  static Poco::Net::Context::Ptr context() {
    Poco::Net::Context::Params p;
    p.caLocation = hub_->ca().string();
    p.verificationMode = Poco::Net::Context::VERIFY_STRICT;
    p.loadDefaultCAs = false;
    return new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, p);
  }
  static Client client() { return Client(*hub_, context()); }

  // Entries of the log of one type, read straight from the store as an auditor's tool would.
  static std::vector<std::string> entries(const std::string& type) {
    auto store = tsunagu::store::Store::open_sqlite(hub_->data() / "store.db", {});
    std::vector<std::string> out;
    std::string t = type;
    using namespace Poco::Data::Keywords;
    store->session() << "SELECT entry FROM audit_entries WHERE type = ? ORDER BY seq", use(t),
        into(out), now;
    return out;
  }

  static WebInstance* hub_;
};

WebInstance* WebAccess::hub_ = nullptr;

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
// and 401 on the API. Add a row per new page or endpoint (the notices of issue 6).
struct MatrixRow {
  const char* method;
  const char* target;
  std::vector<std::string> allowed;  // roles, and "anonymous"
  int status_if_allowed;
  bool api;
};

const std::vector<std::string> kEveryone = {
    "anonymous", "liaison", "coordinator", "cg_emergency", "cg_caseworker", "auditor", "admin"};
const std::vector<std::string> kSignedIn = {"liaison",       "coordinator", "cg_emergency",
                                            "cg_caseworker", "auditor",     "admin"};
const std::vector<std::string> kNoticeRoles = {"liaison", "coordinator", "cg_emergency",
                                               "cg_caseworker"};

const std::vector<MatrixRow> kMatrix = {
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
    {"POST", "/logout", kSignedIn, 303, false},
    {"DELETE", "/api/v1/session", kSignedIn, 200, true},
};

TEST_F(WebAccess, AuthorisationMatrix) {
  // Proofs need a signed head; the hub signs one every second here.
  ASSERT_TRUE(wait_until([] {
    return !entries("user.created").empty() && [] {
      auto store = tsunagu::store::Store::open_sqlite(hub_->data() / "store.db", {});
      Poco::Int64 n = 0;
      using namespace Poco::Data::Keywords;
      store->session() << "SELECT COUNT(*) FROM audit_heads", into(n), now;
      return n > 0;
    }();
  }));
  int checked = 0;
  for (const auto& who : kEveryone) {
    for (const auto& row : kMatrix) {
      Client c = client();
      std::string csrf;
      if (who != "anonymous") csrf = c.login_api("u_" + who);
      const bool safe = std::string(row.method) == "GET";
      std::vector<std::pair<std::string, std::string>> headers;
      std::string body;
      std::string type;
      if (!safe && std::string(row.method) == "POST") {
        body = "csrf=" + csrf;
        type = "application/x-www-form-urlencoded";
      } else if (!safe) {
        headers.emplace_back("X-CSRF-Token", csrf);
      }
      const Reply r = c.send(row.method, row.target, body, type, headers);
      const bool allowed =
          std::find(row.allowed.begin(), row.allowed.end(), who) != row.allowed.end();
      int expected = row.status_if_allowed;
      if (allowed && who != "anonymous" && std::string(row.target) == "/login") expected = 303;
      if (!allowed) expected = who != "anonymous" ? 403 : row.api ? 401 : 303;
      EXPECT_EQ(r.status, expected)
          << who << " " << row.method << " " << row.target << ": " << r.body.substr(0, 200);
      if (!allowed && who == "anonymous" && !row.api) {
        EXPECT_EQ(r.header("Location"), "/login") << row.target;
      }
      ++checked;
    }
  }
  EXPECT_EQ(checked, static_cast<int>(kEveryone.size() * kMatrix.size()));
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
