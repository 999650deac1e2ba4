// Loads the built plugin as the hub does and checks what it exports and how its factory judges
// the layout it is given.
#include <memory>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <boost/dll/shared_library.hpp>

#include <tsunagu/adapter.hpp>

#include "ed_test_support.hpp"

namespace {

using tsunagu::education::test_support::education_mapping;
using tsunagu::education::test_support::sample_lines;

class CountingSink : public tsunagu::RecordSink {
 public:
  bool accept(tsunagu::NativeRecord&& record) noexcept override {
    if (record.error.empty()) {
      ++good;
    } else {
      last_error = record.error;
    }
    return true;
  }
  int good = 0;
  std::string last_error;
};

class EducationPlugin : public ::testing::Test {
 protected:
  EducationPlugin()
      : library_(ED_PLUGIN_PATH),
        create_(library_.get_alias<tsunagu::AdapterFactory>("tsunagu_create_adapter")) {}

  // What the factory says about `settings`: "" when it creates an adapter.
  std::string refusal(const tsunagu::PluginSettings& settings) {
    std::string error;
    std::unique_ptr<tsunagu::Adapter> adapter(create_(settings, error));
    if (adapter) return "";
    EXPECT_FALSE(error.empty());
    return error;
  }

  boost::dll::shared_library library_;
  tsunagu::AdapterFactory& create_;
};

TEST_F(EducationPlugin, ExportsItsDescriptor) {
  const auto& descriptor =
      library_.get_alias<const tsunagu::PluginDescriptor>("tsunagu_plugin_descriptor");
  EXPECT_EQ(descriptor.api_version, tsunagu::kPluginApiVersion);
  EXPECT_EQ(descriptor.kind, static_cast<std::uint32_t>(tsunagu::PluginKind::adapter));
  EXPECT_STREQ(descriptor.name, "education");
  EXPECT_STREQ(descriptor.version, "1.0.0");
}

TEST_F(EducationPlugin, FactoryTakesTheLayoutOfTheMapping) {
  std::string error;
  std::unique_ptr<tsunagu::Adapter> adapter(create_(education_mapping().adapter_settings(), error));
  ASSERT_NE(adapter, nullptr) << error;
  EXPECT_STREQ(adapter->system(), "education");

  const std::string record = sample_lines("ED_20190605.dat").at(0);
  std::istringstream in(record + "\r\n" + record.substr(1) + "\r\n");
  CountingSink sink;
  const tsunagu::DecodeResult result = adapter->decode(in, "inline.dat", sink);
  EXPECT_TRUE(result.ok) << result.message;
  EXPECT_EQ(result.records, 2u);
  EXPECT_EQ(sink.good, 1);
  EXPECT_EQ(sink.last_error,
            "the record is 199 bytes long, expected 200 (1 short, counted before CR LF)");
}

TEST_F(EducationPlugin, FactoryRefusesABadLayoutWithoutThrowing) {
  EXPECT_EQ(refusal({}),
            "education adapter: setting record_length is missing: the layout (record_length and "
            "one field-<name> per field) comes from the <adapter-settings> of "
            "mappings/education.xml");

  tsunagu::PluginSettings settings = education_mapping().adapter_settings();
  settings["field-name"] = "34-64";
  EXPECT_EQ(refusal(settings),
            "education adapter: field 'name' (bytes 34–64) overlaps field 'name_kana' (bytes "
            "64–93)");

  settings = education_mapping().adapter_settings();
  settings["record_length"] = "201";
  EXPECT_EQ(refusal(settings),
            "education adapter: byte 201 belongs to no field (the record is 201 bytes)");

  settings = education_mapping().adapter_settings();
  settings["delimiter"] = ",";
  EXPECT_EQ(refusal(settings),
            "education adapter: unknown setting 'delimiter' (the settings are record_length and "
            "field-<name>)");
}

TEST_F(EducationPlugin, ConfigSettingsOverrideTheMappingsLayout) {
  // The hub merges config <settings> over the mapping's; a site whose export grew a field must
  // be able to move the remarks without editing the shipped mapping.
  tsunagu::PluginSettings settings = education_mapping().adapter_settings();
  settings["record_length"] = "210";
  settings["field-remarks"] = "116-200";
  settings["field-filler"] = "201-210";
  EXPECT_EQ(refusal(settings), "");
}

}  // namespace
