#include "runtime/json_log_formatter.hpp"

#include <sstream>

#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/JSON/Object.h>
#include <Poco/Message.h>

#include "common/log_fields.hpp"

namespace tsunagu::runtime {
namespace {

const char* level_name(Poco::Message::Priority p) {
  switch (p) {
    case Poco::Message::PRIO_FATAL:
      return "fatal";
    case Poco::Message::PRIO_CRITICAL:
      return "critical";
    case Poco::Message::PRIO_ERROR:
      return "error";
    case Poco::Message::PRIO_WARNING:
      return "warning";
    case Poco::Message::PRIO_NOTICE:
      return "notice";
    case Poco::Message::PRIO_INFORMATION:
      return "information";
    case Poco::Message::PRIO_DEBUG:
      return "debug";
    case Poco::Message::PRIO_TRACE:
      return "trace";
  }
  return "information";
}

}  // namespace

void JsonLineFormatter::format(const Poco::Message& message, std::string& text) {
  // Poco::JSON escapes control characters (a message never spans lines) and keeps UTF-8 as it is.
  Poco::JSON::Object line(Poco::JSON_PRESERVE_KEY_ORDER);
  line.set("time", Poco::DateTimeFormatter::format(message.getTime(),
                                                   Poco::DateTimeFormat::ISO8601_FRAC_FORMAT));
  line.set("level", level_name(message.getPriority()));
  line.set("program", program_);
  line.set("module", message.getSource());
  line.set("message", message.getText());
  for (const char* field : log_fields::kAll) {
    if (message.has(field)) line.set(field, message.get(field));
  }
  std::ostringstream out;
  line.stringify(out);
  text = out.str();
}

}  // namespace tsunagu::runtime
