// Operating the real daemon: reloading its routing files with SIGHUP / `tsunagu reload`, and
// backing up its store while it runs, then restoring the copy elsewhere.
#include <csignal>

#include <gtest/gtest.h>

#include "codec/cp932.hpp"
#include "store/prepared.hpp"
#include "store/store.hpp"
#include "support/daemon.hpp"

namespace {

using namespace tsunagu_test;
namespace fs = std::filesystem;

// Routing needs every system its files name; those without a plugin here stay disabled.
const char* kOtherSystems = R"(
    <health_centre><adapter>health_centre</adapter><mapping>health_centre.xml</mapping><enabled>false</enabled></health_centre>
    <education><adapter>education</adapter><mapping>education.xml</mapping><enabled>false</enabled></education>
    <child_guidance><adapter>child_guidance</adapter><mapping>child_guidance.xml</mapping><enabled>false</enabled></child_guidance>)";

const char* kNewLiaison =
    R"(<officer id="kita-liaison-9" role="liaison" ward="01102" name="試験　九郎" email="kita.liaison9@example.invalid"/>)";

// One public-assistance record, 異動区分 05 (訪問時児童未確認 → welfare.visit_child_not_seen), in
// 北区 (01102), in CP932.
std::string visit_child_not_seen(const std::string& ref) {
  const std::string utf8 =
      "処理番号,版,異動区分,発生日,世帯番号,宛名番号,氏名,氏名カナ,生年月日,性別,続柄,区コード,"
      "住所,"
      "担当CW,備考\r\n" +
      ref +
      ",1,05,R1.06.05,20481337,0102345679,池田　結衣,ｲｹﾀﾞ ﾕｲ,H27.08.19,2,子,01102,"
      "札幌市北区北24条西5丁目2-8,CW0312,\r\n";
  tsunagu::codec::Cp932Encoder encoder;
  std::string cp932, error;
  if (!encoder.encode(utf8, cp932, error)) throw std::runtime_error(error);
  return cp932;
}

std::int64_t audit_entries_of_type(const fs::path& data, const std::string& type) {
  auto store = tsunagu::store::Store::open_sqlite(data / "store.db", {});
  auto q = store->query("SELECT COUNT(*) FROM audit_entries WHERE type = ?");
  q.bind(type);
  return q.next() ? q.integer(0) : 0;
}

void replace_in_file(const fs::path& file, const std::string& from, const std::string& to) {
  std::string text = read_file(file);
  const auto at = text.find(from);
  ASSERT_NE(at, std::string::npos) << from << " not in " << file;
  text.replace(at, from.size(), to);
  std::ofstream(file, std::ios::binary | std::ios::trunc) << text;
}

class Ops : public ::testing::Test {
 protected:
  fs::path data() const { return dir_ / "data"; }
  fs::path spool() const { return data() / "spool" / "public_assistance"; }
  bool done(const std::string& name) const { return fs::exists(spool() / "done" / name); }

  // The shipped routing files, copied beside the test's tsunagu.xml so that the test may edit them.
  fs::path routing_config() {
    for (const char* f : {"policies.xml", "roster.xml", "holidays.xml", "routes.xml"}) {
      fs::copy_file(kSourceDir / "config" / f, dir_ / f);
    }
    return write_test_config(dir_, 50, kOtherSystems, "<routing/>");
  }

  int cli(const fs::path& config, const fs::path& data, std::vector<std::string> args,
          std::string& out) {
    args.insert(args.begin(), {"--config", config.string(), "--data-dir", data.string()});
    return run_cli(args, out);
  }

  // Notices of route pa_visit_child_not_seen addressed to `officer`.
  int visit_notices_for(const fs::path& config, const std::string& officer) {
    std::string out;
    EXPECT_EQ(cli(config, data(), {"notices", "list", "--officer", officer, "--all"}, out), 0)
        << out;
    int n = 0;
    for (std::size_t at = out.find("pa_visit_child_not_seen"); at != std::string::npos;
         at = out.find("pa_visit_child_not_seen", at + 1)) {
      ++n;
    }
    return n;
  }

  TempDir dir_;
};

TEST_F(Ops, ReloadAppliesAValidRosterAndRefusesAnInvalidRoutesFileKeepingTheRunningOne) {
  const auto config = routing_config();
  Daemon daemon(config, data());
  daemon.start();
  ASSERT_TRUE(wait_until([&] { return fs::exists(data() / "run" / "tsunagud.pid"); }));

  drop_into_spool(spool(), "PA_1.csv", visit_child_not_seen("PA2019060599001"));
  ASSERT_TRUE(wait_until([&] { return done("PA_1.csv"); }));
  EXPECT_EQ(visit_notices_for(config, "kita-liaison-1"), 1);
  EXPECT_EQ(visit_notices_for(config, "kita-liaison-9"), 0);

  // A new liaison in 北区, then `tsunagu reload`: the next notice reaches them too.
  replace_in_file(dir_ / "roster.xml", "</officers>", std::string(kNewLiaison) + "\n</officers>");
  std::string out;
  EXPECT_EQ(cli(config, data(), {"reload"}, out), 0) << out;
  EXPECT_NE(out.find("reloaded"), std::string::npos) << out;
  EXPECT_EQ(audit_entries_of_type(data(), "config.reloaded"), 1);
  drop_into_spool(spool(), "PA_2.csv", visit_child_not_seen("PA2019060599002"));
  ASSERT_TRUE(wait_until([&] { return done("PA_2.csv"); }));
  EXPECT_EQ(visit_notices_for(config, "kita-liaison-9"), 1);

  // A route naming a policy that does not exist, then SIGHUP itself: refused, still running.
  replace_in_file(dir_ / "routes.xml",
                  R"(<route id="pa_visit_child_not_seen" policy="pa_liaison_welfare_visit">)",
                  R"(<route id="pa_visit_child_not_seen" policy="no_such_policy">)");
  const pid_t pid = std::stoi(read_file(data() / "run" / "tsunagud.pid"));
  ASSERT_EQ(::kill(pid, SIGHUP), 0);
  ASSERT_TRUE(
      wait_until([&] { return read_file(data() / "run" / "reload.result").rfind("2 ", 0) == 0; }));
  const std::string result = read_file(data() / "run" / "reload.result");
  EXPECT_NE(result.find("2 refused"), std::string::npos) << result;
  EXPECT_NE(result.find("no_such_policy"), std::string::npos) << result;
  EXPECT_EQ(audit_entries_of_type(data(), "config.reload_refused"), 1);
  ASSERT_TRUE(daemon.running());

  // Still routing with the configuration of the first reload.
  drop_into_spool(spool(), "PA_3.csv", visit_child_not_seen("PA2019060599003"));
  ASSERT_TRUE(wait_until([&] { return done("PA_3.csv"); }));
  EXPECT_EQ(visit_notices_for(config, "kita-liaison-9"), 2);
  EXPECT_EQ(visit_notices_for(config, "kita-liaison-1"), 3);

  // The CLI reports the refusal too, with the problem.
  EXPECT_EQ(cli(config, data(), {"reload"}, out), 1) << out;
  EXPECT_NE(out.find("no_such_policy"), std::string::npos) << out;
  EXPECT_EQ(daemon.terminate(), 0);
  EXPECT_FALSE(fs::exists(data() / "run" / "tsunagud.pid"));
  EXPECT_EQ(cli(config, data(), {"reload"}, out), 1);  // nobody to signal
}

TEST_F(Ops, BackupWhileTheDaemonRunsRestoresElsewhereAndVerifies) {
  const auto config = write_test_config(dir_);
  Daemon daemon(config, data());
  daemon.start();
  drop_into_spool(spool(), "PA_EVENTS_20190605.csv",
                  read_file(kSourceDir / "tests/data/public_assistance/PA_EVENTS_20190605.csv"));
  ASSERT_TRUE(wait_until([&] { return done("PA_EVENTS_20190605.csv"); }));
  std::string out;
  ASSERT_EQ(cli(config, data(), {"audit", "sign"}, out), 0) << out;

  // While it runs (and while it ingests more).
  drop_into_spool(spool(), "PA_4.csv", visit_child_not_seen("PA2019060599004"));
  const fs::path backup = dir_ / "backup";
  ASSERT_EQ(cli(config, data(), {"backup", backup.string()}, out), 0) << out;
  for (const char* f :
       {"store.db", "audit-ed25519.pub.pem", "head.json", "backup.json", "SHA256SUMS"}) {
    EXPECT_TRUE(fs::exists(backup / f)) << f;
  }
  EXPECT_FALSE(fs::exists(backup / "master.key"));
  EXPECT_EQ(cli(config, data(), {"backup", backup.string()}, out), 78);  // never into a used dir

  // Restoring onto the running instance is refused.
  EXPECT_EQ(cli(config, data(), {"restore", backup.string(), "--force"}, out), 1);
  EXPECT_NE(out.find("running"), std::string::npos) << out;
  ASSERT_TRUE(wait_until([&] { return done("PA_4.csv"); }));
  EXPECT_EQ(daemon.terminate(), 0);

  const fs::path restored = dir_ / "restored";
  ASSERT_EQ(cli(config, restored, {"restore", backup.string()}, out), 0) << out;
  EXPECT_NE(out.find("no tampering found"), std::string::npos) << out;
  EXPECT_NE(out.find("WARNING: no master key"), std::string::npos) << out;
  ASSERT_EQ(cli(config, restored, {"audit", "verify"}, out), 0) << out;
  auto original = tsunagu::store::Store::open_sqlite(data() / "store.db", {});
  auto copy = tsunagu::store::Store::open_sqlite(restored / "store.db", {});
  // The backup was taken before or after PA_4's one event was stored, never half-way.
  const auto copied = copy->count_events();
  EXPECT_TRUE(copied == original->count_events() || copied == original->count_events() - 1)
      << copied << " of " << original->count_events();
  EXPECT_GT(copied, 30);

  // A second restore needs --force; a changed file in the backup is refused.
  EXPECT_EQ(cli(config, restored, {"restore", backup.string()}, out), 1);
  std::ofstream(backup / "head.json", std::ios::app) << " ";
  EXPECT_EQ(cli(config, restored, {"restore", backup.string(), "--force"}, out), 1);
  EXPECT_NE(out.find("head.json: missing or changed"), std::string::npos) << out;
}

}  // namespace
