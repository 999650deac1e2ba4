// Loads the built plugin as the hub does and checks what it exports.
#include <memory>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <boost/dll/shared_library.hpp>

#include <codec/cp932.hpp>

#include <tsunagu/adapter.hpp>

namespace {

class CountingSink : public tsunagu::RecordSink {
 public:
  bool accept(tsunagu::NativeRecord&& record) noexcept override {
    if (record.error.empty()) ++good;
    return true;
  }
  int good = 0;
};

TEST(PublicAssistancePlugin, ExportsItsDescriptorAndAWorkingFactory) {
  boost::dll::shared_library library(PA_PLUGIN_PATH);
  const auto& descriptor =
      library.get_alias<const tsunagu::PluginDescriptor>("tsunagu_plugin_descriptor");
  EXPECT_EQ(descriptor.api_version, tsunagu::kPluginApiVersion);
  EXPECT_EQ(descriptor.kind, static_cast<std::uint32_t>(tsunagu::PluginKind::adapter));
  EXPECT_STREQ(descriptor.name, "public_assistance");
  EXPECT_STREQ(descriptor.version, "1.0.0");

  auto& create = library.get_alias<tsunagu::AdapterFactory>("tsunagu_create_adapter");
  std::string error;
  std::unique_ptr<tsunagu::Adapter> adapter(create({}, error));
  ASSERT_NE(adapter, nullptr) << error;
  EXPECT_STREQ(adapter->system(), "public_assistance");

  // The header as the export writes it, in CP932.
  std::string header;
  tsunagu::codec::Cp932Encoder encoder;
  ASSERT_TRUE(
      encoder.encode("処理番号,版,異動区分,発生日,世帯番号,宛名番号,氏名,氏名カナ,"
                     "生年月日,性別,続柄,区コード,住所,担当CW,備考",
                     header, error))
      << error;
  std::istringstream in(header +
                        "\r\nPA1,1,01,R1.06.05,20481337,,x,y,H1.01.08,1,z,01101,a,CW1,\r\n");
  CountingSink sink;
  const tsunagu::DecodeResult result = adapter->decode(in, "inline.csv", sink);
  EXPECT_TRUE(result.ok) << result.message;
  EXPECT_EQ(sink.good, 1);
}

TEST(PublicAssistancePlugin, FactoryRefusesUnknownSettingsWithoutThrowing) {
  boost::dll::shared_library library(PA_PLUGIN_PATH);
  auto& create = library.get_alias<tsunagu::AdapterFactory>("tsunagu_create_adapter");
  std::string error;
  EXPECT_EQ(create({{"delimiter", ";"}}, error), nullptr);
  EXPECT_EQ(error,
            "public_assistance adapter: unknown setting 'delimiter' (the only setting is "
            "max_record_bytes)");
}

}  // namespace
