// The samples through the decoder and the shipped mappings/child_guidance.xml: the events they
// must become, and the reason each bad record is rejected for.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <mapping/mapping.hpp>

#include "cg_test_support.hpp"

namespace tsunagu::child_guidance {
namespace {

using test_support::CollectingSink;
using test_support::decode_sample;
using test_support::source_dir;
using Attributes = std::map<std::string, std::string>;

const mapping::Mapping& shipped_mapping() {
  static const mapping::Mapping loaded = mapping::Mapping::load_file(
      source_dir() / "mappings" / "child_guidance.xml", source_dir() / "mappings" / "mapping.xsd");
  return loaded;
}

std::vector<NativeRecord> decoded(const std::string& sample) {
  CollectingSink sink;
  const DecodeResult result = decode_sample(sample, sink);
  EXPECT_TRUE(result.ok) << result.message;
  return std::move(sink.records);
}

// What the hub does with one record: a decoder error, or the mapping's errors, joined.
std::string rejection(const NativeRecord& record) {
  if (!record.error.empty()) {
    return record.error_field.empty() ? record.error : record.error_field + ": " + record.error;
  }
  const mapping::MapResult mapped = shipped_mapping().map(record.fields);
  std::string reason;
  for (const mapping::FieldError& error : mapped.errors) {
    reason += (reason.empty() ? "" : "; ") + mapping::to_string(error);
  }
  return reason;
}

CaseEvent expected_event(const char* ref, std::int64_t version, const char* kind,
                         const char* occurred_at, Subject subject, Attributes attributes) {
  CaseEvent event;
  event.source = "child_guidance";
  event.source_ref = ref;
  event.source_version = version;
  event.kind = kind;
  event.occurred_at = occurred_at;
  event.subject = std::move(subject);
  event.attributes = std::move(attributes);
  event.sensitivity = Sensitivity::special_care;
  return event;
}

// Subject fields in order: resident_id, name, name_kana, birth_date, sex, address, ward_code.
const Subject kHanako{"", "山田 花子", "ヤマダ ハナコ", "2017-11-30", "F", "", "01102"};
const Subject kRen{"0103456789", "佐藤 蓮", "サトウ レン", "2014-04-02", "M", "", "01103"};

Subject with_address(Subject subject, const char* address) {
  subject.address = address;
  return subject;
}

// The events of tests/data/child_guidance/CG_20190605.ndjson, line by line.
std::vector<CaseEvent> good_day_events() {
  const char* hanako_home = "札幌市北区北24条西5丁目2-8 北星ハイツ203";
  const char* ren_home = "札幌市東区北15条東3丁目4-10";
  return {
      expected_event("CG-2019-0456", 1, "cg.report_received", "2019-06-05T21:30:00+09:00",
                     with_address(kHanako, hanako_home),
                     {{"risk_level", "B"},
                      {"report_source", "警察"},
                      {"note", "泣き声通告。近隣住民から110番、警察が臨場"}}),
      expected_event("CG-2019-0457", 1, "cg.report_received", "2019-06-05T10:15:00+09:00",
                     with_address(kRen, ren_home),
                     {{"risk_level", "C"},
                      {"report_source", "学校"},
                      {"note", "左頬にあざ。担任が確認、本人は「転んだ」と説明"}}),
      expected_event("CG-2019-0458", 1, "cg.safety_confirmed", "2019-06-06T10:05:00+09:00",
                     with_address(kHanako, hanako_home),
                     {{"note", "家庭訪問で本人を目視確認。外傷なし"}}),
      expected_event("CG-2019-0459", 1, "cg.case_opened", "2019-06-06T15:00:00+09:00", kHanako,
                     {{"risk_level", "B"}, {"note", "受理会議で継続指導と決定"}}),
      expected_event("CG-2019-0460", 1, "cg.risk_changed", "2019-06-07T09:40:00+09:00", kHanako,
                     {{"risk_level", "A"}, {"note", "母の養育困難と夜間の放置を確認"}}),
      expected_event("CG-2019-0457", 2, "cg.report_received", "2019-06-05T10:15:00+09:00",
                     with_address(kRen, ren_home),
                     {{"risk_level", "B"},
                      {"report_source", "学校"},
                      {"note", "左頬と腕にあざ。養護教諭も確認"}}),
      expected_event("CG-2019-0461", 1, "cg.report_received", "2019-06-05T23:50:00+09:00",
                     {"", "高橋 湊", "", "2016-02-14", "M", "", "01108"},
                     {{"report_source", "近隣住民"}, {"note", "深夜に子どもだけで外にいる"}}),
      expected_event("CG-2019-0430", 3, "cg.case_closed", "2019-06-05T16:20:00+09:00",
                     {"0105223344", "鈴木 結衣", "スズキ ユイ", "2012-08-19", "F",
                      "札幌市豊平区月寒東2条8丁目1-1", "01105"},
                     {{"risk_level", "D"}, {"note", "指導終結"}}),
      expected_event("CG-2019-0462", 1, "cg.report_received", "2019-06-05T13:00:00+09:00",
                     {"", "伊藤 ひかり", "イトウ ヒカリ", "2019-05-28", "U",
                      "札幌市中央区南8条西11丁目", "01101"},
                     {{"risk_level", "C"},
                      {"report_source", "保健センター"},
                      {"note", "特定妊婦として支援中の母から出生。養育環境の確認依頼"}}),
      // 12:30Z is 21:30 in Sapporo.
      expected_event("CG-2019-0463", 1, "cg.safety_confirmed", "2019-06-05T21:30:00+09:00",
                     {"0106778899", "渡辺 陽向", "ワタナベ ヒナタ", "2015-09-03", "M", "", "01106"},
                     {}),
      expected_event("CG-2019-0464", 1, "cg.report_received", "2019-06-05T08:45:00+09:00",
                     {"0107001122", "髙橋 美咲", "タカハシ ミサキ", "2013-01-22", "F",
                      "札幌市西区琴似2条3丁目4-5 ハイツ琴似Ⅱ 305", "01107"},
                     {{"risk_level", "C"},
                      {"report_source", "家族・親戚"},
                      {"note", "祖母から相談：母の怒鳴り声が続く"}}),
      expected_event("CG-2019-0465", 1, "cg.case_opened", "2019-06-05T11:30:00+09:00",
                     {"0109334455", "中村 大翔", "ナカムラ ヒロト", "2010-06-30", "M",
                      "札幌市手稲区前田4条10丁目", "01109"},
                     {{"risk_level", "C"}, {"note", "学校と連携して見守り。\n月1回の家庭訪問"}}),
      expected_event("CG-2019-0466", 1, "cg.risk_changed", "2019-06-05T17:10:00+09:00",
                     {"0110556677", "小林 芽依", "コバヤシ メイ", "2011-12-05", "F", "", "01110"},
                     {{"risk_level", "D"}, {"note", "生活状況が安定"}}),
      expected_event("CG-2019-0467", 1, "cg.report_received", "2019-06-05T15:05:00+09:00",
                     {"", "加藤 蒼", "カトウ アオイ", "2016-07-07", "M",
                      "札幌市白石区本通14丁目北1-1", "01104"},
                     {{"risk_level", "B"},
                      {"report_source", "保育所"},
                      {"note", "連日同じ服で登園、食事を欲しがる"}}),
      expected_event("CG-2019-0468", 1, "cg.safety_confirmed", "2019-06-06T09:30:00+09:00", kRen,
                     {{"risk_level", "B"}, {"note", "学校で本人と面接、安全を確認"}}),
      expected_event(
          "CG-2019-0431", 1, "cg.case_closed", "2019-06-05T14:00:00+09:00",
          {"", "吉田 さくら", "", "2009-03-15", "F", "", "01107"},
          {{"report_source", "他機関"}, {"note", "他市へ転居、転居先の児童相談所へケース移管"}}),
  };
}

TEST(CgMapping, TheShippedMappingLoads) {
  EXPECT_EQ(shipped_mapping().system(), "child_guidance");
  EXPECT_TRUE(shipped_mapping().adapter_settings().empty());  // the adapter's defaults
}

TEST(CgMapping, TheGoodDayBecomesTheExpectedEvents) {
  const std::vector<NativeRecord> records = decoded("CG_20190605.ndjson");
  const std::vector<CaseEvent> expected = good_day_events();
  ASSERT_EQ(records.size(), expected.size());
  for (std::size_t i = 0; i < records.size(); ++i) {
    ASSERT_EQ(records[i].error, "") << "record " << records[i].number;
    const mapping::MapResult mapped = shipped_mapping().map(records[i].fields);
    EXPECT_EQ(rejection(records[i]), "") << "record " << records[i].number;
    EXPECT_EQ(mapped.event, expected[i])
        << "record " << records[i].number << " (" << expected[i].source_ref << ")";
    EXPECT_EQ(mapped.event.id, "");  // the store assigns it
  }
}

TEST(CgMapping, APushedObjectBecomesItsEvent) {
  const std::vector<NativeRecord> records = decoded("report_received.json");
  ASSERT_EQ(records.size(), 1u);
  const mapping::MapResult mapped = shipped_mapping().map(records[0].fields);
  EXPECT_TRUE(mapped.ok()) << rejection(records[0]);
  EXPECT_EQ(
      mapped.event,
      expected_event("CG-2019-0520", 1, "cg.report_received", "2019-06-08T02:10:00+09:00",
                     {"0102987654", "斎藤 陽菜", "サイトウ ヒナ", "2018-10-03", "F",
                      "札幌市北区屯田5条6丁目3-3", "01102"},
                     {{"risk_level", "A"},
                      {"report_source", "警察"},
                      {"note", "夜間、乳児の泣き声が長時間続くと通報。警察が臨場し母は不在"}}));
}

TEST(CgMapping, TheBadDayRejectsEachBadRecordWithItsReason) {
  const std::vector<NativeRecord> records = decoded("CG_20190606_bad.ndjson");
  ASSERT_EQ(records.size(), 11u);
  const std::vector<std::string> expected = {
      "",
      "invalid JSON: expected ',' or '}' after member value (after member 'type')",
      "the record is an array, not a JSON object",
      "",
      "event_id: required field is missing",
      "type: no kind rule matches type 'report_withdrawn'",
      R"(revision: expected an integer number or null, got the string "1")",
      "ward_code: unknown ward code '01199' (code table 'ward')",
      "child.birth_date: ",  // the date module's sentence follows
      "child.name: invalid UTF-8 byte sequence 0x93 at byte offset ",
      "",
  };
  for (std::size_t i = 0; i < records.size(); ++i) {
    const std::string reason = rejection(records[i]);
    if (expected[i].empty()) {
      EXPECT_EQ(reason, "") << "record " << records[i].number;
    } else {
      EXPECT_EQ(reason.substr(0, expected[i].size()), expected[i])
          << "record " << records[i].number << ": " << reason;
    }
  }
  EXPECT_NE(rejection(records[8]).find("2018-02-30"), std::string::npos) << rejection(records[8]);
}

// ---- decisions of the mapping, one by one ----------------------------------------------------

std::map<std::string, std::string> minimal_report() {
  return {{"event_id", "CG-1"},        {"revision", "1"},
          {"type", "report_received"}, {"occurred_at", "2019-06-05T21:30:00+09:00"},
          {"child.name", "山田 花子"}, {"ward_code", "01102"}};
}

TEST(CgMapping, AReportNeedsNoMoreThanItsIdTypeTimeNameAndWard) {
  const mapping::MapResult mapped = shipped_mapping().map(minimal_report());
  ASSERT_TRUE(mapped.ok()) << mapping::to_string(mapped.errors.front());
  EXPECT_EQ(mapped.event.kind, "cg.report_received");
  EXPECT_EQ(mapped.event.subject.sex, "U");  // unknown when not sent
  EXPECT_EQ(mapped.event.subject.birth_date, "");
  EXPECT_TRUE(mapped.event.attributes.empty());

  for (const char* required :
       {"event_id", "revision", "type", "occurred_at", "child.name", "ward_code"}) {
    auto fields = minimal_report();
    fields[required] = "";  // JSON null
    const mapping::MapResult without = shipped_mapping().map(fields);
    ASSERT_FALSE(without.ok()) << required;
    EXPECT_EQ(without.errors.front().field, required);
    EXPECT_EQ(without.errors.front().reason, "required field is empty");
  }
}

TEST(CgMapping, ARiskChangeWithoutARiskLevelIsStillPassedOn) {
  auto fields = minimal_report();
  fields["type"] = "risk_changed";
  mapping::MapResult mapped = shipped_mapping().map(fields);
  ASSERT_TRUE(mapped.ok()) << mapping::to_string(mapped.errors.front());
  EXPECT_EQ(mapped.event.kind, "cg.risk_changed");
  EXPECT_EQ(mapped.event.attributes.count("risk_level"), 0u);
  fields["risk_level"] = "C";
  mapped = shipped_mapping().map(fields);
  EXPECT_TRUE(mapped.ok());
  EXPECT_EQ(mapped.event.attributes.at("risk_level"), "C");
}

TEST(CgMapping, CodesAndTimesAreChecked) {
  const struct {
    const char* field;
    const char* value;
  } bad[] = {
      {"risk_level", "E"},
      {"risk_level", "a"},
      {"child.sex", "2"},
      {"child.sex", "f"},
      {"ward_code", "1102"},
      {"ward_code", "01102 "},
      {"occurred_at", "2019-06-05"},
      {"occurred_at", "2019-06-31T10:00:00+09:00"},
      {"child.birth_date", "2017/11/30"},
      {"child.resident_id", "12345"},
      {"revision", "0"},
      {"revision", "-1"},
  };
  for (const auto& b : bad) {
    auto fields = minimal_report();
    fields[b.field] = b.value;
    const mapping::MapResult mapped = shipped_mapping().map(fields);
    ASSERT_FALSE(mapped.ok()) << b.field << " = " << b.value;
    EXPECT_EQ(mapped.errors.front().field, b.field) << b.value;
  }
  // Any offset is accepted and normalised to Japan time; every sex letter and risk level maps.
  auto fields = minimal_report();
  fields["occurred_at"] = "2019-06-05T05:30:00-07:00";
  fields["child.sex"] = "M";
  fields["risk_level"] = "D";
  const mapping::MapResult mapped = shipped_mapping().map(fields);
  ASSERT_TRUE(mapped.ok()) << mapping::to_string(mapped.errors.front());
  EXPECT_EQ(mapped.event.occurred_at, "2019-06-05T21:30:00+09:00");
  EXPECT_EQ(mapped.event.subject.sex, "M");
}

TEST(CgMapping, EveryTypeIsSpecialCare) {
  for (const char* type :
       {"report_received", "safety_confirmed", "case_opened", "risk_changed", "case_closed"}) {
    auto fields = minimal_report();
    fields["type"] = type;
    fields["risk_level"] = "B";
    const mapping::MapResult mapped = shipped_mapping().map(fields);
    ASSERT_TRUE(mapped.ok()) << type;
    EXPECT_EQ(mapped.event.kind, std::string("cg.") + type);
    EXPECT_EQ(mapped.event.sensitivity, Sensitivity::special_care) << type;
  }
}

}  // namespace
}  // namespace tsunagu::child_guidance
