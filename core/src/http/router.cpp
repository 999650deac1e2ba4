#include "http/router.hpp"

#include <cctype>
#include <set>
#include <stdexcept>

#include <Poco/Logger.h>

namespace tsunagu::http {
namespace {
Poco::Logger& log() {
  return Poco::Logger::get("tsunagu.http");
}
}  // namespace

const std::string& Request::param(const std::string& name) const {
  static const std::string none;
  auto it = params.find(name);
  return it == params.end() ? none : it->second;
}

const std::string* Request::header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (n.size() != name.size()) continue;
    bool same = true;
    for (std::size_t i = 0; i < n.size() && same; ++i) {
      same = n[i] == std::tolower(static_cast<unsigned char>(name[i]));
    }
    if (same) return &v;
  }
  return nullptr;
}

std::vector<std::string> Router::split(const std::string& path) {
  // "/a/b" → {"a", "b"}; "/" → {}; "/a/" → {"a", ""} so that a trailing slash is a different path.
  std::vector<std::string> out;
  if (path.empty() || path[0] != '/') return {"\x01"};  // matches no pattern
  std::size_t start = 1;
  if (path.size() == 1) return out;
  while (true) {
    const auto slash = path.find('/', start);
    out.push_back(
        path.substr(start, slash == std::string::npos ? std::string::npos : slash - start));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return out;
}

void Router::add(const std::string& method, const std::string& pattern, Handler handler) {
  for (const auto& r : routes_) {
    if (r.method == method && r.pattern == pattern) {
      throw std::logic_error("route " + method + " " + pattern + " is added twice");
    }
  }
  routes_.push_back({method, pattern, split(pattern), std::move(handler)});
}

bool Router::match(const Route& route, const std::vector<std::string>& segments,
                   std::map<std::string, std::string>& params) {
  if (route.segments.size() != segments.size()) return false;
  std::map<std::string, std::string> found;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const std::string& p = route.segments[i];
    if (p.size() > 2 && p.front() == '{' && p.back() == '}') {
      if (segments[i].empty()) return false;
      found[p.substr(1, p.size() - 2)] = segments[i];
    } else if (p != segments[i]) {
      return false;
    }
  }
  params = std::move(found);
  return true;
}

Response Router::dispatch(Request& request) const {
  const auto segments = split(request.path);
  std::set<std::string> allowed;
  for (const auto& route : routes_) {
    std::map<std::string, std::string> params;
    if (!match(route, segments, params)) continue;
    if (route.method != request.method) {
      allowed.insert(route.method);
      continue;
    }
    request.params = std::move(params);
    request.route = route.pattern;
    try {
      return route.handler(request);
    } catch (const std::exception& e) {
      log().error("%s %s from %s failed: %s", request.method, request.path, request.remote,
                  std::string(e.what()));
    } catch (...) {
      log().error("%s %s from %s failed: unknown exception", request.method, request.path,
                  request.remote);
    }
    // The reason stays in the log: it may name files or the store.
    Response r = error_response(500, "internal_error",
                                "the request could not be handled; the hub's log says why");
    r.close = true;
    return r;
  }
  if (!allowed.empty()) {
    std::string allow;
    for (const auto& m : allowed) allow += (allow.empty() ? "" : ", ") + m;
    Response r = error_response(
        405, "method_not_allowed",
        request.method + " is not allowed on " + request.path + " (allowed: " + allow + ")");
    r.headers.emplace_back("Allow", allow);
    return r;
  }
  return error_response(404, "not_found", "no resource at " + request.path);
}

}  // namespace tsunagu::http
