// Framing and streaming: NDJSON files and pushes, one pretty-printed object per push, damaged
// lines, limits, read errors, settings — and the samples, record by record.
#include <malloc.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
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

#include <child_guidance/cg_event_parser.hpp>

#include "cg_test_support.hpp"

#include "support/failing_stream.hpp"

namespace tsunagu::child_guidance {
namespace {

using test_support::CollectingSink;
using test_support::data_dir;
using test_support::decode;
using test_support::decode_sample;
using test_support::file_bytes;
using Fields = std::map<std::string, std::string>;

// The lines of a file, without their line breaks.
std::vector<std::string> lines_of(const std::string& bytes) {
  std::vector<std::string> lines;
  std::istringstream in(bytes);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

void expect_no_errors(const std::vector<NativeRecord>& records) {
  for (const NativeRecord& record : records) {
    EXPECT_EQ(record.error, "") << "record " << record.number;
    EXPECT_EQ(record.error_field, "") << "record " << record.number;
  }
}

// ---- the good day ----------------------------------------------------------------------------

TEST(CgEventsDecoderSample, DecodesEveryLineOfTheGoodDay) {
  CollectingSink sink;
  const DecodeResult result = decode_sample("CG_20190605.ndjson", sink);
  ASSERT_TRUE(result.ok) << result.message;
  EXPECT_FALSE(result.stopped);
  EXPECT_EQ(result.records, 16u);
  ASSERT_EQ(sink.records.size(), 16u);
  expect_no_errors(sink.records);

  const std::vector<std::string> lines = lines_of(file_bytes(data_dir() / "CG_20190605.ndjson"));
  ASSERT_EQ(lines.size(), 16u);
  std::set<std::string> types;
  std::set<std::string> wards;
  for (std::size_t i = 0; i < sink.records.size(); ++i) {
    const NativeRecord& record = sink.records[i];
    EXPECT_EQ(record.number, i + 1);
    EXPECT_EQ(record.line, i + 1);
    EXPECT_EQ(record.raw, lines[i]) << "raw is the line exactly as received";
    for (const auto& [name, value] : record.fields) {
      EXPECT_NE(std::find(kNativeFields.begin(), kNativeFields.end(), name), kNativeFields.end())
          << "record " << record.number << " has the undocumented field " << name;
    }
    types.insert(record.fields.at("type"));
    wards.insert(record.fields.at("ward_code"));
  }
  EXPECT_EQ(types, (std::set<std::string>{"report_received", "safety_confirmed", "case_opened",
                                          "risk_changed", "case_closed"}));
  EXPECT_EQ(wards, (std::set<std::string>{"01101", "01102", "01103", "01104", "01105", "01106",
                                          "01107", "01108", "01109", "01110"}));
}

TEST(CgEventsDecoderSample, GoldenFields) {
  CollectingSink sink;
  ASSERT_TRUE(decode_sample("CG_20190605.ndjson", sink).ok);

  EXPECT_EQ(sink.at(1).fields, (Fields{
                                   {"event_id", "CG-2019-0456"},
                                   {"revision", "1"},
                                   {"type", "report_received"},
                                   {"occurred_at", "2019-06-05T21:30:00+09:00"},
                                   {"child.resident_id", ""},
                                   {"child.name", "山田 花子"},
                                   {"child.name_kana", "ヤマダ ハナコ"},
                                   {"child.birth_date", "2017-11-30"},
                                   {"child.sex", "F"},
                                   {"ward_code", "01102"},
                                   {"risk_level", "B"},
                                   {"report_source", "警察"},
                                   {"address", "札幌市北区北24条西5丁目2-8 北星ハイツ203"},
                                   {"note", "泣き声通告。近隣住民から110番、警察が臨場"},
                               }));
  // Members the specification does not have (caseworker, attachments) are not fields.
  EXPECT_EQ(sink.at(4).fields, (Fields{
                                   {"event_id", "CG-2019-0459"},
                                   {"revision", "1"},
                                   {"type", "case_opened"},
                                   {"occurred_at", "2019-06-06T15:00:00+09:00"},
                                   {"child.resident_id", ""},
                                   {"child.name", "山田 花子"},
                                   {"child.name_kana", "ヤマダ ハナコ"},
                                   {"child.birth_date", "2017-11-30"},
                                   {"child.sex", "F"},
                                   {"ward_code", "01102"},
                                   {"risk_level", "B"},
                                   {"report_source", ""},
                                   {"address", ""},
                                   {"note", "受理会議で継続指導と決定"},
                               }));
  // Revision 2 of report CG-2019-0457.
  EXPECT_EQ(sink.at(6).fields.at("event_id"), "CG-2019-0457");
  EXPECT_EQ(sink.at(6).fields.at("revision"), "2");
  // Absent members stay absent: no name_kana, risk_level or address.
  EXPECT_EQ(sink.at(7).fields, (Fields{
                                   {"event_id", "CG-2019-0461"},
                                   {"revision", "1"},
                                   {"type", "report_received"},
                                   {"occurred_at", "2019-06-05T23:50:00+09:00"},
                                   {"child.resident_id", ""},
                                   {"child.name", "高橋 湊"},
                                   {"child.birth_date", "2016-02-14"},
                                   {"child.sex", "M"},
                                   {"ward_code", "01108"},
                                   {"report_source", "近隣住民"},
                                   {"note", "深夜に子どもだけで外にいる"},
                               }));
  EXPECT_EQ(sink.at(8).fields.at("revision"), "3");
  EXPECT_EQ(sink.at(9).fields.at("child.sex"), "U");
  // The sender's own time zone is kept; the mapping normalises it.
  EXPECT_EQ(sink.at(10).fields.at("occurred_at"), "2019-06-05T12:30:00Z");
  EXPECT_EQ(sink.at(10).fields.at("note"), "");
  EXPECT_EQ(sink.at(11).fields.at("child.name"), "髙橋 美咲");
  EXPECT_EQ(sink.at(11).fields.at("address"), "札幌市西区琴似2条3丁目4-5 ハイツ琴似Ⅱ 305");
  // An escaped line break inside a note.
  EXPECT_EQ(sink.at(12).fields.at("note"), "学校と連携して見守り。\n月1回の家庭訪問");
  EXPECT_EQ(sink.at(16).fields, (Fields{
                                    {"event_id", "CG-2019-0431"},
                                    {"revision", "1"},
                                    {"type", "case_closed"},
                                    {"occurred_at", "2019-06-05T14:00:00+09:00"},
                                    {"child.resident_id", ""},
                                    {"child.name", "吉田 さくら"},
                                    {"child.name_kana", ""},
                                    {"child.birth_date", "2009-03-15"},
                                    {"child.sex", "F"},
                                    {"ward_code", "01107"},
                                    {"risk_level", ""},
                                    {"report_source", "他機関"},
                                    {"address", ""},
                                    {"note", "他市へ転居、転居先の児童相談所へケース移管"},
                                }));
}

TEST(CgEventsDecoderSample, APrettyPrintedPushIsOneRecord) {
  const std::string bytes = file_bytes(data_dir() / "report_received.json");
  ASSERT_GT(lines_of(bytes).size(), 10u) << "the sample must be spread over lines";
  const Fields expected{
      {"event_id", "CG-2019-0520"},
      {"revision", "1"},
      {"type", "report_received"},
      {"occurred_at", "2019-06-08T02:10:00+09:00"},
      {"child.resident_id", "0102987654"},
      {"child.name", "斎藤 陽菜"},
      {"child.name_kana", "サイトウ ヒナ"},
      {"child.birth_date", "2018-10-03"},
      {"child.sex", "F"},
      {"ward_code", "01102"},
      {"risk_level", "A"},
      {"report_source", "警察"},
      {"address", "札幌市北区屯田5条6丁目3-3"},
      {"note", "夜間、乳児の泣き声が長時間続くと通報。警察が臨場し母は不在"},
  };
  for (const InputFormat format : {InputFormat::automatic, InputFormat::json}) {
    CollectingSink sink;
    const DecodeResult result = decode(bytes, sink, {.format = format});
    ASSERT_TRUE(result.ok) << result.message;
    ASSERT_EQ(sink.records.size(), 1u);
    const NativeRecord& record = sink.at(1);
    EXPECT_EQ(record.error, "");
    EXPECT_EQ(record.number, 1u);
    EXPECT_EQ(record.line, 1u);
    EXPECT_EQ(record.raw, bytes.substr(0, bytes.size() - 1));  // all but the final line break
    EXPECT_EQ(record.fields, expected);
  }
}

TEST(CgEventsDecoderSample, DemoSpoolHoldsTheSameFiles) {
  const auto spool = test_support::source_dir() / "config" / "demo" / "spool" / "child_guidance";
  EXPECT_EQ(file_bytes(spool / "CG_20190605.ndjson"),
            file_bytes(data_dir() / "CG_20190605.ndjson"));
  EXPECT_EQ(file_bytes(spool / "CG_20190606.ndjson"),
            file_bytes(data_dir() / "CG_20190606_bad.ndjson"));
}

// ---- the bad day: each kind of bad record, with the rest delivered
// -------------------------------

class CgEventsDecoderBadDay : public testing::Test {
 protected:
  void SetUp() override {
    const DecodeResult result = decode_sample("CG_20190606_bad.ndjson", sink_);
    ASSERT_TRUE(result.ok) << result.message;
    ASSERT_EQ(result.records, 11u);
    ASSERT_EQ(sink_.records.size(), 11u);
  }

  // The records the decoder passes to the mapping: everything but `rejected`.
  void expect_the_rest_decoded(std::set<std::size_t> rejected) const {
    rejected.insert({2, 3, 7, 10});  // the decoder's own rejections
    for (const NativeRecord& record : sink_.records) {
      if (rejected.count(record.number) != 0) continue;
      EXPECT_EQ(record.error, "") << "record " << record.number;
      EXPECT_FALSE(record.fields.empty()) << "record " << record.number;
    }
    // Record 11 follows a blank line.
    EXPECT_EQ(sink_.at(11).line, 12u);
    EXPECT_EQ(sink_.at(11).fields.at("event_id"), "CG-2019-0511");
  }

  CollectingSink sink_;
};

TEST_F(CgEventsDecoderBadDay, InvalidJsonLine) {
  const NativeRecord& record = sink_.at(2);
  EXPECT_EQ(record.line, 2u);
  EXPECT_EQ(record.error_field, "");
  EXPECT_EQ(record.error,
            "invalid JSON: expected ',' or '}' after member value (after member 'type')");
  EXPECT_EQ(record.fields.at("event_id"), "CG-2019-0502");  // still findable in the source
  EXPECT_EQ(record.raw.substr(0, 30), R"({"event_id": "CG-2019-0502", ")");
  expect_the_rest_decoded({});
}

TEST_F(CgEventsDecoderBadDay, LineThatIsNotAnObject) {
  const NativeRecord& record = sink_.at(3);
  EXPECT_EQ(record.line, 3u);
  EXPECT_EQ(record.error_field, "");
  EXPECT_EQ(record.error, "the record is an array, not a JSON object");
  EXPECT_EQ(record.raw, R"(["CG-2019-0503", 1, "case_opened"])");
  EXPECT_TRUE(record.fields.empty());
  expect_the_rest_decoded({});
}

TEST_F(CgEventsDecoderBadDay, MissingEventIdIsLeftToTheMapping) {
  const NativeRecord& record = sink_.at(5);
  EXPECT_EQ(record.error, "");
  EXPECT_EQ(record.fields.count("event_id"), 0u);  // absent, so the mapping says "missing"
  EXPECT_EQ(record.fields.at("type"), "safety_confirmed");
  expect_the_rest_decoded({});
}

TEST_F(CgEventsDecoderBadDay, UnknownTypeIsLeftToTheMapping) {
  EXPECT_EQ(sink_.at(6).error, "");
  EXPECT_EQ(sink_.at(6).fields.at("type"), "report_withdrawn");
  expect_the_rest_decoded({});
}

TEST_F(CgEventsDecoderBadDay, RevisionAsAString) {
  const NativeRecord& record = sink_.at(7);
  EXPECT_EQ(record.line, 7u);
  EXPECT_EQ(record.error_field, "revision");
  EXPECT_EQ(record.error, R"(expected an integer number or null, got the string "1")");
  EXPECT_EQ(record.fields.at("event_id"), "CG-2019-0507");
  EXPECT_EQ(record.fields.count("revision"), 0u);
  expect_the_rest_decoded({});
}

TEST_F(CgEventsDecoderBadDay, UnknownWardAndImpossibleDateAreLeftToTheMapping) {
  EXPECT_EQ(sink_.at(8).error, "");
  EXPECT_EQ(sink_.at(8).fields.at("ward_code"), "01199");
  EXPECT_EQ(sink_.at(9).error, "");
  EXPECT_EQ(sink_.at(9).fields.at("child.birth_date"), "2018-02-30");
  expect_the_rest_decoded({});
}

TEST_F(CgEventsDecoderBadDay, InvalidUtf8Bytes) {
  const NativeRecord& record = sink_.at(10);
  EXPECT_EQ(record.line, 10u);
  EXPECT_EQ(record.error_field, "child.name");
  EXPECT_EQ(record.error.substr(0, 41), "invalid UTF-8 byte sequence 0x93 at byte ");
  EXPECT_EQ(record.fields.at("event_id"), "CG-2019-0510");
  EXPECT_EQ(record.fields.at("child.name_kana"), "タナカ ソラ");
  EXPECT_EQ(record.fields.count("child.name"), 0u);
  EXPECT_NE(record.raw.find("\x93\x63\x92\x86"), std::string::npos);  // raw keeps the bytes
  expect_the_rest_decoded({});
}

// ---- framing ---------------------------------------------------------------------------------

constexpr const char* kEvent1 = R"({"event_id": "CG-1", "revision": 1})";
constexpr const char* kEvent2 = R"({"event_id": "CG-2", "revision": 1})";
constexpr const char* kEvent3 = R"({"event_id": "CG-3", "revision": 1})";

std::vector<std::string> event_ids(const std::vector<NativeRecord>& records) {
  std::vector<std::string> ids;
  for (const NativeRecord& record : records) {
    const auto it = record.fields.find("event_id");
    ids.push_back(it == record.fields.end() ? "-" : it->second);
  }
  return ids;
}

std::vector<std::uint64_t> lines(const std::vector<NativeRecord>& records) {
  std::vector<std::uint64_t> numbers;
  for (const NativeRecord& record : records) numbers.push_back(record.line);
  return numbers;
}

TEST(CgEventsDecoderFraming, BlankLinesCrLfByteOrderMarkAndNoFinalLineBreak) {
  CollectingSink sink;
  const std::string input =
      "\xEF\xBB\xBF" + std::string(kEvent1) + "\r\n\r\n  \t\n" + kEvent2 + "\n\n" + kEvent3;
  ASSERT_TRUE(decode(input, sink).ok);
  expect_no_errors(sink.records);
  EXPECT_EQ(event_ids(sink.records), (std::vector<std::string>{"CG-1", "CG-2", "CG-3"}));
  EXPECT_EQ(lines(sink.records), (std::vector<std::uint64_t>{1, 4, 6}));
  EXPECT_EQ(sink.at(1).raw, kEvent1);  // no BOM, no CR
  EXPECT_EQ(sink.at(3).raw, kEvent3);
  for (std::size_t n = 1; n <= 3; ++n) EXPECT_EQ(sink.at(n).number, n);
}

TEST(CgEventsDecoderFraming, EmptyInputIsAnEmptyBatch) {
  for (const char* input : {"", "\n\n", "  \r\n"}) {
    CollectingSink sink;
    const DecodeResult result = decode(input, sink);
    EXPECT_TRUE(result.ok) << result.message;
    EXPECT_EQ(result.records, 0u);
    EXPECT_TRUE(sink.records.empty());
  }
}

TEST(CgEventsDecoderFraming, PrettyPrintedObjectsAndLinesMayFollowEachOther) {
  const std::string input = std::string("{\n  \"event_id\": \"CG-1\",\r\n  \"child\": {\n") +
                            "    \"name\": \"a {[\\\"\"\n  }\n}\n" + kEvent2 +
                            "\n\n{\"event_id\": \"CG-3\",\n \"revision\": 2}\n";
  CollectingSink sink;
  ASSERT_TRUE(decode(input, sink).ok);
  expect_no_errors(sink.records);
  EXPECT_EQ(event_ids(sink.records), (std::vector<std::string>{"CG-1", "CG-2", "CG-3"}));
  EXPECT_EQ(lines(sink.records), (std::vector<std::uint64_t>{1, 7, 9}));
  // Brackets and an escaped quote inside a string do not end the object early.
  EXPECT_EQ(sink.at(1).fields.at("child.name"), "a {[\"");
  // raw keeps the line breaks inside the record, CR LF included.
  EXPECT_EQ(sink.at(1).raw,
            "{\n  \"event_id\": \"CG-1\",\r\n  \"child\": {\n    \"name\": \"a {[\\\"\"\n  }\n}");
  EXPECT_EQ(sink.at(3).raw, "{\"event_id\": \"CG-3\",\n \"revision\": 2}");
}

TEST(CgEventsDecoderFraming, ADamagedNdjsonLineDoesNotSwallowTheNextOnes) {
  // Line 2 is cut off with an object still open; line 3 continues nothing; line 4 is a record.
  const std::string input = std::string(kEvent1) + "\n" +
                            R"({"event_id": "CG-2", "child": {"name": "a"},)" + "\n" +
                            R"(  "note": "x",)" + "\n" + kEvent3 + "\n";
  CollectingSink sink;
  ASSERT_TRUE(decode(input, sink).ok);
  ASSERT_EQ(sink.records.size(), 4u);
  EXPECT_EQ(event_ids(sink.records), (std::vector<std::string>{"CG-1", "CG-2", "-", "CG-3"}));
  EXPECT_EQ(lines(sink.records), (std::vector<std::uint64_t>{1, 2, 3, 4}));
  EXPECT_EQ(sink.at(1).error, "");
  EXPECT_EQ(sink.at(2).error, "invalid JSON: unexpected end of text (after member 'child.name')");
  EXPECT_EQ(sink.at(2).raw, R"({"event_id": "CG-2", "child": {"name": "a"},)");
  EXPECT_NE(sink.at(3).error, "");
  EXPECT_EQ(sink.at(3).raw, R"(  "note": "x",)");
  EXPECT_EQ(sink.at(4).error, "");
  EXPECT_EQ(sink.at(4).number, 4u);
}

TEST(CgEventsDecoderFraming, ALineCutInsideAStringIsOneBadRecord) {
  // Valid JSON never breaks a line inside a string: the line is damaged, not pretty-printed.
  const std::string input =
      std::string(R"({"event_id": "CG-1", "note": "cut)") + "\n" + kEvent2 + "\n";
  CollectingSink sink;
  ASSERT_TRUE(decode(input, sink).ok);
  ASSERT_EQ(sink.records.size(), 2u);
  EXPECT_EQ(sink.at(1).error_field, "note");
  EXPECT_EQ(sink.at(1).error, "invalid JSON: unterminated string literal");
  EXPECT_EQ(sink.at(2).error, "");
  EXPECT_EQ(sink.at(2).line, 2u);
}

TEST(CgEventsDecoderFraming, APrettyPrintedObjectCutOffIsOneBadRecord) {
  const std::string input = "{\n  \"event_id\": \"CG-1\",\n  \"child\": {\n    \"name\": \"a\"\n";
  CollectingSink sink;
  ASSERT_TRUE(decode(input, sink).ok);
  ASSERT_EQ(sink.records.size(), 1u);
  EXPECT_EQ(sink.at(1).error,
            "invalid JSON: expected ',' or '}' after member value (after member 'child.name'); "
            "the JSON value that opens on line 1 is not closed by the end of the input");
  EXPECT_EQ(sink.at(1).fields, (Fields{{"event_id", "CG-1"}, {"child.name", "a"}}));
  EXPECT_EQ(sink.at(1).raw, input.substr(0, input.size() - 1));
}

TEST(CgEventsDecoderFraming, APrettyPrintedObjectWithASyntaxErrorIsOneBadRecord) {
  const std::string input =
      "{\n  \"event_id\": \"CG-1\"\n  \"revision\": 1\n}\n" + std::string(kEvent2) + "\n";
  CollectingSink sink;
  ASSERT_TRUE(decode(input, sink).ok);
  ASSERT_EQ(sink.records.size(), 2u);
  EXPECT_EQ(sink.at(1).error,
            "invalid JSON: expected ',' or '}' after member value (after member 'event_id')");
  EXPECT_EQ(sink.at(1).line, 1u);
  EXPECT_EQ(sink.at(2).error, "");
  EXPECT_EQ(sink.at(2).line, 5u);
}

TEST(CgEventsDecoderFraming, StrictNdjsonTakesEveryLineAsARecord) {
  const std::string input = "{\n  \"event_id\": \"CG-1\"\n}\n" + std::string(kEvent2) + "\n";
  CollectingSink sink;
  ASSERT_TRUE(decode(input, sink, {.format = InputFormat::ndjson}).ok);
  ASSERT_EQ(sink.records.size(), 4u);
  EXPECT_NE(sink.at(1).error, "");
  EXPECT_NE(sink.at(2).error, "");
  EXPECT_NE(sink.at(3).error, "");
  EXPECT_EQ(sink.at(4).error, "");
  EXPECT_EQ(lines(sink.records), (std::vector<std::uint64_t>{1, 2, 3, 4}));
}

TEST(CgEventsDecoderFraming, JsonFormatTakesTheWholeInputAsOneRecord) {
  CollectingSink sink;
  DecodeResult result =
      decode("\n\n" + std::string(kEvent1) + "\n\n", sink, {.format = InputFormat::json});
  ASSERT_TRUE(result.ok) << result.message;
  ASSERT_EQ(sink.records.size(), 1u);
  EXPECT_EQ(sink.at(1).line, 3u);
  EXPECT_EQ(sink.at(1).raw, kEvent1);
  EXPECT_EQ(sink.at(1).error, "");

  // NDJSON given to a json-only adapter: one record, and a clear reason.
  sink.records.clear();
  result =
      decode(std::string(kEvent1) + "\n" + kEvent2 + "\n", sink, {.format = InputFormat::json});
  ASSERT_TRUE(result.ok) << result.message;
  ASSERT_EQ(sink.records.size(), 1u);
  EXPECT_EQ(sink.at(1).error,
            "invalid JSON: there is more text after the end of the object (one object per "
            "record)");

  sink.records.clear();
  result = decode(" \n \n", sink, {.format = InputFormat::json});
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.message, "CG_TEST.ndjson: the input is empty; expected one JSON object");
  EXPECT_TRUE(sink.records.empty());
}

// ---- limits ----------------------------------------------------------------------------------

TEST(CgEventsDecoderLimits, AnOverlongLineIsRejectedAlone) {
  const std::string long_line = R"({"event_id": "CG-1", "note": ")" + std::string(500, 'x') + "\"}";
  CollectingSink sink;
  const DecodeResult result =
      decode(std::string(kEvent1) + "\n" + long_line + "\r\n" + kEvent2 + "\n", sink,
             {.max_record_bytes = 100, .read_buffer_bytes = 16});
  ASSERT_TRUE(result.ok) << result.message;
  ASSERT_EQ(sink.records.size(), 3u);
  EXPECT_EQ(sink.at(2).error,
            "the line is longer than the limit of 100 bytes (setting max_record_bytes)");
  EXPECT_EQ(sink.at(2).error_field, "");
  EXPECT_EQ(sink.at(2).raw, long_line.substr(0, 101));  // one byte past the limit
  EXPECT_TRUE(sink.at(2).fields.empty());
  EXPECT_EQ(sink.at(3).error, "");
  EXPECT_EQ(sink.at(3).line, 3u);
}

TEST(CgEventsDecoderLimits, ALineOfExactlyTheLimitIsAccepted) {
  const std::string line = kEvent1;
  for (const char* ending : {"\n", "\r\n", ""}) {
    CollectingSink sink;
    ASSERT_TRUE(decode(line + ending, sink, {.max_record_bytes = line.size()}).ok);
    ASSERT_EQ(sink.records.size(), 1u);
    EXPECT_EQ(sink.at(1).error, "") << testing::PrintToString(ending);
    EXPECT_EQ(sink.at(1).raw, line);
  }
  CollectingSink sink;
  ASSERT_TRUE(decode(line + " \r\n", sink, {.max_record_bytes = line.size()}).ok);
  ASSERT_EQ(sink.records.size(), 1u);
  EXPECT_NE(sink.at(1).error, "") << "one byte more is over the limit";
}

TEST(CgEventsDecoderLimits, AnOverlongPrettyPrintedObjectIsRejectedAndSkipped) {
  std::string big = "{\n  \"event_id\": \"CG-BIG\",\n  \"extra\": [\n";
  for (int i = 0; i < 50; ++i) big += "    \"" + std::string(20, 'y') + "\",\n";
  big += "    \"end\"\n  ]\n}\n";
  CollectingSink sink;
  const DecodeResult result =
      decode(std::string(kEvent1) + "\n" + big + kEvent2 + "\n", sink, {.max_record_bytes = 300});
  ASSERT_TRUE(result.ok) << result.message;
  ASSERT_EQ(sink.records.size(), 3u);
  EXPECT_EQ(sink.at(2).line, 2u);
  EXPECT_EQ(sink.at(2).error,
            "the JSON value that opens on this line is longer than the limit of 300 bytes "
            "(setting max_record_bytes)");
  EXPECT_EQ(sink.at(2).raw.size(), 301u);
  EXPECT_EQ(sink.at(2).raw.substr(0, 25), "{\n  \"event_id\": \"CG-BIG\",");
  EXPECT_EQ(sink.at(3).error, "");
  EXPECT_EQ(sink.at(3).fields.at("event_id"), "CG-2");
  EXPECT_EQ(sink.at(3).number, 3u);
}

TEST(CgEventsDecoderLimits, JsonFormatInputLongerThanTheLimit) {
  CollectingSink sink;
  const DecodeResult result = decode("{\n\"note\": \"" + std::string(300, 'z') + "\"\n}", sink,
                                     {.format = InputFormat::json, .max_record_bytes = 100});
  ASSERT_TRUE(result.ok) << result.message;
  ASSERT_EQ(sink.records.size(), 1u);
  EXPECT_EQ(sink.at(1).error,
            "the input is longer than the limit of 100 bytes (setting max_record_bytes)");
  EXPECT_EQ(sink.at(1).raw.size(), 101u);
}

// ---- streaming and control -------------------------------------------------------------------

// Generates `lines` NDJSON events on the fly, so that the input never exists as a whole.
class GeneratedEvents : public std::streambuf {
 public:
  explicit GeneratedEvents(std::size_t lines) : lines_(lines) {}

 protected:
  int_type underflow() override {
    if (next_ >= lines_) return traits_type::eof();
    current_ = R"({"event_id": "CG-)" + std::to_string(next_++) +
               R"(", "revision": 1, "type": "report_received", "child": {"name": "山田 花子"},)"
               R"( "ward_code": "01102", "note": "一行ごとの通告"})" +
               "\n";
    setg(current_.data(), current_.data(), current_.data() + current_.size());
    return traits_type::to_int_type(current_[0]);
  }

 private:
  std::size_t lines_;
  std::size_t next_ = 0;
  std::string current_;
};

// Counts records and notes the heap in use at two points.
class MeasuringSink : public RecordSink {
 public:
  bool accept(NativeRecord&& record) noexcept override {
    if (!record.error.empty()) ++errors;
    ++count;
    if (count == 1000) heap_at_1000 = mallinfo2().uordblks;
    heap_at_last = mallinfo2().uordblks;
    return true;
  }
  std::size_t count = 0;
  std::size_t errors = 0;
  std::size_t heap_at_1000 = 0;
  std::size_t heap_at_last = 0;
};

TEST(CgEventsDecoderStream, MemoryDoesNotGrowWithTheNumberOfLines) {
  constexpr std::size_t kLines = 200000;  // about 40 MB of NDJSON
  GeneratedEvents events(kLines);
  std::istream in(&events);
  MeasuringSink sink;
  const DecodeResult result = CgEventsDecoder().decode(in, "CG_20190701.ndjson", sink);
  ASSERT_TRUE(result.ok) << result.message;
  EXPECT_EQ(result.records, kLines);
  EXPECT_EQ(sink.count, kLines);
  EXPECT_EQ(sink.errors, 0u);
  // Between the 1000th and the 200000th record the heap in use must not grow (a little slack for
  // the allocator's own bookkeeping).
  EXPECT_LT(sink.heap_at_last, sink.heap_at_1000 + 64 * 1024)
      << "heap at record 1000: " << sink.heap_at_1000 << ", at the last: " << sink.heap_at_last;
}

TEST(CgEventsDecoderStream, StopsWhenTheSinkSaysSo) {
  CollectingSink sink(3);
  const DecodeResult result = decode_sample("CG_20190605.ndjson", sink);
  EXPECT_TRUE(result.ok) << result.message;
  EXPECT_TRUE(result.stopped);
  EXPECT_EQ(result.records, 3u);
  ASSERT_EQ(sink.records.size(), 3u);
  EXPECT_EQ(sink.at(3).fields.at("event_id"), "CG-2019-0458");
}

using tsunagu_test::FailingBuffer;

TEST(CgEventsDecoderStream, ReadErrorFailsTheInputAfterDeliveringWhatWasRead) {
  const std::string line = std::string(kEvent1) + "\n";
  // Reads are 16 bytes; the one that fails loses what it read, so let it start after line 1.
  FailingBuffer buffer(line + line + line, (line.size() / 16 + 2) * 16 + 5);
  std::istream in(&buffer);
  CgEventsDecoder decoder({.read_buffer_bytes = 16});
  CollectingSink sink;
  const DecodeResult result = decoder.decode(in, "CG_TEST.ndjson", sink);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.message,
            "CG_TEST.ndjson: reading failed at or after line 2, after record 1; the records "
            "before it were delivered");
  EXPECT_EQ(result.records, 1u);
  EXPECT_EQ(sink.records.size(), 1u);
}

TEST(CgEventsDecoderStream, AReadErrorInsideAPrettyPrintedObjectDeliversNoHalfRecord) {
  const std::string pretty = "{\n  \"event_id\": \"CG-1\",\n  \"revision\": 1\n}\n";
  FailingBuffer buffer(pretty + pretty, pretty.size() + 20);
  std::istream in(&buffer);
  CgEventsDecoder decoder({.read_buffer_bytes = 8});
  CollectingSink sink;
  const DecodeResult result = decoder.decode(in, "push", sink);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.message.substr(0, 38), "push: reading failed at or after line ");
  ASSERT_EQ(sink.records.size(), 1u);
  EXPECT_EQ(sink.at(1).error, "");
}

TEST(CgEventsDecoderStream, OneDecoderServesManyInputsAndThreads) {
  const std::string good = file_bytes(data_dir() / "CG_20190605.ndjson");
  const std::string bad = file_bytes(data_dir() / "CG_20190606_bad.ndjson");
  const std::string single = file_bytes(data_dir() / "report_received.json");
  CgEventsDecoder decoder;
  std::vector<std::size_t> counts(6);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < counts.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 20; ++round) {
        std::istringstream in(t % 3 == 0 ? good : t % 3 == 1 ? bad : single);
        CollectingSink sink;
        if (decoder.decode(in, "x", sink).ok) counts[t] += sink.records.size();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(counts, (std::vector<std::size_t>{320, 220, 20, 320, 220, 20}));
}

// Every byte value, cuts, doubled and dropped brackets, quotes and line breaks: whatever the
// damage, decoding ends normally, numbers every record in order, and each record either has an
// error or only documented fields; decode_record() judges every raw as decode() did.
TEST(CgEventsDecoderStream, ArbitrarilyDamagedInputNeverStopsTheDecoder) {
  const std::string good = file_bytes(data_dir() / "CG_20190605.ndjson") +
                           file_bytes(data_dir() / "report_received.json") +
                           file_bytes(data_dir() / "CG_20190606_bad.ndjson");
  std::mt19937 random(20190605);  // seeded: the same damage every run
  const char specials[] = {'{', '}', '[', ']', '"', '\\', '\n', '\r', ',', ':', '\0', '\xFF'};
  for (int round = 0; round < 300; ++round) {
    std::string input = good;
    const int edits = 1 + static_cast<int>(random() % 40);
    for (int e = 0; e < edits && !input.empty(); ++e) {
      const std::size_t at = random() % input.size();
      switch (random() % 4) {
        case 0:
          input[at] = static_cast<char>(random() % 256);
          break;
        case 1:
          input[at] = specials[random() % sizeof specials];
          break;
        case 2:
          input.erase(at, 1 + random() % 8);
          break;
        default:
          input.insert(at, 1 + random() % 3, specials[random() % sizeof specials]);
          break;
      }
    }
    if (round % 5 == 0) input.resize(random() % (input.size() + 1));
    for (const InputFormat format :
         {InputFormat::automatic, InputFormat::ndjson, InputFormat::json}) {
      const CgEventsDecoderOptions options{
          .format = format, .max_record_bytes = 64 + random() % 2048, .read_buffer_bytes = 7};
      CollectingSink sink;
      const DecodeResult result = decode(input, sink, options);
      ASSERT_TRUE(result.ok || (format == InputFormat::json && sink.records.empty()))
          << "round " << round << ": " << result.message;
      ASSERT_EQ(result.records, sink.records.size());
      CgEventsDecoder decoder(options);
      std::uint64_t previous_line = 0;
      for (std::size_t i = 0; i < sink.records.size(); ++i) {
        const NativeRecord& record = sink.records[i];
        ASSERT_EQ(record.number, i + 1);
        ASSERT_GT(record.line, previous_line) << "round " << round;
        previous_line = record.line;
        ASSERT_LE(record.raw.size(), options.max_record_bytes + 1);
        if (record.error.empty()) {
          for (const auto& [name, value] : record.fields) {
            ASSERT_NE(std::find(kNativeFields.begin(), kNativeFields.end(), name),
                      kNativeFields.end());
          }
        }
        CollectingSink again;
        ASSERT_TRUE(decoder.decode_record(record.raw, again).ok);
        // A good record is good again with the same fields, a bad one bad again (the framing's
        // own hints, such as an unclosed value, are not repeated).
        ASSERT_EQ(again.at(1).error.empty(), record.error.empty())
            << "round " << round << ": " << record.error << " / " << again.at(1).error;
        if (record.error.empty()) {
          ASSERT_EQ(again.at(1).fields, record.fields);
        }
      }
    }
  }
}

// ---- decoding one quarantined record again ---------------------------------------------------

TEST(CgEventsDecoderRetry, EveryRecordDecodesAgainFromItsRawBytesAsBefore) {
  CgEventsDecoder decoder;
  for (const char* sample :
       {"CG_20190605.ndjson", "CG_20190606_bad.ndjson", "report_received.json"}) {
    CollectingSink first;
    ASSERT_TRUE(decode_sample(sample, first).ok);
    for (const NativeRecord& record : first.records) {
      CollectingSink again;
      const DecodeResult result = decoder.decode_record(record.raw, again);
      ASSERT_TRUE(result.ok) << result.message;
      EXPECT_EQ(result.records, 1u);
      ASSERT_EQ(again.records.size(), 1u);
      const NativeRecord& retried = again.at(1);
      EXPECT_EQ(retried.raw, record.raw);
      EXPECT_EQ(retried.fields, record.fields) << sample << " record " << record.number;
      EXPECT_EQ(retried.error, record.error) << sample << " record " << record.number;
      EXPECT_EQ(retried.error_field, record.error_field) << sample << " record " << record.number;
    }
  }
}

TEST(CgEventsDecoderRetry, ARecordOverTheLimitIsRejectedAgain) {
  CgEventsDecoder decoder({.max_record_bytes = 20});
  CollectingSink sink;
  const DecodeResult result = decoder.decode_record(kEvent1, sink);
  ASSERT_TRUE(result.ok) << result.message;
  ASSERT_EQ(sink.records.size(), 1u);
  EXPECT_EQ(sink.at(1).error,
            "the record is longer than the limit of 20 bytes (setting max_record_bytes)");
  EXPECT_EQ(sink.at(1).raw, kEvent1);

  // What decode() cut for being too long stays too long, even where the cut happens to leave
  // valid JSON (here: white space after the object).
  const std::string padded = std::string(kEvent1) + std::string(100, ' ');
  CollectingSink cut;
  CgEventsDecoder limited({.max_record_bytes = 60});
  ASSERT_TRUE(decode(padded + "\n", cut, {.max_record_bytes = 60}).ok);
  ASSERT_EQ(cut.records.size(), 1u);
  EXPECT_NE(cut.at(1).error, "");
  CollectingSink again;
  ASSERT_TRUE(limited.decode_record(cut.at(1).raw, again).ok);
  EXPECT_EQ(again.at(1).error,
            "the record is longer than the limit of 60 bytes (setting max_record_bytes)");

  CollectingSink stop(1);
  EXPECT_TRUE(CgEventsDecoder().decode_record(kEvent1, stop).stopped);
}

TEST(CgEventsDecoder, ReportsItsSystem) {
  EXPECT_STREQ(CgEventsDecoder().system(), "child_guidance");
}

// ---- settings --------------------------------------------------------------------------------

TEST(CgEventsDecoderSettings, AcceptsFormatAndRecordLimitAndRejectsEverythingElse) {
  CgEventsDecoderOptions options;
  std::string error;
  EXPECT_TRUE(options_from_settings({}, options, error)) << error;
  EXPECT_EQ(options.format, InputFormat::automatic);
  EXPECT_EQ(options.max_record_bytes, 1024u * 1024u);

  EXPECT_TRUE(
      options_from_settings({{"format", "ndjson"}, {"max_record_bytes", "4096"}}, options, error))
      << error;
  EXPECT_EQ(options.format, InputFormat::ndjson);
  EXPECT_EQ(options.max_record_bytes, 4096u);
  EXPECT_TRUE(options_from_settings({{"format", "json"}}, options, error)) << error;
  EXPECT_EQ(options.format, InputFormat::json);
  EXPECT_TRUE(options_from_settings({{"format", "auto"}}, options, error)) << error;
  EXPECT_EQ(options.format, InputFormat::automatic);

  EXPECT_FALSE(options_from_settings({{"encoding", "UTF-8"}}, options, error));
  EXPECT_EQ(error,
            "child_guidance adapter: unknown setting 'encoding' (the settings are format and "
            "max_record_bytes)");
  for (const char* bad : {"", "NDJSON", "xml", "auto "}) {
    EXPECT_FALSE(options_from_settings({{"format", bad}}, options, error)) << bad;
    EXPECT_EQ(error, "child_guidance adapter: setting format is '" + std::string(bad) +
                         "', expected auto, ndjson or json");
  }
  for (const char* bad : {"", "0", "12x", "-1", "67108865", "99999999999999999999999"}) {
    EXPECT_FALSE(options_from_settings({{"max_record_bytes", bad}}, options, error)) << bad;
    EXPECT_EQ(error, "child_guidance adapter: setting max_record_bytes is '" + std::string(bad) +
                         "', expected a whole number of bytes from 1 to 67108864");
  }
}

}  // namespace
}  // namespace tsunagu::child_guidance
