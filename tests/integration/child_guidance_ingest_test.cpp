// The real daemon, with the built child_guidance plugin and the shipped
// mappings/child_guidance.xml, ingests the 児童相談所システム files dropped into its spool: the
// good day's NDJSON becomes special_care events of every kind, the bad day's bad lines are
// quarantined with field and reason while the others are stored, and a pretty-printed single
// object dropped as a file is one event.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "store/store.hpp"
#include "support/daemon.hpp"

namespace {

using namespace tsunagu_test;
namespace fs = std::filesystem;

const fs::path kDataDir = kSourceDir / "tests/data/child_guidance";
const fs::path kSample = kDataDir / "CG_20190605.ndjson";
const fs::path kBadSample = kDataDir / "CG_20190606_bad.ndjson";
const fs::path kPush = kDataDir / "report_received.json";

const char* kChildGuidanceSystem =
    "<child_guidance><adapter>child_guidance</adapter><mapping>child_guidance.xml</mapping>"
    "</child_guidance>";

class ChildGuidanceIngest : public ::testing::Test {
 protected:
  fs::path data() const { return dir_ / "data"; }
  fs::path spool() const { return data() / "spool" / "child_guidance"; }
  bool done(const std::string& name) const { return fs::exists(spool() / "done" / name); }

  std::unique_ptr<tsunagu::store::Store> store() const {
    return tsunagu::store::Store::open_sqlite(data() / "store.db", {});
  }

  TempDir dir_;
};

TEST_F(ChildGuidanceIngest, TheGoodDayBecomesSpecialCareEventsOfEveryKind) {
  Daemon daemon(write_test_config(dir_, 5, kChildGuidanceSystem), data());
  daemon.start();
  drop_into_spool(spool(), "CG_20190605.ndjson", read_file(kSample));
  ASSERT_TRUE(wait_until([&] { return done("CG_20190605.ndjson"); }));

  // The same file again under another name: every event is already stored.
  drop_into_spool(spool(), "CG_20190605_resent.ndjson", read_file(kSample));
  ASSERT_TRUE(wait_until([&] { return done("CG_20190605_resent.ndjson"); }));
  EXPECT_EQ(daemon.terminate(), 0);
  EXPECT_FALSE(fs::exists(spool() / "done" / "CG_20190605.ndjson.errors"));

  auto s = store();
  EXPECT_EQ(s->count_events("child_guidance"), 16);
  EXPECT_EQ(s->count_quarantine("child_guidance"), 0);
  std::map<std::string, int> kinds;
  std::map<std::string, std::string> sensitivity;
  std::vector<std::string> refs;
  std::map<std::string, std::string> occurred;
  for (const auto& stored : s->events({"child_guidance", "", 100, 0})) {
    ++kinds[stored.event.kind];
    sensitivity[stored.event.kind] = std::string(tsunagu::to_string(stored.event.sensitivity));
    const std::string ref =
        stored.event.source_ref + " v" + std::to_string(stored.event.source_version);
    refs.push_back(ref);
    occurred[ref] = stored.event.occurred_at;
  }
  EXPECT_EQ(kinds, (std::map<std::string, int>{{"cg.report_received", 7},
                                               {"cg.safety_confirmed", 3},
                                               {"cg.case_opened", 2},
                                               {"cg.risk_changed", 2},
                                               {"cg.case_closed", 2}}));
  for (const auto& [kind, value] : sensitivity) EXPECT_EQ(value, "special_care") << kind;
  // Both revisions of report CG-2019-0457 are events of their own.
  EXPECT_NE(std::find(refs.begin(), refs.end(), "CG-2019-0457 v1"), refs.end());
  EXPECT_NE(std::find(refs.begin(), refs.end(), "CG-2019-0457 v2"), refs.end());
  // 12:30Z, normalised to Japan time.
  EXPECT_EQ(occurred["CG-2019-0463 v1"], "2019-06-05T21:30:00+09:00");

  std::string out;
  EXPECT_EQ(run_cli({"--config", (dir_ / "tsunagu.xml").string(), "--data-dir", data().string(),
                     "inputs", "list"},
                    out),
            0);
  EXPECT_NE(out.find("0 stored, 16 already stored"), std::string::npos) << out;
}

TEST_F(ChildGuidanceIngest, BadLinesAreQuarantinedWithFieldAndReasonAndTheRestStored) {
  const auto config = write_test_config(dir_, 50, kChildGuidanceSystem);
  Daemon daemon(config, data());
  daemon.start();
  drop_into_spool(spool(), "CG_20190606.ndjson", read_file(kBadSample));
  ASSERT_TRUE(wait_until([&] { return done("CG_20190606.ndjson.errors"); }));
  EXPECT_EQ(daemon.terminate(), 0);

  auto s = store();
  EXPECT_EQ(s->count_events("child_guidance"), 3);                       // records 1, 4 and 11
  std::map<std::int64_t, std::pair<std::string, std::string>> rejected;  // record → field, reason
  for (const auto& q : s->quarantine("child_guidance", 100)) {
    EXPECT_EQ(q.origin, "CG_20190606.ndjson");
    EXPECT_EQ(q.line, q.record_no);  // the blank line comes after the last bad record
    rejected[q.record_no] = {q.field, q.reason};
  }
  using Rejection = std::pair<std::string, std::string>;
  EXPECT_EQ(
      rejected,
      (std::map<std::int64_t, Rejection>{
          {2, {"", "invalid JSON: expected ',' or '}' after member value (after member 'type')"}},
          {3, {"", "the record is an array, not a JSON object"}},
          {5, {"event_id", "event_id: required field is missing"}},
          {6, {"type", "type: no kind rule matches type 'report_withdrawn'"}},
          {7, {"revision", "revision: expected an integer number or null, got the string \"1\""}},
          {8, {"ward_code", "ward_code: unknown ward code '01199' (code table 'ward')"}},
          {9,
           {"child.birth_date",
            "child.birth_date: 2018-02-30 is not a real date (2018-02 has 28 days)"}},
          {10,
           {"child.name",
            "child.name: invalid UTF-8 byte sequence 0x93 at byte offset 155 of the "
            "record"}},
      }));

  // The report beside the file names the record, the line, the field and the reason.
  const std::string report = read_file(spool() / "done" / "CG_20190606.ndjson.errors");
  EXPECT_NE(report.find("CG_20190606.ndjson: 11 records, 3 stored, 0 already stored, 8 rejected"),
            std::string::npos)
      << report;
  EXPECT_NE(report.find("CG_20190606.ndjson: record 7 (line 7): revision: expected an integer "
                        "number or null, got the string \"1\""),
            std::string::npos)
      << report;

  std::string out;
  EXPECT_EQ(
      run_cli({"--config", config.string(), "--data-dir", data().string(), "quarantine", "list"},
              out),
      0);
  EXPECT_NE(out.find("report_withdrawn"), std::string::npos) << out;
}

TEST_F(ChildGuidanceIngest, APrettyPrintedObjectDroppedAsAFileIsOneEvent) {
  Daemon daemon(write_test_config(dir_, 50, kChildGuidanceSystem), data());
  daemon.start();
  drop_into_spool(spool(), "CG_20190608_push.json", read_file(kPush));
  ASSERT_TRUE(wait_until([&] { return done("CG_20190608_push.json"); }));
  EXPECT_EQ(daemon.terminate(), 0);

  auto s = store();
  EXPECT_EQ(s->count_quarantine("child_guidance"), 0);
  const auto events = s->events({"child_guidance", "", 10, 0});
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event.source_ref, "CG-2019-0520");
  EXPECT_EQ(events[0].event.kind, "cg.report_received");
  EXPECT_EQ(events[0].event.occurred_at, "2019-06-08T02:10:00+09:00");
}

TEST_F(ChildGuidanceIngest, QuarantineRetryAfterAMappingFixStoresOnlyWhatNowMaps) {
  const auto config = write_test_config_with_editable_mappings(dir_, 50, kChildGuidanceSystem);
  const fs::path mappings = dir_ / "mappings";  // the copy the test "fixes"
  {
    Daemon daemon(config, data());
    daemon.start();
    drop_into_spool(spool(), "CG_20190606.ndjson", read_file(kBadSample));
    ASSERT_TRUE(wait_until([&] { return done("CG_20190606.ndjson"); }));
    EXPECT_EQ(daemon.terminate(), 0);
  }
  ASSERT_EQ(store()->count_events("child_guidance"), 3);
  ASSERT_EQ(store()->count_quarantine("child_guidance"), 8);

  // The centre's system has begun to send withdrawn reports, and the city maps them: the record
  // quarantined for it now maps. Those the adapter rejected (invalid JSON, not an object, a
  // string revision, invalid UTF-8) are judged as before and stay, as do the other data errors.
  std::string mapping = read_file(mappings / "child_guidance.xml");
  const std::string anchor = "  </kind-rules>";
  ASSERT_NE(mapping.find(anchor), std::string::npos);
  mapping.insert(mapping.find(anchor),
                 "    <rule kind=\"cg.report_withdrawn\" sensitivity=\"special_care\">\n"
                 "      <equals field=\"type\" value=\"report_withdrawn\"/>\n"
                 "    </rule>\n");
  std::ofstream(mappings / "child_guidance.xml", std::ios::trunc) << mapping;

  std::string out;
  run_cli({"--config", config.string(), "quarantine", "retry"}, out);
  EXPECT_EQ(store()->count_events("child_guidance"), 4) << out;
  std::vector<std::int64_t> still_quarantined;
  for (const auto& q : store()->quarantine("child_guidance", 100)) {
    still_quarantined.push_back(q.record_no);
  }
  std::sort(still_quarantined.begin(), still_quarantined.end());
  EXPECT_EQ(still_quarantined, (std::vector<std::int64_t>{2, 3, 5, 7, 8, 9, 10})) << out;
}

TEST_F(ChildGuidanceIngest, MappingDryRunShowsEventsAndRejections) {
  const auto config = write_test_config(dir_, 50, kChildGuidanceSystem);
  std::string out;
  EXPECT_EQ(
      run_cli({"--config", config.string(), "mapping", "test", "child_guidance", kSample.string()},
              out),
      0)
      << out;
  EXPECT_NE(out.find("OK  record 1: cg.report_received  CG-2019-0456 v1  "
                     "2019-06-05T21:30:00+09:00  山田 花子 (ヤマダ ハナコ) 2017-11-30 ward 01102"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("16 件のイベント (events), 0 件の却下 (rejected records)"), std::string::npos)
      << out;

  EXPECT_NE(run_cli({"--config", config.string(), "mapping", "test", "child_guidance",
                     kBadSample.string()},
                    out),
            0);
  EXPECT_NE(out.find("NG  CG_20190606_bad.ndjson: record 10 (line 10): child.name: invalid UTF-8 "
                     "byte sequence 0x93"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("3 件のイベント (events), 8 件の却下 (rejected records)"), std::string::npos)
      << out;

  EXPECT_EQ(
      run_cli({"--config", config.string(), "mapping", "test", "child_guidance", kPush.string()},
              out),
      0)
      << out;
  EXPECT_NE(out.find("1 件のイベント (events), 0 件の却下 (rejected records)"), std::string::npos)
      << out;
}

TEST_F(ChildGuidanceIngest, PluginsListShowsTheAdapterWithItsVersion) {
  const auto config = write_test_config(dir_, 50, kChildGuidanceSystem);
  std::string out;
  EXPECT_EQ(run_cli({"--config", config.string(), "plugins", "list"}, out), 0) << out;
  EXPECT_NE(out.find("child_guidance"), std::string::npos) << out;
  EXPECT_NE(out.find("1.0.0"), std::string::npos) << out;
}

}  // namespace
