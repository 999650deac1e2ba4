// Loads the built plugin as the hub does and checks what it exports.
#include <memory>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <boost/dll/shared_library.hpp>

#include <tsunagu/adapter.hpp>

namespace {

class CountingSink : public tsunagu::RecordSink {
 public:
  bool accept(tsunagu::NativeRecord&& record) noexcept override {
    (record.error.empty() ? good : bad) += 1;
    return true;
  }
  int good = 0;
  int bad = 0;
};

TEST(ChildGuidancePlugin, ExportsItsDescriptorAndAWorkingFactory) {
  boost::dll::shared_library library(CG_PLUGIN_PATH);
  const auto& descriptor =
      library.get_alias<const tsunagu::PluginDescriptor>("tsunagu_plugin_descriptor");
  EXPECT_EQ(descriptor.api_version, tsunagu::kPluginApiVersion);
  EXPECT_EQ(descriptor.kind, static_cast<std::uint32_t>(tsunagu::PluginKind::adapter));
  EXPECT_STREQ(descriptor.name, "child_guidance");
  EXPECT_STREQ(descriptor.version, "1.0.0");

  auto& create = library.get_alias<tsunagu::AdapterFactory>("tsunagu_create_adapter");
  std::string error;
  std::unique_ptr<tsunagu::Adapter> adapter(create({}, error));
  ASSERT_NE(adapter, nullptr) << error;
  EXPECT_STREQ(adapter->system(), "child_guidance");

  // NDJSON, then one pretty-printed object, through the same adapter.
  std::istringstream ndjson(
      "{\"event_id\": \"CG-1\", \"revision\": 1, \"child\": {\"name\": \"山田 花子\"}}\n"
      "[\"not\", \"an\", \"object\"]\n"
      "{\"event_id\": \"CG-2\", \"revision\": 1}\n");
  CountingSink sink;
  tsunagu::DecodeResult result = adapter->decode(ndjson, "CG_20190605.ndjson", sink);
  EXPECT_TRUE(result.ok) << result.message;
  EXPECT_EQ(sink.good, 2);
  EXPECT_EQ(sink.bad, 1);

  std::istringstream pretty("{\n  \"event_id\": \"CG-3\",\n  \"revision\": 1\n}\n");
  CountingSink one;
  result = adapter->decode(pretty, "push", one);
  EXPECT_TRUE(result.ok) << result.message;
  EXPECT_EQ(one.good, 1);
  EXPECT_EQ(one.bad, 0);
}

TEST(ChildGuidancePlugin, FactoryTakesItsSettingsAndRefusesOthersWithoutThrowing) {
  boost::dll::shared_library library(CG_PLUGIN_PATH);
  auto& create = library.get_alias<tsunagu::AdapterFactory>("tsunagu_create_adapter");
  std::string error;
  std::unique_ptr<tsunagu::Adapter> adapter(
      create({{"format", "ndjson"}, {"max_record_bytes", "65536"}}, error));
  EXPECT_NE(adapter, nullptr) << error;

  EXPECT_EQ(create({{"delimiter", ";"}}, error), nullptr);
  EXPECT_EQ(error,
            "child_guidance adapter: unknown setting 'delimiter' (the settings are format and "
            "max_record_bytes)");
  EXPECT_EQ(create({{"format", "xml"}}, error), nullptr);
  EXPECT_EQ(error,
            "child_guidance adapter: setting format is 'xml', expected auto, ndjson or json");
}

}  // namespace
