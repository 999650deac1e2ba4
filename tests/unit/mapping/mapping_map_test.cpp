// Mapping native records to canonical events: every public_assistance kind, every class of
// field error, and the features the other systems need (shown on the sample mappings).
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <mapping/mapping.hpp>

#include "mapping_test_support.hpp"

namespace tsunagu::mapping {
namespace {

using test_support::source_dir;
using test_support::test_data_dir;
using test_support::xsd_path;
using ::testing::ElementsAre;
using Fields = std::map<std::string, std::string>;

const Mapping& public_assistance() {
  static const Mapping mapping =
      Mapping::load_file(source_dir() / "mappings" / "public_assistance.xml", xsd_path());
  return mapping;
}

const Mapping& sample(const std::string& system) {
  static std::map<std::string, Mapping> loaded;  // tests in one binary run on one thread
  auto it = loaded.find(system);
  if (it == loaded.end()) {
    it = loaded
             .emplace(system,
                      Mapping::load_file(test_data_dir() / (system + "_sample.xml"), xsd_path()))
             .first;
  }
  return it->second;
}

// One CSV row of PA_EVENTS_20190605.csv as the adapter hands it over.
Fields pa_row() {
  return {
      {"処理番号", "PA2019060500012"},
      {"版", "1"},
      {"異動区分", "01"},
      {"発生日", "R1.06.05"},
      {"世帯番号", "12345678"},
      {"宛名番号", "0012345678"},
      {"氏名", "池田　花子"},
      {"氏名カナ", "イケダ　ハナコ"},
      {"生年月日", "H29.11.30"},
      {"性別", "2"},
      {"続柄", "子"},
      {"区コード", "01103"},
      {"住所", "札幌市東区北10条東7丁目1-1"},
      {"担当CW", "CW0312"},
      {"備考", "転入に伴う保護開始"},
  };
}

std::vector<std::string> error_lines(const MapResult& result) {
  std::vector<std::string> lines;
  for (const FieldError& error : result.errors) lines.push_back(to_string(error));
  return lines;
}

TEST(PublicAssistanceMapping, FullRowBecomesTheCanonicalEvent) {
  const MapResult result = public_assistance().map(pa_row());
  ASSERT_TRUE(result.ok()) << ::testing::PrintToString(error_lines(result));
  CaseEvent expected;
  expected.source = "public_assistance";
  expected.source_ref = "PA2019060500012";
  expected.source_version = 1;
  expected.kind = "welfare.household_opened";
  expected.occurred_at = "2019-06-05T00:00:00+09:00";
  expected.subject = {"0012345678", "池田　花子", "イケダ　ハナコ",
                      "2017-11-30", "F",          "札幌市東区北10条東7丁目1-1",
                      "01103"};
  expected.household = {"12345678", "子"};
  expected.attributes = {{"caseworker", "CW0312"}, {"remarks", "転入に伴う保護開始"}};
  expected.sensitivity = Sensitivity::special_care;
  EXPECT_EQ(result.event, expected);
  EXPECT_TRUE(result.event.id.empty());  // the store assigns it
}

TEST(PublicAssistanceMapping, EveryChangeTypeHasItsKind) {
  const std::map<std::string, std::string> kinds{
      {"01", "welfare.household_opened"},     {"02", "welfare.household_closed"},
      {"03", "welfare.member_added"},         {"04", "welfare.caseworker_assigned"},
      {"05", "welfare.visit_child_not_seen"}, {"06", "welfare.address_changed"},
  };
  for (const auto& [code, kind] : kinds) {
    Fields row = pa_row();
    row["異動区分"] = code;
    const MapResult result = public_assistance().map(row);
    ASSERT_TRUE(result.ok()) << code;
    EXPECT_EQ(result.event.kind, kind);
    // Being on public assistance is 要配慮個人情報, whatever the change.
    EXPECT_EQ(result.event.sensitivity, Sensitivity::special_care) << code;
  }
}

TEST(PublicAssistanceMapping, EveryDateFormOfTheExport) {
  for (const char* written : {"R1.06.05", "R01.06.05", "令和元年6月5日", "2019-06-05"}) {
    Fields row = pa_row();
    row["発生日"] = written;
    row["生年月日"] = written;
    const MapResult result = public_assistance().map(row);
    ASSERT_TRUE(result.ok()) << written;
    EXPECT_EQ(result.event.occurred_at, "2019-06-05T00:00:00+09:00");
    EXPECT_EQ(result.event.subject.birth_date, "2019-06-05");
  }
  Fields row = pa_row();
  row["発生日"] = "H31.04.30";
  EXPECT_EQ(public_assistance().map(row).event.occurred_at, "2019-04-30T00:00:00+09:00");
}

TEST(PublicAssistanceMapping, HalfWidthKanaPassesThroughUnchanged) {
  Fields row = pa_row();
  row["氏名カナ"] = "ｲｹﾀﾞ ﾊﾅｺ";
  const MapResult result = public_assistance().map(row);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result.event.subject.name_kana, "ｲｹﾀﾞ ﾊﾅｺ");
}

TEST(PublicAssistanceMapping, PaddingSpacesAreTrimmedButInnerSpacesKept) {
  Fields row = pa_row();
  row["処理番号"] = " PA2019060500012  ";
  row["版"] = "02";
  row["区コード"] = "01103 ";
  row["氏名"] = " 池田　花子 ";
  const MapResult result = public_assistance().map(row);
  ASSERT_TRUE(result.ok()) << ::testing::PrintToString(error_lines(result));
  EXPECT_EQ(result.event.source_ref, "PA2019060500012");
  EXPECT_EQ(result.event.source_version, 2);
  EXPECT_EQ(result.event.subject.ward_code, "01103");
  EXPECT_EQ(result.event.subject.name, "池田　花子");
}

TEST(PublicAssistanceMapping, OptionalFieldsMayBeEmptyOrAbsent) {
  Fields row = pa_row();
  row["宛名番号"] = "";
  row["備考"] = "";
  row.erase("世帯番号");
  row.erase("担当CW");
  row["未知の列"] = "ignored";
  const MapResult result = public_assistance().map(row);
  ASSERT_TRUE(result.ok()) << ::testing::PrintToString(error_lines(result));
  EXPECT_EQ(result.event.subject.resident_id, "");
  EXPECT_EQ(result.event.household.household_id, "");
  EXPECT_EQ(result.event.attributes.count("remarks"), 0U);
  EXPECT_EQ(result.event.attributes.count("caseworker"), 0U);
}

TEST(PublicAssistanceMapping, UnknownCode) {
  Fields row = pa_row();
  row["区コード"] = "01199";
  EXPECT_THAT(error_lines(public_assistance().map(row)),
              ElementsAre("区コード: unknown ward code '01199' (code table 'ward')"));
  row = pa_row();
  row["性別"] = "M";  // the JSON spelling is not the CSV's
  EXPECT_THAT(error_lines(public_assistance().map(row)),
              ElementsAre("性別: unknown sex code 'M' (code table 'sex')"));
}

TEST(PublicAssistanceMapping, DateAfterItsEra) {
  Fields row = pa_row();
  row["発生日"] = "H31.05.01";
  EXPECT_THAT(error_lines(public_assistance().map(row)),
              ElementsAre("発生日: H31.05.01 is after the end of 平成 (令和 began 2019-05-01)"));
}

TEST(PublicAssistanceMapping, DateFormTheExportDoesNotUse) {
  Fields row = pa_row();
  row["生年月日"] = "20171130";
  EXPECT_THAT(error_lines(public_assistance().map(row)),
              ElementsAre("生年月日: '20171130' is written in compact form, which this field does "
                          "not accept (accepted: iso, era-letter, era-kanji)"));
}

TEST(PublicAssistanceMapping, ImpossibleDate) {
  Fields row = pa_row();
  row["生年月日"] = "R1.02.30";
  EXPECT_THAT(error_lines(public_assistance().map(row)),
              ElementsAre("生年月日: R1.02.30 is not a real date (2019-02 has 28 days)"));
}

TEST(PublicAssistanceMapping, RequiredFieldEmptyOrMissing) {
  Fields row = pa_row();
  row["氏名"] = "  ";
  row.erase("性別");
  EXPECT_THAT(error_lines(public_assistance().map(row)),
              ElementsAre("氏名: required field is empty", "性別: required field is missing"));
}

TEST(PublicAssistanceMapping, WrongNumberOfDigits) {
  Fields row = pa_row();
  row["世帯番号"] = "1234567";
  row["宛名番号"] = "００１２３４５６７８";  // full-width digits are not digits
  EXPECT_THAT(error_lines(public_assistance().map(row)),
              ElementsAre("世帯番号: '1234567' is not 8 digits",
                          "宛名番号: '００１２３４５６７８' is not 10 digits"));
}

TEST(PublicAssistanceMapping, RevisionMustBeAPositiveInteger) {
  Fields row = pa_row();
  row["版"] = "0";
  EXPECT_THAT(error_lines(public_assistance().map(row)),
              ElementsAre("版: '0' is less than the minimum 1"));
  row["版"] = "1a";
  EXPECT_THAT(error_lines(public_assistance().map(row)), ElementsAre("版: '1a' is not an integer"));
  row["版"] = "99999999999999999999";
  EXPECT_THAT(error_lines(public_assistance().map(row)),
              ElementsAre("版: '99999999999999999999' is out of range for an integer"));
}

TEST(PublicAssistanceMapping, UnknownChangeTypeNamesTheDecidingField) {
  Fields row = pa_row();
  row["異動区分"] = "07";
  const MapResult result = public_assistance().map(row);
  EXPECT_THAT(error_lines(result), ElementsAre("異動区分: no kind rule matches 異動区分 '07'"));
  EXPECT_EQ(result.event.kind, "");
}

TEST(PublicAssistanceMapping, InvalidDecidingFieldIsReportedOnce) {
  Fields row = pa_row();
  row["異動区分"] = "1";
  EXPECT_THAT(error_lines(public_assistance().map(row)),
              ElementsAre("異動区分: '1' is not 2 digits"));
  row.erase("異動区分");
  EXPECT_THAT(error_lines(public_assistance().map(row)),
              ElementsAre("異動区分: required field is missing"));
}

TEST(PublicAssistanceMapping, AllErrorsOfARecordAtOnce) {
  Fields row = pa_row();
  row["版"] = "";
  row["異動区分"] = "09";
  row["発生日"] = "S64.01.08";
  row["氏名"] = "";
  row["生年月日"] = "令和元年4月30日";
  row["性別"] = "3";
  row["区コード"] = "01199";
  const MapResult result = public_assistance().map(row);
  EXPECT_FALSE(result.ok());
  EXPECT_THAT(error_lines(result),
              ElementsAre("版: required field is empty",
                          "発生日: S64.01.08 is after the end of 昭和 (平成 began 1989-01-08)",
                          "氏名: required field is empty",
                          "生年月日: 令和元年4月30日 is before the start of 令和 (2019-05-01)",
                          "性別: unknown sex code '3' (code table 'sex')",
                          "区コード: unknown ward code '01199' (code table 'ward')",
                          "異動区分: no kind rule matches 異動区分 '09'"));
  // What could be mapped still is, for the dry-run display.
  EXPECT_EQ(result.event.source_ref, "PA2019060500012");
}

TEST(PublicAssistanceMapping, EmptyRecordListsEveryRequiredField) {
  const MapResult result = public_assistance().map({});
  EXPECT_EQ(result.errors.size(), 8U) << ::testing::PrintToString(error_lines(result));
}

TEST(PublicAssistanceMapping, MapIsSafeFromManyThreads) {
  const MapResult expected = public_assistance().map(pa_row());
  std::vector<std::thread> threads;
  threads.reserve(4);
  std::vector<int> mismatches(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        if (!(public_assistance().map(pa_row()).event == expected.event)) ++mismatches[t];
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_THAT(mismatches, ElementsAre(0, 0, 0, 0));
}

// ---- features the other systems need, on the sample mappings ----------------------------------

Fields infant_checkup(const std::string& result) {
  return {{"id", "HC-2019-000123"},
          {"versionNumber", "1"},
          {"code", "INFANT_CHECKUP"},
          {"effectiveTime", "20190605213000+0900"},
          {"patient.id", "0012345678"},
          {"patient.name", "山田　花子"},
          {"patient.birthTime", "20171130"},
          {"patient.administrativeGenderCode", "2"},
          {"providerOrganization.id", "01103"},
          {"CHECKUP_TYPE", "18M"},
          {"RESULT", result}};
}

TEST(SampleMappings, HealthCentreRuleOnTwoFieldsSetsAnAttribute) {
  const MapResult result = sample("health_centre").map(infant_checkup("CONCERN"));
  ASSERT_TRUE(result.ok()) << ::testing::PrintToString(error_lines(result));
  EXPECT_EQ(result.event.kind, "infant_checkup.concern");
  EXPECT_EQ(result.event.occurred_at, "2019-06-05T21:30:00+09:00");
  EXPECT_EQ(result.event.subject.birth_date, "2017-11-30");
  EXPECT_EQ(result.event.attributes.at("result"), "concern");
  EXPECT_EQ(result.event.attributes.at("checkup_type"), "18M");
  EXPECT_EQ(result.event.attributes.at("checkup_name"), "1歳6か月児健診");

  EXPECT_EQ(sample("health_centre").map(infant_checkup("MISSED")).event.kind,
            "infant_checkup.missed");
  EXPECT_THAT(error_lines(sample("health_centre").map(infant_checkup("LATE"))),
              ElementsAre("code: no kind rule matches code 'INFANT_CHECKUP', RESULT 'LATE'"));
}

TEST(SampleMappings, HealthCentreRepeatableObservationAsAList) {
  Fields questionnaire = infant_checkup("");
  questionnaire.erase("RESULT");
  questionnaire.erase("CHECKUP_TYPE");
  questionnaire["code"] = "PREGNANCY_QUESTIONNAIRE";
  questionnaire["NEED"] = "NONE";
  EXPECT_EQ(sample("health_centre").map(questionnaire).event.kind,
            "pregnancy.questionnaire_received");
  questionnaire["NEED"] = "NONE, ISOLATION";
  EXPECT_EQ(sample("health_centre").map(questionnaire).event.kind,
            "pregnancy.questionnaire_flagged");
}

TEST(SampleMappings, ChildGuidanceJson) {
  const Fields report{{"event_id", "CG-2019-0456"},
                      {"revision", "1"},
                      {"type", "report_received"},
                      {"occurred_at", "2019-05-15T21:30:00+09:00"},
                      {"child.name", "山田 花子"},
                      {"child.name_kana", "ヤマダ ハナコ"},
                      {"child.birth_date", "2017-11-30"},
                      {"child.sex", "F"},
                      {"ward_code", "01102"},
                      {"risk_level", "B"},
                      {"report_source", "警察"},
                      {"extra", "ignored"}};
  MapResult result = sample("child_guidance").map(report);
  ASSERT_TRUE(result.ok()) << ::testing::PrintToString(error_lines(result));
  EXPECT_EQ(result.event.kind, "cg.report_received");
  EXPECT_EQ(result.event.subject.sex, "F");
  EXPECT_EQ(result.event.attributes.at("risk_level"), "B");

  Fields no_sex = report;
  no_sex.erase("child.sex");  // the default applies
  EXPECT_EQ(sample("child_guidance").map(no_sex).event.subject.sex, "U");

  Fields risk_changed = report;
  risk_changed["type"] = "risk_changed";
  risk_changed.erase("risk_level");
  EXPECT_THAT(error_lines(sample("child_guidance").map(risk_changed)),
              ElementsAre("type: no kind rule matches type 'risk_changed'"));
  // Rules test what the source sent, so the kind is still derived from a bad risk level.
  risk_changed["risk_level"] = "E";
  result = sample("child_guidance").map(risk_changed);
  EXPECT_EQ(result.event.kind, "cg.risk_changed");
  EXPECT_THAT(error_lines(result),
              ElementsAre("risk_level: unknown risk_level code 'E' (code table 'risk_level')"));
}

TEST(SampleMappings, EducationFixedWidth) {
  const Fields record{{"record_type", "02"},
                      {"report_number", "ED2019000001"},
                      {"revision", "01"},
                      {"report_date", "5010605"},
                      {"resident_id", "          "},
                      {"name", "山田　太郎                "},
                      {"name_kana", "ﾔﾏﾀﾞ ﾀﾛｳ                      "},
                      {"birth_date", "4250401"},
                      {"sex", "1"},
                      {"school_code", "123456"},
                      {"ward_code", "01105"},
                      {"absence_days", "012"},
                      {"remarks", "連絡が取れない" + std::string(60, ' ')}};
  const MapResult result = sample("education").map(record);
  ASSERT_TRUE(result.ok()) << ::testing::PrintToString(error_lines(result));
  EXPECT_EQ(result.event.kind, "school.whereabouts_unknown");
  EXPECT_EQ(result.event.source_version, 1);
  EXPECT_EQ(result.event.occurred_at, "2019-06-05T00:00:00+09:00");
  EXPECT_EQ(result.event.subject.birth_date, "2013-04-01");
  EXPECT_EQ(result.event.subject.resident_id, "");
  EXPECT_EQ(result.event.subject.name, "山田　太郎");
  EXPECT_EQ(result.event.subject.name_kana, "ﾔﾏﾀﾞ ﾀﾛｳ");
  EXPECT_EQ(result.event.attributes.at("absence_days"), "12");
  EXPECT_EQ(result.event.attributes.at("remarks"), "連絡が取れない");

  Fields bad = record;
  bad["report_date"] = "4310501";
  bad["absence_days"] = "032";
  EXPECT_THAT(error_lines(sample("education").map(bad)),
              ElementsAre("report_date: 4310501 is after the end of 平成 (令和 began 2019-05-01)",
                          "absence_days: '032' is more than the maximum 31"));
}

}  // namespace
}  // namespace tsunagu::mapping
