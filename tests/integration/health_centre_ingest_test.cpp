// The real daemon ingests 健康管理システム exports dropped into its spool with the real
// health_centre plugin and mapping: the sample becomes special_care events of every kind, bad
// documents are quarantined with their field, hostile and broken files fail as a whole.
#include <algorithm>
#include <fstream>

#include <gtest/gtest.h>

#include "store/prepared.hpp"
#include "store/store.hpp"
#include "support/daemon.hpp"

namespace {

using namespace tsunagu_test;
namespace fs = std::filesystem;

const fs::path kData = kSourceDir / "tests/data/health_centre";
const std::string kHealthCentre =
    "<health_centre><adapter>health_centre</adapter><mapping>health_centre.xml</mapping>"
    "</health_centre>";

std::int64_t count_by_query(const fs::path& data, const std::string& sql) {
  auto store = tsunagu::store::Store::open_sqlite(data / "store.db", {});
  auto q = store->query(sql);
  return q.next() ? q.integer(0) : 0;
}

// The line where the n-th document of an export starts.
std::string document_line(const std::string& file, int n) {
  std::size_t at = 0;
  for (int i = 0; i < n; ++i) at = file.find("<ClinicalDocument", at + 1);
  return std::to_string(std::count(file.begin(), file.begin() + static_cast<long>(at), '\n') + 1);
}

class HealthCentreIngest : public ::testing::Test {
 protected:
  fs::path data() const { return dir_ / "data"; }
  fs::path spool() const { return data() / "spool" / "health_centre"; }
  bool in(const char* stage, const std::string& name) const {
    return fs::exists(spool() / stage / name);
  }
  std::int64_t events() const {
    return tsunagu::store::Store::open_sqlite(data() / "store.db", {})
        ->count_events("health_centre");
  }
  std::int64_t quarantined() const {
    return tsunagu::store::Store::open_sqlite(data() / "store.db", {})
        ->count_quarantine("health_centre");
  }

  TempDir dir_;
};

TEST_F(HealthCentreIngest, StoresTheSampleAsSpecialCareEventsOfEveryKind) {
  const auto config = write_test_config(dir_, 50, kHealthCentre);
  Daemon daemon(config, data());
  daemon.start();
  drop_into_spool(spool(), "HC_20190605.xml", read_file(kData / "HC_20190605.xml"));
  ASSERT_TRUE(wait_until([&] { return in("done", "HC_20190605.xml"); }));
  EXPECT_EQ(daemon.terminate(), 0);

  EXPECT_EQ(events(), 20);
  EXPECT_EQ(quarantined(), 0);
  EXPECT_FALSE(in("done", "HC_20190605.xml.errors"));
  EXPECT_EQ(count_by_query(data(),
                           "SELECT COUNT(*) FROM events WHERE source = 'health_centre' "
                           "AND sensitivity = 'special_care'"),
            20);
  EXPECT_EQ(count_by_query(data(),
                           "SELECT COUNT(DISTINCT kind) FROM events "
                           "WHERE source = 'health_centre'"),
            10);
  EXPECT_EQ(count_by_query(data(),
                           "SELECT COUNT(*) FROM events WHERE source = 'health_centre' "
                           "AND source_ref = 'HC-2019-000105' AND "
                           "occurred_at = '2019-06-04T21:30:00+09:00'"),
            1);

  std::string out;
  ASSERT_EQ(run_cli({"--config", config.string(), "--data-dir", data().string(), "events", "list",
                     "--system", "health_centre", "--kind", "pregnancy.questionnaire_received"},
                    out),
            0)
      << out;
  EXPECT_NE(out.find("HC-2019-000104 v1  pregnancy.questionnaire_received  "
                     "2019-06-05T00:00:00+09:00  ward 01105  special_care"),
            std::string::npos)
      << out;
}

TEST_F(HealthCentreIngest, BadDocumentsAreQuarantinedAndTheRestStored) {
  const auto config = write_test_config(dir_, 50, kHealthCentre);
  Daemon daemon(config, data());
  daemon.start();
  drop_into_spool(spool(), "HC_20190611.xml", read_file(kData / "HC_20190611_missing_id.xml"));
  drop_into_spool(spool(), "HC_20190612.xml", read_file(kData / "HC_20190612_unknown_code.xml"));
  ASSERT_TRUE(wait_until([&] {
    return in("done", "HC_20190611.xml.errors") && in("done", "HC_20190612.xml.errors");
  }));
  EXPECT_EQ(daemon.terminate(), 0);
  EXPECT_EQ(events(), 3 + 2);
  EXPECT_EQ(quarantined(), 3 + 4);

  const std::string missing = read_file(spool() / "done" / "HC_20190611.xml.errors");
  EXPECT_NE(missing.find("HC_20190611.xml: 6 records, 3 stored, 0 already stored, 3 rejected"),
            std::string::npos)
      << missing;
  const std::string missing_file = read_file(kData / "HC_20190611_missing_id.xml");
  EXPECT_NE(missing.find("HC_20190611.xml: record 2 (line " + document_line(missing_file, 2) +
                         "): id: missing: the document has no <id> element"),
            std::string::npos)
      << missing;
  EXPECT_NE(missing.find("record 5 (line " + document_line(missing_file, 5) +
                         "): recordTarget: missing: the document has no "
                         "<recordTarget><patientRole> element"),
            std::string::npos)
      << missing;

  const std::string unknown = read_file(spool() / "done" / "HC_20190612.xml.errors");
  const std::string unknown_file = read_file(kData / "HC_20190612_unknown_code.xml");
  EXPECT_NE(unknown.find("record 2 (line " + document_line(unknown_file, 2) +
                         "): code: unknown document_type code 'BIRTH_REGISTRATION' (code table "
                         "'document_type')"),
            std::string::npos)
      << unknown;
  EXPECT_NE(unknown.find("code: no kind rule matches code 'INFANT_CHECKUP', RESULT 'LATE'"),
            std::string::npos)
      << unknown;
}

TEST_F(HealthCentreIngest, QuarantineRetryReDecodesADocumentFromItsRawBytes) {
  const auto config = write_test_config_with_editable_mappings(dir_, 50, kHealthCentre);
  const fs::path mappings = dir_ / "mappings";  // the copy the test "fixes"
  {
    Daemon daemon(config, data());
    daemon.start();
    drop_into_spool(spool(), "HC_20190612.xml", read_file(kData / "HC_20190612_unknown_code.xml"));
    ASSERT_TRUE(wait_until([&] { return in("done", "HC_20190612.xml"); }));
    EXPECT_EQ(daemon.terminate(), 0);
  }
  ASSERT_EQ(events(), 2);
  ASSERT_EQ(quarantined(), 4);

  // The city adds a 2-year check-up to the table: the document quarantined for 24M now maps.
  std::string mapping = read_file(mappings / "health_centre.xml");
  const std::string anchor = "<code value=\"36M\"";
  ASSERT_NE(mapping.find(anchor), std::string::npos);
  mapping.insert(mapping.find(anchor), "<code value=\"24M\" label=\"2歳児歯科健診\"/>\n      ");
  std::ofstream(mappings / "health_centre.xml", std::ios::trunc) << mapping;

  std::string out;
  run_cli({"--config", config.string(), "--data-dir", data().string(), "quarantine", "retry",
           "--system", "health_centre"},
          out);
  EXPECT_EQ(events(), 3) << out;
  EXPECT_EQ(quarantined(), 3) << out;
  EXPECT_EQ(count_by_query(data(),
                           "SELECT COUNT(*) FROM events WHERE source_ref = "
                           "'HC-2019-000804' AND kind = 'infant_checkup.attended'"),
            1);
}

TEST_F(HealthCentreIngest, HostileAndBrokenFilesFailAsAWhole) {
  const auto config = write_test_config(dir_, 50, kHealthCentre);
  Daemon daemon(config, data());
  daemon.start();
  drop_into_spool(spool(), "HC_20190607.xml", read_file(kData / "HC_20190607_xxe.xml"));
  drop_into_spool(spool(), "HC_20190606.xml", read_file(kData / "HC_20190606_malformed.xml"));
  ASSERT_TRUE(wait_until([&] {
    return in("failed", "HC_20190607.xml.errors") && in("failed", "HC_20190606.xml.errors");
  }));
  EXPECT_EQ(daemon.terminate(), 0);

  const std::string hostile = read_file(spool() / "failed" / "HC_20190607.xml.errors");
  EXPECT_EQ(hostile.find("HC_20190607.xml: line 2: the file declares a DTD"), 0u) << hostile;
  EXPECT_NE(hostile.find("HC_20190607.xml: reading stopped there; before it: 0 records"),
            std::string::npos)
      << hostile;
  EXPECT_EQ(hostile.find("root:"), std::string::npos) << hostile;

  // The two documents before the break are stored; the file waits in failed/ to be re-sent.
  const std::string broken = read_file(spool() / "failed" / "HC_20190606.xml.errors");
  EXPECT_NE(broken.find("not well-formed at line 68"), std::string::npos) << broken;
  EXPECT_EQ(events(), 2);
  EXPECT_EQ(quarantined(), 0);
}

TEST_F(HealthCentreIngest, MappingDryRunShowsTheSampleEvents) {
  const auto config = write_test_config(dir_, 50, kHealthCentre);
  std::string out;
  EXPECT_EQ(run_cli({"--config", config.string(), "--data-dir", data().string(), "mapping", "test",
                     "health_centre", (kData / "HC_20190605.xml").string()},
                    out),
            0)
      << out;
  EXPECT_NE(
      out.find("OK  record 12: infant_checkup.concern  HC-2019-000112 v1  "
               "2019-06-05T00:00:00+09:00  山口　さくら (ヤマグチ　サクラ) 2017-11-30 ward 01103"),
      std::string::npos)
      << out;
  EXPECT_NE(out.find("20 件のイベント (events), 0 件の却下 (rejected records)"), std::string::npos)
      << out;
}

}  // namespace
