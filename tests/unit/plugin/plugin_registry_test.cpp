#include "plugin/plugin_registry.hpp"

#include <sstream>

#include <gtest/gtest.h>

#include "support/temp_dir.hpp"

namespace {

using tsunagu::plugin::PluginRegistry;
namespace fs = std::filesystem;

const fs::path kPlugins = TSUNAGU_TEST_PLUGIN_DIR;

std::string refusal_for(const PluginRegistry& r, const std::string& file_part) {
  for (const auto& ref : r.refusals()) {
    if (ref.path.filename().string().find(file_part) != std::string::npos) return ref.reason;
  }
  return "";
}

class CountingSink final : public tsunagu::RecordSink {
 public:
  bool accept(tsunagu::NativeRecord&& r) noexcept override {
    lines.push_back(r.fields["line"]);
    return true;
  }
  std::vector<std::string> lines;
};

TEST(PluginRegistry, LoadsTheGoodPluginWithItsDescriptor) {
  PluginRegistry registry;
  registry.load_directory(kPlugins);
  const auto* echo = registry.find(tsunagu::PluginKind::adapter, "echo");
  ASSERT_NE(echo, nullptr);
  EXPECT_EQ(echo->version, "0.1.0");
  EXPECT_EQ(echo->api_version, tsunagu::kPluginApiVersion);
  EXPECT_EQ(echo->path.filename(), "tsunagu-adapter-echo.so");
}

TEST(PluginRegistry, RefusesWrongApiVersion) {
  PluginRegistry registry;
  registry.load_directory(kPlugins);
  EXPECT_EQ(registry.find(tsunagu::PluginKind::adapter, "bad_api_version"), nullptr);
  EXPECT_NE(refusal_for(registry, "bad_api_version").find("api version 42"), std::string::npos)
      << refusal_for(registry, "bad_api_version");
}

TEST(PluginRegistry, RefusesUnknownKind) {
  PluginRegistry registry;
  registry.load_directory(kPlugins);
  EXPECT_NE(refusal_for(registry, "bad_kind").find("unknown plugin kind 7"), std::string::npos);
}

TEST(PluginRegistry, RefusesDuplicateName) {
  PluginRegistry registry;
  registry.load_directory(kPlugins);
  const std::string reason = refusal_for(registry, "echo_duplicate");
  EXPECT_NE(reason.find("duplicate adapter name 'echo'"), std::string::npos) << reason;
  EXPECT_EQ(registry.find(tsunagu::PluginKind::adapter, "echo")->version, "0.1.0");
}

TEST(PluginRegistry, RefusesLibraryWithoutDescriptor) {
  PluginRegistry registry;
  registry.load_directory(kPlugins);
  EXPECT_NE(refusal_for(registry, "no_descriptor").find("exports no tsunagu_plugin_descriptor"),
            std::string::npos);
}

TEST(PluginRegistry, RefusesAdapterWithoutFactory) {
  PluginRegistry registry;
  registry.load_directory(kPlugins);
  EXPECT_NE(refusal_for(registry, "no_factory").find("exports no tsunagu_create_adapter"),
            std::string::npos);
}

TEST(PluginRegistry, RefusesAFileThatIsNotALibrary) {
  tsunagu_test::TempDir dir;
  dir.write("tsunagu-adapter-garbage.so", "this is not an ELF file");
  PluginRegistry registry;
  registry.load_directory(dir.path());
  ASSERT_EQ(registry.refusals().size(), 1u);
  EXPECT_NE(registry.refusals()[0].reason.find("cannot be loaded"), std::string::npos);
}

TEST(PluginRegistry, EachRefusalIsListedOnceAndOnlyGoodPluginsLoad) {
  PluginRegistry registry;
  registry.load_directory(kPlugins);
  EXPECT_EQ(registry.refusals().size(), 6u);
  std::vector<std::string> names;
  for (const auto& p : registry.plugins()) {
    names.push_back(std::string(tsunagu::to_string(p.kind)) + " " + p.name);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"adapter echo", "adapter failing_factory",
                                             "channel echo", "channel echo_channel"}));
}

TEST(PluginRegistry, MissingDirectoryIsAnError) {
  PluginRegistry registry;
  EXPECT_THROW(registry.load_directory("/nonexistent/tsunagu/plugins"),
               tsunagu::plugin::PluginError);
}

TEST(PluginRegistry, FactoryFailureCarriesThePluginsMessage) {
  PluginRegistry registry;
  registry.load_directory(kPlugins);
  try {
    registry.create_adapter("failing_factory", {});
    FAIL() << "expected PluginError";
  } catch (const tsunagu::plugin::PluginError& e) {
    EXPECT_NE(std::string(e.what()).find("setting 'accept' is required"), std::string::npos);
  }
  EXPECT_NE(registry.create_adapter("failing_factory", {{"accept", "1"}}), nullptr);
  EXPECT_THROW(registry.create_adapter("nonexistent", {}), tsunagu::plugin::PluginError);
}

TEST(PluginRegistry, AdapterKeepsItsLibraryLoadedAfterTheRegistryIsGone) {
  std::shared_ptr<tsunagu::Adapter> adapter;
  std::weak_ptr<void> library;
  {
    PluginRegistry registry;
    registry.load_directory(kPlugins);
    adapter = registry.create_adapter("echo", {});
    library = registry.find(tsunagu::PluginKind::adapter, "echo")->library;
  }
  ASSERT_FALSE(library.expired()) << "the adapter must hold its library";
  std::istringstream in("一行目\n二行目\n");
  CountingSink sink;
  const auto result = adapter->decode(in, "test", sink);
  EXPECT_TRUE(result.ok);
  EXPECT_EQ(sink.lines, (std::vector<std::string>{"一行目", "二行目"}));
  adapter.reset();
  EXPECT_TRUE(library.expired()) << "the library is released with its last object";
}

TEST(PluginRegistry, LoadsAChannelPluginAndCreatesChannelsWithSettings) {
  PluginRegistry registry;
  registry.load_directory(kPlugins);
  const auto* plugin = registry.find(tsunagu::PluginKind::channel, "echo_channel");
  ASSERT_NE(plugin, nullptr);
  EXPECT_EQ(plugin->path.filename(), "tsunagu-channel-echo_channel.so");
  auto channel = registry.create_channel("echo_channel", {{"outcome", "dead"}});
  ASSERT_NE(channel, nullptr);
  EXPECT_STREQ(channel->name(), "echo_channel");
  tsunagu::ChannelDelivery delivery;
  delivery.delivery_id = "d-1";
  delivery.attempt = 3;
  const auto result = channel->deliver(delivery);
  EXPECT_EQ(result.outcome, tsunagu::ChannelResult::Outcome::dead);
  EXPECT_EQ(result.detail, "echo d-1 attempt 3");
}

TEST(PluginRegistry, NamesAreUniquePerKind) {
  PluginRegistry registry;
  registry.load_directory(kPlugins);
  EXPECT_NE(registry.find(tsunagu::PluginKind::adapter, "echo"), nullptr);
  EXPECT_NE(registry.find(tsunagu::PluginKind::channel, "echo"), nullptr);
  EXPECT_EQ(refusal_for(registry, "echo_as_channel"), "");
}

TEST(PluginRegistry, RefusesChannelWithoutFactory) {
  PluginRegistry registry;
  registry.load_directory(kPlugins);
  const std::string reason = refusal_for(registry, "no_channel_factory");
  EXPECT_NE(reason.find("channel plugin 'no_channel_factory' exports no tsunagu_create_channel"),
            std::string::npos)
      << reason;
  EXPECT_EQ(registry.find(tsunagu::PluginKind::channel, "no_channel_factory"), nullptr);
}

TEST(PluginRegistry, ChannelFactoryRefusalAndUnknownChannelAreErrors) {
  PluginRegistry registry;
  registry.load_directory(kPlugins);
  try {
    registry.create_channel("echo_channel", {{"colour", "blue"}});
    FAIL() << "expected PluginError";
  } catch (const tsunagu::plugin::PluginError& e) {
    EXPECT_NE(std::string(e.what()).find("refused its settings: echo_channel: unknown setting "
                                         "'colour'"),
              std::string::npos)
        << e.what();
  }
  // An adapter is not a channel, even under the same name.
  EXPECT_THROW(registry.create_channel("failing_factory", {}), tsunagu::plugin::PluginError);
}

TEST(PluginRegistry, ChannelKeepsItsLibraryLoadedAfterTheRegistryIsGone) {
  std::shared_ptr<tsunagu::Channel> channel;
  std::weak_ptr<void> library;
  {
    PluginRegistry registry;
    registry.load_directory(kPlugins);
    channel = registry.create_channel("echo_channel", {});
    library = registry.find(tsunagu::PluginKind::channel, "echo_channel")->library;
  }
  ASSERT_FALSE(library.expired());
  tsunagu::ChannelDelivery delivery;
  delivery.delivery_id = "d-2";
  EXPECT_EQ(channel->deliver(delivery).outcome, tsunagu::ChannelResult::Outcome::delivered);
  channel.reset();
  EXPECT_TRUE(library.expired());
}

}  // namespace
