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
  EXPECT_EQ(registry.refusals().size(), 5u);
  std::vector<std::string> names;
  for (const auto& p : registry.plugins()) names.push_back(p.name);
  EXPECT_EQ(names, (std::vector<std::string>{"echo", "failing_factory"}));
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

}  // namespace
