// The sample export through the decoder and the real mappings/health_centre.xml: the events IT
// staff would see from `tsunagu mapping test health_centre HC_20190605.xml`.
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <mapping/mapping.hpp>

#include "hc_test_support.hpp"

namespace {

using hc_test::CollectingSink;
using hc_test::decode_file;
using tsunagu::Sensitivity;
using tsunagu::mapping::Mapping;
using tsunagu::mapping::MapResult;
using Attributes = std::map<std::string, std::string>;

const Mapping& health_centre_mapping() {
  static const Mapping mapping = Mapping::load_file(
      TSUNAGU_SOURCE_DIR "/mappings/health_centre.xml", TSUNAGU_SOURCE_DIR "/mappings/mapping.xsd");
  return mapping;
}

std::vector<MapResult> map_file(const std::string& name) {
  CollectingSink sink;
  const tsunagu::DecodeResult decoded = decode_file(name, sink);
  EXPECT_TRUE(decoded.ok) << decoded.message;
  std::vector<MapResult> mapped;
  for (const auto& record : sink.records) {
    EXPECT_TRUE(record.error.empty()) << record.number << ": " << record.error;
    mapped.push_back(health_centre_mapping().map(record.fields));
  }
  return mapped;
}

std::vector<std::string> error_lines(const MapResult& result) {
  std::vector<std::string> lines;
  for (const auto& error : result.errors) lines.push_back(to_string(error));
  return lines;
}

struct Expected {
  std::string source_ref;
  std::int64_t version;
  std::string kind;
  std::string occurred_at;
  std::string resident_id;
  std::string name;
  std::string name_kana;
  std::string birth_date;
  std::string sex;
  std::string ward;
  Attributes attributes;
};

constexpr const char* kDay = "2019-06-05T00:00:00+09:00";

// One line per event: ref, version, kind, occurred_at, 宛名番号, name, kana, birth date, sex, ward,
// attributes.
// clang-format off
const std::vector<Expected> kSampleEvents = {
  {"HC-2019-000101", 1, "pregnancy.notified", kDay, "0103456789", "佐々木　美咲", "ササキ　ミサキ",
   "1994-03-12", "F", "01103", {{"expected_delivery_date", "2019-12-18"}}},
  {"HC-2019-000102", 1, "pregnancy.notified", kDay, "", "大野　真由", "オオノ　マユ", "1999-08-21",
   "F", "01106", {{"expected_delivery_date", "2020-01-07"},
                  {"note", "市外から転入予定。住民登録手続き中。"}}},
  {"HC-2019-000103", 1, "pregnancy.questionnaire_flagged", kDay, "0102233445", "工藤　彩花",
   "クドウ　アヤカ", "2001-04-09", "F", "01102",
   {{"needs", "FINANCIAL,ISOLATION"}, {"expected_delivery_date", "2019-11-05"}}},
  {"HC-2019-000104", 1, "pregnancy.questionnaire_received", kDay, "0105566778", "石田　恵",
   "イシダ　メグミ", "1988-01-30", "F", "01105",
   {{"needs", "NONE"}, {"expected_delivery_date", "2019-11-22"}}},
  {"HC-2019-000105", 1, "pregnancy.questionnaire_flagged", "2019-06-04T21:30:00+09:00",
   "0107788990", "中川　優子", "", "1996-07-15", "F", "01107",
   {{"needs", "MENTAL_HEALTH"}, {"expected_delivery_date", "2019-12-30"},
    {"note", "夜間にオンラインで回答。EPDS 12点。"}}},
  {"HC-2019-000106", 1, "pregnancy.questionnaire_flagged", kDay, "0104455667", "荒木　瞳",
   "アラキ　ヒトミ", "1997-11-03", "F", "01104",
   {{"needs", "HOUSING,FINANCIAL"}, {"note", "知人宅に身を寄せている。"}}},
  {"HC-2019-000107", 2, "pregnancy.specified_expectant_mother", kDay, "0104455667", "荒木　瞳",
   "アラキ　ヒトミ", "1997-11-03", "F", "01104",
   {{"expected_delivery_date", "2019-10-14"},
    {"note", "妊婦健診未受診が続く。要支援ケース会議にて特定妊婦と判断。"}}},
  {"HC-2019-000108", 1, "home_visit.completed", kDay, "0103344556", "村上　陽向",
   "ムラカミ　ヒナタ", "2019-03-12", "M", "01103",
   {{"note", "新生児訪問。体重増加良好。母の睡眠不足の訴えあり（睡眠<4時間/日）。"}}},
  {"HC-2019-000109", 1, "home_visit.unreachable", "2019-06-05T14:30:00+09:00", "0107123450",
   "森　結衣", "モリ　ユイ", "2019-01-28", "F", "01107",
   {{"note", "不在。郵便受けに不在票を投函。電話も応答なし。"}}},
  {"HC-2019-000110", 1, "infant_checkup.attended", kDay, "0108345671", "阿部　蓮", "アベ　レン",
   "2019-01-30", "M", "01108", {{"checkup_type", "4M"}, {"checkup_name", "4か月児健診"}}},
  {"HC-2019-000111", 1, "infant_checkup.attended", kDay, "0109456782", "松本　芽衣",
   "マツモト　メイ", "2018-08-02", "F", "01109",
   {{"checkup_type", "10M"}, {"checkup_name", "10か月児健診"}}},
  {"HC-2019-000112", 1, "infant_checkup.concern", kDay, "0103567893", "山口　さくら",
   "ヤマグチ　サクラ", "2017-11-30", "F", "01103",
   {{"checkup_type", "18M"}, {"checkup_name", "1歳6か月児健診"},
    {"note", "体重増加不良。3か月後に再健診。"}}},
  {"HC-2019-000113", 1, "infant_checkup.missed", kDay, "", "池田　詩織", "イケダ　シオリ",
   "2017-11-20", "F", "01102",
   {{"checkup_type", "18M"}, {"checkup_name", "1歳6か月児健診"},
    {"note", "未受診。電話連絡つかず。"}}},
  {"HC-2019-000114", 1, "infant_checkup.missed", kDay, "0110678904", "藤田　湊", "フジタ　ミナト",
   "2016-04-15", "M", "01110", {{"checkup_type", "36M"}, {"checkup_name", "3歳児健診"}}},
  {"HC-2019-000115", 1, "infant_checkup.concern", kDay, "0101789015", "岡本　樹",
   "オカモト　イツキ", "2016-03-01", "M", "01101",
   {{"checkup_type", "36M"}, {"checkup_name", "3歳児健診"},
    {"note", "言葉の遅れ。発達相談につなぐ。"}}},
  {"HC-2019-000116", 1, "infant_checkup.attended", kDay, "0105890126", "吉川　陽菜",
   "ヨシカワ　ヒナ", "2017-10-12", "F", "01105",
   {{"checkup_type", "FOLLOWUP"}, {"checkup_name", "再健診"},
    {"note", "前回指摘の体重増加、改善を確認。"}}},
  {"HC-2019-000117", 1, "psych_consult.opened", "2019-06-05T10:15:00+09:00", "0107901237",
   "高田　千夏", "タカダ　チナツ", "1992-06-24", "F", "01107",
   {{"note", "産後の抑うつ症状。精神保健福祉相談員が面接、継続支援。"}}},
  {"HC-2019-000118", 1, "psych_consult.opened", kDay, "", "原　恭子", "", "1985-09-18", "F",
   "01106", {{"note", "匿名に近い電話相談から面接へ。住所は聞き取れず。"}}},
  {"HC-2019-000098", 2, "infant_checkup.attended", kDay, "0108012348", "西村　大和",
   "ニシムラ　ヤマト", "2019-01-18", "M", "01108",
   {{"checkup_type", "4M"}, {"checkup_name", "4か月児健診"},
    {"note", "6/3入力分の健診日を訂正。"}}},
  {"HC-2019-000119", 1, "home_visit.completed", kDay, "0110123459", "小松　悠真", "",
   "2019-04-20", "M", "01110", {}},
};
// clang-format on

TEST(HcMapping, SampleExportBecomesTheExpectedEvents) {
  const std::vector<MapResult> mapped = map_file("HC_20190605.xml");
  ASSERT_EQ(mapped.size(), kSampleEvents.size());
  for (std::size_t i = 0; i < mapped.size(); ++i) {
    SCOPED_TRACE("record " + std::to_string(i + 1));
    const MapResult& result = mapped[i];
    const Expected& expected = kSampleEvents[i];
    ASSERT_TRUE(result.ok()) << ::testing::PrintToString(error_lines(result));
    const tsunagu::CaseEvent& event = result.event;
    EXPECT_EQ(event.source, "health_centre");
    EXPECT_EQ(event.source_ref, expected.source_ref);
    EXPECT_EQ(event.source_version, expected.version);
    EXPECT_EQ(event.kind, expected.kind);
    EXPECT_EQ(event.occurred_at, expected.occurred_at);
    EXPECT_EQ(event.subject.resident_id, expected.resident_id);
    EXPECT_EQ(event.subject.name, expected.name);
    EXPECT_EQ(event.subject.name_kana, expected.name_kana);
    EXPECT_EQ(event.subject.birth_date, expected.birth_date);
    EXPECT_EQ(event.subject.sex, expected.sex);
    EXPECT_EQ(event.subject.ward_code, expected.ward);
    EXPECT_EQ(event.household, tsunagu::Household{});
    EXPECT_EQ(event.attributes, expected.attributes);
    // Maternal and child health is 要配慮個人情報, every kind of it.
    EXPECT_EQ(event.sensitivity, Sensitivity::special_care);
    EXPECT_TRUE(event.id.empty());
  }
  EXPECT_EQ(mapped[0].event.subject.address, "札幌市東区北15条東3丁目4-12 コーポ北栄201");
  EXPECT_EQ(mapped[14].event.subject.address, "札幌市中央区南8条西9丁目1022-5 サンハイツ中島402");
  EXPECT_EQ(mapped[10].event.subject.address, "");
}

TEST(HcMapping, UnknownCodesAreRejectedWithTheFieldAndTheValue) {
  const std::vector<MapResult> mapped = map_file("HC_20190612_unknown_code.xml");
  ASSERT_EQ(mapped.size(), 6u);
  EXPECT_EQ(mapped[0].event.kind, "pregnancy.notified");
  EXPECT_TRUE(mapped[0].ok());
  EXPECT_EQ(error_lines(mapped[1]),
            std::vector<std::string>{"code: unknown document_type code 'BIRTH_REGISTRATION' "
                                     "(code table 'document_type')"});
  EXPECT_EQ(
      error_lines(mapped[2]),
      std::vector<std::string>{"code: no kind rule matches code 'INFANT_CHECKUP', RESULT 'LATE'"});
  EXPECT_EQ(error_lines(mapped[3]),
            std::vector<std::string>{
                "CHECKUP_TYPE: unknown checkup_type code '24M' (code table 'checkup_type')"});
  // A need code nobody taught the mapping is not guessed at.
  EXPECT_EQ(error_lines(mapped[4]),
            std::vector<std::string>{
                "code: no kind rule matches code 'PREGNANCY_QUESTIONNAIRE', NEED 'CHILDCARE'"});
  EXPECT_TRUE(mapped[5].ok());
  EXPECT_EQ(mapped[5].event.kind, "home_visit.completed");
}

TEST(HcMapping, QuestionnaireNeeds) {
  std::map<std::string, std::string> fields{{"id", "HC-Q-1"},
                                            {"versionNumber", "1"},
                                            {"code", "PREGNANCY_QUESTIONNAIRE"},
                                            {"effectiveTime", "20190605"},
                                            {"patient.name", "試験　花子"},
                                            {"patient.birthTime", "19900101"},
                                            {"patient.administrativeGenderCode", "2"},
                                            {"providerOrganization.id", "01101"}};
  const auto kind_for = [&](const std::string& needs) {
    fields["NEED"] = needs;
    const MapResult result = health_centre_mapping().map(fields);
    return result.ok() ? result.event.kind : ::testing::PrintToString(error_lines(result));
  };
  EXPECT_EQ(kind_for("NONE"), "pregnancy.questionnaire_received");
  for (const char* flagged : {"FINANCIAL", "ISOLATION", "MENTAL_HEALTH", "HOUSING", "NONE,HOUSING",
                              "CHILDCARE,ISOLATION"}) {
    EXPECT_EQ(kind_for(flagged), "pregnancy.questionnaire_flagged") << flagged;
  }
  EXPECT_EQ(kind_for(""), "{ \"code: no kind rule matches code 'PREGNANCY_QUESTIONNAIRE'\" }");
}

TEST(HcMapping, PassesTheSeparatorToTheAdapter) {
  EXPECT_EQ(health_centre_mapping().adapter_settings(),
            (std::map<std::string, std::string>{{"item_separator", ","}}));
  tsunagu::health_centre::HcDecoderOptions options;
  std::string error;
  EXPECT_TRUE(tsunagu::health_centre::options_from_settings(
      health_centre_mapping().adapter_settings(), options, error))
      << error;
}

}  // namespace
