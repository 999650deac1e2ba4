// `tsunagu config check` on the routing files: load errors and unreachable (route, ward) pairs
// are listed and make the exit code non-zero; a sound configuration passes.
#include <gtest/gtest.h>

#include "support/daemon.hpp"
#include "unit/routing/routing_test_support.hpp"

namespace {

using namespace tsunagu_test;

// The routing fixture, for an instance whose only system is public_assistance.
void for_public_assistance(RoutingFixture& f) {
  replace_in(f.policies, "<sources>health_centre child_guidance</sources>",
             "<sources>public_assistance</sources>");
  replace_in(f.routes, "<sources>health_centre</sources>", "<sources>public_assistance</sources>");
}

int config_check(const RoutingFixture& f, std::string& out) {
  f.write();
  const auto config = write_test_config(f.dir, 50, "", "<routing/>");
  return run_cli(
      {"--config", config.string(), "--data-dir", (f.dir / "data").string(), "config", "check"},
      out);
}

TEST(ConfigCheckRouting, ASoundRoutingConfigPasses) {
  RoutingFixture f;
  for_public_assistance(f);
  std::string out;
  EXPECT_EQ(config_check(f, out), 0) << out;
  EXPECT_NE(out.find("every route reaches someone in every ward"), std::string::npos) << out;
}

TEST(ConfigCheckRouting, ABrokenRoutingFileIsListedAndFails) {
  RoutingFixture f;
  for_public_assistance(f);
  replace_in(f.routes, R"(<route id="r1" policy="p">)", R"(<route id="r1" policy="nope">)");
  replace_in(f.roster, R"(from="08:45")", R"(from="25:00")");
  std::string out;
  EXPECT_NE(config_check(f, out), 0) << out;
  EXPECT_NE(out.find("routes.xml:12 <route id=\"r1\">: route 'r1' names policy 'nope'"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("roster.xml:3 <slot>: from='25:00'"), std::string::npos) << out;
  EXPECT_NE(out.find("problems found"), std::string::npos) << out;
}

TEST(ConfigCheckRouting, AnUnreachableRouteAndWardIsListedAndFails) {
  RoutingFixture f;
  for_public_assistance(f);
  replace_in(f.routes, R"(<step role="coordinator" fallback="liaison"/>)",
             R"(<step role="coordinator"/>)");
  std::string out;
  EXPECT_NE(config_check(f, out), 0) << out;
  EXPECT_NE(out.find("NG  unreachable: "), std::string::npos) << out;
  EXPECT_NE(out.find("route 'r1', ward 01101"), std::string::npos) << out;
}

TEST(ConfigCheckRouting, TsunagudRefusesToStartWithABrokenRoutingConfig) {
  RoutingFixture f;
  for_public_assistance(f);
  replace_in(f.routes, R"(<route id="r1" policy="p">)", R"(<route id="r1" policy="nope">)");
  f.write();
  const auto config = write_test_config(f.dir, 50, "", "<routing/>");
  Poco::Pipe pipe;
  std::vector<std::string> args{"--config", config.string(), "--data-dir",
                                (f.dir / "data").string()};
  auto handle = Poco::Process::launch((kBinDir / "tsunagud").string(), args, nullptr, &pipe, &pipe);
  Poco::PipeInputStream in(pipe);
  const std::string out((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(handle.wait(), 78) << out;
  EXPECT_NE(out.find("route 'r1' names policy 'nope'"), std::string::npos) << out;
}

}  // namespace
