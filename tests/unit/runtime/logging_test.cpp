#include <gtest/gtest.h>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Logger.h>
#include <Poco/Message.h>

#include "common/log_fields.hpp"
#include "config/hub_config.hpp"
#include "runtime/json_log_formatter.hpp"
#include "runtime/process.hpp"
#include "support/temp_dir.hpp"

namespace {

Poco::JSON::Object::Ptr formatted(const Poco::Message& message) {
  tsunagu::runtime::JsonLineFormatter formatter("tsunagud");
  std::string line;
  formatter.format(message, line);
  EXPECT_EQ(line.find('\n'), std::string::npos) << line;  // one object, one line
  return Poco::JSON::Parser().parse(line).extract<Poco::JSON::Object::Ptr>();
}

TEST(JsonLineFormatter, WritesTimeLevelProgramModuleAndMessage) {
  const Poco::Message message("tsunagu.ingest", "public_assistance/PA_1.csv: 3 records, 3 stored",
                              Poco::Message::PRIO_WARNING);
  const auto o = formatted(message);
  EXPECT_EQ(o->getValue<std::string>("level"), "warning");
  EXPECT_EQ(o->getValue<std::string>("program"), "tsunagud");
  EXPECT_EQ(o->getValue<std::string>("module"), "tsunagu.ingest");
  EXPECT_EQ(o->getValue<std::string>("message"), "public_assistance/PA_1.csv: 3 records, 3 stored");
  const std::string time = o->getValue<std::string>("time");
  EXPECT_EQ(time.size(), std::string("2019-06-05T05:30:12.123456Z").size()) << time;
  EXPECT_EQ(time.back(), 'Z') << time;
  EXPECT_FALSE(o->has("event_id"));
  EXPECT_FALSE(o->has("system"));
}

TEST(JsonLineFormatter, AddsTheIdFieldsAMessageCarries) {
  Poco::Message message("tsunagu.ingest", "stored", Poco::Message::PRIO_INFORMATION);
  message.set(tsunagu::log_fields::kSystem, "public_assistance");
  message.set(tsunagu::log_fields::kInputId, "12");
  message.set(tsunagu::log_fields::kEventId, "0b7c…");
  message.set(tsunagu::log_fields::kNoticeId, "n-1");
  message.set("subject_name", "池田　結衣");  // not a field the formatter knows: never written
  const auto o = formatted(message);
  EXPECT_EQ(o->getValue<std::string>("system"), "public_assistance");
  EXPECT_EQ(o->getValue<std::string>("input_id"), "12");
  EXPECT_EQ(o->getValue<std::string>("event_id"), "0b7c…");
  EXPECT_EQ(o->getValue<std::string>("notice_id"), "n-1");
  EXPECT_FALSE(o->has("subject_name"));
}

TEST(JsonLineFormatter, EscapesLineBreaksAndQuotesAndKeepsJapanese) {
  const Poco::Message message("tsunagu.hub", "line one\nline \"two\"\t設定",
                              Poco::Message::PRIO_ERROR);
  const auto o = formatted(message);
  EXPECT_EQ(o->getValue<std::string>("message"), "line one\nline \"two\"\t設定");
}

tsunagu::config::HubConfig load(const std::string& logging) {
  tsunagu_test::TempDir dir;
  const auto file = dir.write("tsunagu.xml", R"(<tsunagu>
  <data-dir>data</data-dir>
  <mappings><directory>maps</directory></mappings>
  <systems><public_assistance><adapter>public_assistance</adapter><mapping>pa.xml</mapping></public_assistance></systems>
  <logging>)" + logging + R"(</logging>
</tsunagu>)");
  return tsunagu::config::load(file, {});
}

std::string load_error(const std::string& logging) {
  try {
    load(logging);
  } catch (const tsunagu::config::ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(LogModules, ConfigReadsModuleLevelsInOrder) {
  const auto c = load(R"(<level>warning</level>
    <module><name>tsunagu.ingest</name><level>debug</level></module>
    <module><name>tsunagu</name><level>error</level></module>)");
  ASSERT_EQ(c.log_module_levels.size(), 2u);
  EXPECT_EQ(c.log_module_levels[0].name, "tsunagu.ingest");
  EXPECT_EQ(c.log_module_levels[0].level, "debug");
  EXPECT_EQ(c.log_module_levels[1].name, "tsunagu");
}

TEST(LogModules, UnknownModuleBadLevelMissingLevelAndDuplicatesAreRefused) {
  EXPECT_NE(load_error("<module><name>tsunagu.ingset</name><level>debug</level></module>")
                .find("<tsunagu/logging/module/name>: 'tsunagu.ingset' is not a module that logs"),
            std::string::npos);
  EXPECT_NE(load_error("<module><name>tsunagu.ingest</name><level>loud</level></module>")
                .find("'loud' is not one of"),
            std::string::npos);
  EXPECT_NE(load_error("<module><name>tsunagu.ingest</name></module>")
                .find("required element is missing"),
            std::string::npos);
  EXPECT_NE(load_error("<module><name>tsunagu.http</name><level>debug</level></module>"
                       "<module><name>tsunagu.http</name><level>error</level></module>")
                .find("'tsunagu.http' is given twice"),
            std::string::npos);
  EXPECT_NE(load_error("<module><name>tsunagu.http</name><level>debug</level><colour/></module>")
                .find("unknown element"),
            std::string::npos);
}

TEST(LogModules, LevelsApplyToTheModuleAndLoggersMadeBelowItLater) {
  const auto c = load(R"(<level>warning</level>
    <module><name>tsunagu.ingest</name><level>debug</level></module>
    <module><name>tsunagu</name><level>error</level></module>)");
  Poco::Logger::root().setLevel(Poco::Message::PRIO_WARNING);
  tsunagu::runtime::apply_module_levels(c);
  // The specific one wins over its parent, whatever the order in the file.
  EXPECT_EQ(Poco::Logger::get("tsunagu.ingest").getLevel(), Poco::Message::PRIO_DEBUG);
  EXPECT_EQ(Poco::Logger::get("tsunagu.ingest.spool").getLevel(), Poco::Message::PRIO_DEBUG);
  EXPECT_EQ(Poco::Logger::get("tsunagu.hub").getLevel(), Poco::Message::PRIO_ERROR);
  EXPECT_EQ(Poco::Logger::get("other").getLevel(), Poco::Message::PRIO_WARNING);
}

}  // namespace
