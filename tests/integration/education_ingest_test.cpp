// The real daemon, with the built education plugin and the shipped mappings/education.xml,
// ingests the 学齢簿・校務システム exports dropped into its spool: the good night becomes
// events, the bad night's bad records are quarantined with field and reason.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "store/store.hpp"
#include "support/daemon.hpp"

namespace {

using namespace tsunagu_test;
namespace fs = std::filesystem;

const fs::path kSample = kSourceDir / "tests/data/education/ED_20190605.dat";
const fs::path kBadSample = kSourceDir / "tests/data/education/ED_20190606_bad.dat";

const char* kEducationSystem =
    "<education><adapter>education</adapter><mapping>education.xml</mapping></education>";

class EducationIngest : public ::testing::Test {
 protected:
  fs::path data() const { return dir_ / "data"; }
  fs::path spool() const { return data() / "spool" / "education"; }
  bool done(const std::string& name) const { return fs::exists(spool() / "done" / name); }

  std::unique_ptr<tsunagu::store::Store> store() const {
    return tsunagu::store::Store::open_sqlite(data() / "store.db", {});
  }

  TempDir dir_;
};

TEST_F(EducationIngest, TheGoodNightBecomesEventsOfEveryKind) {
  Daemon daemon(write_test_config(dir_, 50, kEducationSystem), data());
  daemon.start();
  drop_into_spool(spool(), "ED_20190605.dat", read_file(kSample));
  ASSERT_TRUE(wait_until([&] { return done("ED_20190605.dat"); }));
  EXPECT_EQ(daemon.terminate(), 0);
  EXPECT_FALSE(fs::exists(spool() / "done" / "ED_20190605.dat.errors"));

  auto s = store();
  EXPECT_EQ(s->count_events("education"), 20);
  EXPECT_EQ(s->count_quarantine("education"), 0);
  std::map<std::string, int> kinds;
  std::map<std::string, std::string> sensitivity;
  std::vector<std::string> refs;
  for (const auto& stored : s->events({"education", "", 100, 0})) {
    ++kinds[stored.event.kind];
    sensitivity[stored.event.kind] = std::string(tsunagu::to_string(stored.event.sensitivity));
    refs.push_back(stored.event.source_ref + " v" + std::to_string(stored.event.source_version));
  }
  EXPECT_EQ(kinds, (std::map<std::string, int>{{"school.prolonged_absence", 8},
                                               {"school.whereabouts_unknown", 3},
                                               {"nursery.withdrawn", 5},
                                               {"school.concern_reported", 4}}));
  EXPECT_EQ(sensitivity,
            (std::map<std::string, std::string>{{"school.prolonged_absence", "normal"},
                                                {"school.whereabouts_unknown", "special_care"},
                                                {"nursery.withdrawn", "normal"},
                                                {"school.concern_reported", "special_care"}}));
  EXPECT_NE(std::find(refs.begin(), refs.end(), "ED1906050008 v2"), refs.end());
}

TEST_F(EducationIngest, BadRecordsAreQuarantinedWithFieldAndReason) {
  const auto config = write_test_config(dir_, 50, kEducationSystem);
  Daemon daemon(config, data());
  daemon.start();
  drop_into_spool(spool(), "ED_20190606.dat", read_file(kBadSample));
  ASSERT_TRUE(wait_until([&] { return done("ED_20190606.dat.errors"); }));
  EXPECT_EQ(daemon.terminate(), 0);

  auto s = store();
  EXPECT_EQ(s->count_events("education"), 4);  // records 1, 2, 11 and 12 (no final CR LF)
  std::map<std::int64_t, std::pair<std::string, std::string>> rejected;  // record → field, reason
  for (const auto& q : s->quarantine("education", 100)) {
    EXPECT_EQ(q.origin, "ED_20190606.dat");
    EXPECT_EQ(q.line, q.record_no);
    rejected[q.record_no] = {q.field, q.reason};
  }
  using Rejection = std::pair<std::string, std::string>;
  EXPECT_EQ(rejected, (std::map<std::int64_t, Rejection>{
                          {3,
                           {"",
                            "the record is 199 bytes long, expected 200 (1 short, counted "
                            "before CR LF)"}},
                          {4,
                           {"",
                            "the record is 203 bytes long, expected 200 (3 too many, "
                            "counted before CR LF)"}},
                          {5,
                           {"name",
                            "name: the two-byte character 0x8E 0x71 '子' at bytes "
                            "63–64 is cut in half by the field boundary: its first "
                            "byte ends field 'name' (bytes 34–63), its second begins "
                            "field 'name_kana' (bytes 64–93)"}},
                          {6,
                           {"name_kana",
                            "name_kana: invalid CP932 byte sequence 0xA0 at byte "
                            "offset 3 of bytes 64–93"}},
                          {7, {"", "the line ends in LF without CR (every record ends in CR LF)"}},
                          {8,
                           {"ward_code",
                            "ward_code: unknown ward code '01199' (code table "
                            "'ward')"}},
                          {9,
                           {"report_date",
                            "report_date: 5010230 is not a real date (2019-02 "
                            "has 28 days)"}},
                          {10,
                           {"record_type",
                            "record_type: no kind rule matches record_type "
                            "'09'"}},
                      }));

  // The report beside the file names the record, the line, the field and the reason.
  const std::string report = read_file(spool() / "done" / "ED_20190606.dat.errors");
  EXPECT_NE(report.find("ED_20190606.dat: 12 records, 4 stored, 0 already stored, 8 rejected"),
            std::string::npos)
      << report;
  EXPECT_NE(report.find("ED_20190606.dat: record 6 (line 6): name_kana: invalid CP932 byte "
                        "sequence 0xA0"),
            std::string::npos)
      << report;

  std::string out;
  EXPECT_EQ(
      run_cli({"--config", config.string(), "--data-dir", data().string(), "quarantine", "list"},
              out),
      0);
  EXPECT_NE(out.find("01199"), std::string::npos) << out;
}

TEST_F(EducationIngest, QuarantineRetryAfterAMappingFixStoresOnlyWhatNowMaps) {
  const auto config = write_test_config_with_editable_mappings(dir_, 50, kEducationSystem);
  const fs::path mappings = dir_ / "mappings";  // the copy the test "fixes"
  {
    Daemon daemon(config, data());
    daemon.start();
    drop_into_spool(spool(), "ED_20190606.dat", read_file(kBadSample));
    ASSERT_TRUE(wait_until([&] { return done("ED_20190606.dat"); }));
    EXPECT_EQ(daemon.terminate(), 0);
  }
  ASSERT_EQ(store()->count_events("education"), 4);
  ASSERT_EQ(store()->count_quarantine("education"), 8);

  // The city adds ward 01199: the record quarantined for it now maps. The records rejected by the
  // adapter (length, bare LF, split character, invalid byte) are judged as before and stay.
  std::string mapping = read_file(mappings / "education.xml");
  const std::string anchor = "<code value=\"01110\"";
  ASSERT_NE(mapping.find(anchor), std::string::npos);
  mapping.insert(mapping.find(anchor), "<code value=\"01199\" label=\"試験区\"/>\n      ");
  std::ofstream(mappings / "education.xml", std::ios::trunc) << mapping;

  std::string out;
  run_cli({"--config", config.string(), "quarantine", "retry"}, out);
  EXPECT_EQ(store()->count_events("education"), 5) << out;
  std::vector<std::int64_t> still_quarantined;
  for (const auto& q : store()->quarantine("education", 100)) {
    still_quarantined.push_back(q.record_no);
  }
  std::sort(still_quarantined.begin(), still_quarantined.end());
  EXPECT_EQ(still_quarantined, (std::vector<std::int64_t>{3, 4, 5, 6, 7, 9, 10})) << out;
}

TEST_F(EducationIngest, MappingDryRunShowsEventsAndRejections) {
  const auto config = write_test_config(dir_, 50, kEducationSystem);
  std::string out;
  EXPECT_EQ(
      run_cli({"--config", config.string(), "mapping", "test", "education", kSample.string()}, out),
      0)
      << out;
  EXPECT_NE(out.find("OK  record 4: nursery.withdrawn  ED1906050004 v1  2019-06-03T00:00:00+09:00  "
                     "池田　結衣 (ｲｹﾀﾞ ﾕｲ) 2015-08-19 ward 01102"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("20 件のイベント (events), 0 件の却下 (rejected records)"), std::string::npos)
      << out;

  EXPECT_NE(
      run_cli({"--config", config.string(), "mapping", "test", "education", kBadSample.string()},
              out),
      0);
  EXPECT_NE(out.find("NG  ED_20190606_bad.dat: record 3 (line 3): the record is 199 bytes long"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("4 件のイベント (events), 8 件の却下 (rejected records)"), std::string::npos)
      << out;
}

TEST_F(EducationIngest, ABadLayoutInTheConfigStopsStartUpWithTheReason) {
  // Config settings override the mapping's layout; a record length the fields do not fill is
  // refused by the adapter's factory before anything is read.
  const auto config =
      write_test_config(dir_, 50,
                        "<education><adapter>education</adapter><mapping>education.xml</mapping>"
                        "<settings><record_length>201</record_length></settings></education>");
  const std::string reason =
      "refused its settings: education adapter: byte 201 belongs to no field (the record is 201 "
      "bytes)";
  std::string out;
  EXPECT_NE(run_cli({"--config", config.string(), "config", "check"}, out), 0);
  EXPECT_NE(out.find("NG  system 'education': "), std::string::npos) << out;
  EXPECT_NE(out.find(reason), std::string::npos) << out;

  Poco::Pipe pipe;
  std::vector<std::string> args{"--config", config.string(), "--data-dir", data().string()};
  auto handle = Poco::Process::launch((kBinDir / "tsunagud").string(), args, nullptr, &pipe, &pipe);
  Poco::PipeInputStream in(pipe);
  out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  EXPECT_EQ(handle.wait(), 78);
  EXPECT_NE(out.find(reason), std::string::npos) << out;
}

TEST_F(EducationIngest, PluginsListShowsTheAdapterWithItsVersion) {
  const auto config = write_test_config(dir_, 50, kEducationSystem);
  std::string out;
  EXPECT_EQ(run_cli({"--config", config.string(), "plugins", "list"}, out), 0) << out;
  EXPECT_NE(out.find("education"), std::string::npos) << out;
  EXPECT_NE(out.find("1.0.0"), std::string::npos) << out;
}

}  // namespace
