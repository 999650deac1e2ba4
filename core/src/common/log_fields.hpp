// Ids a log line may carry as fields of their own, so that `json` logs can be searched by them:
// {"time":…,"level":…,"module":…,"message":…,"system":"public_assistance","input_id":"12"}.
// Only opaque ids and system names — never a name, an address, a 宛名番号 or a payload value.
#pragma once

#include <initializer_list>
#include <string>
#include <utility>

#include <Poco/Logger.h>
#include <Poco/Message.h>

namespace tsunagu::log_fields {

inline constexpr const char* kSystem = "system";
inline constexpr const char* kInputId = "input_id";
inline constexpr const char* kEventId = "event_id";
inline constexpr const char* kNoticeId = "notice_id";

// The fields a formatter looks for, in the order it writes them.
inline constexpr const char* kAll[] = {kSystem, kInputId, kEventId, kNoticeId};

// Logs `text` at `priority` with `fields` attached (text formats show only the text, which
// should name the ids itself).
inline void log(Poco::Logger& logger, Poco::Message::Priority priority, const std::string& text,
                std::initializer_list<std::pair<const char*, std::string>> fields) {
  if (!logger.is(priority)) return;
  Poco::Message message(logger.name(), text, priority);
  for (const auto& [key, value] : fields) message.set(key, value);
  logger.log(message);
}

}  // namespace tsunagu::log_fields
