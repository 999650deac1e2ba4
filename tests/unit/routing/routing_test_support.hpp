// A small routing configuration written into a temporary directory, which each test changes by
// text replacement to provoke one problem at a time.
#pragma once

#include <set>
#include <stdexcept>
#include <string>

#include "routing/routing_config.hpp"
#include "support/temp_dir.hpp"

namespace tsunagu_test {

inline const std::set<std::string> kRoutingSystems{"public_assistance", "health_centre",
                                                   "child_guidance"};

struct RoutingFixture {
  std::string policies = R"(<policies>
  <policy id="p" retention-days="365">
    <title>健診情報の提供</title>
    <legal-basis code="c">個人情報の保護に関する法律第69条第2項第2号</legal-basis>
    <purpose>子どもの安全を確かめるため</purpose>
    <sources>health_centre child_guidance</sources>
    <kinds>infant_checkup.* cg.report_received cg.safety_confirmed</kinds>
    <roles>liaison coordinator cg_emergency</roles>
    <fields>kind occurred_at subject.name subject.ward_code</fields>
  </policy>
</policies>
)";
  std::string roster = R"(<roster>
  <office-hours>
    <slot days="mon tue wed thu fri" from="08:45" to="17:15"/>
  </office-hours>
  <roles>
    <role id="liaison" name="子ども支援窓口"/>
    <role id="coordinator" name="支援調整課"/>
    <role id="cg_emergency" name="緊急対応班"/>
  </roles>
  <wards>
    <ward code="01101" name="中央区"/>
    <ward code="01102" name="北区"/>
  </wards>
  <officers>
    <officer id="chuo" role="liaison" ward="01101" name="甲野　一子" email="chuo@example.invalid"/>
    <officer id="kita" role="liaison" ward="01102" name="乙野　二郎"/>
    <officer id="kita-c" role="coordinator" ward="01102" name="丙野　三子"/>
    <officer id="emergency" role="cg_emergency" name="丁野　四郎">
      <duty days="sun mon tue wed thu fri sat" from="00:00" to="24:00"/>
    </officer>
  </officers>
</roster>
)";
  std::string holidays = R"(<holidays>
  <holiday date="2019-09-23" name="秋分の日"/>
</holidays>
)";
  std::string routes = R"(<routing>
  <systems>
    <system id="health_centre" label="保健センター"/>
  </systems>
  <kinds>
    <kind id="infant_checkup.missed" label="乳幼児健診の未受診"/>
    <kind id="cg.report_received" label="通告受理"/>
    <kind id="cg.safety_confirmed" label="安全確認"/>
  </kinds>
  <after-hours role="cg_emergency"/>
  <routes>
    <route id="r1" policy="p">
      <title>健診未受診</title>
      <match>
        <kinds>infant_checkup.missed</kinds>
        <sources>health_centre</sources>
        <on-public-assistance>true</on-public-assistance>
      </match>
      <recipient role="liaison"/>
      <deadline clock="office-hours">P1D</deadline>
      <escalation>
        <step role="coordinator" fallback="liaison"/>
      </escalation>
      <fields>kind subject.name</fields>
      <reason>{source}から「{kind}」の連絡がありました（{ward}）。</reason>
    </route>
  </routes>
  <correlations>
    <correlation id="c1" policy="p" window-days="90" min-kinds="2" min-systems="2">
      <title>重なり</title>
      <kinds>infant_checkup.missed cg.report_received</kinds>
      <recipient role="liaison"/>
      <deadline clock="office-hours">PT4H</deadline>
      <fields>kind</fields>
      <reason>「{kinds}」が重なりました（{ward}）。</reason>
    </correlation>
  </correlations>
  <timers>
    <timer id="t1" policy="p">
      <title>48時間</title>
      <start kind="cg.report_received"/>
      <stop kind="cg.safety_confirmed"/>
      <duration>PT48H</duration>
      <recipient role="cg_emergency"/>
      <deadline>PT1H</deadline>
      <fields>kind</fields>
      <reason>「{kind}」から48時間が経ちました（{ward}）。</reason>
    </timer>
  </timers>
</routing>
)";

  TempDir dir;

  tsunagu::routing::RoutingFiles write() const {
    return {dir.write("policies.xml", policies), dir.write("roster.xml", roster),
            dir.write("holidays.xml", holidays), dir.write("routes.xml", routes)};
  }
  tsunagu::routing::RoutingConfig load() const {
    return tsunagu::routing::load(write(), kRoutingSystems);
  }
  // The ConfigError's text, or "" when the files load.
  std::string error() const {
    try {
      load();
    } catch (const tsunagu::routing::ConfigError& e) {
      return e.what();
    }
    return "";
  }
};

// Replaces the one occurrence of `from` (which must be there) with `to`.
inline void replace_in(std::string& text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  if (at == std::string::npos) throw std::logic_error("test fixture has no '" + from + "'");
  text.replace(at, from.size(), to);
}

}  // namespace tsunagu_test
