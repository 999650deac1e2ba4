#include "config/hub_config.hpp"

#include <gtest/gtest.h>

#include "support/temp_dir.hpp"

namespace {

using tsunagu::config::ConfigError;
using tsunagu::config::LoadOptions;
namespace fs = std::filesystem;

const char* kMinimal = R"(<tsunagu>
  <data-dir>data</data-dir>
  <mappings><directory>maps</directory></mappings>
  <systems>
    <public_assistance>
      <adapter>public_assistance</adapter>
      <mapping>public_assistance.xml</mapping>
    </public_assistance>
  </systems>
</tsunagu>)";

std::string load_error(const std::string& xml) {
  tsunagu_test::TempDir dir;
  const auto file = dir.write("tsunagu.xml", xml);
  try {
    tsunagu::config::load(file, LoadOptions{});
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

std::string replace(std::string s, const std::string& from, const std::string& to) {
  s.replace(s.find(from), from.size(), to);
  return s;
}

TEST(HubConfig, MinimalConfigGetsDefaultsAndResolvesPathsAgainstTheFile) {
  tsunagu_test::TempDir dir;
  const auto file = dir.write("etc/tsunagu.xml", kMinimal);
  LoadOptions options;
  options.executable_dir = "/opt/tsunagu/bin";
  const auto c = tsunagu::config::load(file, options);
  EXPECT_EQ(c.data_dir, dir.path() / "etc" / "data");
  EXPECT_EQ(c.mapping_dir, dir.path() / "etc" / "maps");
  EXPECT_EQ(c.plugin_dir, fs::path("/opt/tsunagu/plugins"));
  EXPECT_EQ(c.sqlite.file, dir.path() / "etc" / "data" / "store.db");
  EXPECT_EQ(c.sqlite.synchronous, "full");
  EXPECT_EQ(c.sqlite.cache_mb, 64);
  EXPECT_EQ(c.sqlite.checkpoint_mb, 256);
  EXPECT_EQ(c.sqlite.checkpoint, "background");
  EXPECT_EQ(c.batch_size, 500u);
  ASSERT_EQ(c.systems.size(), 1u);
  EXPECT_EQ(c.systems[0].name, "public_assistance");
  EXPECT_EQ(c.systems[0].mapping, dir.path() / "etc" / "maps" / "public_assistance.xml");
  EXPECT_EQ(c.spool_dir("public_assistance"),
            dir.path() / "etc" / "data" / "spool" / "public_assistance");
}

TEST(HubConfig, DataDirOptionOverridesTheFile) {
  tsunagu_test::TempDir dir;
  const auto file = dir.write("tsunagu.xml", kMinimal);
  LoadOptions options;
  options.data_dir = dir.path() / "elsewhere";
  EXPECT_EQ(tsunagu::config::load(file, options).data_dir, dir.path() / "elsewhere");
}

TEST(HubConfig, TheBundledConfigIsValid) {
  const auto c =
      tsunagu::config::load(fs::path(TSUNAGU_SOURCE_DIR) / "config" / "tsunagu.xml", LoadOptions{});
  EXPECT_FALSE(c.systems.empty());
  EXPECT_TRUE(fs::exists(c.mapping_schema())) << c.mapping_schema();
}

TEST(HubConfig, UnknownElementNamesFileElementAndAllowedNames) {
  const auto e = load_error(replace(kMinimal, "<data-dir>",
                                    "<spool><poll-intervall>5</poll-intervall></spool><data-dir>"));
  EXPECT_NE(e.find("tsunagu.xml: <tsunagu/spool/poll-intervall>: unknown element"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("poll-interval-ms"), std::string::npos) << e;
}

TEST(HubConfig, UnknownTopLevelElement) {
  const auto e = load_error(replace(kMinimal, "<data-dir>", "<datadir>x</datadir><data-dir>"));
  EXPECT_NE(e.find("<tsunagu/datadir>: unknown element"), std::string::npos) << e;
}

TEST(HubConfig, MissingRequiredElement) {
  const auto e = load_error(replace(kMinimal, "<data-dir>data</data-dir>", ""));
  EXPECT_NE(e.find("<tsunagu/data-dir>: required element is missing"), std::string::npos) << e;
}

TEST(HubConfig, MissingAdapterOfASystem) {
  const auto e = load_error(replace(kMinimal, "<adapter>public_assistance</adapter>", ""));
  EXPECT_NE(e.find("<tsunagu/systems/public_assistance/adapter>: required element is missing"),
            std::string::npos)
      << e;
}

TEST(HubConfig, SqliteCacheAndCheckpointSizes) {
  tsunagu_test::TempDir dir;
  const auto file =
      dir.write("tsunagu.xml",
                replace(kMinimal, "<data-dir>",
                        "<store><sqlite><cache-mb>16</cache-mb><checkpoint-mb>8</checkpoint-mb>"
                        "<checkpoint>commit</checkpoint></sqlite></store><data-dir>"));
  const auto c = tsunagu::config::load(file, LoadOptions{});
  EXPECT_EQ(c.sqlite.cache_mb, 16);
  EXPECT_EQ(c.sqlite.checkpoint_mb, 8);
  EXPECT_EQ(c.sqlite.checkpoint, "commit");
  auto wrong = load_error(
      replace(kMinimal, "<data-dir>",
              "<store><sqlite><checkpoint>later</checkpoint></sqlite></store><data-dir>"));
  EXPECT_NE(wrong.find("<tsunagu/store/sqlite/checkpoint>"), std::string::npos) << wrong;
  auto e = load_error(replace(kMinimal, "<data-dir>",
                              "<store><sqlite><cache-mb>1</cache-mb></sqlite></store><data-dir>"));
  EXPECT_NE(e.find("<tsunagu/store/sqlite/cache-mb>"), std::string::npos) << e;
  EXPECT_NE(e.find("1 is out of range [2, 4096]"), std::string::npos) << e;
  e = load_error(
      replace(kMinimal, "<data-dir>",
              "<store><sqlite><checkpoint-mb>0</checkpoint-mb></sqlite></store><data-dir>"));
  EXPECT_NE(e.find("<tsunagu/store/sqlite/checkpoint-mb>"), std::string::npos) << e;
  EXPECT_NE(e.find("0 is out of range [1, 4096]"), std::string::npos) << e;
}

TEST(HubConfig, BadValues) {
  auto e = load_error(
      replace(kMinimal, "<data-dir>", "<spool><batch-size>lots</batch-size></spool><data-dir>"));
  EXPECT_NE(e.find("<tsunagu/spool/batch-size>: 'lots' is not an integer"), std::string::npos) << e;
  e = load_error(
      replace(kMinimal, "<data-dir>", "<spool><batch-size>0</batch-size></spool><data-dir>"));
  EXPECT_NE(e.find("0 is out of range [1, 100000]"), std::string::npos) << e;
  e = load_error(
      replace(kMinimal, "<data-dir>", "<store><backend>oracle</backend></store><data-dir>"));
  EXPECT_NE(e.find("<tsunagu/store/backend>: 'oracle' is not one of: postgresql, sqlite"),
            std::string::npos)
      << e;
  e = load_error(replace(kMinimal, "<data-dir>",
                         "<store><backend>postgresql</backend><postgresql><conninfo>dbname=t "
                         "password=secret</conninfo></postgresql></store><data-dir>"));
  EXPECT_NE(e.find("<tsunagu/store/postgresql/conninfo>: must not hold a password"),
            std::string::npos)
      << e;
  e = load_error(replace(kMinimal, "<adapter>", "<enabled>yes</enabled><adapter>"));
  EXPECT_NE(e.find("'yes' is not a boolean"), std::string::npos) << e;
  e = load_error(
      replace(kMinimal, "<data-dir>", "<logging><level>loud</level></logging><data-dir>"));
  EXPECT_NE(e.find("<tsunagu/logging/level>: 'loud' is not one of"), std::string::npos) << e;
}

TEST(HubConfig, DuplicatedElement) {
  const auto e = load_error(replace(kMinimal, "<data-dir>data</data-dir>",
                                    "<data-dir>a</data-dir><data-dir>b</data-dir>"));
  EXPECT_NE(e.find("appears more than once"), std::string::npos) << e;
}

TEST(HubConfig, BadSystemNameAndNoSystems) {
  auto e = load_error(replace(replace(kMinimal, "<public_assistance>", "<Public-Assistance>"),
                              "</public_assistance>", "</Public-Assistance>"));
  EXPECT_NE(e.find("system names use a-z, 0-9 and _ only"), std::string::npos) << e;
  e = load_error(
      R"(<tsunagu><data-dir>d</data-dir><mappings><directory>m</directory></mappings><systems/></tsunagu>)");
  EXPECT_NE(e.find("at least one system must be configured"), std::string::npos) << e;
}

TEST(HubConfig, MalformedXmlNamesTheLine) {
  const auto e = load_error("<tsunagu>\n<data-dir>x</data-dir>\n<oops>\n</tsunagu>");
  EXPECT_NE(e.find("tsunagu.xml:"), std::string::npos) << e;
  EXPECT_NE(e.find("not well-formed XML"), std::string::npos) << e;
}

TEST(HubConfig, MissingFile) {
  EXPECT_THROW(tsunagu::config::load("/nonexistent/tsunagu.xml", LoadOptions{}), ConfigError);
}

TEST(HubConfig, SettingsArePassedThrough) {
  tsunagu_test::TempDir dir;
  const auto file = dir.write(
      "tsunagu.xml",
      replace(kMinimal, "<adapter>", "<settings><encoding>CP932</encoding></settings><adapter>"));
  const auto c = tsunagu::config::load(file, LoadOptions{});
  EXPECT_EQ(c.systems[0].settings.at("encoding"), "CP932");
}

}  // namespace

namespace {

TEST(HubConfigRouting, AbsentMeansOff) {
  tsunagu_test::TempDir dir;
  const auto c = tsunagu::config::load(dir.write("tsunagu.xml", kMinimal), LoadOptions{});
  EXPECT_FALSE(c.routing_enabled);
}

TEST(HubConfigRouting, EmptyElementMeansOnWithTheFourFilesBesideTheConfig) {
  tsunagu_test::TempDir dir;
  const auto file =
      dir.write("etc/tsunagu.xml", replace(kMinimal, "</tsunagu>", "<routing/></tsunagu>"));
  const auto c = tsunagu::config::load(file, LoadOptions{});
  EXPECT_TRUE(c.routing_enabled);
  EXPECT_EQ(c.routing_files.policies, dir.path() / "etc" / "policies.xml");
  EXPECT_EQ(c.routing_files.roster, dir.path() / "etc" / "roster.xml");
  EXPECT_EQ(c.routing_files.holidays, dir.path() / "etc" / "holidays.xml");
  EXPECT_EQ(c.routing_files.routes, dir.path() / "etc" / "routes.xml");
}

TEST(HubConfigRouting, PathsAreRelativeToTheFileAndEnabledFalseSwitchesItOff) {
  tsunagu_test::TempDir dir;
  const auto file = dir.write(
      "etc/tsunagu.xml",
      replace(kMinimal, "</tsunagu>",
              "<routing><roster>people/roster.xml</roster><routes>/srv/routes.xml</routes>"
              "</routing></tsunagu>"));
  auto c = tsunagu::config::load(file, LoadOptions{});
  EXPECT_TRUE(c.routing_enabled);
  EXPECT_EQ(c.routing_files.roster, dir.path() / "etc" / "people" / "roster.xml");
  EXPECT_EQ(c.routing_files.routes, fs::path("/srv/routes.xml"));
  EXPECT_EQ(c.routing_files.policies, dir.path() / "etc" / "policies.xml");
  const auto off = dir.write(
      "off.xml",
      replace(kMinimal, "</tsunagu>", "<routing><enabled>false</enabled></routing></tsunagu>"));
  EXPECT_FALSE(tsunagu::config::load(off, LoadOptions{}).routing_enabled);
}

TEST(HubConfigRouting, UnknownChildAndBadEnabledAreErrors) {
  auto e = load_error(
      replace(kMinimal, "</tsunagu>", "<routing><rooster>r.xml</rooster></routing></tsunagu>"));
  EXPECT_NE(e.find("<tsunagu/routing/rooster>: unknown element"), std::string::npos) << e;
  e = load_error(
      replace(kMinimal, "</tsunagu>", "<routing><enabled>yes</enabled></routing></tsunagu>"));
  EXPECT_NE(e.find("<tsunagu/routing/enabled>: 'yes' is not a boolean"), std::string::npos) << e;
}

TEST(HubConfigRouting, TheBundledConfigRoutesWithTheShippedFiles) {
  const auto c =
      tsunagu::config::load(fs::path(TSUNAGU_SOURCE_DIR) / "config" / "tsunagu.xml", LoadOptions{});
  EXPECT_TRUE(c.routing_enabled);
  for (const auto& f : {c.routing_files.policies, c.routing_files.roster, c.routing_files.holidays,
                        c.routing_files.routes}) {
    EXPECT_TRUE(fs::is_regular_file(f)) << f;
  }
}

}  // namespace
