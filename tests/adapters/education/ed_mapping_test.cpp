// The sample nights through the decoder and the shipped mappings/education.xml: the events they
// must become, and the field errors of the records the mapping must reject.
#include <array>
#include <cstdint>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "ed_test_support.hpp"

namespace tsunagu::education {
namespace {

using test_support::CollectingSink;
using test_support::data_dir;
using test_support::education_mapping;
using test_support::shipped_layout;

std::vector<NativeRecord> decode_sample(const std::string& name) {
  std::ifstream in(data_dir() / name, std::ios::binary);
  EXPECT_TRUE(in) << "cannot open " << name;
  EdRecordDecoder decoder(shipped_layout());
  CollectingSink sink;
  const DecodeResult result = decoder.decode(in, name, sink);
  EXPECT_TRUE(result.ok) << result.message;
  return std::move(sink.records);
}

std::string error_lines(const mapping::MapResult& result) {
  std::string lines;
  for (const mapping::FieldError& error : result.errors) lines += to_string(error) + "\n";
  return lines;
}

struct ExpectedEvent {
  const char* source_ref;
  std::int64_t source_version;
  const char* kind;
  const char* occurred_on;  // the report date; the event is at midnight Asia/Tokyo
  Subject subject;
  const char* school_code;
  const char* absence_days;
  const char* remarks;  // "" when the record has none: then there is no such attribute
  Sensitivity sensitivity;
};

// The events of tests/data/education/ED_20190605.dat, record by record.
const std::vector<ExpectedEvent>& good_night_events() {
  using S = Sensitivity;
  // One record per three lines reads better than clang-format's one value per line.
  // clang-format off
  static const std::vector<ExpectedEvent> events = {
      {"ED1906050001", 1, "school.prolonged_absence", "2019-06-05",
       {"0103125501", "佐々木　陽翔", "ｻｻｷ ﾊﾙﾄ", "2008-07-14", "M", "", "01103"}, "101103", "14",
       "5月20日から欠席継続。担任の家庭訪問に応答なし。", S::normal},
      {"ED1906050002", 1, "school.prolonged_absence", "2019-06-05",
       {"0105087712", "山﨑　美羽", "ﾔﾏｻﾞｷ ﾐｳ", "2006-03-22", "F", "", "01105"}, "201502", "21",
       "不登校傾向。SC面談を6/10に設定、保護者同席の予定。", S::normal},
      {"ED1906050003", 1, "school.whereabouts_unknown", "2019-06-04",
       {"0101093344", "中島　蒼", "ﾅｶｼﾞﾏ ｱｵｲ", "2012-09-05", "M", "", "01101"}, "101106", "0",
       "4月入学予定も未登校。住民票の住所に居住実態なし。", S::special_care},
      {"ED1906050004", 1, "nursery.withdrawn", "2019-06-03",
       {"0102345679", "池田　結衣", "ｲｹﾀﾞ ﾕｲ", "2015-08-19", "F", "", "01102"}, "302214", "0",
       "5月31日付退園。保護者から「転居予定」と連絡、転居先不明。", S::normal},
      {"ED1906050005", 1, "school.concern_reported", "2019-06-05",
       {"0107220918", "前田　悠斗", "ﾏｴﾀﾞ ﾕｳﾄ", "2009-01-18", "M", "", "01107"}, "101711", "3",
       "腕と背中にあざ複数。本人は「転んだ」と説明。", S::special_care},
      {"ED1906050006", 1, "school.prolonged_absence", "2019-06-05",
       {"", "石井　結菜", "ｲｼｲ ﾕｲﾅ", "2007-11-30", "F", "", "01108"}, "101809", "16",
       "区域外就学（市外から通学）。5月中旬～欠席が続く。", S::normal},
      {"ED1906050007", 1, "nursery.withdrawn", "2019-06-04",
       {"0105667786", "加藤　芽衣", "ｶﾄｳ ﾒｲ", "2016-10-10", "F", "", "01105"}, "305120", "0",
       "6月は登園なし。保護者と連絡が取れず退園扱い。", S::normal},
      {"ED1906050008", 2, "school.prolonged_absence", "2019-06-05",
       {"0110442017", "藤原　凛", "ﾌｼﾞﾜﾗ ﾘﾝ", "2005-06-02", "F", "", "01110"}, "202005", "19",
       "版2：欠席日数を訂正（17→19）。", S::normal},
      {"ED1906050009", 1, "school.concern_reported", "2019-06-04",
       {"", "小川　湊斗", "ｵｶﾞﾜ ﾐﾅﾄ", "2010-12-07", "M", "", "01102"}, "101210", "0",
       "給食以外の食事が取れていない様子。衣服の汚れが続く。", S::special_care},
      {"ED1906050010", 1, "school.whereabouts_unknown", "2019-06-05",
       {"0109300125", "岡本　心結", "ｵｶﾓﾄ ﾐﾕ", "2007-04-17", "F", "", "01109"}, "101912", "0",
       "転出届なし。郵便物が返送、近隣の話では3月頃に転居。", S::special_care},
      {"ED1906050011", 1, "school.prolonged_absence", "2019-04-26",
       {"0106551890", "長谷川　颯", "ﾊｾｶﾞﾜ ﾊﾔﾃ", "2004-09-10", "M", "", "01106"}, "201603", "18",
       "中学3年。4月からほぼ全日欠席。", S::normal},
      {"ED1906050012", 1, "nursery.withdrawn", "2019-06-05",
       {"0104556012", "村上　芽依", "ﾑﾗｶﾐ ﾒｲ", "2017-03-01", "F", "", "01104"}, "304415", "0",
       "保護者の就労終了により退園。", S::normal},
      {"ED1906050013", 1, "school.concern_reported", "2019-06-05",
       {"0103771204", "近藤　大和", "ｺﾝﾄﾞｳ ﾔﾏﾄ", "2008-02-28", "M", "", "01103"}, "101330", "2",
       "夜間に一人で外出している姿を複数回目撃との報告。", S::special_care},
      {"ED1906050014", 1, "school.prolonged_absence", "2019-06-05",
       {"0108209951", "坂口　杏", "ｻｶｸﾞﾁ ｱﾝ", "2012-08-15", "F", "", "01108"}, "101811", "11",
       "①朝起きられない②腹痛の訴え。保健室登校を検討。", S::normal},
      {"ED1906050015", 1, "nursery.withdrawn", "2019-06-04",
       {"", "髙田　蓮", "ﾀｶﾀﾞ ﾚﾝ", "2018-04-02", "M", "", "01101"}, "306101", "0",
       "認可外保育施設へ転園。市外から転入手続中。", S::normal},
      {"ED1906050016", 1, "school.prolonged_absence", "2019-06-05",
       {"0101448230", "遠藤　紗良", "ｴﾝﾄﾞｳ ｻﾗ", "2011-01-18", "F", "", "01101"}, "101115", "13",
       "", S::normal},
      {"ED1906050017", 2, "school.concern_reported", "2019-06-05",
       {"0106210077", "青木　樹", "ｱｵｷ ｲﾂｷ", "2006-09-25", "M", "", "01106"}, "201620", "0",
       "版2：児童相談所へ情報提供済みを追記。", S::special_care},
      {"ED1906050018", 1, "school.whereabouts_unknown", "2019-06-03",
       {"", "福田　陽菜", "ﾌｸﾀﾞ ﾋﾅ", "2012-11-03", "U", "", "01104"}, "101407", "0",
       "住民登録なし。就学通知が宛先不明で返送。", S::special_care},
      {"ED1906050019", 1, "school.prolonged_absence", "2019-06-05",
       {"0107903316", "西田　朝陽", "ﾆｼﾀﾞ ｱｻﾋ", "2008-06-12", "M", "", "01107"}, "101733", "18",
       "全日欠席。保護者は「体調不良」と説明、受診歴は不明。", S::normal},
      {"ED1906050020", 1, "nursery.withdrawn", "2019-06-05",
       {"0109551230", "太田　莉子", "ｵｵﾀ ﾘｺ", "2016-07-07", "F", "", "01109"}, "309018", "0",
       "市外転出に伴う退園。", S::normal},
  };
  // clang-format on
  return events;
}

CaseEvent to_event(const ExpectedEvent& e) {
  CaseEvent event;
  event.source = "education";
  event.source_ref = e.source_ref;
  event.source_version = e.source_version;
  event.kind = e.kind;
  event.occurred_at = std::string(e.occurred_on) + "T00:00:00+09:00";
  event.subject = e.subject;
  event.attributes["school_code"] = e.school_code;
  event.attributes["absence_days"] = e.absence_days;
  if (*e.remarks != '\0') event.attributes["remarks"] = e.remarks;
  event.sensitivity = e.sensitivity;
  return event;
}

TEST(EdMappingGoodNight, EveryRecordBecomesItsGoldenEvent) {
  const std::vector<NativeRecord> records = decode_sample("ED_20190605.dat");
  const auto& expected = good_night_events();
  ASSERT_EQ(records.size(), expected.size());
  for (std::size_t i = 0; i < records.size(); ++i) {
    SCOPED_TRACE("record " + std::to_string(i + 1));
    ASSERT_EQ(records[i].error, "");
    const mapping::MapResult result = education_mapping().map(records[i].fields);
    ASSERT_TRUE(result.ok()) << error_lines(result);
    EXPECT_EQ(result.event, to_event(expected[i]));
  }
}

TEST(EdMappingGoodNight, KindsAndSensitivityFollowTheRecordType) {
  std::map<std::string, std::string> kind_of_type;
  std::map<std::string, Sensitivity> sensitivity_of_kind;
  for (const NativeRecord& record : decode_sample("ED_20190605.dat")) {
    const mapping::MapResult result = education_mapping().map(record.fields);
    ASSERT_TRUE(result.ok()) << error_lines(result);
    kind_of_type[record.fields.at("record_type")] = result.event.kind;
    sensitivity_of_kind[result.event.kind] = result.event.sensitivity;
  }
  EXPECT_EQ(kind_of_type, (std::map<std::string, std::string>{
                              {"01", "school.prolonged_absence"},
                              {"02", "school.whereabouts_unknown"},
                              {"03", "nursery.withdrawn"},
                              {"04", "school.concern_reported"},
                          }));
  EXPECT_EQ(sensitivity_of_kind, (std::map<std::string, Sensitivity>{
                                     {"school.prolonged_absence", Sensitivity::normal},
                                     {"school.whereabouts_unknown", Sensitivity::special_care},
                                     {"nursery.withdrawn", Sensitivity::normal},
                                     {"school.concern_reported", Sensitivity::special_care},
                                 }));
}

// ---- the bad night: what the mapping rejects -------------------------------------------------

class EdMappingBadNight : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    records_ = new std::vector<NativeRecord>(decode_sample("ED_20190606_bad.dat"));
  }
  static void TearDownTestSuite() {
    delete records_;
    records_ = nullptr;
  }
  static mapping::MapResult map(std::size_t n) {
    return education_mapping().map(records_->at(n - 1).fields);
  }
  static std::vector<NativeRecord>* records_;
};

std::vector<NativeRecord>* EdMappingBadNight::records_ = nullptr;

TEST_F(EdMappingBadNight, GoodRecordsMap) {
  for (const std::size_t n : {1, 2, 11, 12}) {
    const mapping::MapResult result = map(n);
    EXPECT_TRUE(result.ok()) << "record " << n << ": " << error_lines(result);
  }
  EXPECT_EQ(map(11).event.subject.resident_id, "");
  EXPECT_EQ(map(12).event.kind, "school.whereabouts_unknown");
  EXPECT_EQ(map(12).event.source_ref, "ED1906060012");
}

TEST_F(EdMappingBadNight, UnknownWardCode) {
  EXPECT_EQ(error_lines(map(8)), "ward_code: unknown ward code '01199' (code table 'ward')\n");
}

TEST_F(EdMappingBadNight, ImpossibleEraDate) {
  EXPECT_EQ(error_lines(map(9)), "report_date: 5010230 is not a real date (2019-02 has 28 days)\n");
}

TEST_F(EdMappingBadNight, UnknownRecordType) {
  EXPECT_EQ(error_lines(map(10)), "record_type: no kind rule matches record_type '09'\n");
}

// ---- single fields ---------------------------------------------------------------------------

// A decoded record of the good night with some fields replaced (values as the decoder gives them,
// padding included).
std::map<std::string, std::string> with(std::map<std::string, std::string> replaced) {
  std::map<std::string, std::string> fields = decode_sample("ED_20190605.dat").at(0).fields;
  for (auto& [name, value] : replaced) fields[name] = value;
  return fields;
}

TEST(EdMappingFields, RevisionAndAbsenceDaysLoseTheirZeros) {
  const mapping::MapResult result = education_mapping().map(with({{"revision", "12"}}));
  ASSERT_TRUE(result.ok()) << error_lines(result);
  EXPECT_EQ(result.event.source_version, 12);
  EXPECT_EQ(result.event.attributes.at("absence_days"), "14");
}

TEST(EdMappingFields, RecordErrorsAreNamedByNativeField) {
  const mapping::MapResult result = education_mapping().map(with({
      {"revision", "00"},
      {"resident_id", "01031255  "},
      {"name", std::string(30, ' ')},
      {"birth_date", "4310501"},
      {"sex", "3"},
      {"absence_days", "032"},
  }));
  EXPECT_EQ(error_lines(result),
            "revision: '00' is less than the minimum 1\n"
            "resident_id: '01031255' is not 10 digits\n"
            "name: required field is empty\n"
            "birth_date: 4310501 is after the end of 平成 (令和 began 2019-05-01)\n"
            "sex: unknown sex code '3' (code table 'sex')\n"
            "absence_days: '032' is more than the maximum 31\n");
}

TEST(EdMappingFields, BlankOptionalFieldsLeaveNoAttribute) {
  const mapping::MapResult result = education_mapping().map(with(
      {{"school_code", "      "}, {"absence_days", "   "}, {"remarks", std::string(85, ' ')}}));
  ASSERT_TRUE(result.ok()) << error_lines(result);
  EXPECT_TRUE(result.event.attributes.empty());
}

}  // namespace
}  // namespace tsunagu::education
