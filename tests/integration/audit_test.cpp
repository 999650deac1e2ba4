// The exchange log of the real daemon: complete after kill -9 during heavy ingest, verifiable
// offline with the CLI, provable entry by entry, and still verifiable after a retention purge
// has made the payloads unreadable.
#include <random>

#include <gtest/gtest.h>

#include "codec/cp932.hpp"
#include "store/prepared.hpp"
#include "store/store.hpp"
#include "support/daemon.hpp"

namespace {

using namespace tsunagu_test;
namespace fs = std::filesystem;

const char* kHeader =
    "処理番号,版,異動区分,発生日,世帯番号,宛名番号,氏名,氏名カナ,生年月日,性別,続柄,区コード,住所,担当CW,備考";

std::string export_rows(int rows, int bad_every) {
  std::string utf8 = std::string(kHeader) + "\r\n";
  for (int i = 0; i < rows; ++i) {
    char line[512];
    const bool bad = bad_every > 0 && i % bad_every == bad_every - 1;
    std::snprintf(line, sizeof line,
                  "PA2019%09d,1,0%d,R1.06.05,%08d,%010d,試験　花子%d,シケン ハナコ,H%d.%02d.%02d,2,子,%s,"
                  "札幌市北区,CW0001,\r\n",
                  i, 1 + i % 6, 20000000 + i / 2, 200000000 + i / 2, i % 9, 20 + i / 2 % 11,
                  1 + i / 22 % 12, 1 + i / 264 % 28, bad ? "01199" : "01102");
    utf8 += line;
  }
  tsunagu::codec::Cp932Encoder encoder;
  std::string cp932, error;
  if (!encoder.encode(utf8, cp932, error)) throw std::runtime_error(error);
  return cp932;
}

class AuditIntegration : public ::testing::Test {
 protected:
  fs::path data() const { return dir_ / "data"; }
  fs::path spool() const { return data() / "spool" / "public_assistance"; }
  bool done(const std::string& name) const { return fs::exists(spool() / "done" / name); }
  std::vector<std::string> cli(const std::vector<std::string>& args, int& code) {
    std::vector<std::string> full{"--config", config_.string(), "--data-dir", data().string()};
    full.insert(full.end(), args.begin(), args.end());
    std::string out;
    code = run_cli(full, out);
    output_ = out;
    return {out};
  }
  std::int64_t scalar(const std::string& sql) {
    auto store = tsunagu::store::Store::open_sqlite(data() / "store.db", {});
    auto q = store->query(sql);
    return q.next() ? q.integer(0) : 0;
  }

  TempDir dir_;
  fs::path config_ = write_test_config(dir_, 100);
  std::string output_;
};

TEST_F(AuditIntegration, KillNineDuringHeavyIngestLeavesEveryChangeWithItsEntry) {
  constexpr int kRows = 12000;
  drop_into_spool(spool(), "PA_EVENTS_20190801.csv", export_rows(kRows, 50));
  std::mt19937 random(48);
  int kills = 0;
  for (int round = 0; round < 3; ++round) {
    Daemon daemon(config_, data());
    daemon.start();
    // Once it is ready its store has its schema: opened before that, the test's own connection
    // would have to create it and wait for the write lock, which an ingest that commits batch
    // after batch seldom leaves free (it once waited until the whole file was in).
    ASSERT_TRUE(daemon.wait_ready());
    const auto before = scalar("SELECT COUNT(*) FROM events");
    const auto target = before + 1000 + static_cast<std::int64_t>(random() % 3000);
    wait_until([&] { return scalar("SELECT COUNT(*) FROM events") >= target; });
    if (done("PA_EVENTS_20190801.csv")) break;
    daemon.kill9();
    ++kills;
  }
  ASSERT_GE(kills, 1);
  {
    Daemon daemon(config_, data());
    daemon.start();
    ASSERT_TRUE(wait_until([&] { return done("PA_EVENTS_20190801.csv"); }, std::chrono::minutes(20)));
    EXPECT_EQ(daemon.terminate(), 0);
  }
  const auto events = scalar("SELECT COUNT(*) FROM events");
  const auto quarantined = scalar("SELECT COUNT(*) FROM quarantine");
  EXPECT_EQ(events, kRows - kRows / 50);
  EXPECT_EQ(quarantined, kRows / 50);
  // Every stored event has exactly one entry, and no entry names an event that is not stored.
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM audit_entries WHERE type = 'event.stored'"), events);
  const std::string event_id = tsunagu::store::Store::open_sqlite(data() / "store.db", {})
                                   ->json_text_sql("entry", "details.event_id");
  const std::string stored_ids =
      "(SELECT " + event_id + " AS id FROM audit_entries WHERE type = 'event.stored')";
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM events WHERE id NOT IN " + stored_ids), 0);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM " + stored_ids + " a WHERE a.id NOT IN (SELECT id FROM events)"), 0);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM audit_entries WHERE type = 'record.quarantined'"), quarantined);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM audit_entries WHERE type = 'input.received'"), 1);

  int code = 0;
  cli({"audit", "verify", "--public-key", (data() / "keys" / "audit-ed25519.pub.pem").string()}, code);
  EXPECT_EQ(code, 0) << output_;
  EXPECT_NE(output_.find("OK  改ざんは検出されませんでした"), std::string::npos) << output_;
}

TEST_F(AuditIntegration, EntriesHoldNoPersonalData) {
  Daemon daemon(config_, data());
  daemon.start();
  drop_into_spool(spool(), "PA_EVENTS_20190802.csv", export_rows(30, 10));
  ASSERT_TRUE(wait_until([&] { return done("PA_EVENTS_20190802.csv"); }));
  EXPECT_EQ(daemon.terminate(), 0);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM audit_entries WHERE entry LIKE '%試験%' OR entry LIKE '%シケン%' "
                   "OR entry LIKE '%0200000%' OR entry LIKE '%札幌%' OR entry LIKE '%2017-11-30%'"),
            0);
  // Nor does the store hold them in clear.
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM events WHERE CAST(payload AS TEXT) LIKE '%試験%' "
                   "OR CAST(raw AS TEXT) LIKE '%0200000%'"),
            0);
}

TEST_F(AuditIntegration, ProveExportAndRetentionPurgeKeepTheLogVerifiable) {
  {
    Daemon daemon(config_, data());
    daemon.start();
    drop_into_spool(spool(), "PA_EVENTS_20190803.csv", export_rows(20, 0));
    ASSERT_TRUE(wait_until([&] { return done("PA_EVENTS_20190803.csv"); }));
    EXPECT_EQ(daemon.terminate(), 0);  // signs a final head
  }
  const fs::path pub = data() / "keys" / "audit-ed25519.pub.pem";
  int code = 0;

  // An inclusion proof checked without any store.
  cli({"audit", "prove", "3"}, code);
  ASSERT_EQ(code, 0) << output_;
  const auto proof_file = dir_.write("proof.json", output_);
  std::string out;
  EXPECT_EQ(run_cli({"audit", "check-proof", proof_file.string(), "--public-key", pub.string()}, out), 0) << out;
  EXPECT_NE(out.find("OK  entry 3"), std::string::npos) << out;

  // One subject's history, as JSON and as a Japanese page.
  cli({"events", "list", "--limit", "1"}, code);
  const std::string event_id = output_.substr(0, 36);
  cli({"audit", "export", "--subject", event_id, "--json", (dir_ / "h.json").string(), "--html",
       (dir_ / "h.html").string()}, code);
  ASSERT_EQ(code, 0) << output_;
  const std::string html = read_file(dir_ / "h.html");
  EXPECT_NE(html.find("情報連携の記録"), std::string::npos);
  EXPECT_NE(html.find("記録受領・保存"), std::string::npos);
  EXPECT_NE(read_file(dir_ / "h.json").find("\"path\":["), std::string::npos);

  // Purge as if ten years had passed: payloads become unreadable, the log still verifies.
  cli({"events", "list"}, code);
  EXPECT_EQ(output_.find("[sealed]"), std::string::npos) << output_;
  cli({"retention", "purge", "--as-of", "2099-01-01"}, code);
  ASSERT_EQ(code, 0) << output_;
  EXPECT_NE(output_.find("subjects purged"), std::string::npos) << output_;
  cli({"events", "list"}, code);
  EXPECT_NE(output_.find("[sealed]"), std::string::npos) << output_;
  cli({"quarantine", "list"}, code);
  cli({"audit", "sign"}, code);
  cli({"audit", "verify", "--public-key", pub.string()}, code);
  EXPECT_EQ(code, 0) << output_;
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM subjects WHERE wrapped_key IS NOT NULL"), 0);
  EXPECT_GT(scalar("SELECT COUNT(*) FROM audit_entries WHERE type = 'retention.purged'"), 0);
}

TEST_F(AuditIntegration, VerifyRejectsAStoreTamperedWithOnDisk) {
  {
    Daemon daemon(config_, data());
    daemon.start();
    drop_into_spool(spool(), "PA_EVENTS_20190804.csv", export_rows(10, 0));
    ASSERT_TRUE(wait_until([&] { return done("PA_EVENTS_20190804.csv"); }));
    EXPECT_EQ(daemon.terminate(), 0);
  }
  const auto seq = scalar("SELECT MIN(seq) FROM audit_entries WHERE type = 'event.stored'");
  {
    auto store = tsunagu::store::Store::open_sqlite(data() / "store.db", {});
    store
        ->query(
            "UPDATE audit_entries SET entry = replace(entry, 'welfare', 'wellfare') "
            "WHERE seq = ?")
        .bind(seq)
        .run();
  }
  int code = 0;
  cli({"audit", "verify", "--public-key", (data() / "keys" / "audit-ed25519.pub.pem").string()}, code);
  EXPECT_EQ(code, 1) << output_;
  EXPECT_NE(output_.find("NG  entry " + std::to_string(seq) + ":"), std::string::npos) << output_;
}

}  // namespace
