// The education decoder over the real layout (mappings/education.xml): the sample nights field by
// field, one test per class of bad record, streaming and the layout settings.
#include <array>
#include <cstddef>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <streambuf>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "ed_test_support.hpp"

#include "support/failing_stream.hpp"

namespace tsunagu::education {
namespace {

using test_support::CollectingSink;
using test_support::cp932;
using test_support::data_dir;
using test_support::file_bytes;
using test_support::sample_lines;
using test_support::shipped_layout;

DecodeResult decode(const std::string& bytes, CollectingSink& sink,
                    EdRecordDecoderOptions options = {}) {
  std::istringstream in(bytes);
  EdRecordDecoder decoder(shipped_layout(), options);
  return decoder.decode(in, "ED_TEST.dat", sink);
}

DecodeResult decode_file(const std::string& name, CollectingSink& sink) {
  std::ifstream in(data_dir() / name, std::ios::binary);
  EXPECT_TRUE(in) << "cannot open " << name;
  EdRecordDecoder decoder(shipped_layout());
  return decoder.decode(in, name, sink);
}

// A valid record of the good night, to build bad ones from.
std::string good_record(std::size_t n = 1) {
  return sample_lines("ED_20190605.dat").at(n - 1);
}

// ---- the layout from the mapping -------------------------------------------------------------

TEST(EdLayout, TheMappingGivesTheSpecifiedLayout) {
  const RecordLayout layout = shipped_layout();
  EXPECT_EQ(layout.record_length, 200u);
  const std::vector<FieldSpan> expected = {
      {"record_type", 1, 2},     {"report_number", 3, 14}, {"revision", 15, 16},
      {"report_date", 17, 23},   {"resident_id", 24, 33},  {"name", 34, 63},
      {"name_kana", 64, 93},     {"birth_date", 94, 100},  {"sex", 101, 101},
      {"school_code", 102, 107}, {"ward_code", 108, 112},  {"absence_days", 113, 115},
      {"remarks", 116, 200}};
  EXPECT_EQ(layout.fields, expected);
}

// ---- the good night: golden field maps -------------------------------------------------------

// The values of one record as the generator wrote them, before padding.
struct Expected {
  const char* record_type;
  const char* report_number;
  const char* revision;
  const char* report_date;
  const char* resident_id;
  const char* name;
  const char* name_kana;
  const char* birth_date;
  const char* sex;
  const char* school_code;
  const char* ward_code;
  const char* absence_days;
  const char* remarks;
};

// tests/data/education/ED_20190605.dat, record by record.
const std::array<Expected, 20> kGoodNight = {{
    {"01", "ED1906050001", "01", "5010605", "0103125501", "佐々木　陽翔", "ｻｻｷ ﾊﾙﾄ", "4200714", "1",
     "101103", "01103", "014", "5月20日から欠席継続。担任の家庭訪問に応答なし。"},
    {"01", "ED1906050002", "01", "5010605", "0105087712", "山﨑　美羽", "ﾔﾏｻﾞｷ ﾐｳ", "4180322", "2",
     "201502", "01105", "021", "不登校傾向。SC面談を6/10に設定、保護者同席の予定。"},
    {"02", "ED1906050003", "01", "5010604", "0101093344", "中島　蒼", "ﾅｶｼﾞﾏ ｱｵｲ", "4240905", "1",
     "101106", "01101", "000", "4月入学予定も未登校。住民票の住所に居住実態なし。"},
    {"03", "ED1906050004", "01", "5010603", "0102345679", "池田　結衣", "ｲｹﾀﾞ ﾕｲ", "4270819", "2",
     "302214", "01102", "000", "5月31日付退園。保護者から「転居予定」と連絡、転居先不明。"},
    {"04", "ED1906050005", "01", "5010605", "0107220918", "前田　悠斗", "ﾏｴﾀﾞ ﾕｳﾄ", "4210118", "1",
     "101711", "01107", "003", "腕と背中にあざ複数。本人は「転んだ」と説明。"},
    {"01", "ED1906050006", "01", "5010605", "", "石井　結菜", "ｲｼｲ ﾕｲﾅ", "4191130", "2", "101809",
     "01108", "016", "区域外就学（市外から通学）。5月中旬～欠席が続く。"},
    {"03", "ED1906050007", "01", "5010604", "0105667786", "加藤　芽衣", "ｶﾄｳ ﾒｲ", "4281010", "2",
     "305120", "01105", "000", "6月は登園なし。保護者と連絡が取れず退園扱い。"},
    {"01", "ED1906050008", "02", "5010605", "0110442017", "藤原　凛", "ﾌｼﾞﾜﾗ ﾘﾝ", "4170602", "2",
     "202005", "01110", "019", "版2：欠席日数を訂正（17→19）。"},
    {"04", "ED1906050009", "01", "5010604", "", "小川　湊斗", "ｵｶﾞﾜ ﾐﾅﾄ", "4221207", "1", "101210",
     "01102", "000", "給食以外の食事が取れていない様子。衣服の汚れが続く。"},
    {"02", "ED1906050010", "01", "5010605", "0109300125", "岡本　心結", "ｵｶﾓﾄ ﾐﾕ", "4190417", "2",
     "101912", "01109", "000", "転出届なし。郵便物が返送、近隣の話では3月頃に転居。"},
    {"01", "ED1906050011", "01", "4310426", "0106551890", "長谷川　颯", "ﾊｾｶﾞﾜ ﾊﾔﾃ", "4160910", "1",
     "201603", "01106", "018", "中学3年。4月からほぼ全日欠席。"},
    {"03", "ED1906050012", "01", "5010605", "0104556012", "村上　芽依", "ﾑﾗｶﾐ ﾒｲ", "4290301", "2",
     "304415", "01104", "000", "保護者の就労終了により退園。"},
    {"04", "ED1906050013", "01", "5010605", "0103771204", "近藤　大和", "ｺﾝﾄﾞｳ ﾔﾏﾄ", "4200228", "1",
     "101330", "01103", "002", "夜間に一人で外出している姿を複数回目撃との報告。"},
    {"01", "ED1906050014", "01", "5010605", "0108209951", "坂口　杏", "ｻｶｸﾞﾁ ｱﾝ", "4240815", "2",
     "101811", "01108", "011", "①朝起きられない②腹痛の訴え。保健室登校を検討。"},
    {"03", "ED1906050015", "01", "5010604", "", "髙田　蓮", "ﾀｶﾀﾞ ﾚﾝ", "4300402", "1", "306101",
     "01101", "000", "認可外保育施設へ転園。市外から転入手続中。"},
    {"01", "ED1906050016", "01", "5010605", "0101448230", "遠藤　紗良", "ｴﾝﾄﾞｳ ｻﾗ", "4230118", "2",
     "101115", "01101", "013", ""},
    {"04", "ED1906050017", "02", "5010605", "0106210077", "青木　樹", "ｱｵｷ ｲﾂｷ", "4180925", "1",
     "201620", "01106", "000", "版2：児童相談所へ情報提供済みを追記。"},
    {"02", "ED1906050018", "01", "5010603", "", "福田　陽菜", "ﾌｸﾀﾞ ﾋﾅ", "4241103", "9", "101407",
     "01104", "000", "住民登録なし。就学通知が宛先不明で返送。"},
    {"01", "ED1906050019", "01", "5010605", "0107903316", "西田　朝陽", "ﾆｼﾀﾞ ｱｻﾋ", "4200612", "1",
     "101733", "01107", "018", "全日欠席。保護者は「体調不良」と説明、受診歴は不明。"},
    {"03", "ED1906050020", "01", "5010605", "0109551230", "太田　莉子", "ｵｵﾀ ﾘｺ", "4280707", "2",
     "309018", "01109", "000", "市外転出に伴う退園。"},
}};

// The field map the decoder must produce: every value padded with half-width spaces to its
// width in CP932 bytes, exactly as the mainframe wrote it.
std::map<std::string, std::string> padded_fields(const Expected& e) {
  const std::array<std::pair<const char*, const char*>, 13> values = {{
      {"record_type", e.record_type},
      {"report_number", e.report_number},
      {"revision", e.revision},
      {"report_date", e.report_date},
      {"resident_id", e.resident_id},
      {"name", e.name},
      {"name_kana", e.name_kana},
      {"birth_date", e.birth_date},
      {"sex", e.sex},
      {"school_code", e.school_code},
      {"ward_code", e.ward_code},
      {"absence_days", e.absence_days},
      {"remarks", e.remarks},
  }};
  std::map<std::string, std::string> fields;
  for (const FieldSpan& span : shipped_layout().fields) {
    for (const auto& [name, value] : values) {
      if (span.name != name) continue;
      const std::size_t bytes = cp932(value).size();
      if (bytes > span.size()) throw std::logic_error(std::string(name) + " does not fit");
      fields[name] = std::string(value) + std::string(span.size() - bytes, ' ');
    }
  }
  return fields;
}

TEST(EdDecoderGoodNight, EveryRecordMatchesItsGoldenFieldMap) {
  CollectingSink sink;
  const DecodeResult result = decode_file("ED_20190605.dat", sink);
  ASSERT_TRUE(result.ok) << result.message;
  EXPECT_FALSE(result.stopped);
  EXPECT_EQ(result.records, kGoodNight.size());
  ASSERT_EQ(sink.records.size(), kGoodNight.size());
  const std::vector<std::string> lines = sample_lines("ED_20190605.dat");
  for (std::size_t i = 0; i < kGoodNight.size(); ++i) {
    const NativeRecord& record = sink.records[i];
    SCOPED_TRACE("record " + std::to_string(i + 1));
    EXPECT_EQ(record.number, i + 1);
    EXPECT_EQ(record.line, i + 1);
    EXPECT_EQ(record.error, "");
    EXPECT_EQ(record.error_field, "");
    EXPECT_EQ(record.raw, lines[i]);  // the 200 bytes as received, without CR LF
    EXPECT_EQ(record.raw.size(), 200u);
    EXPECT_EQ(record.fields, padded_fields(kGoodNight[i]));
  }
}

TEST(EdDecoderGoodNight, PaddingIsLeftForTheMapping) {
  CollectingSink sink;
  ASSERT_TRUE(decode_file("ED_20190605.dat", sink).ok);
  const auto& fields = sink.at(1).fields;
  // 佐々木　陽翔 is 12 CP932 bytes of the 30; ｻｻｷ ﾊﾙﾄ 7 of 30 (half-width kana are one byte).
  EXPECT_EQ(fields.at("name"), "佐々木　陽翔" + std::string(18, ' '));
  EXPECT_EQ(fields.at("name_kana"), "ｻｻｷ ﾊﾙﾄ" + std::string(23, ' '));
  EXPECT_EQ(sink.at(6).fields.at("resident_id"), std::string(10, ' '));
  EXPECT_EQ(sink.at(16).fields.at("remarks"), std::string(85, ' '));
}

TEST(EdDecoderGoodNight, CoversEveryTypeWardAndCp932Speciality) {
  CollectingSink sink;
  ASSERT_TRUE(decode_file("ED_20190605.dat", sink).ok);
  std::set<std::string> types;
  std::set<std::string> wards;
  std::size_t without_resident_id = 0;
  for (const NativeRecord& record : sink.records) {
    types.insert(record.fields.at("record_type"));
    wards.insert(record.fields.at("ward_code"));
    if (record.fields.at("resident_id") == std::string(10, ' ')) ++without_resident_id;
  }
  EXPECT_EQ(types, (std::set<std::string>{"01", "02", "03", "04"}));
  EXPECT_EQ(wards.size(), 10u);
  EXPECT_EQ(without_resident_id, 4u);
  // IBM extension kanji, NEC special characters and CP932's tilde (U+FF5E) decode as Windows does.
  EXPECT_EQ(sink.at(2).fields.at("name").substr(0, 15), "山﨑　美羽");
  EXPECT_EQ(sink.at(15).fields.at("name").substr(0, 12), "髙田　蓮");
  EXPECT_EQ(sink.at(14).fields.at("remarks").substr(0, 3), "①");
  EXPECT_NE(sink.at(6).fields.at("remarks").find("～"), std::string::npos);
}

TEST(EdDecoderGoodNight, DemoSpoolHoldsTheSameFiles) {
  const auto spool = test_support::source_dir() / "config" / "demo" / "spool" / "education";
  EXPECT_EQ(file_bytes(spool / "ED_20190605.dat"), file_bytes(data_dir() / "ED_20190605.dat"));
  EXPECT_EQ(file_bytes(spool / "ED_20190606.dat"), file_bytes(data_dir() / "ED_20190606_bad.dat"));
}

// ---- the bad night: one test per class, the other records still decode ----------------------

class EdDecoderBadNight : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    sink_ = new CollectingSink;
    result_ = decode_file("ED_20190606_bad.dat", *sink_);
  }
  static void TearDownTestSuite() {
    delete sink_;
    sink_ = nullptr;
  }

  const NativeRecord& record(std::size_t n) const { return sink_->at(n); }

  // The records the decoder must pass on whole, whatever is wrong with them elsewhere.
  void expect_the_others_decode() const {
    for (const std::size_t n : {1, 2, 8, 9, 10, 11, 12}) {
      EXPECT_EQ(record(n).error, "") << "record " << n;
      EXPECT_EQ(record(n).fields.size(), 13u) << "record " << n;
    }
    EXPECT_EQ(record(12).fields.at("report_number"), "ED1906060012");
  }

  static CollectingSink* sink_;
  static DecodeResult result_;
};

CollectingSink* EdDecoderBadNight::sink_ = nullptr;
DecodeResult EdDecoderBadNight::result_;

TEST_F(EdDecoderBadNight, EveryLineIsOneRecordAndTheFileIsNotRejectedAsAWhole) {
  ASSERT_TRUE(result_.ok) << result_.message;
  EXPECT_EQ(result_.records, 12u);
  ASSERT_EQ(sink_->records.size(), 12u);
  for (std::size_t n = 1; n <= 12; ++n) {
    EXPECT_EQ(record(n).number, n);
    EXPECT_EQ(record(n).line, n);
  }
}

TEST_F(EdDecoderBadNight, ShortLineSaysHowLongItWas) {
  const NativeRecord& short_line = record(3);
  EXPECT_EQ(short_line.error,
            "the record is 199 bytes long, expected 200 (1 short, counted before CR LF)");
  EXPECT_EQ(short_line.error_field, "");
  EXPECT_TRUE(short_line.fields.empty());
  EXPECT_EQ(short_line.raw.size(), 199u);
  EXPECT_EQ(short_line.raw.substr(0, 14), "01ED1906060003");
  expect_the_others_decode();
}

TEST_F(EdDecoderBadNight, LongLineSaysHowLongItWas) {
  const NativeRecord& long_line = record(4);
  EXPECT_EQ(long_line.error,
            "the record is 203 bytes long, expected 200 (3 too many, counted before CR LF)");
  EXPECT_EQ(long_line.error_field, "");
  EXPECT_TRUE(long_line.fields.empty());
  EXPECT_EQ(long_line.raw.size(), 203u);
  expect_the_others_decode();
}

TEST_F(EdDecoderBadNight, CharacterSplitByAFieldBoundaryNamesTheField) {
  const NativeRecord& split = record(5);
  EXPECT_EQ(split.error_field, "name");
  EXPECT_EQ(split.error,
            "the two-byte character 0x8E 0x71 '子' at bytes 63–64 is cut in half by the field "
            "boundary: its first byte ends field 'name' (bytes 34–63), its second begins field "
            "'name_kana' (bytes 64–93)");
  // Neither half is a value; the other fields are, so a person can find the report.
  EXPECT_EQ(split.fields.count("name"), 0u);
  EXPECT_EQ(split.fields.count("name_kana"), 0u);
  EXPECT_EQ(split.fields.size(), 11u);
  EXPECT_EQ(split.fields.at("report_number"), "ED1906060005");
  EXPECT_EQ(split.raw.size(), 200u);
  expect_the_others_decode();
}

TEST_F(EdDecoderBadNight, InvalidCp932NamesTheField) {
  const NativeRecord& invalid = record(6);
  EXPECT_EQ(invalid.error_field, "name_kana");
  EXPECT_EQ(invalid.error, "invalid CP932 byte sequence 0xA0 at byte offset 3 of bytes 64–93");
  EXPECT_EQ(invalid.fields.count("name_kana"), 0u);
  EXPECT_EQ(invalid.fields.at("name"), "田中　優希" + std::string(20, ' '));
  EXPECT_NE(invalid.raw.find('\xA0'), std::string::npos);
  expect_the_others_decode();
}

TEST_F(EdDecoderBadNight, LineEndingInLfWithoutCrIsRejected) {
  const NativeRecord& bare_lf = record(7);
  EXPECT_EQ(bare_lf.error, "the line ends in LF without CR (every record ends in CR LF)");
  EXPECT_EQ(bare_lf.error_field, "");
  // The 200 bytes and the bare LF that is wrong with them.
  EXPECT_EQ(bare_lf.raw.size(), 201u);
  EXPECT_EQ(bare_lf.raw.back(), '\n');
  expect_the_others_decode();
}

TEST_F(EdDecoderBadNight, FinalLineWithoutCrLfIsStillARecord) {
  const NativeRecord& last = record(12);
  EXPECT_EQ(last.error, "");
  EXPECT_EQ(last.raw.size(), 200u);
  EXPECT_EQ(last.fields.at("remarks").substr(0, 18), "転居先不明。");
  expect_the_others_decode();
}

TEST_F(EdDecoderBadNight, SemanticallyWrongRecordsAreLeftToTheMapping) {
  EXPECT_EQ(record(8).fields.at("ward_code"), "01199");
  EXPECT_EQ(record(9).fields.at("report_date"), "5010230");
  EXPECT_EQ(record(10).fields.at("record_type"), "09");
  expect_the_others_decode();
}

// ---- more bad records, built from a good one -------------------------------------------------

TEST(EdDecoderBadRecords, FinalLineIsJudgedByItsLength) {
  CollectingSink sink;
  const std::string record = good_record();
  ASSERT_TRUE(decode(record + "\r\n" + record.substr(0, 150), sink).ok);
  ASSERT_EQ(sink.records.size(), 2u);
  EXPECT_EQ(sink.at(1).error, "");
  EXPECT_EQ(sink.at(2).error,
            "the record is 150 bytes long, expected 200 (50 short, counted before CR LF)");

  // A final CR without its LF is a cut-off line break, not a byte of the record.
  sink.records.clear();
  ASSERT_TRUE(decode(record + "\r\n" + record + "\r", sink).ok);
  ASSERT_EQ(sink.records.size(), 2u);
  EXPECT_EQ(sink.at(2).error, "");
  EXPECT_EQ(sink.at(2).raw, record);
}

TEST(EdDecoderBadRecords, EmptyLinesAreRecordsInError) {
  CollectingSink sink;
  const std::string record = good_record();
  ASSERT_TRUE(decode(record + "\r\n\r\n" + record + "\r\n\n", sink).ok);
  ASSERT_EQ(sink.records.size(), 4u);
  EXPECT_EQ(sink.at(2).error, "the line is empty; expected a record of 200 bytes");
  EXPECT_EQ(sink.at(3).error, "");
  EXPECT_EQ(sink.at(4).error,
            "the line is empty; expected a record of 200 bytes; the line ends in LF without CR "
            "(every record ends in CR LF)");
}

TEST(EdDecoderBadRecords, ShortAndWithoutCrBothSaid) {
  CollectingSink sink;
  ASSERT_TRUE(decode(good_record().substr(0, 198) + "\n", sink).ok);
  ASSERT_EQ(sink.records.size(), 1u);
  EXPECT_EQ(sink.at(1).error,
            "the record is 198 bytes long, expected 200 (2 short, counted before CR LF); the line "
            "ends in LF without CR (every record ends in CR LF)");
}

TEST(EdDecoderBadRecords, FileResavedAsUtf8GetsAHint) {
  // What a text editor makes of the export: the same characters in UTF-8, so longer lines.
  std::string utf8;
  std::string error;
  codec::Cp932Decoder decoder;
  ASSERT_TRUE(decoder.decode(good_record(), utf8, error)) << error;
  CollectingSink sink;
  ASSERT_TRUE(decode(utf8 + "\r\n", sink).ok);
  ASSERT_EQ(sink.records.size(), 1u);
  EXPECT_EQ(sink.at(1).error,
            "the record is 240 bytes long, expected 200 (40 too many, counted before CR LF); the "
            "line is UTF-8 text, but the export is CP932 (was the file re-saved? convert it back "
            "with iconv -f UTF-8 -t CP932)");
}

TEST(EdDecoderBadRecords, RecordEndingInTheFirstHalfOfACharacter) {
  std::string record = good_record();
  record[199] = '\x88';  // a lead byte whose trail would be the CR
  CollectingSink sink;
  ASSERT_TRUE(decode(record + "\r\n", sink).ok);
  EXPECT_EQ(sink.at(1).error_field, "remarks");
  EXPECT_EQ(sink.at(1).error,
            "the record ends in the first half of a two-byte character (0x88 at byte 200)");
  EXPECT_EQ(sink.at(1).fields.count("remarks"), 0u);
  EXPECT_EQ(sink.at(1).fields.size(), 12u);
}

TEST(EdDecoderBadRecords, StrayLeadByteAtABoundaryIsInvalidNotSplit) {
  // 0x81 0x20 is no character: the lead byte belongs to name alone, and name_kana still decodes.
  std::string record = good_record();
  record[62] = '\x81';
  ASSERT_EQ(record[63], '\xBB');  // ｻ
  record[63] = ' ';
  CollectingSink sink;
  ASSERT_TRUE(decode(record + "\r\n", sink).ok);
  EXPECT_EQ(sink.at(1).error_field, "name");
  EXPECT_EQ(sink.at(1).error,
            "incomplete CP932 character 0x81 at the end (byte offset 29) of bytes 34–63");
  EXPECT_EQ(sink.at(1).fields.at("name_kana"), " ｻｷ ﾊﾙﾄ" + std::string(23, ' '));
}

TEST(EdDecoderBadRecords, EveryBadFieldOfARecordIsNamed) {
  std::string record = good_record();
  record[33] = '\xFF';   // in name
  record[150] = '\x80';  // in remarks
  CollectingSink sink;
  ASSERT_TRUE(decode(record + "\r\n" + good_record(2) + "\r\n", sink).ok);
  ASSERT_EQ(sink.records.size(), 2u);
  EXPECT_EQ(sink.at(1).error_field, "name");
  EXPECT_EQ(sink.at(1).error,
            "invalid CP932 byte sequence 0xFF at byte offset 0 of bytes 34–63; also remarks: "
            "invalid CP932 byte sequence 0x80 at byte offset 35 of bytes 116–200");
  EXPECT_EQ(sink.at(1).fields.size(), 11u);
  EXPECT_EQ(sink.at(2).error, "");
}

TEST(EdDecoderBadRecords, VeryLongLineKeepsOnlyItsBeginning) {
  // A file whose line breaks were lost: one line of 10 000 records. Memory stays bounded.
  std::string joined;
  for (int i = 0; i < 10000; ++i) joined += good_record();
  CollectingSink sink;
  EdRecordDecoderOptions options;
  options.max_raw_bytes = 4096;
  options.read_buffer_bytes = 512;
  ASSERT_TRUE(decode(joined + "\r\n" + good_record() + "\r\n", sink, options).ok);
  ASSERT_EQ(sink.records.size(), 2u);
  EXPECT_EQ(sink.at(1).error,
            "the record is 2000000 bytes long, expected 200 (1999800 too many, counted before CR "
            "LF); only its first 4096 bytes are kept");
  EXPECT_EQ(sink.at(1).raw.size(), 4096u);
  EXPECT_EQ(sink.at(1).raw, joined.substr(0, 4096));
  EXPECT_EQ(sink.at(2).error, "");
  EXPECT_EQ(sink.at(2).line, 2u);
}

// ---- one record again (quarantine retry) -----------------------------------------------------

TEST(EdDecoderRecordAgain, EveryRecordOfBothNightsDecodesAsInItsFile) {
  EdRecordDecoder decoder(shipped_layout());
  for (const char* night : {"ED_20190605.dat", "ED_20190606_bad.dat"}) {
    CollectingSink file;
    ASSERT_TRUE(decode_file(night, file).ok);
    for (const NativeRecord& original : file.records) {
      SCOPED_TRACE(std::string(night) + " record " + std::to_string(original.number));
      CollectingSink again;
      const DecodeResult result = decoder.decode_record(original.raw, again);
      ASSERT_TRUE(result.ok) << result.message;
      ASSERT_EQ(again.records.size(), 1u);
      EXPECT_EQ(again.at(1).number, 1u);
      EXPECT_EQ(again.at(1).raw, original.raw);
      EXPECT_EQ(again.at(1).error, original.error);
      EXPECT_EQ(again.at(1).error_field, original.error_field);
      EXPECT_EQ(again.at(1).fields, original.fields);
    }
  }
}

TEST(EdDecoderRecordAgain, EmptyRawIsAnEmptyLine) {
  CollectingSink sink;
  ASSERT_TRUE(EdRecordDecoder(shipped_layout()).decode_record("", sink).ok);
  ASSERT_EQ(sink.records.size(), 1u);
  EXPECT_EQ(sink.at(1).error, "the line is empty; expected a record of 200 bytes");
}

// ---- streaming and control -------------------------------------------------------------------

TEST(EdDecoderStream, EmptyInputIsAnEmptyNight) {
  CollectingSink sink;
  const DecodeResult result = decode("", sink);
  EXPECT_TRUE(result.ok);
  EXPECT_EQ(result.records, 0u);
}

TEST(EdDecoderStream, StopsWhenTheSinkSaysSo) {
  CollectingSink sink(3);
  const DecodeResult result = decode_file("ED_20190605.dat", sink);
  EXPECT_TRUE(result.ok);
  EXPECT_TRUE(result.stopped);
  EXPECT_EQ(result.records, 3u);
  EXPECT_EQ(sink.at(3).fields.at("report_number"), "ED1906050003");
}

TEST(EdDecoderStream, TinyReadBufferGivesTheSameRecords) {
  const std::string bytes = file_bytes(data_dir() / "ED_20190606_bad.dat");
  CollectingSink whole;
  CollectingSink pieces;
  ASSERT_TRUE(decode(bytes, whole).ok);
  EdRecordDecoderOptions options;
  options.read_buffer_bytes = 7;
  ASSERT_TRUE(decode(bytes, pieces, options).ok);
  ASSERT_EQ(whole.records.size(), pieces.records.size());
  for (std::size_t i = 0; i < whole.records.size(); ++i) {
    EXPECT_EQ(whole.records[i].raw, pieces.records[i].raw);
    EXPECT_EQ(whole.records[i].error, pieces.records[i].error);
    EXPECT_EQ(whole.records[i].fields, pieces.records[i].fields);
  }
}

using tsunagu_test::FailingBuffer;

TEST(EdDecoderStream, ReadErrorFailsTheInputAfterDeliveringWhatWasRead) {
  const std::string line = good_record() + "\r\n";
  // Reads of 16 bytes: the one that fails starts after the first record.
  FailingBuffer buffer(line + line + line, (line.size() / 16 + 2) * 16 + 5);
  std::istream in(&buffer);
  EdRecordDecoderOptions options;
  options.read_buffer_bytes = 16;
  EdRecordDecoder decoder(shipped_layout(), options);
  CollectingSink sink;
  const DecodeResult result = decoder.decode(in, "ED_TEST.dat", sink);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.message,
            "ED_TEST.dat: reading failed after record 1; the records before it were delivered");
  EXPECT_EQ(result.records, 1u);
  ASSERT_EQ(sink.records.size(), 1u);
  EXPECT_EQ(sink.at(1).error, "");
}

TEST(EdDecoderStream, OneDecoderServesManyFilesAndThreads) {
  const std::string good = file_bytes(data_dir() / "ED_20190605.dat");
  const std::string bad = file_bytes(data_dir() / "ED_20190606_bad.dat");
  EdRecordDecoder decoder(shipped_layout());
  std::vector<std::size_t> counts(4);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < counts.size(); ++t) {
    threads.emplace_back([&, t] {
      std::istringstream in(t % 2 == 0 ? good : bad);
      CollectingSink sink;
      if (decoder.decode(in, "x", sink).ok) counts[t] = sink.records.size();
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(counts, (std::vector<std::size_t>{20, 12, 20, 12}));
}

TEST(EdDecoderStream, ArbitraryBytesNeverBreakTheDecoder) {
  // Seeded, so every run tries the same inputs: good records damaged at random places with lead
  // bytes, line breaks, invalid bytes and cuts. Every line must come out as a record that is
  // either whole or rejected with a reason.
  std::mt19937 random(20190605);
  const std::vector<std::string> lines = sample_lines("ED_20190605.dat");
  const std::string nasty = std::string("\x81\x82\x9F\xE0\xFC\xFD\xFF\x80\xA0\r\n\0", 13);
  EdRecordDecoder decoder(shipped_layout());
  for (int round = 0; round < 2000; ++round) {
    std::string input;
    for (int n = 0; n < 3; ++n) {
      std::string line = lines[random() % lines.size()];
      for (int damage = static_cast<int>(random() % 4); damage > 0; --damage) {
        const std::size_t at = random() % line.size();
        switch (random() % 3) {
          case 0:
            line[at] = nasty[random() % nasty.size()];
            break;
          case 1:
            line.insert(at, 1, nasty[random() % nasty.size()]);
            break;
          default:
            line.erase(at, 1 + random() % 3);
            break;
        }
      }
      input += line + "\r\n";
    }
    input.resize(input.size() - random() % 3);
    std::istringstream in(input);
    CollectingSink sink;
    const DecodeResult result = decoder.decode(in, "random.dat", sink);
    ASSERT_TRUE(result.ok) << result.message;
    EXPECT_EQ(result.records, sink.records.size());
    for (const NativeRecord& record : sink.records) {
      if (record.error.empty()) {
        EXPECT_EQ(record.fields.size(), 13u);
        EXPECT_EQ(record.raw.size(), 200u);
      } else {
        EXPECT_LT(record.fields.size(), 13u) << record.error;
      }
    }
  }
}

TEST(EdDecoder, ReportsItsSystem) {
  EXPECT_STREQ(EdRecordDecoder(shipped_layout()).system(), "education");
}

TEST(EdDecoder, RefusesALayoutThatDoesNotTileTheRecord) {
  RecordLayout layout;
  layout.record_length = 10;
  layout.fields = {{"a", 1, 4}, {"b", 6, 10}};
  EXPECT_THROW(EdRecordDecoder{layout}, std::invalid_argument);
}

// ---- layout settings -------------------------------------------------------------------------

PluginSettings shipped_settings() {
  return test_support::education_mapping().adapter_settings();
}

std::string layout_error(const PluginSettings& settings) {
  RecordLayout layout;
  std::string error;
  if (layout_from_settings(settings, layout, error)) return "";
  return error;
}

TEST(EdLayoutSettings, ShippedSettingsAreValid) {
  EXPECT_EQ(layout_error(shipped_settings()), "");
}

TEST(EdLayoutSettings, NothingIsAssumedWithoutSettings) {
  EXPECT_EQ(layout_error({}),
            "education adapter: setting record_length is missing: the layout (record_length and "
            "one field-<name> per field) comes from the <adapter-settings> of "
            "mappings/education.xml");
  EXPECT_EQ(layout_error({{"record_length", "200"}}),
            "education adapter: no field layout: declare every field as a setting "
            "field-<name> = FIRST-LAST");
}

TEST(EdLayoutSettings, UnknownSettingsAreRefused) {
  PluginSettings settings = shipped_settings();
  settings["encoding"] = "UTF-8";
  EXPECT_EQ(layout_error(settings),
            "education adapter: unknown setting 'encoding' (the settings are record_length and "
            "field-<name>)");
}

TEST(EdLayoutSettings, MalformedValuesNameTheSetting) {
  for (const char* bad : {"", "0", "34-", "-63", "63-34", "34–63", "34-63x", " 34-63", "1-70000"}) {
    PluginSettings settings = shipped_settings();
    settings["field-name"] = bad;
    EXPECT_EQ(layout_error(settings),
              "education adapter: setting field-name is '" + std::string(bad) +
                  "', expected FIRST-LAST, the 1-based positions of the field's first and last "
                  "byte with FIRST ≤ LAST (e.g. 34-63), or N for one byte")
        << bad;
  }
  for (const char* bad : {"", "0", "two hundred", "65537", "-200"}) {
    PluginSettings settings = shipped_settings();
    settings["record_length"] = bad;
    EXPECT_EQ(layout_error(settings), "education adapter: setting record_length is '" +
                                          std::string(bad) +
                                          "', expected a whole number of bytes from 1 to 65536")
        << bad;
  }
  PluginSettings settings = shipped_settings();
  settings["field-"] = "1-2";
  EXPECT_EQ(layout_error(settings),
            "education adapter: setting 'field-' names no field (field-<name> = FIRST-LAST)");
}

TEST(EdLayoutSettings, OverlappingFieldsAreNamed) {
  PluginSettings settings = shipped_settings();
  settings["field-name_kana"] = "60-93";
  EXPECT_EQ(layout_error(settings),
            "education adapter: field 'name' (bytes 34–63) overlaps field 'name_kana' (bytes "
            "60–93)");
}

TEST(EdLayoutSettings, GapsAreRefused) {
  PluginSettings settings = shipped_settings();
  settings["field-name"] = "34-62";
  EXPECT_EQ(layout_error(settings), "education adapter: byte 63 belongs to no field");
  settings = shipped_settings();
  settings["field-remarks"] = "116-190";
  EXPECT_EQ(layout_error(settings),
            "education adapter: bytes 191–200 belong to no field (the record is 200 bytes)");
  settings = shipped_settings();
  settings.erase("field-sex");
  EXPECT_EQ(layout_error(settings), "education adapter: byte 101 belongs to no field");
}

TEST(EdLayoutSettings, FieldsBeyondTheRecordLengthAreRefused) {
  PluginSettings settings = shipped_settings();
  settings["field-remarks"] = "116-201";
  EXPECT_EQ(layout_error(settings),
            "education adapter: field 'remarks' (bytes 116–201) ends beyond the record length of "
            "200 bytes");
  settings = shipped_settings();
  settings["record_length"] = "199";
  EXPECT_EQ(layout_error(settings),
            "education adapter: field 'remarks' (bytes 116–200) ends beyond the record length of "
            "199 bytes");
  settings = shipped_settings();
  settings["record_length"] = "210";
  EXPECT_EQ(layout_error(settings),
            "education adapter: bytes 201–210 belong to no field (the record is 210 bytes)");
}

TEST(EdLayoutSettings, EveryProblemIsListed) {
  PluginSettings settings = shipped_settings();
  settings["field-revision"] = "15-17";
  settings["field-remarks"] = "116-199";
  EXPECT_EQ(layout_error(settings),
            "education adapter: field 'revision' (bytes 15–17) overlaps field 'report_date' "
            "(bytes 17–23); byte 200 belongs to no field (the record is 200 bytes)");
}

TEST(EdLayoutSettings, OneByteFieldsMayBeWrittenEitherWay) {
  PluginSettings settings = shipped_settings();
  settings["field-sex"] = "101-101";
  RecordLayout layout;
  std::string error;
  ASSERT_TRUE(layout_from_settings(settings, layout, error)) << error;
  EXPECT_EQ(layout, shipped_layout());
}

}  // namespace
}  // namespace tsunagu::education
