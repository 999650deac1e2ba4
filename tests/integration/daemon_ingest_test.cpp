// The real daemon ingests CP932 exports dropped into its spool: once, idempotently, and without
// loss across kill -9 and SIGTERM.
#include <random>

#include <gtest/gtest.h>

#include "audit/audit_log.hpp"
#include "codec/cp932.hpp"
#include "security/ed25519.hpp"
#include "store/prepared.hpp"
#include "store/store.hpp"
#include "support/daemon.hpp"

namespace {

using namespace tsunagu_test;
namespace fs = std::filesystem;

const fs::path kSample = kSourceDir / "tests/data/public_assistance/PA_EVENTS_20190605.csv";
const fs::path kBadSample = kSourceDir / "tests/data/public_assistance/PA_EVENTS_20190606_bad.csv";

const char* kHeader =
    "処理番号,版,異動区分,発生日,世帯番号,宛名番号,氏名,氏名カナ,生年月日,性別,続柄,区コード,住所,"
    "担当CW,備考";

// A large, valid export: `rows` records across all ten wards, in CP932.
std::string large_export(int rows) {
  const char* family[] = {"佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村"};
  const char* family_kana[] = {"サトウ", "スズキ",   "タカハシ", "タナカ",
                               "イトウ", "ワタナベ", "ヤマモト", "ナカムラ"};
  std::string utf8 = std::string(kHeader) + "\r\n";
  for (int i = 0; i < rows; ++i) {
    const int ward = 1 + i % 10;
    char ref[32];
    std::snprintf(ref, sizeof ref, "PA2019%09d", i);
    char household[16];
    std::snprintf(household, sizeof household, "%08d", 10000000 + i / 3);
    char resident[16];
    std::snprintf(resident, sizeof resident, "%010d", 100000000 + i);
    char ward_code[8];
    std::snprintf(ward_code, sizeof ward_code, "011%02d", ward);
    utf8 += std::string(ref) + ",1,0" + std::to_string(1 + i % 6) + ",R1.06.05," + household + "," +
            resident + "," + family[i % 8] + "　太郎" + std::to_string(i % 7) + "," +
            family_kana[i % 8] + " タロウ,H" + std::to_string(20 + i % 11) + "." +
            std::to_string(1 + i / 11 % 12) + "." + std::to_string(1 + i / 132 % 28) + "," +
            std::to_string(1 + i % 2) + ",子," + ward_code + ",\"札幌市, " + std::to_string(i) +
            "番地\",CW" + std::to_string(1000 + i % 50) + ",\"備考 " + std::to_string(i) +
            "\r\n二行目\"\r\n";
  }
  tsunagu::codec::Cp932Encoder encoder;
  std::string cp932, error;
  if (!encoder.encode(utf8, cp932, error)) throw std::runtime_error(error);
  return cp932;
}

std::int64_t count_events(const fs::path& data) {
  auto store = tsunagu::store::Store::open_sqlite(data / "store.db", {});
  return store->count_events("public_assistance");
}

std::int64_t count_quarantine(const fs::path& data) {
  auto store = tsunagu::store::Store::open_sqlite(data / "store.db", {});
  return store->count_quarantine("public_assistance");
}

std::int64_t count_events_by_query(const fs::path& data, const std::string& sql) {
  auto store = tsunagu::store::Store::open_sqlite(data / "store.db", {});
  auto q = store->query(sql);
  return q.next() ? q.integer(0) : 0;
}

class DaemonIngest : public ::testing::Test {
 protected:
  fs::path data() const { return dir_ / "data"; }
  fs::path spool() const { return data() / "spool" / "public_assistance"; }
  bool done(const std::string& name) const { return fs::exists(spool() / "done" / name); }

  // tsunagud on `config` and this test's data directory: started, ready, stopped cleanly (which
  // signs a tree head).
  void start_and_stop(const fs::path& config) {
    Daemon daemon(config, data());
    daemon.start();
    ASSERT_TRUE(daemon.wait_ready());
    EXPECT_EQ(daemon.terminate(), 0);
  }
  // The CLI with `config` on `data_dir`; its exit code, its output in `out`.
  static int cli(const fs::path& config, const fs::path& data_dir, std::vector<std::string> args,
                 std::string& out) {
    args.insert(args.begin(), {"--config", config.string(), "--data-dir", data_dir.string()});
    return run_cli(args, out);
  }

  TempDir dir_;
};

TEST_F(DaemonIngest, StoresADroppedCp932ExportAndADuplicateDropAddsNothing) {
  const auto config = write_test_config(dir_);
  Daemon daemon(config, data());
  daemon.start();
  const std::string bytes = read_file(kSample);
  drop_into_spool(spool(), "PA_EVENTS_20190605.csv", bytes);
  ASSERT_TRUE(wait_until([&] { return done("PA_EVENTS_20190605.csv"); }));
  const auto stored = count_events(data());
  EXPECT_GT(stored, 30);
  EXPECT_EQ(count_quarantine(data()), 0);
  EXPECT_FALSE(fs::exists(spool() / "done" / "PA_EVENTS_20190605.csv.errors"));

  // The same export dropped again (same name): accepted, moved to done/, no new event.
  drop_into_spool(spool(), "PA_EVENTS_20190605.csv", bytes);
  ASSERT_TRUE(wait_until([&] {
    return !fs::exists(spool() / "PA_EVENTS_20190605.csv") && fs::is_empty(spool() / "work") &&
           std::distance(fs::directory_iterator(spool() / "done"), fs::directory_iterator{}) == 2;
  }));
  EXPECT_EQ(count_events(data()), stored);
  EXPECT_EQ(daemon.terminate(), 0);

  std::string out;
  EXPECT_EQ(cli(config, data(), {"inputs", "list"}, out), 0);
  EXPECT_NE(out.find("0 stored, " + std::to_string(stored) + " already stored"), std::string::npos)
      << out;
}

TEST_F(DaemonIngest, BadRecordsAreQuarantinedWithReasonsAndGoodOnesStored) {
  const auto config = write_test_config(dir_);
  Daemon daemon(config, data());
  daemon.start();
  drop_into_spool(spool(), "PA_EVENTS_20190606.csv", read_file(kBadSample));
  ASSERT_TRUE(wait_until([&] { return done("PA_EVENTS_20190606.csv.errors"); }));
  EXPECT_EQ(daemon.terminate(), 0);
  EXPECT_GT(count_events(data()), 0);
  EXPECT_GT(count_quarantine(data()), 0);
  const std::string report = read_file(spool() / "done" / "PA_EVENTS_20190606.csv.errors");
  EXPECT_NE(report.find("PA_EVENTS_20190606.csv: record "), std::string::npos) << report;
  EXPECT_NE(report.find("区コード"), std::string::npos) << report;
  EXPECT_NE(report.find("発生日"), std::string::npos) << report;

  std::string out;
  EXPECT_EQ(cli(config, data(), {"quarantine", "list"}, out), 0);
  EXPECT_NE(out.find("01199"), std::string::npos) << out;
}

TEST_F(DaemonIngest, KillNineMidFileThenRestartStoresEveryRecordExactlyOnce) {
  constexpr int kRows = 12000;
  const auto config = write_test_config(dir_, 200);
  drop_into_spool(spool(), "PA_EVENTS_20190701.csv", large_export(kRows));

  std::mt19937 random(20190605);  // seeded: the same kill points every run
  int kills_mid_file = 0;
  for (int round = 0; round < 3; ++round) {
    Daemon daemon(config, data());
    daemon.start();
    // Ready means its store has its schema: opened earlier, the test's connection would have to
    // create it and wait for a write lock that back-to-back batches seldom leave free.
    ASSERT_TRUE(daemon.wait_ready());
    const std::int64_t before = count_events(data());
    const std::int64_t target = before + 500 + static_cast<std::int64_t>(random() % 3000);
    wait_until([&] { return count_events(data()) >= target; });
    if (done("PA_EVENTS_20190701.csv")) break;
    daemon.kill9();
    if (count_events(data()) < kRows) ++kills_mid_file;
  }
  ASSERT_GE(kills_mid_file, 1) << "the test must interrupt the file at least once";
  Daemon daemon(config, data());
  daemon.start();
  ASSERT_TRUE(wait_until([&] { return done("PA_EVENTS_20190701.csv"); }, std::chrono::minutes(20)));
  EXPECT_EQ(daemon.terminate(), 0);

  EXPECT_EQ(count_events(data()), kRows);
  EXPECT_EQ(count_events_by_query(data(), "SELECT COUNT(DISTINCT source_ref) FROM events"), kRows);
  EXPECT_EQ(count_quarantine(data()), 0);
  EXPECT_TRUE(fs::is_empty(spool() / "work"));
}

TEST_F(DaemonIngest, SigtermMidFileExitsZeroAndTheFileResumesOnRestart) {
  constexpr int kRows = 10000;
  const auto config = write_test_config(dir_, 100);
  drop_into_spool(spool(), "PA_EVENTS_20190702.csv", large_export(kRows));
  {
    Daemon daemon(config, data());
    daemon.start();
    ASSERT_TRUE(daemon.wait_ready());  // its store has its schema (see above)
    wait_until([&] { return count_events(data()) >= 200; });
    EXPECT_EQ(daemon.terminate(), 0);
  }
  ASSERT_LT(count_events(data()), kRows)
      << "SIGTERM must arrive mid-file for this test to mean anything";
  EXPECT_TRUE(fs::exists(spool() / "work" / "PA_EVENTS_20190702.csv"));
  Daemon daemon(config, data());
  daemon.start();
  ASSERT_TRUE(wait_until([&] { return done("PA_EVENTS_20190702.csv"); }, std::chrono::minutes(20)));
  EXPECT_EQ(daemon.terminate(), 0);
  EXPECT_EQ(count_events(data()), kRows);
}

TEST_F(DaemonIngest, ConfigErrorStopsStartUpWithTheReason) {
  const auto config =
      dir_.write("tsunagu.xml", "<tsunagu><data-dir>d</data-dir><bogus/></tsunagu>");
  std::string out;
  Poco::Pipe pipe;
  std::vector<std::string> args{"--config", config.string()};
  auto handle = Poco::Process::launch((kBinDir / "tsunagud").string(), args, nullptr, &pipe, &pipe);
  Poco::PipeInputStream in(pipe);
  out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  EXPECT_EQ(handle.wait(), 78);
  EXPECT_NE(out.find("<tsunagu/bogus>: unknown element"), std::string::npos) << out;
}

TEST_F(DaemonIngest, PluginsListShowsTheAdapterWithVersions) {
  const auto config = write_test_config(dir_);
  std::string out;
  EXPECT_EQ(run_cli({"--config", config.string(), "plugins", "list"}, out), 0) << out;
  EXPECT_NE(out.find("adapter   public_assistance     1.0.0     1"), std::string::npos) << out;
}

}  // namespace

namespace {

TEST_F(DaemonIngest, QuarantineRetryAfterTheMappingIsFixedStoresTheRecordsOnce) {
  const auto config = write_test_config_with_editable_mappings(dir_);
  const fs::path mappings = dir_ / "mappings";  // the copy the test "fixes"
  {
    Daemon daemon(config, data());
    daemon.start();
    drop_into_spool(spool(), "PA_EVENTS_20190606.csv", read_file(kBadSample));
    ASSERT_TRUE(wait_until([&] { return done("PA_EVENTS_20190606.csv"); }));
    EXPECT_EQ(daemon.terminate(), 0);
  }
  const auto events_before = count_events(data());
  const auto quarantined_before = count_quarantine(data());

  // Retrying before any fix changes nothing.
  std::string out;
  EXPECT_EQ(run_cli({"--config", config.string(), "quarantine", "retry"}, out), 1) << out;
  EXPECT_EQ(count_quarantine(data()), quarantined_before);

  // The city adds a ward code (say, a new ward): the record quarantined for 01199 now maps.
  std::string mapping = read_file(mappings / "public_assistance.xml");
  const std::string anchor = "<code value=\"01110\"";
  ASSERT_NE(mapping.find(anchor), std::string::npos);
  mapping.insert(mapping.find(anchor), "<code value=\"01199\" label=\"試験区\"/>\n      ");
  std::ofstream(mappings / "public_assistance.xml", std::ios::trunc) << mapping;

  EXPECT_EQ(run_cli({"--config", config.string(), "quarantine", "retry"}, out), 1) << out;
  EXPECT_NE(out.find("stored"), std::string::npos) << out;
  EXPECT_EQ(count_events(data()), events_before + 1);
  EXPECT_EQ(count_quarantine(data()), quarantined_before - 1);
  // Idempotent: again changes nothing.
  run_cli({"--config", config.string(), "quarantine", "retry"}, out);
  EXPECT_EQ(count_events(data()), events_before + 1);
  EXPECT_EQ(count_quarantine(data()), quarantined_before - 1);
  EXPECT_EQ(run_cli({"--config", config.string(), "audit", "verify"}, out), 0) << out;
}

}  // namespace

namespace {

// tsunagud on `config` run until it exits (started where it must refuse to start): its exit code
// and everything it wrote. One that has not exited within 60 s did not refuse: it is killed and
// reported with exit code 0, so that the test fails rather than waits for ever.
std::pair<int, std::string> run_daemon_to_exit(const fs::path& config, const fs::path& data) {
  Poco::Pipe pipe;
  std::vector<std::string> args{"--config", config.string(), "--data-dir", data.string()};
  auto handle = Poco::Process::launch((kBinDir / "tsunagud").string(), args, nullptr, &pipe, &pipe);
  int rc = -1;
  for (int i = 0; i < 1200 && (rc = handle.tryWait()) == -1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::string killed;
  if (rc == -1) {
    Poco::Process::kill(handle);
    handle.wait();
    rc = 0;
    killed = "\n(tsunagud was still running after 60 s: killed)";
  }
  Poco::PipeInputStream in(pipe);
  std::string out((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return {rc, out + killed};
}

// A store that holds sealed data without its master key (a restore without keys/, a lost
// directory): tsunagud must refuse to start rather than make a new key that can never open it.
TEST_F(DaemonIngest, ItRefusesToStartWhenTheMasterKeyOfSealedDataIsMissing) {
  const auto config = write_test_config(dir_);
  {
    Daemon daemon(config, data());
    daemon.start();
    drop_into_spool(spool(), "PA_EVENTS_20190605.csv", read_file(kSample));
    ASSERT_TRUE(wait_until([&] { return done("PA_EVENTS_20190605.csv"); }));
    ASSERT_TRUE(daemon.wait_ready());
    EXPECT_EQ(daemon.terminate(), 0);
  }
  fs::remove(data() / "keys" / "master.key");
  const auto [rc, out] = run_daemon_to_exit(config, data());
  EXPECT_NE(rc, 0) << out;
  EXPECT_NE(out.find("there is no master key"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(data() / "keys" / "master.key"));
}

// A log already signed with one audit key, and the instance's keys/ lost or replaced (a restore
// without them, a second instance that did not copy the first one's): tsunagud refuses to start
// rather than sign the next head with a key the auditors' verify would call a forgery.
TEST_F(DaemonIngest, ItRefusesToStartWhenTheLogIsSignedWithAnotherAuditKey) {
  const auto config = write_test_config(dir_);
  {
    Daemon daemon(config, data());
    daemon.start();
    drop_into_spool(spool(), "PA_EVENTS_20190605.csv", read_file(kSample));
    ASSERT_TRUE(wait_until([&] { return done("PA_EVENTS_20190605.csv"); }));
    EXPECT_EQ(daemon.terminate(), 0);  // signs a head at shutdown
  }
  const fs::path private_key = data() / "keys" / "audit-ed25519.pem";
  const fs::path public_key = data() / "keys" / "audit-ed25519.pub.pem";
  const std::string original = read_file(private_key);
  const std::string original_id =
      tsunagu::security::SigningKey::load_pem_file(private_key).key_id();
  auto start = [&] { return run_daemon_to_exit(config, data()); };

  // Lost: no new key is made.
  fs::remove(private_key);
  fs::remove(public_key);
  auto [rc, out] = start();
  EXPECT_NE(rc, 0) << out;
  EXPECT_NE(out.find("is signed with audit key " + original_id), std::string::npos) << out;
  EXPECT_NE(out.find("there is no signing key " + private_key.string()), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(private_key));
  EXPECT_FALSE(fs::exists(public_key));

  // Replaced by another key: refused, the file left as it is.
  const auto other = tsunagu::security::SigningKey::generate();
  other.save_pem_file(private_key);
  std::tie(rc, out) = start();
  EXPECT_NE(rc, 0) << out;
  EXPECT_NE(out.find(private_key.string() + " is key " + other.key_id()), std::string::npos) << out;
  EXPECT_EQ(tsunagu::security::SigningKey::load_pem_file(private_key).key_id(), other.key_id());

  // Restored: it starts, and the whole log still verifies with the original public key.
  { std::ofstream(private_key, std::ios::trunc) << original; }
  fs::permissions(private_key, fs::perms::owner_read | fs::perms::owner_write);
  ASSERT_NO_FATAL_FAILURE(start_and_stop(config));
  std::string verified;
  EXPECT_EQ(cli(config, data(), {"audit", "verify"}, verified), 0) << verified;

  // Replaced on purpose: `audit new-key` (refused while tsunagud runs) keeps the old pair under
  // keys/retired/, logs the change and signs it with the new key; tsunagud then starts.
  std::string out2;
  {
    Daemon daemon(config, data());
    daemon.start();
    ASSERT_TRUE(daemon.wait_ready());
    EXPECT_NE(cli(config, data(), {"audit", "new-key"}, out2), 0);
    EXPECT_NE(out2.find("is running"), std::string::npos) << out2;
    EXPECT_EQ(daemon.terminate(), 0);
  }
  ASSERT_EQ(cli(config, data(), {"audit", "new-key"}, out2), 0) << out2;
  const std::string new_id = tsunagu::security::SigningKey::load_pem_file(private_key).key_id();
  EXPECT_NE(new_id, original_id);
  EXPECT_EQ(tsunagu::security::SigningKey::load_pem_file(data() / "keys" / "retired" /
                                                         ("audit-ed25519-" + original_id + ".pem"))
                .key_id(),
            original_id);
  EXPECT_TRUE(
      fs::exists(data() / "keys" / "retired" / ("audit-ed25519-" + original_id + ".pub.pem")));
  // It names the old key and where its public key went, for the heads signed with it.
  EXPECT_NE(
      out2.find(
          "verify with the old public key " + original_id + " (kept in " +
          (data() / "keys" / "retired" / ("audit-ed25519-" + original_id + ".pub.pem")).string() +
          ")"),
      std::string::npos)
      << out2;
  {
    auto store = tsunagu::store::Store::open_sqlite(data() / "store.db", {});
    auto q = store->query(
        "SELECT e.entry, h.key_id FROM audit_entries e, audit_heads h WHERE e.type = "
        "'audit.key_replaced' AND h.id = (SELECT MAX(id) FROM audit_heads)");
    ASSERT_TRUE(q.next());
    EXPECT_NE(q.text(0).find("\"old_key_id\":\"" + original_id + "\""), std::string::npos)
        << q.text(0);
    EXPECT_NE(q.text(0).find("\"new_key_id\":\"" + new_id + "\""), std::string::npos) << q.text(0);
    EXPECT_EQ(q.text(1), new_id);
  }
  ASSERT_NO_FATAL_FAILURE(start_and_stop(config));

  // The whole log verifies across the change: by default with the current and retired public
  // keys of keys/, or with both given; with the new key alone the old heads are named.
  const fs::path retired_public =
      data() / "keys" / "retired" / ("audit-ed25519-" + original_id + ".pub.pem");
  ASSERT_EQ(cli(config, data(), {"audit", "verify"}, verified), 0) << verified;
  EXPECT_NE(verified.find("trusted keys " + new_id + ", " + original_id), std::string::npos)
      << verified;
  EXPECT_NE(cli(config, data(), {"audit", "verify", "--public-key", public_key.string()}, verified),
            0);
  EXPECT_NE(verified.find("signed with key " + original_id + ", which is not a trusted public key"),
            std::string::npos)
      << verified;
  EXPECT_EQ(cli(config, data(),
                {"audit", "verify", "--public-key", public_key.string(), "--public-key",
                 retired_public.string()},
                verified),
            0)
      << verified;
  // A backup carries the retired public key, and its restore verifies with it.
  const fs::path backup = dir_ / "backup";
  const fs::path restored = dir_ / "restored";
  ASSERT_EQ(cli(config, data(), {"backup", backup.string()}, verified), 0) << verified;
  ASSERT_EQ(cli(config, restored, {"restore", backup.string()}, verified), 0) << verified;
  EXPECT_NE(verified.find("key " + new_id + " (and 1 it replaced)"), std::string::npos) << verified;
  EXPECT_NE(verified.find("no tampering found"), std::string::npos) << verified;
  EXPECT_EQ(read_file(restored / "keys" / "retired" / retired_public.filename()),
            read_file(retired_public));
}

// `audit new-key` is for a key file that is damaged or lost as much as for a leak: whatever is
// left of the old pair is kept under keys/retired/, and the log still verifies across the change
// as long as the old public key is kept (by the hub, or by the auditors).
TEST_F(DaemonIngest, ANewKeyKeepsWhatIsLeftOfADamagedOrLostKey) {
  const auto config = write_test_config(dir_);
  ASSERT_NO_FATAL_FAILURE(start_and_stop(config));  // signs a head at shutdown
  const fs::path keys = data() / "keys";
  const fs::path private_key = keys / "audit-ed25519.pem";
  const fs::path public_key = keys / "audit-ed25519.pub.pem";
  auto id_of = [](const fs::path& file) {
    return tsunagu::security::VerifyingKey::load_pem_file(file).key_id();
  };
  auto retired_public = [&](const std::string& id) {
    return keys / "retired" / ("audit-ed25519-" + id + ".pub.pem");
  };
  std::string out;

  // Another instance of the (shared) store started and has not stopped: it would go on signing
  // with the old key, so new-key is refused and changes nothing; --force is for a crashed one.
  const std::string first = id_of(public_key);
  auto log_instance = [&](const char* type) {
    auto store = tsunagu::store::Store::open_sqlite(data() / "store.db", {});
    tsunagu::audit::AuditLog(*store).append_now({type, "hub", "", {{"instance", "tsunagu-2"}}});
  };
  log_instance(tsunagu::audit::entry_type::kHubStarted);
  EXPECT_EQ(cli(config, data(), {"audit", "new-key"}, out), 1) << out;
  EXPECT_NE(out.find("other instances of " + (data() / "store.db").string() +
                     " started and have not stopped (hub.started with no hub.stopped after it): "
                     "tsunagu-2. Stop them first"),
            std::string::npos)
      << out;
  EXPECT_EQ(id_of(public_key), first);
  EXPECT_FALSE(fs::exists(keys / "retired"));
  log_instance(tsunagu::audit::entry_type::kHubStopped);

  // Damaged: kept as "unreadable-<time>", its public key under its id; the log verifies.
  { std::ofstream(private_key, std::ios::trunc) << "not a key"; }
  ASSERT_EQ(cli(config, data(), {"audit", "new-key"}, out), 0) << out;
  EXPECT_NE(out.find("verify with the old public key " + first + " (kept in " +
                     retired_public(first).string() + ")"),
            std::string::npos)
      << out;
  std::vector<std::string> unreadable;
  for (const auto& f : fs::directory_iterator(keys / "retired")) {
    if (f.path().filename().string().rfind("audit-ed25519-unreadable-", 0) == 0) {
      unreadable.push_back(read_file(f.path()));
    }
  }
  EXPECT_EQ(unreadable, std::vector<std::string>{"not a key"});
  ASSERT_EQ(cli(config, data(), {"audit", "verify"}, out), 0) << out;

  // Lost: the public key that is left is kept.
  const std::string second = id_of(public_key);
  fs::remove(private_key);
  ASSERT_EQ(cli(config, data(), {"audit", "new-key"}, out), 0) << out;
  EXPECT_EQ(id_of(retired_public(second)), second);
  ASSERT_EQ(cli(config, data(), {"audit", "verify"}, out), 0) << out;

  // The private key lost, the public one damaged: said so (the damaged file is kept, and is not
  // taken for a key); the auditors' own copy of the public key still verifies the log.
  const std::string third = id_of(public_key);
  const std::string auditors_copy = read_file(public_key);
  fs::remove(private_key);
  { std::ofstream(public_key, std::ios::trunc) << "not a public key"; }
  log_instance(tsunagu::audit::entry_type::kHubStarted);  // and tsunagu-2 crashed
  EXPECT_EQ(cli(config, data(), {"audit", "new-key"}, out), 1) << out;
  ASSERT_EQ(cli(config, data(), {"audit", "new-key", "--force"}, out), 0) << out;
  EXPECT_NE(out.find("verify with the old public key " + third +
                     "\nWARNING: its public key is not in " + (keys / "retired").string()),
            std::string::npos)
      << out;
  EXPECT_NE(cli(config, data(), {"audit", "verify"}, out), 0);
  EXPECT_NE(out.find("signed with key " + third + ", which is not a trusted public key"),
            std::string::npos)
      << out;
  const fs::path kept = dir_ / "auditors-copy.pub.pem";
  { std::ofstream(kept) << auditors_copy; }
  EXPECT_EQ(cli(config, data(),
                {"audit", "verify", "--public-key", public_key.string(), "--public-key",
                 retired_public(first).string(), "--public-key", retired_public(second).string(),
                 "--public-key", kept.string()},
                out),
            0)
      << out;
  ASSERT_NO_FATAL_FAILURE(start_and_stop(config));
}

}  // namespace
