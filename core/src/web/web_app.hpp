// The pages and the REST API for people (liaisons, auditors, …), served by the hub's HTTPS
// listener next to the system push endpoint.
//
// Every route is registered through route(), which looks up its row in the access table
// (access_policy.hpp) and wraps the handler so that, before the handler runs:
//   1. an unsafe request (POST, DELETE, …) whose Origin is not this server is refused (403);
//   2. the caller is authenticated: the session cookie (pages and API), or on API routes an
//      `Authorization: Bearer tsu_…` token (an invalid one is 401, never a fallback to the cookie);
//   3. access is decided from the table: no account where one is needed → the login page (pages)
//      or 401 (API); an account of a role the row does not admit → 403;
//   4. an unsafe request on a session must carry the session's CSRF token — the form field `csrf`
//      or the X-CSRF-Token header — else 403. Bearer-token requests need none (no ambient
//      credential a third-party page could make the browser send).
// Handlers therefore only do their work. Sessions: __Host-tsunagu_session, HttpOnly, Secure,
// SameSite=Strict, Path=/, with the idle and absolute limits of <http><sessions>.
//
// Thread-safe: one WebApp serves every request thread; each request opens its own store session.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/clock.hpp"
#include "http/router.hpp"
#include "http/store_session.hpp"
#include "routing/routing_config.hpp"
#include "web/access_policy.hpp"
#include "web/accounts.hpp"
#include "web/login_throttle.hpp"
#include "web/notice_view.hpp"

namespace tsunagu::web {

inline constexpr const char* kSessionCookie = "__Host-tsunagu_session";
// The login form's double-submit token (there is no session yet to tie a CSRF token to).
inline constexpr const char* kLoginCookie = "__Host-tsunagu_login";

struct WebOptions {
  SessionPolicy sessions;
  std::size_t max_form_bytes =
      std::size_t{64} * 1024;  // forms and JSON bodies of the pages and the API
};

// The OpenAPI 3 document of the API (core/src/web/openapi.json, embedded at build time).
const std::string& openapi_document();

class WebApp {
 public:
  // `open_store` must stay valid as long as the WebApp; the WebApp as long as the router it is
  // installed in serves requests.
  WebApp(http::StoreOpener open_store, WebOptions options,
         const Clock& clock = SystemClock::instance());
  ~WebApp();
  WebApp(const WebApp&) = delete;
  WebApp& operator=(const WebApp&) = delete;

  // Where the routing configuration in force comes from, for the labels (kinds, systems, wards,
  // roles, policies) the notice pages and API show; asked once per request, so a reload shows on
  // the next page. Call before install(). Without it, or when it gives null (routing off), the
  // pages show ids. The notices themselves are read from the store either way.
  using RoutingSource = std::function<std::shared_ptr<const routing::RoutingConfig>()>;
  void set_routing(RoutingSource source);

  // Adds every page and API route to `router`. Throws std::logic_error if a route has no row in
  // the access table or a row has no route.
  void install(http::Router& router);

  // What a request handler of the web surface gets.
  struct Context;
  using Handler = std::function<http::Response(Context&)>;
  // Adds one route (for extensions such as the notice pages): its row must be in the table.
  void route(http::Router& router, const char* method, const char* pattern, Handler handler);

 private:
  http::Response guarded(const AccessRule& rule, const Handler& handler, http::Request& request);
  http::Response home(Context& c);
  http::Response login_page(Context& c);
  http::Response login_form(Context& c);
  http::Response logout(Context& c);
  http::Response account_page(Context& c);
  // The notices (notice_endpoints.cpp); who may read which is notice_access.hpp.
  http::Response inbox_page(Context& c);
  http::Response notice_page(Context& c);
  http::Response notice_ack_form(Context& c);
  http::Response notice_action_form(Context& c);
  http::Response notice_form(Context& c, bool acknowledge);
  http::Response api_notices(Context& c);
  http::Response api_notice(Context& c);
  http::Response api_notice_ack(Context& c);
  http::Response api_notice_action(Context& c);
  http::Response api_notice_change(Context& c, bool acknowledge);
  http::Response audit_page(Context& c);
  http::Response api_login(Context& c);
  http::Response api_logout(Context& c);
  http::Response api_me(Context& c);
  http::Response api_entries(Context& c);
  http::Response api_tree_head(Context& c);
  http::Response api_proof(Context& c);
  // The shared part of both logins: throttling, the password check, the session, the log.
  struct LoginOutcome;
  LoginOutcome attempt_login(Context& c, const std::string& login, const std::string& password,
                             const char* via);
  std::string session_cookie(const std::string& id) const;

  http::StoreOpener open_store_;
  WebOptions options_;
  const Clock& clock_;
  LoginThrottle throttle_;
  NoticeLabels labels() const;  // of the routing configuration in force
  RoutingSource routing_;
  std::vector<std::pair<std::string, std::string>> installed_;
};

struct WebApp::Context {
  http::Request& request;
  const AccessRule& rule;
  std::optional<Principal> principal;
  std::map<std::string, std::string> query;
  std::map<std::string, std::string> form;  // a POSTed urlencoded form, parsed
  std::string address;                      // the client's address without its port
  std::vector<std::string> cookies;         // Set-Cookie values to send

  // The request's store session, opened on first use.
  http::StoreSession& store();

  Context(http::Request& r, const AccessRule& a, const http::StoreOpener& open)
      : request(r), rule(a), open_(open) {}

 private:
  const http::StoreOpener& open_;
  std::unique_ptr<http::StoreSession> session_;
};

}  // namespace tsunagu::web
