// One child, four systems: records about the same girl arrive from public assistance, the health
// centre, the child guidance centre and her school — two without 宛名番号, with the kana written
// three ways — and end as one person, in the ward of her latest address, on public assistance.
#include <Poco/Data/Session.h>
#include <gtest/gtest.h>

#include "codec/cp932.hpp"
#include "support/daemon.hpp"

namespace {

using namespace tsunagu_test;
namespace fs = std::filesystem;

std::string cp932(const std::string& utf8) {
  tsunagu::codec::Cp932Encoder encoder;
  std::string out, error;
  if (!encoder.encode(utf8, out, error)) throw std::runtime_error(error);
  return out;
}

// A CP932 field of exactly `width` bytes, left-aligned and space-padded.
std::string field(const std::string& utf8, std::size_t width) {
  std::string bytes = cp932(utf8);
  if (bytes.size() > width) throw std::runtime_error("field too long: " + utf8);
  return bytes + std::string(width - bytes.size(), ' ');
}

const char* kSystems = R"(
    <health_centre><adapter>health_centre</adapter><mapping>health_centre.xml</mapping></health_centre>
    <education><adapter>education</adapter><mapping>education.xml</mapping></education>
    <child_guidance><adapter>child_guidance</adapter><mapping>child_guidance.xml</mapping></child_guidance>)";

TEST(IdentityAcrossSystems, OneChildFromFourSystemsIsOnePerson) {
  TempDir dir;
  const auto config = write_test_config(dir, 50, kSystems);
  const fs::path data = dir / "data";
  Daemon daemon(config, data);
  daemon.start();

  // 1. Public assistance opens the household (CP932 CSV, with 宛名番号), 東区, 1 June.
  drop_into_spool(data / "spool/public_assistance", "PA_EVENTS_20190601.csv",
                  cp932("処理番号,版,異動区分,発生日,世帯番号,宛名番号,氏名,氏名カナ,生年月日,性別,"
                        "続柄,区コード,住所,担当CW,備考\r\n"
                        "PA2019060100001,1,01,R1.06.01,30000001,0055555555,池田　詩織,ｲｹﾀﾞ "
                        "ｼｵﾘ,H29.11.30,2,子,01103,札幌市東区北10条東7丁目,CW0101,\r\n"));
  // 2. The health centre: a concern at the 18-month check-up (CDA XML, with 宛名番号), 5 June.
  drop_into_spool(data / "spool/health_centre", "HC_20190605.xml",
                  R"(<?xml version="1.0" encoding="UTF-8"?>
<HealthCentreExport xmlns="urn:sapporo:health-centre:export:1" created="2019-06-05T23:30:12+09:00">
  <ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
    <id root="urn:sapporo:health-centre:record" extension="HC-2019-900001"/>
    <versionNumber value="1"/>
    <code code="INFANT_CHECKUP" codeSystem="urn:sapporo:health-centre:doc-type"/>
    <effectiveTime value="20190605"/>
    <recordTarget><patientRole>
      <id root="urn:sapporo:resident-id" extension="0055555555"/>
      <patient>
        <name use="IDE"><family>池田</family><given>詩織</given></name>
        <name use="SYL"><family>イケダ</family><given>シオリ</given></name>
        <administrativeGenderCode code="2"/>
        <birthTime value="20171130"/>
      </patient>
      <providerOrganization><id root="urn:sapporo:ward" extension="01103"/></providerOrganization>
    </patientRole></recordTarget>
    <component><structuredBody><component><section>
      <entry><observation classCode="OBS" moodCode="EVN">
        <code code="CHECKUP_TYPE"/><value xsi:type="CD" code="18M"/></observation></entry>
      <entry><observation classCode="OBS" moodCode="EVN">
        <code code="RESULT"/><value xsi:type="CD" code="CONCERN"/></observation></entry>
    </section></component></structuredBody></component>
  </ClinicalDocument>
</HealthCentreExport>
)");
  // 3. The child guidance centre: a report, no 宛名番号, kana in hiragana, 北区 — but on 15 May,
  //    earlier than the others, so it must not become her current ward.
  drop_into_spool(
      data / "spool/child_guidance", "CG_20190515.ndjson",
      R"({"event_id": "CG-2019-9001", "revision": 1, "type": "report_received", "occurred_at": "2019-05-15T21:30:00+09:00", "child": {"resident_id": null, "name": "池田 詩織", "name_kana": "いけだ しおり", "birth_date": "2017-11-30", "sex": "F"}, "ward_code": "01102", "risk_level": "B", "report_source": "警察"})"
      "\n");
  // 4. The school (nursery) reports her absent, no 宛名番号, half-width kana, 中央区, 1 July.
  std::string record = "01" + field("ED0000009001", 12) + "01" + "5010701" + std::string(10, ' ') +
                       field("池田　詩織", 30) + field("ｲｹﾀﾞ ｼｵﾘ", 30) + "4291130" + "2" +
                       "100201" + "01101" + "012" + field("", 85);
  ASSERT_EQ(record.size(), 200u);
  drop_into_spool(data / "spool/education", "ED_20190701.dat", record + "\r\n");

  for (const char* done :
       {"spool/public_assistance/done/PA_EVENTS_20190601.csv",
        "spool/health_centre/done/HC_20190605.xml", "spool/child_guidance/done/CG_20190515.ndjson",
        "spool/education/done/ED_20190701.dat"}) {
    ASSERT_TRUE(wait_until([&] { return fs::exists(data / done); })) << done;
  }
  EXPECT_EQ(daemon.terminate(), 0);

  std::string out;
  ASSERT_EQ(run_cli({"--config", config.string(), "person", "show", "0055555555"}, out), 0) << out;
  // Four source subjects, one person.
  std::size_t linked = 0;
  for (const char* source : {"public_assistance", "health_centre", "child_guidance", "education"}) {
    if (out.find(std::string("  ") + source + "  rule ") != std::string::npos) ++linked;
  }
  EXPECT_EQ(linked, 4u) << out;
  EXPECT_NE(out.find("rule kana_birth"), std::string::npos) << out;
  EXPECT_NE(out.find("01101 中央区"), std::string::npos) << out;  // the latest address
  EXPECT_NE(out.find("生活保護 (on public assistance): はい"), std::string::npos) << out;
  EXPECT_NE(out.find("cg.report_received"), std::string::npos) << out;
  EXPECT_NE(out.find("infant_checkup.concern"), std::string::npos) << out;
  EXPECT_NE(out.find("school.prolonged_absence"), std::string::npos) << out;
  EXPECT_EQ(run_cli({"--config", config.string(), "identity", "review", "list"}, out), 0);
  EXPECT_NE(out.find("確認待ち (open reviews): 0 件"), std::string::npos) << out;
  EXPECT_EQ(run_cli({"--config", config.string(), "audit", "verify"}, out), 0) << out;
}

// A date `days_ago` days before today in Japan: {"YYYY-MM-DD", the public-assistance era form}.
std::pair<std::string, std::string> days_ago(int days) {
  const std::time_t t = std::time(nullptr) + 9 * 3600 - static_cast<std::time_t>(days) * 86400;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char iso[48], era[48];
  std::snprintf(iso, sizeof iso, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
  std::snprintf(era, sizeof era, "R%d.%02d.%02d", tm.tm_year + 1900 - 2018, tm.tm_mon + 1,
                tm.tm_mday);
  return {iso, era};
}

// A report reaches the child guidance centre about a child whose birth date it has wrong; the
// person master cannot link it to the child in a welfare household and asks for a review. When
// somebody links the two (`tsunagu identity review link`), the report reaches the ward's liaison,
// as it would have had the records matched at once.
TEST(IdentityAcrossSystems, AReviewLinkRoutesWhatTheTwoRecordsSayTogether) {
  TempDir dir;
  const auto config = write_test_config(dir, 50, kSystems, shipped_routing_config());
  const fs::path data = dir / "data";
  Daemon daemon(config, data);
  daemon.start();
  const auto opened = days_ago(20);
  const auto reported = days_ago(10);
  drop_into_spool(data / "spool/public_assistance", "PA_EVENTS_1.csv",
                  cp932("処理番号,版,異動区分,発生日,世帯番号,宛名番号,氏名,氏名カナ,生年月日,性別,"
                        "続柄,区コード,住所,担当CW,備考\r\n"
                        "PA2026000000001,1,01," +
                        opened.second +
                        ",30000002,0055555556,池田　詩織,ｲｹﾀﾞ "
                        "ｼｵﾘ,H29.11.30,2,子,01103,札幌市東区北10条東7丁目,CW0101,\r\n"));
  ASSERT_TRUE(wait_until(
      [&] { return fs::exists(data / "spool/public_assistance/done/PA_EVENTS_1.csv"); }));
  drop_into_spool(
      data / "spool/child_guidance", "CG_1.ndjson",
      R"({"event_id": "CG-2026-9001", "revision": 1, "type": "report_received", "occurred_at": ")" +
          reported.first +
          R"(T21:30:00+09:00", "child": {"resident_id": null, "name": "池田 詩織", "name_kana": "いけだ しおり", "birth_date": "2017-11-03", "sex": "F"}, "ward_code": "01103", "risk_level": "B", "report_source": "警察"})"
          "\n");
  ASSERT_TRUE(
      wait_until([&] { return fs::exists(data / "spool/child_guidance/done/CG_1.ndjson"); }));
  EXPECT_EQ(daemon.terminate(), 0);

  std::string out;
  ASSERT_EQ(run_cli({"--config", config.string(), "notices", "list"}, out), 0) << out;
  EXPECT_EQ(out.find("pa_cg_report"), std::string::npos) << out;
  ASSERT_EQ(run_cli({"--config", config.string(), "identity", "review", "list"}, out), 0) << out;
  ASSERT_NE(out.find("確認待ち (open reviews): 1 件"), std::string::npos) << out;
  const std::string review = out.substr(0, out.find(' '));
  ASSERT_EQ(
      run_cli({"--config", config.string(), "identity", "review", "link", review, "--by", "tanaka"},
              out),
      0)
      << out;
  EXPECT_NE(out.find("統合後の記録を再判定しました"), std::string::npos) << out;
  ASSERT_EQ(run_cli({"--config", config.string(), "notices", "list"}, out), 0) << out;
  EXPECT_NE(out.find("pa_cg_report"), std::string::npos) << out;
  EXPECT_EQ(run_cli({"--config", config.string(), "audit", "verify"}, out), 0) << out;
}

}  // namespace
