#include <cstddef>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <stdexcept>
#include <streambuf>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <codec/cp932.hpp>
#include <public_assistance/pa_events_decoder.hpp>

#include "support/failing_stream.hpp"

namespace {

using tsunagu::DecodeResult;
using tsunagu::NativeRecord;
using tsunagu::public_assistance::kColumns;
using tsunagu::public_assistance::PaEventsDecoder;
using tsunagu::public_assistance::PaEventsDecoderOptions;

constexpr const char* kDataDir = TSUNAGU_SOURCE_DIR "/tests/data/public_assistance/";

class CollectingSink : public tsunagu::RecordSink {
 public:
  explicit CollectingSink(std::size_t stop_after = std::numeric_limits<std::size_t>::max())
      : stop_after_(stop_after) {}

  bool accept(NativeRecord&& record) noexcept override {
    records.push_back(std::move(record));
    return records.size() < stop_after_;
  }

  std::vector<NativeRecord> records;

 private:
  std::size_t stop_after_;
};

std::string cp932(std::string_view utf8) {
  tsunagu::codec::Cp932Encoder encoder;
  std::string out;
  std::string error;
  if (!encoder.encode(utf8, out, error)) throw std::runtime_error(error);
  return out;
}

std::string header_row() {
  std::string row;
  for (const auto column : kColumns) row += (row.empty() ? "" : ",") + std::string(column);
  return row;
}

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

DecodeResult decode(const std::string& bytes, CollectingSink& sink,
                    PaEventsDecoderOptions options = {}) {
  std::istringstream in(bytes);
  PaEventsDecoder decoder(options);
  return decoder.decode(in, "PA_EVENTS_TEST.csv", sink);
}

DecodeResult decode_file(const std::string& name, CollectingSink& sink) {
  const std::string path = kDataDir + name;
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << "cannot open " << path;
  PaEventsDecoder decoder;
  return decoder.decode(in, name, sink);
}

constexpr const char* kGoodRow =
    "PA2019060700001,1,01,R1.06.07,20800001,0101000001,試験　太郎,シケン　タロウ,H30.01.01,1,"
    "世帯主,01101,札幌市中央区北1条西2丁目,CW0102,";

// ---- header row ------------------------------------------------------------------------------

TEST(PaEventsDecoderHeader, HeaderOnlyIsAValidEmptyNight) {
  CollectingSink sink;
  const DecodeResult result = decode(cp932(header_row() + "\r\n"), sink);
  EXPECT_TRUE(result.ok) << result.message;
  EXPECT_EQ(result.records, 0u);
  EXPECT_TRUE(sink.records.empty());
}

TEST(PaEventsDecoderHeader, NamesTheColumnThatDiffers) {
  std::string header = header_row();
  header.replace(header.find("氏名,"), std::string("氏名").size(), "名前");
  CollectingSink sink;
  const DecodeResult result = decode(cp932(header + "\r\n" + kGoodRow + "\r\n"), sink);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.message,
            "PA_EVENTS_TEST.csv: not a 生活保護システム events file: header column 7 is '名前', "
            "expected '氏名'");
  EXPECT_TRUE(sink.records.empty());  // nothing is delivered from a file of the wrong kind
}

TEST(PaEventsDecoderHeader, MissingAndExtraColumns) {
  std::string short_header = header_row();
  short_header.resize(short_header.rfind(','));
  CollectingSink sink;
  DecodeResult result = decode(cp932(short_header + "\r\n"), sink);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.message,
            "PA_EVENTS_TEST.csv: not a 生活保護システム events file: the header row has 14 "
            "columns, expected 15: column 15 '備考' is missing");

  result = decode(cp932(header_row() + ",予備\r\n"), sink);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.message,
            "PA_EVENTS_TEST.csv: not a 生活保護システム events file: the header row has 16 "
            "columns, expected 15: column 16 is extra");
}

TEST(PaEventsDecoderHeader, RecognisesAFileResavedAsUtf8) {
  CollectingSink sink;
  DecodeResult result = decode(header_row() + "\r\n", sink);
  EXPECT_FALSE(result.ok);
  EXPECT_NE(result.message.find("PA_EVENTS_TEST.csv: not a 生活保護システム events file: the "
                                "file is UTF-8, but the 生活保護システム export is CP932"),
            std::string::npos)
      << result.message;
  result = decode("\xEF\xBB\xBF" + header_row() + "\r\n", sink);
  EXPECT_NE(result.message.find("the file is UTF-8"), std::string::npos) << result.message;
}

TEST(PaEventsDecoderHeader, HeaderThatIsNotCp932OrNotCsv) {
  CollectingSink sink;
  DecodeResult result = decode("\xFF" + cp932(header_row()) + "\r\n", sink);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.message,
            "PA_EVENTS_TEST.csv: not a 生活保護システム events file: header column 1 is not "
            "CP932 text (invalid CP932 byte sequence 0xFF at byte offset 0); expected '処理番号'");

  result = decode(cp932("処理\"番号" + header_row().substr(header_row().find(','))), sink);
  EXPECT_FALSE(result.ok);
  EXPECT_NE(result.message.find("the header row is not valid CSV: a quote inside an unquoted "
                                "field at byte 5 of line 1"),
            std::string::npos)
      << result.message;
}

TEST(PaEventsDecoderHeader, EmptyInput) {
  CollectingSink sink;
  const DecodeResult result = decode("", sink);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.message,
            "PA_EVENTS_TEST.csv: the input is empty; expected the header row " + header_row());
}

// ---- the sample night ------------------------------------------------------------------------

const NativeRecord& record_numbered(const std::vector<NativeRecord>& records, std::size_t n) {
  if (n == 0 || n > records.size()) throw std::out_of_range("no record " + std::to_string(n));
  return records[n - 1];
}

TEST(PaEventsDecoderSample, DecodesEveryRecordOfTheGoodNight) {
  CollectingSink sink;
  const DecodeResult result = decode_file("PA_EVENTS_20190605.csv", sink);
  ASSERT_TRUE(result.ok) << result.message;
  EXPECT_FALSE(result.stopped);
  EXPECT_EQ(result.records, 40u);
  ASSERT_EQ(sink.records.size(), 40u);

  std::set<std::string> wards;
  std::set<std::string> change_kinds;
  std::set<std::string> roles;
  std::set<std::string> dates;
  std::uint64_t previous_line = 1;
  for (std::size_t i = 0; i < sink.records.size(); ++i) {
    const NativeRecord& record = sink.records[i];
    EXPECT_EQ(record.number, i + 1);
    EXPECT_TRUE(record.error.empty()) << "record " << record.number << ": " << record.error;
    EXPECT_TRUE(record.error_field.empty());
    EXPECT_EQ(record.fields.size(), kColumns.size()) << "record " << record.number;
    EXPECT_GT(record.line, previous_line);
    previous_line = record.line;
    wards.insert(record.fields.at("区コード"));
    change_kinds.insert(record.fields.at("異動区分"));
    roles.insert(record.fields.at("続柄"));
    dates.insert(record.fields.at("発生日"));
  }
  EXPECT_EQ(wards, (std::set<std::string>{"01101", "01102", "01103", "01104", "01105", "01106",
                                          "01107", "01108", "01109", "01110"}));
  EXPECT_EQ(change_kinds, (std::set<std::string>{"01", "02", "03", "04", "05", "06"}));
  for (const char* role : {"世帯主", "妻", "子", "祖母", "同居人"}) EXPECT_TRUE(roles.count(role));
  for (const char* date : {"R1.06.05", "R01.06.05", "令和元年6月5日", "H31.04.30", "2019-06-05"}) {
    EXPECT_TRUE(dates.count(date)) << date;
  }
}

TEST(PaEventsDecoderSample, GoldenRecords) {
  CollectingSink sink;
  ASSERT_TRUE(decode_file("PA_EVENTS_20190605.csv", sink).ok);
  const auto& records = sink.records;

  const NativeRecord& first = record_numbered(records, 1);
  EXPECT_EQ(first.line, 2u);
  EXPECT_EQ(first.fields, (std::map<std::string, std::string>{
                              {"処理番号", "PA2019060500001"},
                              {"版", "1"},
                              {"異動区分", "01"},
                              {"発生日", "R1.06.05"},
                              {"世帯番号", "20481337"},
                              {"宛名番号", "0102345678"},
                              {"氏名", "池田　花子"},
                              {"氏名カナ", "ｲｹﾀﾞ ﾊﾅｺ"},
                              {"生年月日", "S63.02.11"},
                              {"性別", "2"},
                              {"続柄", "世帯主"},
                              {"区コード", "01102"},
                              {"住所", "札幌市北区北24条西5丁目2-8 北星ハイツ203"},
                              {"担当CW", "CW0312"},
                              {"備考", ""},
                          }));
  // raw is the record's CP932 bytes exactly as in the file.
  EXPECT_EQ(first.raw, cp932("PA2019060500001,1,01,R1.06.05,20481337,0102345678,池田　花子,"
                             "ｲｹﾀﾞ ﾊﾅｺ,S63.02.11,2,世帯主,01102,"
                             "札幌市北区北24条西5丁目2-8 北星ハイツ203,CW0312,"));

  // A 備考 with a line break inside quotes: two lines, one record.
  const NativeRecord& unseen_child = record_numbered(records, 8);
  EXPECT_EQ(unseen_child.line, 9u);
  EXPECT_EQ(unseen_child.fields.at("異動区分"), "05");
  EXPECT_EQ(unseen_child.fields.at("発生日"), "令和元年6月4日");
  EXPECT_EQ(unseen_child.fields.at("備考"),
            "家庭訪問時、児童不在。母は「祖母宅に預けている」と説明、\r\n"
            "祖母宅の住所は聞き取れず。6/7再訪予定");
  EXPECT_EQ(record_numbered(records, 9).line, 11u);

  // IBM extension kanji and a revision.
  EXPECT_EQ(record_numbered(records, 9).fields.at("氏名"), "髙橋　由美子");
  EXPECT_EQ(record_numbered(records, 9).fields.at("版"), "2");
  // NEC special character in an address.
  EXPECT_EQ(record_numbered(records, 10).fields.at("住所"),
            "札幌市西区琴似2条3丁目4-5 ハイツ琴似Ⅱ 305");
  // A quoted comma, half-width kana.
  EXPECT_EQ(record_numbered(records, 11).fields.at("備考"), "施設入所のため廃止, 6月分支給済");
  EXPECT_EQ(record_numbered(records, 11).fields.at("氏名カナ"), "ﾔﾏﾓﾄ ｶｽﾞｺ");
  // No 宛名番号 yet.
  EXPECT_EQ(record_numbered(records, 14).fields.at("宛名番号"), "");
  EXPECT_EQ(record_numbered(records, 14).fields.at("生年月日"), "R1.05.20");
  // Doubled quotes and a line break in one 備考.
  const NativeRecord& second_visit = record_numbered(records, 16);
  EXPECT_EQ(second_visit.line, 18u);  // record 8 took two lines
  EXPECT_EQ(second_visit.fields.at("備考"),
            "訪問2回目も児童確認できず。\r\n"
            "母「保育所に行っている」→保育所に照会、\"6月は登園なし\"との回答");
  EXPECT_EQ(record_numbered(records, 17).line, 20u);
  // CP932's own tilde (U+FF5E).
  EXPECT_EQ(record_numbered(records, 34).fields.at("備考"), "学校からの情報：5月中旬～欠席が続く");

  const NativeRecord& last = record_numbered(records, 40);
  EXPECT_EQ(last.line, 43u);
  EXPECT_EQ(last.fields.at("処理番号"), "PA2019060500040");
  EXPECT_EQ(last.fields.at("備考"), "同一区内転居");
}

TEST(PaEventsDecoderSample, DemoSpoolHoldsTheSameFiles) {
  const std::string spool = TSUNAGU_SOURCE_DIR "/config/demo/spool/public_assistance/";
  EXPECT_EQ(file_bytes(spool + "PA_EVENTS_20190605.csv"),
            file_bytes(std::string(kDataDir) + "PA_EVENTS_20190605.csv"));
  EXPECT_EQ(file_bytes(spool + "PA_EVENTS_20190606.csv"),
            file_bytes(std::string(kDataDir) + "PA_EVENTS_20190606_bad.csv"));
}

// ---- the bad night ---------------------------------------------------------------------------

TEST(PaEventsDecoderBadNight, BadRecordsAreFlaggedAndTheRestDecodes) {
  CollectingSink sink;
  const DecodeResult result = decode_file("PA_EVENTS_20190606_bad.csv", sink);
  ASSERT_TRUE(result.ok) << result.message;
  EXPECT_EQ(result.records, 12u);
  ASSERT_EQ(sink.records.size(), 12u);
  const auto& records = sink.records;
  for (std::size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(records[i].number, i + 1);
    EXPECT_EQ(records[i].line, i + 2);  // no record of this file spans lines
    EXPECT_FALSE(records[i].raw.empty());
  }

  for (const std::size_t good : {1, 2, 6, 7, 8, 9, 10, 11}) {
    const NativeRecord& record = record_numbered(records, good);
    EXPECT_TRUE(record.error.empty()) << "record " << good << ": " << record.error;
    EXPECT_EQ(record.fields.size(), 15u) << "record " << good;
  }
  // Semantically wrong but well-formed: the decoder passes them on untouched for the mapping.
  EXPECT_EQ(record_numbered(records, 6).fields.at("区コード"), "01199");
  EXPECT_EQ(record_numbered(records, 7).fields.at("発生日"), "H31.05.01");
  EXPECT_EQ(record_numbered(records, 8).fields.at("生年月日"), "R1.02.30");
  EXPECT_EQ(record_numbered(records, 9).fields.at("氏名"), "");
  EXPECT_EQ(record_numbered(records, 10).fields.at("異動区分"), "99");

  const NativeRecord& too_few = record_numbered(records, 3);
  EXPECT_EQ(too_few.error,
            "the record has 14 fields, expected 15 (a value containing a comma or a line break "
            "must be quoted)");
  EXPECT_TRUE(too_few.error_field.empty());
  EXPECT_TRUE(too_few.fields.empty());
  EXPECT_EQ(too_few.raw.substr(0, 16), "PA2019060600003,");

  const NativeRecord& too_many = record_numbered(records, 4);
  EXPECT_EQ(too_many.error.substr(0, 40), "the record has 16 fields, expected 15 (a");

  const NativeRecord& not_cp932 = record_numbered(records, 5);
  EXPECT_EQ(not_cp932.error_field, "氏名");
  EXPECT_EQ(not_cp932.error, "invalid CP932 byte sequence 0x81 0x20 at byte offset 4");
  EXPECT_EQ(not_cp932.fields.count("氏名"), 0u);
  EXPECT_EQ(not_cp932.fields.at("氏名カナ"), "ウノ　ミサキ");  // the other fields are kept
  EXPECT_EQ(not_cp932.fields.at("処理番号"), "PA2019060600005");
  EXPECT_NE(not_cp932.raw.find("\x81\x20"), std::string::npos);

  const NativeRecord& cut_off = record_numbered(records, 12);
  EXPECT_EQ(cut_off.error_field, "備考");
  EXPECT_EQ(cut_off.error.substr(0, 37), "CSV syntax error: a quoted field open");
  EXPECT_NE(cut_off.error.find("of line 13 is never closed before the end of the input"),
            std::string::npos)
      << cut_off.error;
  EXPECT_EQ(cut_off.fields.size(), 14u);
  EXPECT_EQ(cut_off.fields.at("処理番号"), "PA2019060600012");
  EXPECT_EQ(cut_off.fields.count("備考"), 0u);
}

TEST(PaEventsDecoderBadNight, SeveralInvalidFieldsAreAllNamed) {
  std::string row = cp932(kGoodRow);
  row.replace(row.find(cp932("試験")), 2, "\xA0\xA0");
  row.replace(row.find(cp932("札幌市")), 2, "\xFD\x40");
  CollectingSink sink;
  ASSERT_TRUE(decode(cp932(header_row()) + "\r\n" + row + "\r\n", sink).ok);
  ASSERT_EQ(sink.records.size(), 1u);
  EXPECT_EQ(sink.records[0].error_field, "氏名");
  EXPECT_EQ(sink.records[0].error,
            "invalid CP932 byte sequence 0xA0 at byte offset 0; also not CP932: 住所");
}

TEST(PaEventsDecoderBadNight, CsvSyntaxErrorNamesTheField) {
  const std::string row = "PA1,1,01,R1.06.07,20800001,01010000\"01,x,y,z,1,子,01101,a,CW1,";
  CollectingSink sink;
  ASSERT_TRUE(decode(cp932(header_row() + "\r\n" + row + "\r\n" + kGoodRow), sink).ok);
  ASSERT_EQ(sink.records.size(), 2u);
  EXPECT_EQ(sink.records[0].error_field, "宛名番号");
  EXPECT_EQ(sink.records[0].error.substr(0, 50),
            "CSV syntax error: a quote inside an unquoted field");
  EXPECT_EQ(sink.records[0].fields.at("世帯番号"), "20800001");
  EXPECT_TRUE(sink.records[1].error.empty()) << sink.records[1].error;
  EXPECT_EQ(sink.records[1].number, 2u);
}

TEST(PaEventsDecoderBadNight, OverlongRecordIsRejectedAlone) {
  const std::string long_row = std::string(kGoodRow) + std::string(500, 'x');
  CollectingSink sink;
  PaEventsDecoderOptions options;
  options.max_record_bytes = 300;
  options.read_buffer_bytes = 64;
  const DecodeResult result =
      decode(cp932(header_row() + "\r\n" + long_row + "\r\n" + kGoodRow + "\r\n"), sink, options);
  ASSERT_TRUE(result.ok) << result.message;
  ASSERT_EQ(sink.records.size(), 2u);
  EXPECT_NE(sink.records[0].error.find("longer than the limit of 300 bytes"), std::string::npos);
  EXPECT_EQ(sink.records[0].error_field, "備考");
  EXPECT_EQ(sink.records[0].raw.size(), 300u);
  EXPECT_TRUE(sink.records[1].error.empty());
  EXPECT_EQ(sink.records[1].line, 3u);
}

// ---- streaming and control -------------------------------------------------------------------

TEST(PaEventsDecoderStream, StopsWhenTheSinkSaysSo) {
  CollectingSink sink(3);
  const DecodeResult result = decode_file("PA_EVENTS_20190605.csv", sink);
  EXPECT_TRUE(result.ok) << result.message;
  EXPECT_TRUE(result.stopped);
  EXPECT_EQ(result.records, 3u);
  ASSERT_EQ(sink.records.size(), 3u);
  EXPECT_EQ(sink.records[2].fields.at("処理番号"), "PA2019060500003");
}

TEST(PaEventsDecoderStream, BlankLinesAreNotRecords) {
  CollectingSink sink;
  const DecodeResult result =
      decode(cp932(header_row() + "\r\n\r\n" + kGoodRow + "\r\n\r\n"), sink);
  ASSERT_TRUE(result.ok) << result.message;
  ASSERT_EQ(sink.records.size(), 1u);
  EXPECT_EQ(sink.records[0].number, 1u);
  EXPECT_EQ(sink.records[0].line, 3u);
  EXPECT_EQ(result.records, 1u);
}

TEST(PaEventsDecoderStream, BareLfAndMissingFinalLineBreakAreAccepted) {
  CollectingSink sink;
  const DecodeResult result = decode(cp932(header_row() + "\n" + kGoodRow + "\n" + kGoodRow), sink);
  ASSERT_TRUE(result.ok) << result.message;
  ASSERT_EQ(sink.records.size(), 2u);
  EXPECT_TRUE(sink.records[1].error.empty()) << sink.records[1].error;
  EXPECT_EQ(sink.records[1].fields.at("担当CW"), "CW0102");
}

using tsunagu_test::FailingBuffer;

TEST(PaEventsDecoderStream, ReadErrorFailsTheInputAfterDeliveringWhatWasRead) {
  const std::string header = cp932(header_row() + "\r\n");
  const std::string row = cp932(std::string(kGoodRow) + "\r\n");
  // The read that fails loses what it read, so make it start after the first record.
  const std::size_t failing_read = ((header.size() + row.size()) / 16 + 2) * 16;
  FailingBuffer buffer(header + row + row, failing_read + 5);
  std::istream in(&buffer);
  PaEventsDecoder decoder({.max_record_bytes = 1024, .read_buffer_bytes = 16});
  CollectingSink sink;
  const DecodeResult result = decoder.decode(in, "PA_EVENTS_TEST.csv", sink);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(
      result.message,
      "PA_EVENTS_TEST.csv: reading failed at or after line 3, after data record 1; the records "
      "before it were delivered");
  EXPECT_EQ(result.records, 1u);
  EXPECT_EQ(sink.records.size(), 1u);
}

TEST(PaEventsDecoderStream, OneDecoderServesManyFilesAndThreads) {
  const std::string good = file_bytes(std::string(kDataDir) + "PA_EVENTS_20190605.csv");
  const std::string bad = file_bytes(std::string(kDataDir) + "PA_EVENTS_20190606_bad.csv");
  PaEventsDecoder decoder;
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
  EXPECT_EQ(counts, (std::vector<std::size_t>{40, 12, 40, 12}));
}

TEST(PaEventsDecoder, ReportsItsSystem) {
  EXPECT_STREQ(PaEventsDecoder().system(), "public_assistance");
}

// ---- settings --------------------------------------------------------------------------------

TEST(PaEventsDecoderSettings, AcceptsTheRecordLimitAndRejectsEverythingElse) {
  using tsunagu::public_assistance::options_from_settings;
  PaEventsDecoderOptions options;
  std::string error;
  EXPECT_TRUE(options_from_settings({}, options, error)) << error;
  EXPECT_EQ(options.max_record_bytes, 1024u * 1024u);
  EXPECT_TRUE(options_from_settings({{"max_record_bytes", "4096"}}, options, error)) << error;
  EXPECT_EQ(options.max_record_bytes, 4096u);

  EXPECT_FALSE(options_from_settings({{"encoding", "UTF-8"}}, options, error));
  EXPECT_EQ(error,
            "public_assistance adapter: unknown setting 'encoding' (the only setting is "
            "max_record_bytes)");
  for (const char* bad : {"", "0", "12x", "-1", "67108865", "99999999999999999999999"}) {
    EXPECT_FALSE(options_from_settings({{"max_record_bytes", bad}}, options, error)) << bad;
    EXPECT_EQ(error, "public_assistance adapter: setting max_record_bytes is '" + std::string(bad) +
                         "', expected a whole number of bytes from 1 to 67108864");
  }
}

}  // namespace
