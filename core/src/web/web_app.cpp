#include "web/web_app.hpp"

#include <stdexcept>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Logger.h>

#include "http/client_identity.hpp"
#include "http/response.hpp"
#include "web/audit_search.hpp"
#include "web/forms.hpp"
#include "web/pages.hpp"
#include "web/secret_token.hpp"

namespace tsunagu::web {
namespace {

using http::Request;
using http::Response;

Poco::Logger& log() {
  return Poco::Logger::get("tsunagu.web");
}

constexpr const char* kHtml = "text/html; charset=utf-8";
constexpr const char* kLoginFailed = "ログイン ID またはパスワードが違います";

Response html(int status, std::string body) {
  Response r;
  r.status = status;
  r.content_type = kHtml;
  r.body = std::move(body);
  return r;
}

Response redirect(const std::string& location) {
  Response r = html(303, "");
  r.headers.emplace_back("Location", location);
  return r;
}

bool is_safe(const std::string& method) {
  return method == "GET" || method == "HEAD";
}

std::string cookie_header(const Request& r) {
  const std::string* h = r.header("cookie");
  return h == nullptr ? std::string() : *h;
}

std::string clear_cookie(const char* name) {
  return std::string(name) + "=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0";
}

std::string login_cookie(const std::string& token) {
  return std::string(kLoginCookie) + "=" + token +
         "; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=3600";
}

Poco::JSON::Object::Ptr account_json(const Principal& p) {
  auto o = http::json_object();
  o->set("login", p.account.login);
  o->set("role", std::string(to_string(p.account.role)));
  o->set("officer_id", p.account.officer_id);
  o->set("ward_code", p.account.ward_code);
  o->set("via", std::string(p.via == Principal::Via::session ? "session" : "api_token"));
  return o;
}

// A refusal in the form of the route: a page or JSON.
Response refuse(const WebApp::Context& c, int status, const std::string& code,
                const std::string& message) {
  if (c.rule.surface == Surface::api) return http::error_response(status, code, message);
  const char* title = status == 403 ? "アクセスできません" : "リクエストを処理できません";
  return html(status, render_message(c.principal ? &*c.principal : nullptr, title, message));
}

}  // namespace

struct WebApp::LoginOutcome {
  std::optional<OpenedSession> session;
  int status = 401;
  std::chrono::seconds retry_after{0};
};

http::StoreSession& WebApp::Context::store() {
  if (!session_) session_ = std::make_unique<http::StoreSession>(open_);
  return *session_;
}

WebApp::WebApp(http::StoreOpener open_store, WebOptions options, const Clock& clock)
    : open_store_(std::move(open_store)), options_(options), clock_(clock), throttle_(clock) {}

WebApp::~WebApp() = default;

void WebApp::set_routing(RoutingSource source) {
  routing_ = std::move(source);
}

NoticeLabels WebApp::labels() const {
  return NoticeLabels(routing_ ? routing_() : nullptr);
}

std::string WebApp::session_cookie(const std::string& id) const {
  return std::string(kSessionCookie) + "=" + id +
         "; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=" +
         std::to_string(options_.sessions.absolute.count());
}

void WebApp::route(http::Router& router, const char* method, const char* pattern, Handler handler) {
  const AccessRule* rule = find_access_rule(method, pattern);
  if (rule == nullptr) {
    throw std::logic_error(std::string("route ") + method + " " + pattern +
                           " has no row in the access table (web/access_policy.cpp)");
  }
  installed_.emplace_back(method, pattern);
  router.add(method, pattern,
             [this, rule, h = std::move(handler)](Request& r) { return guarded(*rule, h, r); });
}

void WebApp::install(http::Router& router) {
  auto bind = [this](Response (WebApp::*f)(Context&)) {
    return [this, f](Context& c) { return (this->*f)(c); };
  };
  route(router, "GET", "/", bind(&WebApp::home));
  route(router, "GET", "/login", bind(&WebApp::login_page));
  route(router, "POST", "/login", bind(&WebApp::login_form));
  route(router, "POST", "/logout", bind(&WebApp::logout));
  route(router, "GET", "/account", bind(&WebApp::account_page));
  route(router, "GET", "/inbox", bind(&WebApp::inbox_page));
  route(router, "GET", "/notices/{id}", bind(&WebApp::notice_page));
  route(router, "POST", "/notices/{id}/ack", bind(&WebApp::notice_ack_form));
  route(router, "POST", "/notices/{id}/action", bind(&WebApp::notice_action_form));
  route(router, "GET", "/audit", bind(&WebApp::audit_page));
  route(router, "GET", "/assets/tsunagu.css", [](Context&) {
    Response r;
    r.content_type = "text/css; charset=utf-8";
    r.body = kStyleSheet;
    return r;
  });
  route(router, "POST", "/api/v1/session", bind(&WebApp::api_login));
  route(router, "DELETE", "/api/v1/session", bind(&WebApp::api_logout));
  route(router, "GET", "/api/v1/me", bind(&WebApp::api_me));
  route(router, "GET", "/api/v1/openapi.json", [](Context&) {
    Response r;
    r.body = openapi_document();
    return r;
  });
  route(router, "GET", "/api/v1/notices", bind(&WebApp::api_notices));
  route(router, "GET", "/api/v1/notices/{id}", bind(&WebApp::api_notice));
  route(router, "POST", "/api/v1/notices/{id}/ack", bind(&WebApp::api_notice_ack));
  route(router, "POST", "/api/v1/notices/{id}/actions", bind(&WebApp::api_notice_action));
  route(router, "GET", "/api/v1/audit/entries", bind(&WebApp::api_entries));
  route(router, "GET", "/api/v1/audit/tree-head", bind(&WebApp::api_tree_head));
  route(router, "GET", "/api/v1/audit/proof/{seq}", bind(&WebApp::api_proof));
  for (const auto& rule : access_table()) {
    bool found = false;
    for (const auto& [m, p] : installed_) found = found || (m == rule.method && p == rule.pattern);
    if (!found) {
      throw std::logic_error(std::string("the access table has ") + rule.method + " " +
                             rule.pattern + " but no route serves it");
    }
  }
}

Response WebApp::guarded(const AccessRule& rule, const Handler& handler, Request& request) {
  Context c(request, rule, open_store_);
  c.address = address_without_port(request.remote);
  const bool api = rule.surface == Surface::api;

  // 1. A browser names the page an unsafe request comes from; it must be one of ours.
  if (!is_safe(request.method)) {
    const std::string* origin = request.header("origin");
    const std::string* host = request.header("host");
    if (origin != nullptr && (host == nullptr || *origin != "https://" + *host)) {
      log().warning("%s %s from %s refused: Origin %s is not this server", request.method,
                    request.path, request.remote, *origin);
      return refuse(c, 403, "cross_origin", "他のサイトからの送信は受け付けません");
    }
  }

  if (auto query = parse_urlencoded(request.query)) {
    c.query = std::move(*query);
  } else {
    return refuse(c, 400, "bad_query", "the query string is not valid UTF-8");
  }

  // 2. Who is asking.
  const std::string* authorization = api ? request.header("authorization") : nullptr;
  bool stale_cookie = false;
  if (authorization != nullptr) {
    const std::string prefix = "Bearer ";
    if (authorization->rfind(prefix, 0) == 0) {
      c.principal = Accounts(*c.store().store, *c.store().audit, clock_)
                        .api_token(authorization->substr(prefix.size()));
    }
    if (!c.principal) {
      Response r = http::error_response(401, "invalid_token",
                                        "the bearer token is unknown, revoked or expired");
      r.headers.emplace_back("WWW-Authenticate", "Bearer error=\"invalid_token\"");
      return r;
    }
  } else if (const std::string id = cookie_value(cookie_header(request), kSessionCookie);
             !id.empty()) {
    c.principal =
        Accounts(*c.store().store, *c.store().audit, clock_).session(id, options_.sessions);
    stale_cookie = !c.principal;
  }

  // 3. May they?
  Response out;
  if (!c.principal && !rule.audience.admits_anonymous()) {
    if (api) {
      out = http::error_response(401, "unauthenticated",
                                 "sign in (POST /api/v1/session) or send a bearer token");
      out.headers.emplace_back("WWW-Authenticate", "Bearer");
    } else {
      out = redirect("/login");
    }
  } else if (c.principal && !rule.audience.admits(c.principal->account.role)) {
    log().information("%s %s: %s (%s) is not allowed", request.method, request.path,
                      c.principal->account.login,
                      std::string(to_string(c.principal->account.role)));
    out = refuse(c, 403, "forbidden",
                 std::string("この画面は「") + display_name(c.principal->account.role) +
                     "」の役割では利用できません");
  } else {
    // 4. Forms are read here, so that the CSRF check and the handler see the same fields.
    bool ok = true;
    if (!is_safe(request.method) &&
        http::media_type(request.content_type) == "application/x-www-form-urlencoded") {
      std::optional<std::string> body =
          request.body != nullptr ? request.body->read(options_.max_form_bytes) : std::string();
      auto form = body ? parse_urlencoded(*body) : std::nullopt;
      if (!form) {
        out = refuse(c, body ? 400 : 413, body ? "bad_form" : "form_too_large",
                     "the form could not be read");
        ok = false;
      } else {
        c.form = std::move(*form);
      }
    }
    if (ok && !is_safe(request.method) && c.principal &&
        c.principal->via == Principal::Via::session) {
      const auto field = c.form.find("csrf");
      const std::string* header = request.header("x-csrf-token");
      const std::string sent = field != c.form.end() ? field->second
                               : header != nullptr   ? *header
                                                     : std::string();
      if (!constant_time_equal(sent, c.principal->csrf_token)) {
        log().warning("%s %s from %s (%s) refused: missing or wrong CSRF token", request.method,
                      request.path, request.remote, c.principal->account.login);
        out =
            refuse(c, 403, "csrf_failed",
                   "フォームの確認用トークンがありません。ページを開き直してから送信してください");
        ok = false;
      }
    }
    if (ok) out = handler(c);
  }
  for (auto& cookie : c.cookies) out.headers.emplace_back("Set-Cookie", std::move(cookie));
  if (stale_cookie) out.headers.emplace_back("Set-Cookie", clear_cookie(kSessionCookie));
  return out;
}

// --- pages ---

Response WebApp::home(Context& c) {
  const Role role = c.principal->account.role;
  if (receives_notices(role)) return redirect("/inbox");
  if (role == Role::auditor) return redirect("/audit");
  return redirect("/account");
}

Response WebApp::login_page(Context& c) {
  if (c.principal) return redirect("/");
  const std::string token = random_token(32);
  c.cookies.push_back(login_cookie(token));
  return html(200, render_login(token, "", ""));
}

WebApp::LoginOutcome WebApp::attempt_login(Context& c, const std::string& login,
                                           const std::string& password, const char* via) {
  LoginOutcome outcome;
  Accounts accounts(*c.store().store, *c.store().audit, clock_);
  outcome.retry_after = throttle_.wait_before(login, c.address);
  if (outcome.retry_after.count() > 0) {
    accounts.record_failure(login, "throttled", c.address, via);
    outcome.status = 429;
    return outcome;
  }
  std::optional<Account> account;
  const auto result = accounts.check_password(login, password, account);
  if (result != Accounts::CheckResult::ok) {
    throttle_.record_failure(login, c.address);
    const char* reason = result == Accounts::CheckResult::unknown_account ? "unknown_account"
                         : result == Accounts::CheckResult::disabled      ? "disabled"
                                                                          : "bad_password";
    accounts.record_failure(login, reason, c.address, via);
    log().information("login failed from %s: %s", c.address, std::string(reason));
    return outcome;
  }
  throttle_.record_success(login);
  outcome.session = accounts.open_session(*account, c.address, via);
  outcome.status = 200;
  return outcome;
}

Response WebApp::login_form(Context& c) {
  // Double submit: the token in the form must be the one this server set in the cookie, which a
  // page elsewhere can neither read nor set (__Host-, SameSite=Strict).
  const std::string expected = cookie_value(cookie_header(c.request), kLoginCookie);
  const auto sent = c.form.find("csrf");
  const std::string fresh = random_token(32);
  c.cookies.push_back(login_cookie(fresh));
  if (expected.empty() || sent == c.form.end() || !constant_time_equal(sent->second, expected)) {
    return html(
        403, render_login(fresh, "ページの有効期限が切れました。もう一度ログインしてください", ""));
  }
  const std::string login = c.form.count("login") ? c.form["login"] : "";
  const std::string password = c.form.count("password") ? c.form["password"] : "";
  if (login.empty() || password.empty()) {
    return html(400, render_login(fresh, "ログイン ID とパスワードを入力してください", login));
  }
  const LoginOutcome outcome = attempt_login(c, login, password, "page");
  if (outcome.status == 429) {
    Response r = html(429, render_login(fresh,
                                        "ログインの失敗が続いたため、" +
                                            std::to_string(outcome.retry_after.count()) +
                                            " 秒間ログインできません",
                                        login));
    r.headers.emplace_back("Retry-After", std::to_string(outcome.retry_after.count()));
    return r;
  }
  if (!outcome.session) return html(401, render_login(fresh, kLoginFailed, login));
  c.cookies.clear();
  c.cookies.push_back(clear_cookie(kLoginCookie));
  c.cookies.push_back(session_cookie(outcome.session->id));
  return redirect("/");
}

Response WebApp::logout(Context& c) {
  Accounts(*c.store().store, *c.store().audit, clock_).end_session(*c.principal, c.address);
  c.cookies.push_back(clear_cookie(kSessionCookie));
  return redirect("/login");
}

Response WebApp::account_page(Context& c) {
  return html(200, render_account(*c.principal));
}

namespace {

// Runs the search and logs it (audit.searched) before anything is shown: a search that cannot
// be logged is not answered.
std::vector<AuditRow> logged_search(http::StoreSession& s, const Principal& p, const AuditFilter& f,
                                    const char* via) {
  auto rows = search_audit(*s.store, f);
  std::map<std::string, std::string> details{
      {"login", p.account.login}, {"via", via}, {"results", std::to_string(rows.size())}};
  // Prefixed, so that a search for system X is not itself an entry of system X.
  for (const auto& [k, v] : f.as_map()) details["filter_" + k] = v;
  s.audit->append_now({audit::entry_type::kAuditSearched, "user:" + p.account.login, "", details});
  return rows;
}

}  // namespace

Response WebApp::audit_page(Context& c) {
  AuditFilter filter;
  std::string error;
  std::vector<AuditRow> rows;
  try {
    filter = audit_filter_from(c.query);
    rows = logged_search(c.store(), *c.principal, filter, "page");
  } catch (const FilterError& e) {
    error = e.what();
  }
  auto& audit = *c.store().audit;
  return html(error.empty() ? 200 : 400,
              render_audit(*c.principal, filter, rows, audit.latest_head(), audit.size(), error));
}

// --- API ---

Response WebApp::api_login(Context& c) {
  if (http::media_type(c.request.content_type) != "application/json") {
    return http::error_response(415, "unsupported_media_type",
                                "send {\"login\":…,\"password\":…} as application/json");
  }
  std::optional<std::string> body = c.request.body != nullptr
                                        ? c.request.body->read(options_.max_form_bytes)
                                        : std::optional<std::string>("");
  if (!body) return http::error_response(413, "body_too_large", "the body is too large");
  std::string login, password;
  try {
    Poco::JSON::Parser parser;
    const auto o = parser.parse(*body).extract<Poco::JSON::Object::Ptr>();
    login = o->optValue<std::string>("login", "");
    password = o->optValue<std::string>("password", "");
  } catch (const std::exception&) {
    return http::error_response(400, "bad_json",
                                "the body must be a JSON object with login and password");
  }
  if (login.empty() || password.empty() || !valid_utf8(login) || !valid_utf8(password)) {
    return http::error_response(400, "bad_request", "login and password are both required");
  }
  const LoginOutcome outcome = attempt_login(c, login, password, "api");
  if (outcome.status == 429) {
    Response r = http::error_response(429, "throttled",
                                      "too many failed logins; try again in " +
                                          std::to_string(outcome.retry_after.count()) + " s");
    r.headers.emplace_back("Retry-After", std::to_string(outcome.retry_after.count()));
    return r;
  }
  if (!outcome.session) return http::error_response(401, "login_failed", "wrong login or password");
  c.cookies.push_back(session_cookie(outcome.session->id));
  auto o = account_json(outcome.session->principal);
  o->set("csrf_token", outcome.session->csrf_token);
  o->set("idle_timeout_seconds", static_cast<Poco::Int64>(options_.sessions.idle.count()));
  o->set("absolute_timeout_seconds", static_cast<Poco::Int64>(options_.sessions.absolute.count()));
  return http::json_response(200, o);
}

Response WebApp::api_logout(Context& c) {
  if (c.principal->via != Principal::Via::session) {
    return http::error_response(400, "not_a_session",
                                "a bearer token is not a session; an administrator revokes it "
                                "with tsunagu user token-revoke");
  }
  Accounts(*c.store().store, *c.store().audit, clock_).end_session(*c.principal, c.address);
  c.cookies.push_back(clear_cookie(kSessionCookie));
  auto o = http::json_object();
  o->set("logged_out", true);
  return http::json_response(200, o);
}

Response WebApp::api_me(Context& c) {
  auto o = account_json(*c.principal);
  if (c.principal->via == Principal::Via::session) o->set("csrf_token", c.principal->csrf_token);
  return http::json_response(200, o);
}

Response WebApp::api_entries(Context& c) {
  AuditFilter filter;
  try {
    filter = audit_filter_from(c.query);
  } catch (const FilterError& e) {
    return http::error_response(400, "bad_filter", e.what());
  }
  const auto rows = logged_search(c.store(), *c.principal, filter, "api");
  Poco::JSON::Array::Ptr entries = new Poco::JSON::Array;
  for (const auto& r : rows) {
    auto e = http::json_object();
    e->set("seq", static_cast<Poco::Int64>(r.seq));
    e->set("time", r.time);
    e->set("type", r.type);
    e->set("actor", r.actor);
    e->set("subject", r.subject);
    auto d = http::json_object();
    for (const auto& [k, v] : r.details) d->set(k, v);
    e->set("details", d);
    entries->add(e);
  }
  auto o = http::json_object();
  o->set("entries", entries);
  if (rows.size() == filter.limit) {
    o->set("next_before", static_cast<Poco::Int64>(rows.back().seq));
  } else {
    o->set("next_before", Poco::Dynamic::Var());
  }
  return http::json_response(200, o);
}

Response WebApp::api_tree_head(Context& c) {
  const auto head = c.store().audit->latest_head();
  if (!head) return http::error_response(404, "no_tree_head", "no tree head has been signed yet");
  Response r;
  r.body = head->to_json();
  return r;
}

Response WebApp::api_proof(Context& c) {
  const std::string& text = c.request.param("seq");
  std::int64_t seq = 0;
  std::size_t used = 0;
  try {
    seq = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || seq < 1) {
    return http::error_response(400, "bad_seq", "{seq} is an entry's sequence number (1, 2, …)");
  }
  auto& log = *c.store().audit;
  if (!log.entry(seq)) return http::error_response(404, "no_entry", "no entry " + text);
  const auto head = log.latest_head();
  if (!head || head->tree_size < static_cast<std::uint64_t>(seq)) {
    return http::error_response(409, "not_yet_signed",
                                "entry " + text +
                                    " is not yet covered by a signed tree head; the hub signs "
                                    "one every audit/sign-interval-seconds");
  }
  const auto proof = audit::prove(log, seq);
  log.append_now({audit::entry_type::kAuditProved,
                  "user:" + c.principal->account.login,
                  "",
                  {{"seq", text}, {"login", c.principal->account.login}, {"via", "api"}}});
  Response r;
  r.body = proof.to_json();
  return r;
}

}  // namespace tsunagu::web
