// Loads the built plugin as the hub does and checks what it exports.
#include <memory>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <libxml/parser.h>
#include <boost/dll/shared_library.hpp>

#include <tsunagu/adapter.hpp>

namespace {

class CountingSink : public tsunagu::RecordSink {
 public:
  bool accept(tsunagu::NativeRecord&& record) noexcept override {
    if (record.error.empty()) ++good;
    need = record.fields["NEED"];
    return true;
  }
  int good = 0;
  std::string need;
};

TEST(HealthCentrePlugin, ExportsItsDescriptorAndAWorkingFactory) {
  xmlInitParser();  // the hub's job, before any plugin decodes
  boost::dll::shared_library library(HC_PLUGIN_PATH);
  const auto& descriptor =
      library.get_alias<const tsunagu::PluginDescriptor>("tsunagu_plugin_descriptor");
  EXPECT_EQ(descriptor.api_version, tsunagu::kPluginApiVersion);
  EXPECT_EQ(descriptor.kind, static_cast<std::uint32_t>(tsunagu::PluginKind::adapter));
  EXPECT_STREQ(descriptor.name, "health_centre");
  EXPECT_STREQ(descriptor.version, "1.0.0");

  auto& create = library.get_alias<tsunagu::AdapterFactory>("tsunagu_create_adapter");
  std::string error;
  std::unique_ptr<tsunagu::Adapter> adapter(create({{"item_separator", ";"}}, error));
  ASSERT_NE(adapter, nullptr) << error;
  EXPECT_STREQ(adapter->system(), "health_centre");

  std::istringstream in(
      "<HealthCentreExport xmlns=\"urn:sapporo:health-centre:export:1\">"
      "<ClinicalDocument xmlns=\"urn:hl7-org:v3\"><id extension=\"HC-1\"/><code code=\"X\"/>"
      "<effectiveTime value=\"20190605\"/><recordTarget><patientRole/></recordTarget>"
      "<component><structuredBody><component><section>"
      "<entry><observation><code code=\"NEED\"/><value code=\"FINANCIAL\"/></observation></entry>"
      "<entry><observation><code code=\"NEED\"/><value code=\"HOUSING\"/></observation></entry>"
      "</section></component></structuredBody></component></ClinicalDocument>"
      "</HealthCentreExport>");
  CountingSink sink;
  const tsunagu::DecodeResult result = adapter->decode(in, "inline.xml", sink);
  EXPECT_TRUE(result.ok) << result.message;
  EXPECT_EQ(sink.good, 1);
  EXPECT_EQ(sink.need, "FINANCIAL;HOUSING");
}

TEST(HealthCentrePlugin, FactoryRefusesBadSettingsWithoutThrowing) {
  boost::dll::shared_library library(HC_PLUGIN_PATH);
  auto& create = library.get_alias<tsunagu::AdapterFactory>("tsunagu_create_adapter");
  std::string error;
  EXPECT_EQ(create({{"encoding", "Shift_JIS"}}, error), nullptr);
  EXPECT_EQ(error,
            "health_centre adapter: unknown setting 'encoding' (the settings are "
            "max_document_bytes and item_separator)");
  EXPECT_EQ(create({{"max_document_bytes", "1"}}, error), nullptr);
  EXPECT_EQ(error,
            "health_centre adapter: setting max_document_bytes is '1', expected a whole number of "
            "bytes from 1024 to 268435456");
}

}  // namespace
