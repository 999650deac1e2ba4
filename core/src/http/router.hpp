// Routes requests to endpoints by method and path pattern ("/api/v1/ingest/{system}").
//
// Routes are added once at start-up and only read afterwards, so any number of request threads
// may dispatch at once. No route for the path: 404; a route for the path but not the method:
// 405 with Allow. Both, and a handler that throws, answer JSON like every other endpoint.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/client_identity.hpp"
#include "http/response.hpp"

namespace tsunagu::http {

// The request body, read on demand: an endpoint that refuses a request never reads it.
class BodyReader {
 public:
  virtual ~BodyReader() = default;
  // The whole body if it has at most `max` bytes; nullopt if it is longer (the rest is left
  // unread). Throws if the connection fails or times out.
  virtual std::optional<std::string> read(std::size_t max) = 0;
};

struct Request {
  std::string method;
  std::string path;                           // percent-decoded, without the query
  std::string query;                          // raw (still percent-encoded), without the '?'
  std::string content_type;                   // the header as sent; "" if none
  std::int64_t content_length = -1;           // -1: not given
  bool chunked = false;                       // the body comes in chunks (no length)
  std::optional<ClientCertificate> client;    // verified by TLS, if the client presented one
  std::string remote;                         // peer address, for logs and the audit log
  std::map<std::string, std::string> params;  // {name} segments of the matched pattern
  std::string route;                          // the matched pattern ("" if none), for metrics
  BodyReader* body = nullptr;                 // null: no body (tests of bodiless endpoints)
  // Request headers in the order received, names lower-case (the web pages read Cookie,
  // Authorization, Origin, Host, X-CSRF-Token).
  std::vector<std::pair<std::string, std::string>> headers;

  const std::string& param(const std::string& name) const;
  // The first header of that name (any case), or null.
  const std::string* header(std::string_view name) const;
};

using Handler = std::function<Response(Request&)>;

class Router {
 public:
  // `pattern`: literal segments and {name} segments, e.g. "/api/v1/ingest/{system}". A {name}
  // segment matches one non-empty segment.
  void add(const std::string& method, const std::string& pattern, Handler handler);

  // Fills request.params and calls the handler; answers 404/405/500 itself.
  Response dispatch(Request& request) const;

 private:
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;
    Handler handler;
  };
  static std::vector<std::string> split(const std::string& path);
  static bool match(const Route& route, const std::vector<std::string>& segments,
                    std::map<std::string, std::string>& params);

  std::vector<Route> routes_;
};

}  // namespace tsunagu::http
