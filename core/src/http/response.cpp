#include "http/response.hpp"

#include <sstream>

namespace tsunagu::http {

std::string reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 207:
      return "Multi-Status";
    case 303:
      return "See Other";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 409:
      return "Conflict";
    case 405:
      return "Method Not Allowed";
    case 411:
      return "Length Required";
    case 413:
      return "Content Too Large";
    case 415:
      return "Unsupported Media Type";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "";
  }
}

Poco::JSON::Object::Ptr json_object() {
  return new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
}

std::string to_json(const Poco::JSON::Object::Ptr& object) {
  std::ostringstream out;
  object->stringify(out);
  return out.str();
}

Response json_response(int status, const Poco::JSON::Object::Ptr& object) {
  Response r;
  r.status = status;
  r.body = to_json(object);
  return r;
}

Response error_response(int status, const std::string& code, const std::string& message) {
  auto o = json_object();
  o->set("error", code);
  o->set("message", message);
  return json_response(status, o);
}

}  // namespace tsunagu::http
