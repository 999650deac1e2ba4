#include "routing/routing_config.hpp"

#include <algorithm>

#include <gtest/gtest.h>

#include "routing_test_support.hpp"

namespace {

namespace fs = std::filesystem;
using tsunagu::routing::RoutingFiles;
using tsunagu_test::replace_in;
using tsunagu_test::RoutingFixture;

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::size_t lines(const std::string& text) {
  return text.empty() ? 0
                      : static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1;
}

RoutingFiles shipped_files() {
  const fs::path dir = fs::path(TSUNAGU_SOURCE_DIR) / "config";
  return {dir / "policies.xml", dir / "roster.xml", dir / "holidays.xml", dir / "routes.xml"};
}

const std::set<std::string> kAllSystems{"public_assistance", "health_centre", "child_guidance",
                                        "education"};

// ---- the shipped configuration ------------------------------------------------------------------

TEST(ShippedRoutingConfig, LoadsWithALiaisonInEveryWardAndNothingUnreachable) {
  const auto config = tsunagu::routing::load(shipped_files(), kAllSystems);
  ASSERT_EQ(config.roster.wards.size(), 10u);
  for (const auto& ward : config.roster.wards) {
    EXPECT_FALSE(config.roster.serving("liaison", ward.code).empty()) << ward.code;
    EXPECT_FALSE(config.roster.serving("pa_section_chief", ward.code).empty()) << ward.code;
  }
  const auto problems = tsunagu::routing::unreachable(config);
  std::string all;
  for (const auto& p : problems) all += p + "\n";
  EXPECT_TRUE(problems.empty()) << all;
}

TEST(ShippedRoutingConfig, CoordinatorsOnlyInTheModelWards) {
  const auto config = tsunagu::routing::load(shipped_files(), kAllSystems);
  std::set<std::string> with;
  for (const auto& ward : config.roster.wards) {
    if (!config.roster.serving("coordinator", ward.code).empty()) with.insert(ward.code);
  }
  EXPECT_EQ(with, (std::set<std::string>{"01102", "01103", "01106", "01108"}));
}

TEST(ShippedRoutingConfig, HasTheCombinedConcernRuleTheTimerAndAWithheldExample) {
  const auto config = tsunagu::routing::load(shipped_files(), kAllSystems);
  ASSERT_EQ(config.correlations.size(), 1u);
  EXPECT_EQ(config.correlations[0].id, "combined_concern");
  EXPECT_EQ(config.correlations[0].window_days, 90);
  ASSERT_EQ(config.timers.size(), 1u);
  EXPECT_EQ(config.timers[0].start_kind, "cg.report_received");
  EXPECT_EQ(config.timers[0].stop_kind, "cg.safety_confirmed");
  EXPECT_EQ(config.timers[0].duration.hours, 48);
  EXPECT_EQ(config.timers[0].duration.clock, tsunagu::routing::Deadline::Clock::wall);
  // A route whose policy does not cover what it matches: withheld by the router, by design.
  const auto withheld =
      std::find_if(config.routes.begin(), config.routes.end(), [&](const auto& r) {
        const auto* policy = config.policy(r.policy);
        return policy != nullptr && !policy->covers("health_centre", "psych_consult.opened") &&
               r.match.matches_kind("psych_consult.opened");
      });
  EXPECT_NE(withheld, config.routes.end());
  EXPECT_EQ(config.kind_label("infant_checkup.missed"), "乳幼児健診の未受診");
  EXPECT_EQ(config.system_label("child_guidance"), "児童相談所");
  // Every 2019 special holiday.
  for (const char* d : {"2019-04-30", "2019-05-01", "2019-05-02", "2019-10-22", "2027-11-23"}) {
    EXPECT_TRUE(config.holidays.contains(d)) << d;
  }
}

TEST(ShippedRoutingConfig, EveryRouteReasonIsJapaneseWithoutUnknownPlaceholders) {
  const auto config = tsunagu::routing::load(shipped_files(), kAllSystems);
  for (const auto& r : config.routes) {
    EXPECT_TRUE(has(r.reason, "。")) << r.id;
    EXPECT_TRUE(has(r.reason, "{kind}")) << r.id;
  }
}

// ---- the small fixture
// ----------------------------------------------------------------------------

TEST(RoutingConfigLoad, TheFixtureLoads) {
  RoutingFixture f;
  const auto config = f.load();
  ASSERT_EQ(config.routes.size(), 1u);
  const auto& r = config.routes[0];
  EXPECT_EQ(r.policy, "p");
  EXPECT_EQ(r.deadline.days, 1);
  EXPECT_EQ(r.deadline.clock, tsunagu::routing::Deadline::Clock::office_hours);
  ASSERT_EQ(r.recipients.size(), 1u);
  EXPECT_EQ(r.recipients[0].channels, std::vector<std::string>{"inbox"});
  ASSERT_EQ(r.escalation.size(), 1u);
  EXPECT_EQ(r.escalation[0].fallback, "liaison");
  EXPECT_EQ(r.match.on_public_assistance, std::optional<bool>(true));
  EXPECT_EQ(r.origin.where(), "routes.xml:12 <route id=\"r1\">");
  EXPECT_EQ(config.roster.role_names.at("liaison"), "子ども支援窓口");
  EXPECT_EQ(config.after_hours_role, "cg_emergency");
  EXPECT_TRUE(tsunagu::routing::unreachable(config).empty());
}

TEST(RoutingConfigLoad, RouteWithoutPolicy) {
  RoutingFixture f;
  replace_in(f.routes, R"(<route id="r1" policy="p">)", R"(<route id="r1">)");
  const auto e = f.error();
  EXPECT_TRUE(has(e, "routes.xml:12 <route id=\"r1\">: route 'r1' names no policy")) << e;
}

TEST(RoutingConfigLoad, CorrelationAndTimerWithoutPolicy) {
  RoutingFixture f;
  replace_in(f.routes, R"(<correlation id="c1" policy="p")", R"(<correlation id="c1")");
  replace_in(f.routes, R"(<timer id="t1" policy="p">)", R"(<timer id="t1">)");
  const auto e = f.error();
  EXPECT_TRUE(has(e, "<correlation id=\"c1\">: correlation 'c1' names no policy")) << e;
  EXPECT_TRUE(has(e, "<timer id=\"t1\">: timer 't1' names no policy")) << e;
  EXPECT_EQ(lines(e), 2u) << e;
}

TEST(RoutingConfigLoad, UnknownPolicyNamesRouteAndPolicy) {
  RoutingFixture f;
  replace_in(f.routes, R"(<route id="r1" policy="p">)", R"(<route id="r1" policy="pa_liasion">)");
  const auto e = f.error();
  EXPECT_TRUE(has(e,
                  "routes.xml:12 <route id=\"r1\">: route 'r1' names policy 'pa_liasion', "
                  "which policies.xml does not define"))
      << e;
}

TEST(RoutingConfigLoad, FieldOutsideTheAllowListNamesRoutePolicyAndField) {
  RoutingFixture f;
  replace_in(f.routes, "<fields>kind subject.name</fields>",
             "<fields>kind subject.name subject.resident_id</fields>");
  const auto e = f.error();
  EXPECT_TRUE(has(e,
                  "routes.xml:24 <fields>: route 'r1' asks for field 'subject.resident_id', "
                  "which policy 'p' does not allow"))
      << e;
  EXPECT_EQ(lines(e), 1u) << e;
}

TEST(RoutingConfigLoad, UnknownElementAndAttribute) {
  RoutingFixture f;
  replace_in(f.routes, "<title>健診未受診</title>", "<titel>健診未受診</titel>");
  replace_in(f.routes, R"(<recipient role="liaison"/>
      <deadline clock="office-hours">P1D)",
             R"(<recipient role="liaison" rol="x"/>
      <deadline clock="office-hours">P1D)");
  const auto e = f.error();
  EXPECT_TRUE(has(e, "routes.xml:13 <titel>: unknown element inside <route>")) << e;
  EXPECT_TRUE(has(e, "<route id=\"r1\">: required element <title> is missing")) << e;
  EXPECT_TRUE(has(e, "routes.xml:19 <recipient role=\"liaison\">: unknown attribute 'rol'")) << e;
}

TEST(RoutingConfigLoad, DuplicateIds) {
  RoutingFixture f;
  replace_in(f.roster, R"(<officer id="kita" )", R"(<officer id="chuo" )");
  replace_in(f.roster, R"(<ward code="01102" name="北区"/>)",
             R"(<ward code="01102" name="北区"/><ward code="01102" name="北区"/>)");
  replace_in(f.routes, R"(<correlation id="c1")", R"(<correlation id="r1")");
  f.policies = "<policies>" +
               f.policies.substr(f.policies.find("<policy "),
                                 f.policies.find("</policies>") - f.policies.find("<policy ")) +
               f.policies.substr(f.policies.find("<policy "));
  const auto e = f.error();
  EXPECT_TRUE(has(e, "officer 'chuo' is declared twice")) << e;
  EXPECT_TRUE(has(e, "ward '01102' is declared twice")) << e;
  EXPECT_TRUE(has(e, "id 'r1' is used twice")) << e;
  EXPECT_TRUE(has(e, "policy 'p' is defined twice")) << e;
}

TEST(RoutingConfigLoad, UnknownRoleAnywhere) {
  RoutingFixture f;
  replace_in(f.roster, R"(role="coordinator" ward="01102")", R"(role="coordinater" ward="01102")");
  replace_in(f.routes, R"(<step role="coordinator" fallback="liaison"/>)",
             R"(<step role="supervisor" fallback="liaison"/>)");
  const auto e = f.error();
  EXPECT_TRUE(has(e, "roster.xml:17 <officer id=\"kita-c\">: unknown role 'coordinater'")) << e;
  EXPECT_TRUE(has(e, "routes.xml:22 <step role=\"supervisor\">: unknown role 'supervisor'")) << e;
}

TEST(RoutingConfigLoad, UnknownWardCode) {
  RoutingFixture f;
  replace_in(f.roster, R"(role="liaison" ward="01102")", R"(role="liaison" ward="01199")");
  const auto e = f.error();
  EXPECT_TRUE(has(e, "<officer id=\"kita\">: unknown ward code '01199'")) << e;
}

TEST(RoutingConfigLoad, UnknownSystem) {
  RoutingFixture f;
  replace_in(f.policies, "<sources>health_centre child_guidance</sources>",
             "<sources>health_centre child_guidance education</sources>");
  replace_in(f.routes, "<sources>health_centre</sources>", "<sources>health_center</sources>");
  const auto e = f.error();
  EXPECT_TRUE(has(e, "policies.xml:6 <sources>: unknown system 'education'")) << e;
  EXPECT_TRUE(has(e, "routes.xml:16 <sources>: unknown system 'health_center'")) << e;
}

TEST(RoutingConfigLoad, MalformedOrZeroDurations) {
  for (const std::string bad : {"P1W", "PT0H", "1D", "P1M", "P", "PT", "P1DT", "PT30S", "P-1D"}) {
    RoutingFixture f;
    replace_in(f.routes, R"(<deadline clock="office-hours">P1D</deadline>)",
               R"(<deadline clock="office-hours">)" + bad + "</deadline>");
    const auto e = f.error();
    EXPECT_TRUE(
        has(e, "routes.xml:20 <deadline>: '" + bad + "' is not a non-zero ISO-8601 duration"))
        << bad << ": " << e;
  }
  RoutingFixture f;
  replace_in(f.routes, "<duration>PT48H</duration>",
             R"(<duration clock="sometimes">PT48H</duration>)");
  EXPECT_TRUE(has(f.error(), "clock='sometimes' is not wall or office-hours")) << f.error();
}

TEST(RoutingConfigLoad, BadTimeOfDay) {
  RoutingFixture f;
  replace_in(f.roster, R"(from="08:45" to="17:15")", R"(from="25:00" to="17:15")");
  replace_in(f.roster, R"(from="00:00" to="24:00")", R"(from="00:00" to="24:30")");
  const auto e = f.error();
  EXPECT_TRUE(has(e, "roster.xml:3 <slot>: from='25:00' is not a time of day")) << e;
  EXPECT_TRUE(has(e, "<duty>: to='24:30' is not a time of day")) << e;
}

TEST(RoutingConfigLoad, BadWeekday) {
  RoutingFixture f;
  replace_in(f.roster, R"(days="mon tue wed thu fri")", R"(days="mon tue wed thu fry")");
  EXPECT_TRUE(has(f.error(), "roster.xml:3 <slot>: 'fry' is not a weekday")) << f.error();
}

TEST(RoutingConfigLoad, BadHolidayDate) {
  RoutingFixture f;
  replace_in(f.holidays, R"(date="2019-09-23")", R"(date="2019-02-30")");
  EXPECT_TRUE(
      has(f.error(), "holidays.xml:2 <holiday date=\"2019-02-30\">: '2019-02-30' is not a date"))
      << f.error();
  RoutingFixture g;
  replace_in(g.holidays, R"(date="2019-09-23")", R"(date="2019/09/23")");
  EXPECT_TRUE(has(g.error(), "is not a date YYYY-MM-DD")) << g.error();
}

TEST(RoutingConfigLoad, UnknownFieldPath) {
  RoutingFixture f;
  replace_in(f.policies, "subject.ward_code</fields>",
             "subject.ward_code subject.shoe_size</fields>");
  EXPECT_TRUE(has(f.error(), "policies.xml:9 <fields>: unknown field 'subject.shoe_size'"))
      << f.error();
}

TEST(RoutingConfigLoad, RecipientRoleThePolicyDoesNotListCouldNeverDeliver) {
  RoutingFixture f;
  replace_in(f.policies, "<roles>liaison coordinator cg_emergency</roles>",
             "<roles>liaison cg_emergency</roles>");
  const auto e = f.error();
  EXPECT_TRUE(has(e,
                  "route 'r1': escalation role 'coordinator' is not among the roles of policy "
                  "'p' (cg_emergency liaison), so it could never deliver"))
      << e;
}

TEST(RoutingConfigLoad, EmptyKinds) {
  RoutingFixture f;
  replace_in(f.routes, "<kinds>infant_checkup.missed</kinds>", "<kinds> </kinds>");
  EXPECT_TRUE(has(f.error(), "routes.xml:15 <kinds>: names no kinds")) << f.error();
}

TEST(RoutingConfigLoad, KindsMustBeInTheCatalogue) {
  RoutingFixture f;
  replace_in(f.routes, "<kinds>infant_checkup.missed</kinds>",
             "<kinds>infant_checkup.mised</kinds>");
  replace_in(f.policies, "infant_checkup.* cg.report_received", "infant_checkup.* cg.reported");
  const auto e = f.error();
  EXPECT_TRUE(has(e, "routes.xml:15 <kinds>: unknown event kind 'infant_checkup.mised'")) << e;
  EXPECT_TRUE(has(e, "policies.xml:2 <policy id=\"p\">: unknown event kind 'cg.reported'")) << e;
}

TEST(RoutingConfigLoad, UnknownPlaceholderInReason) {
  RoutingFixture f;
  replace_in(f.routes, "（{ward}）。</reason>", "（{name}）。</reason>");
  EXPECT_TRUE(has(f.error(), "unknown placeholder '{name}'")) << f.error();
}

TEST(RoutingConfigLoad, EveryProblemInEveryFileIsReportedAtOnce) {
  RoutingFixture f;
  replace_in(f.routes, R"(<route id="r1" policy="p">)", R"(<route id="r1">)");
  replace_in(f.roster, R"(days="mon tue wed thu fri")", R"(days="mon tue wed thu fry")");
  replace_in(f.holidays, R"(date="2019-09-23")", R"(date="2019-13-01")");
  replace_in(f.policies, R"(retention-days="365")", R"(retention-days="0")");
  const auto e = f.error();
  EXPECT_EQ(lines(e), 4u) << e;
  EXPECT_TRUE(has(e, "roster.xml:3 ")) << e;
  EXPECT_TRUE(has(e, "holidays.xml:2 ")) << e;
  EXPECT_TRUE(has(e, "policies.xml:2 ")) << e;
  EXPECT_TRUE(has(e, "routes.xml:12 ")) << e;
}

TEST(RoutingConfigLoad, RefusesADoctypeAndMalformedXml) {
  RoutingFixture f;
  f.holidays = R"(<?xml version="1.0"?>
<!DOCTYPE holidays [ <!ENTITY x "lol"> ]>
<holidays><holiday date="2019-09-23" name="&x;"/></holidays>)";
  f.policies = "<policies><policy></policies>";
  const auto e = f.error();
  EXPECT_TRUE(has(e, "holidays.xml:2 <!DOCTYPE>: routing files must not declare a DTD")) << e;
  EXPECT_TRUE(has(e, "policies.xml:1: not well-formed XML")) << e;
}

TEST(RoutingConfigLoad, MissingFileAndWrongRoot) {
  RoutingFixture f;
  auto files = f.write();
  files.holidays = f.dir / "nothing.xml";
  try {
    tsunagu::routing::load(files, tsunagu_test::kRoutingSystems);
    FAIL() << "loaded";
  } catch (const tsunagu::routing::ConfigError& e) {
    EXPECT_TRUE(has(e.what(), "nothing.xml: file not found")) << e.what();
  }
  RoutingFixture g;
  g.holidays = "<holiday/>";
  EXPECT_TRUE(has(g.error(), "holidays.xml:1 <holiday>: the root element must be <holidays>"))
      << g.error();
}

// ---- unreachable
// ----------------------------------------------------------------------------------

TEST(Unreachable, ARoleMissingInAWardWithoutFallbackIsReported) {
  RoutingFixture f;
  replace_in(f.routes, R"(<step role="coordinator" fallback="liaison"/>)",
             R"(<step role="coordinator"/>)");
  const auto problems = tsunagu::routing::unreachable(f.load());
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_TRUE(has(problems[0], "route 'r1', ward 01101")) << problems[0];
  EXPECT_TRUE(has(problems[0], "中央区(01101)")) << problems[0];
  EXPECT_TRUE(has(problems[0], "coordinator")) << problems[0];
}

TEST(Unreachable, InactiveOfficersReachNobody) {
  RoutingFixture f;
  replace_in(f.roster, R"(name="甲野　一子")", R"(name="甲野　一子" active="false")");
  const auto problems = tsunagu::routing::unreachable(f.load());
  // r1's recipient and its escalation fallback, and c1's recipient, in 中央区.
  ASSERT_EQ(problems.size(), 3u);
  for (const auto& p : problems) EXPECT_TRUE(has(p, "ward 01101")) << p;
}

TEST(Unreachable, ATimerRecipientNotOnDutyAllWeekIsReportedWithTheGap) {
  RoutingFixture f;
  replace_in(f.roster, R"(<duty days="sun mon tue wed thu fri sat" from="00:00" to="24:00"/>)",
             R"(<duty days="sun mon tue wed thu fri sat" from="17:15" to="08:45"/>)");
  const auto problems = tsunagu::routing::unreachable(f.load());
  ASSERT_FALSE(problems.empty());
  EXPECT_TRUE(has(problems[0], "timer 't1'")) << problems[0];
  EXPECT_TRUE(has(problems[0], "月 08:45–月 17:15")) << problems[0];
}

TEST(Unreachable, AnAfterHoursRoleWithAGapAtNightIsReported) {
  RoutingFixture f;
  replace_in(f.roster, R"(<duty days="sun mon tue wed thu fri sat" from="00:00" to="24:00"/>)",
             R"(<duty days="sun mon tue wed thu fri sat" from="00:00" to="23:00"/>)");
  const auto problems = tsunagu::routing::unreachable(f.load());
  ASSERT_FALSE(problems.empty());
  bool after_hours = false;
  for (const auto& p : problems) after_hours = after_hours || has(p, "after-hours 'cg_emergency'");
  EXPECT_TRUE(after_hours);
}

// ---- the model's small functions ---------------------------------------------------------------

TEST(RoutingModel, ParseDuration) {
  using tsunagu::routing::parse_duration;
  EXPECT_EQ(parse_duration("P2D")->days, 2);
  EXPECT_EQ(parse_duration("PT48H")->hours, 48);
  const auto d = parse_duration("P1DT12H30M");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->days, 1);
  EXPECT_EQ(d->hours, 12);
  EXPECT_EQ(d->minutes, 30);
  EXPECT_EQ(d->text, "P1DT12H30M");
  EXPECT_EQ(parse_duration("PT90M")->minutes, 90);
  for (const char* bad : {"", "P", "PT", "P0D", "PT0M", "P1Y", "P1M", "P1W", "PT1S", "P1H", "PT1D",
                          "PT1M1H", "P1D1D", "2D", "p1d", "P1.5D", "P1DT"}) {
    EXPECT_FALSE(parse_duration(bad)) << bad;
  }
}

TEST(RoutingModel, KnownFields) {
  using tsunagu::routing::is_known_field;
  EXPECT_TRUE(is_known_field("subject.age_months"));
  EXPECT_TRUE(is_known_field("attributes.checkup_type"));
  EXPECT_FALSE(is_known_field("attributes."));
  EXPECT_FALSE(is_known_field("attributes.Checkup"));
  EXPECT_FALSE(is_known_field("subject.shoe_size"));
  EXPECT_FALSE(is_known_field("payload"));
}

TEST(RoutingModel, KindWildcards) {
  tsunagu::routing::Policy p;
  p.kinds = {"cg.*", "infant_checkup.missed"};
  p.sources = {"child_guidance"};
  EXPECT_TRUE(p.covers_kind("cg.report_received"));
  EXPECT_TRUE(p.covers_kind("infant_checkup.missed"));
  EXPECT_FALSE(p.covers_kind("cg"));
  EXPECT_FALSE(p.covers_kind("cgx.report"));
  EXPECT_FALSE(p.covers_kind("infant_checkup.concern"));
  EXPECT_TRUE(p.covers("child_guidance", "cg.case_opened"));
  EXPECT_FALSE(p.covers("education", "cg.case_opened"));
  tsunagu::routing::Match m;
  m.kinds = {"school.*"};
  EXPECT_TRUE(m.matches_kind("school.prolonged_absence"));
  EXPECT_FALSE(m.matches_kind("nursery.withdrawn"));
}

TEST(RoutingModel, ServingListsWardOfficersFirstThenCityWide) {
  RoutingFixture f;
  replace_in(f.roster, "  </officers>", R"(    <officer id="city" role="liaison" name="戊野　五子"/>
  </officers>)");
  const auto config = f.load();
  const auto serving = config.roster.serving("liaison", "01102");
  ASSERT_EQ(serving.size(), 2u);
  EXPECT_EQ(serving[0]->id, "kita");
  EXPECT_EQ(serving[1]->id, "city");
  EXPECT_EQ(config.roster.ward("01102")->name, "北区");
  EXPECT_EQ(config.roster.officer("kita-c")->role, "coordinator");
  EXPECT_EQ(config.roster.ward("01199"), nullptr);
  EXPECT_EQ(config.kind_label("cg.unknown"), "cg.unknown");
  EXPECT_EQ(config.system_label("health_centre"), "保健センター");
  EXPECT_EQ(config.policy("p")->retention_days, 365);
  EXPECT_EQ(config.policy("q"), nullptr);
}

}  // namespace
