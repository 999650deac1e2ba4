// What an endpoint answers, independent of Poco's server classes so that endpoints and the router
// are tested without a socket. The server adds the headers every response carries (HSTS, …).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <Poco/JSON/Object.h>

namespace tsunagu::http {

inline constexpr const char* kJson = "application/json; charset=utf-8";

struct Response {
  int status = 200;
  std::string content_type = kJson;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // besides the common ones
  // Close the connection after this response: the request body was not (fully) read, so what
  // follows on the connection is not the start of a request.
  bool close = false;
};

// "OK", "Not Found", … ("" for a status this server does not use).
std::string reason_phrase(int status);

// An object whose keys keep the order they were set in, so replies read naturally.
Poco::JSON::Object::Ptr json_object();
std::string to_json(const Poco::JSON::Object::Ptr& object);

Response json_response(int status, const Poco::JSON::Object::Ptr& object);

// {"error":"<code>","message":"<message>"}: `code` is stable for programs, `message` says to a
// person what was wrong and, where it helps, what was expected.
Response error_response(int status, const std::string& code, const std::string& message);

}  // namespace tsunagu::http
