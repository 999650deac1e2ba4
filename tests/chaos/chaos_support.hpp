// Shared by the chaos tests (crash_harness_test.cpp, multi_instance_test.cpp): the batch from all
// four systems, an instance of the real tsunagud with the shipped routing and two delivery channels
// (a spool directory and an HTTPS webhook receiver in the test process), the run that drops the
// batch in two phases, and the checks of the end state against a reference run nobody disturbed.
#pragma once

#include <csignal>
#include <map>
#include <memory>
#include <random>
#include <set>

#include <gtest/gtest.h>

#include "channels/channel_test_support.hpp"
#include "channels/webhook_receiver.hpp"
#include "codec/cp932.hpp"
#include "store/prepared.hpp"
#include "store/store.hpp"
#include "support/daemon.hpp"

namespace tsunagu_test::chaos {

namespace fs = std::filesystem;

using Files = std::vector<std::pair<std::string, std::string>>;  // (system, file name)

inline int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::stoi(v) : fallback;
}

inline std::string cp932(const std::string& utf8) {
  tsunagu::codec::Cp932Encoder encoder;
  std::string out, error;
  if (!encoder.encode(utf8, out, error)) throw std::runtime_error(error);
  return out;
}

inline std::string pad(const std::string& bytes, std::size_t width) {
  if (bytes.size() > width) throw std::runtime_error("field too long");
  return bytes + std::string(width - bytes.size(), ' ');
}

inline const char* const kWards[] = {"01101", "01102", "01103", "01104", "01105",
                                     "01106", "01107", "01108", "01109", "01110"};

// Child i: 宛名番号, a birth date of its own, a ward.
struct Child {
  std::string rid, birth_iso, birth_compact, birth_era_pa, birth_era_ed, ward;
};

inline Child child(int i) {
  Child c;
  char buf[32];
  std::snprintf(buf, sizeof buf, "01%08d", i);
  c.rid = buf;
  // 2016-01-01 + i days, i < 1000: 平成28〜30年.
  std::tm tm{};
  tm.tm_year = 116;
  tm.tm_mon = 0;
  tm.tm_mday = 1 + i;
  tm.tm_hour = 12;
  std::mktime(&tm);
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
  c.birth_iso = buf;
  std::snprintf(buf, sizeof buf, "%04d%02d%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
  c.birth_compact = buf;
  std::snprintf(buf, sizeof buf, "H%02d.%02d.%02d", tm.tm_year + 1900 - 1988, tm.tm_mon + 1,
                tm.tm_mday);
  c.birth_era_pa = buf;
  std::snprintf(buf, sizeof buf, "4%02d%02d%02d", tm.tm_year + 1900 - 1988, tm.tm_mon + 1,
                tm.tm_mday);
  c.birth_era_ed = buf;
  c.ward = kWards[i % 10];
  return c;
}

struct Batch {
  Files phase1;                              // public assistance
  Files phase2;                              // the other three systems
  std::map<std::string, std::string> bytes;  // by file name
};

// The batch: public assistance first (it makes the children's welfare facts), then the health
// centre, the child guidance centre and the schools. Some records in every system are bad.
inline Batch make_batch(int children) {
  Batch b;
  const std::string header =
      "処理番号,版,異動区分,発生日,世帯番号,宛名番号,氏名,氏名カナ,生年月日,性別,続柄,区コード,"
      "住所,担当CW,備考\r\n";
  const int pa_files = 4;
  for (int f = 0; f < pa_files; ++f) {
    std::string csv = header;
    for (int i = f; i < children; i += pa_files) {
      const Child c = child(i);
      char ref[32];
      std::snprintf(ref, sizeof ref, "PA2019%09d", i * 2);
      csv += std::string(ref) + ",1,01,H31.04.01,5" + c.rid.substr(3) + "," + c.rid +
             ",試験　花子,ｼｹﾝ ﾊﾅｺ," + (i % 50 == 7 ? std::string("H99.99.99") : c.birth_era_pa) +
             ",2,子," + c.ward + ",札幌市,CW0001,\r\n";
      if (i % 3 == 0) {
        std::snprintf(ref, sizeof ref, "PA2019%09d", i * 2 + 1);
        csv += std::string(ref) + ",1,05,H31.04.10,5" + c.rid.substr(3) + "," + c.rid +
               ",試験　花子,ｼｹﾝ ﾊﾅｺ," + c.birth_era_pa + ",2,子," + c.ward + ",札幌市,CW0001,\r\n";
      }
    }
    const std::string name = "PA_EVENTS_2019040" + std::to_string(f + 1) + ".csv";
    b.bytes[name] = cp932(csv);
    b.phase1.emplace_back("public_assistance", name);
  }
  // Health centre: a missed check-up for every fourth child.
  for (int f = 0; f < 2; ++f) {
    std::string xml =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<HealthCentreExport "
        "xmlns=\"urn:sapporo:health-centre:export:1\" created=\"2019-05-01T00:00:00+09:00\">\n";
    for (int i = f * 4; i < children; i += 8) {
      const Child c = child(i);
      const bool bad = i % 40 == 4;  // a document without a birth time
      xml +=
          R"(<ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><id root="urn:sapporo:health-centre:record" extension="HC-)" +
          c.rid +
          R"("/><versionNumber value="1"/><code code="INFANT_CHECKUP"/><effectiveTime value="20190501"/><recordTarget><patientRole><id root="urn:sapporo:resident-id" extension=")" +
          c.rid +
          R"("/><patient><name use="IDE"><family>試験</family><given>花子</given></name><name use="SYL"><family>シケン</family><given>ハナコ</given></name><administrativeGenderCode code="2"/>)" +
          (bad ? std::string() : "<birthTime value=\"" + c.birth_compact + "\"/>") +
          R"(</patient><providerOrganization><id root="urn:sapporo:ward" extension=")" + c.ward +
          R"("/></providerOrganization></patientRole></recordTarget><component><structuredBody><component><section><entry><observation classCode="OBS" moodCode="EVN"><code code="CHECKUP_TYPE"/><value xsi:type="CD" code="18M"/></observation></entry><entry><observation classCode="OBS" moodCode="EVN"><code code="RESULT"/><value xsi:type="CD" code="MISSED"/></observation></entry></section></component></structuredBody></component></ClinicalDocument>)" +
          "\n";
    }
    xml += "</HealthCentreExport>\n";
    const std::string name = "HC_2019050" + std::to_string(f + 1) + ".xml";
    b.bytes[name] = xml;
    b.phase2.emplace_back("health_centre", name);
  }
  // Child guidance: a report about every fifth child (each starts a 48-hour clock that has long
  // run out, so it fires at the next tick).
  for (int f = 0; f < 2; ++f) {
    std::string ndjson;
    for (int i = f * 5; i < children; i += 10) {
      const Child c = child(i);
      ndjson +=
          R"({"event_id": "CG-)" + c.rid +
          R"(", "revision": 1, "type": "report_received", "occurred_at": "2019-05-10T21:30:00+09:00", "child": {"resident_id": ")" +
          c.rid + R"(", "name": "試験 花子", "name_kana": "シケン ハナコ", "birth_date": ")" +
          c.birth_iso + R"(", "sex": "F"}, "ward_code": ")" +
          (i % 50 == 15 ? std::string("99999") : c.ward) + R"(", "risk_level": "B"})" + "\n";
    }
    const std::string name = "CG_2019051" + std::to_string(f) + ".ndjson";
    b.bytes[name] = ndjson;
    b.phase2.emplace_back("child_guidance", name);
  }
  // Schools: a prolonged absence for every sixth child.
  {
    std::string dat;
    for (int i = 0; i < children; i += 6) {
      const Child c = child(i);
      char ref[16];
      std::snprintf(ref, sizeof ref, "ED%010d", i);
      std::string record = "01" + std::string(ref) + "01" + "5010520" + c.rid +
                           pad(cp932("試験　花子"), 30) + pad(cp932("ｼｹﾝ ﾊﾅｺ"), 30) +
                           (i % 60 == 30 ? std::string("9999999") : c.birth_era_ed) + "2" +
                           "100201" + c.ward + "015" + pad("", 85);
      dat += record + "\r\n";
    }
    b.bytes["ED_20190520.dat"] = dat;
    b.phase2.emplace_back("education", "ED_20190520.dat");
  }
  return b;
}

// How an instance is set up; the defaults are the crash harness's single instance on SQLite.
struct InstanceOptions {
  std::string name = "integration-test";  // <instance><name>
  std::string postgres;                   // a conninfo: the store on PostgreSQL, not DATA/store.db
  fs::path outgoing;                      // the spool channel's directory; empty: DIR/outgoing
  int batch_size = 50;                    // <spool><batch-size>
  int lease_ms = 1000;                    // <delivery><lease-ms>
  bool https = false;  // an HTTPS listener on 127.0.0.1, any free port (DATA/run/https.port)
};

// One instance: its directory, config (the shipped routing files, with the liaisons' routes also
// sent to the spool and webhook channels) and webhook receiver.
class Instance {
 public:
  explicit Instance(const fs::path& tls, InstanceOptions options = {})
      : options_(std::move(options)), receiver_(tls) {
    const fs::path shipped = kSourceDir / "config";
    for (const char* f : {"policies.xml", "roster.xml", "holidays.xml"}) {
      fs::copy_file(shipped / f, dir_ / f);
    }
    std::string routes = read_file(shipped / "routes.xml");
    const std::string from = R"(<recipient role="liaison"/>)";
    const std::string to = R"(<recipient role="liaison" channels="inbox files hook"/>)";
    for (auto at = routes.find(from); at != std::string::npos; at = routes.find(from, at)) {
      routes.replace(at, from.size(), to);
    }
    dir_.write("routes.xml", routes);
    if (options_.outgoing.empty()) options_.outgoing = dir_ / "outgoing";
    fs::create_directories(options_.outgoing);
    const std::string systems = R"(
    <health_centre><adapter>health_centre</adapter><mapping>health_centre.xml</mapping></health_centre>
    <education><adapter>education</adapter><mapping>education.xml</mapping></education>
    <child_guidance><adapter>child_guidance</adapter><mapping>child_guidance.xml</mapping></child_guidance>)";
    std::string extra =
        "<routing><tick-interval-ms>100</tick-interval-ms></routing>"
        "<delivery><workers>2</workers><backoff-initial-ms>50</backoff-initial-ms>"
        "<backoff-max-ms>500</backoff-max-ms><lease-ms>" +
        std::to_string(options_.lease_ms) +
        "</lease-ms>"
        "<poll-interval-ms>50</poll-interval-ms><max-attempts>1000</max-attempts><channels>"
        "<files><plugin>spool</plugin><settings><directory>" +
        options_.outgoing.string() +
        "</directory></settings></files>"
        "<hook><plugin>webhook</plugin><settings><url>" +
        receiver_.url() + "</url><certificate>" + (tls / "clients" / "tsunagu_hub.crt").string() +
        "</certificate><private_key>" + (tls / "clients" / "tsunagu_hub.key").string() +
        "</private_key><ca>" + (tls / "ca.crt").string() +
        "</ca><timeout_ms>5000</timeout_ms></settings></hook></channels></delivery>";
    if (!options_.postgres.empty()) {
      extra += "<store><backend>postgresql</backend><postgresql><conninfo>" + options_.postgres +
               "</conninfo></postgresql></store>";
    } else {
      // The log is copied into the database at every MiB instead of 256, so that kills also land
      // while the checkpointer's thread copies it, flushes the file or holds the writers' turn.
      extra += "<store><sqlite><checkpoint-mb>1</checkpoint-mb></sqlite></store>";
    }
    if (options_.https) {
      fs::create_directories(data() / "tls");
      for (const char* f : {"server.crt", "server.key", "ca.crt"}) {
        fs::copy_file(tls / f, data() / "tls" / f);
      }
      extra += "<http><bind>127.0.0.1</bind><port>0</port></http>";
    }
    config_ = write_test_config(dir_, options_.batch_size, systems, extra);
    std::string text = read_file(config_);
    const std::string name = "<name>integration-test</name>";
    text.replace(text.find(name), name.size(), "<name>" + options_.name + "</name>");
    dir_.write("tsunagu.xml", text);
  }

  fs::path data() const { return dir_ / "data"; }
  const fs::path& config() const { return config_; }
  const fs::path& outgoing() const { return options_.outgoing; }
  const TempDir& dir() const { return dir_; }
  Receiver& receiver() { return receiver_; }

  bool file_done(const std::string& system, const std::string& name) const {
    const fs::path spool = data() / "spool" / system;
    return fs::exists(spool / "done" / name) || fs::exists(spool / "failed" / name);
  }

  std::unique_ptr<tsunagu::store::Store> store() const {
    if (!options_.postgres.empty()) return tsunagu::store::Store::open_postgres(options_.postgres);
    return tsunagu::store::Store::open_sqlite(data() / "store.db", {});
  }

 private:
  InstanceOptions options_;
  TempDir dir_;
  Receiver receiver_;
  fs::path config_;
};

inline std::int64_t scalar(tsunagu::store::Store& s, const std::string& sql) {
  auto q = s.query(sql);
  q.next();
  return q.integer(0);
}

// Nothing left to do: every outbox row settled and no clock waiting to fire.
inline bool quiet(tsunagu::store::Store& s) {
  return scalar(s, "SELECT COUNT(*) FROM outbox WHERE status = 'pending'") == 0 &&
         scalar(s, "SELECT COUNT(*) FROM routing_timers WHERE status = 'running'") == 0;
}

// The outcome to compare between runs.
struct Outcome {
  std::map<std::string, std::int64_t> events, quarantined;  // by system
  std::multiset<std::string> notices;  // "type rule role ward source:ref" (combined: no record)
};

inline Outcome outcome_of(tsunagu::store::Store& s) {
  Outcome o;
  {
    auto q = s.query("SELECT source, COUNT(*) FROM events GROUP BY source");
    while (q.next()) o.events[q.text(0)] = q.integer(1);
  }
  {
    auto q = s.query("SELECT system, COUNT(*) FROM quarantine GROUP BY system");
    while (q.next()) o.quarantined[q.text(0)] = q.integer(1);
  }
  auto q = s.query(
      "SELECT n.type, n.rule_id, n.recipient_role, n.recipient_ward, e.source, e.source_ref "
      "FROM notices n JOIN events e ON e.id = n.event_id");
  while (q.next()) {
    const bool combined = q.text(0) == "combined";
    o.notices.insert(q.text(0) + " " + q.text(1) + " " + q.text(2) + " " + q.text(3) +
                     (combined ? std::string() : " " + q.text(4) + ":" + q.text(5)));
  }
  return o;
}

// Drops the phase's files and runs the daemon until they are done — killing it with SIGKILL at
// random moments while `kills` lasts.
inline void run_phase(Instance& in, const Batch& b, const Files& files, int& kills,
                      std::mt19937& random, int& restarts) {
  for (const auto& [system, name] : files) {
    drop_into_spool(in.data() / "spool" / system, name, b.bytes.at(name));
  }
  auto all_done = [&] {
    for (const auto& [system, name] : files) {
      if (!in.file_done(system, name)) return false;
    }
    return true;
  };
  while (true) {
    Daemon daemon(in.config(), in.data());
    daemon.start();
    ++restarts;
    if (kills > 0) {
      std::uniform_int_distribution<int> ms(30, 700);
      std::this_thread::sleep_for(std::chrono::milliseconds(ms(random)));
      daemon.kill9();
      --kills;
      continue;
    }
    ASSERT_TRUE(wait_until(all_done, std::chrono::minutes(20))) << "the phase never finished";
    ASSERT_TRUE(daemon.wait_ready());
    EXPECT_EQ(daemon.terminate(), 0);
    return;
  }
}

// The batch through one instance in two phases (public assistance first: it makes the welfare
// facts the other systems' records are routed by), killed `kills` times at seeded moments.
inline void run(Instance& in, const Batch& b, int kills, unsigned seed) {
  std::mt19937 random(seed);
  int restarts = 0;
  const int first = kills / 2;
  int phase_kills = first;
  run_phase(in, b, b.phase1, phase_kills, random, restarts);
  phase_kills = kills - first;
  run_phase(in, b, b.phase2, phase_kills, random, restarts);
  // Let deliveries and timers settle, then once more killed mid-way and restarted.
  Daemon daemon(in.config(), in.data());
  daemon.start();
  auto s = in.store();
  ASSERT_TRUE(wait_until([&] { return quiet(*s); }, std::chrono::minutes(20)))
      << "deliveries or timers never settled";
  ASSERT_TRUE(daemon.wait_ready());
  EXPECT_EQ(daemon.terminate(), 0);
}

// The end state of a disturbed run (`got`) against the reference's — nothing lost, nothing twice:
//   - every input record is an event or in quarantine (per input), at least `min_inputs` inputs;
//   - the events and quarantine per system, and the notices, equal the reference's;
//   - every notice delivered once per channel: every outbox row delivered and none orphaned, one
//     spool file per spool delivery in `outgoing`, and the webhook receivers together saw
//     exactly the webhook deliveries' keys (`received_keys`).
inline void expect_same_end_state(tsunagu::store::Store& got, tsunagu::store::Store& reference,
                                  const fs::path& outgoing,
                                  const std::set<std::string>& received_keys, int min_inputs = 9) {
  {
    auto q =
        got.query("SELECT origin, status, records, events, duplicates, quarantined FROM inputs");
    int inputs = 0;
    while (q.next()) {
      ++inputs;
      EXPECT_EQ(q.text(1), "done") << q.text(0);
      EXPECT_EQ(q.integer(2), q.integer(3) + q.integer(4) + q.integer(5)) << q.text(0);
    }
    EXPECT_GE(inputs, min_inputs);
  }
  const Outcome expected = outcome_of(reference);
  const Outcome outcome = outcome_of(got);
  EXPECT_EQ(outcome.events, expected.events);
  EXPECT_EQ(outcome.quarantined, expected.quarantined);
  for (const char* system : {"public_assistance", "health_centre", "child_guidance", "education"}) {
    EXPECT_GT(expected.events.count(system) ? expected.events.at(system) : 0, 0) << system;
    EXPECT_GT(expected.quarantined.count(system) ? expected.quarantined.at(system) : 0, 0)
        << system;
  }
  // Every event routed once: the same notices, none twice.
  EXPECT_GT(expected.notices.size(), 100u);
  EXPECT_EQ(outcome.notices, expected.notices);

  // Every notice delivered once per channel.
  EXPECT_EQ(scalar(got, "SELECT COUNT(*) FROM outbox WHERE status <> 'delivered'"), 0);
  EXPECT_EQ(scalar(got,
                   "SELECT COUNT(*) FROM outbox o LEFT JOIN notices n ON n.id = "
                   "o.notice_id WHERE n.id IS NULL"),
            0);
  const std::int64_t files = scalar(got, "SELECT COUNT(*) FROM outbox WHERE channel = 'files'");
  const std::int64_t hooks = scalar(got, "SELECT COUNT(*) FROM outbox WHERE channel = 'hook'");
  EXPECT_GT(files, 0);
  EXPECT_EQ(hooks, files);
  // One outbox row per liaison notice recipient and channel.
  EXPECT_EQ(files, scalar(reference, "SELECT COUNT(*) FROM outbox WHERE channel = 'files'"));
  std::size_t spooled = 0;
  for (const auto& f : fs::directory_iterator(outgoing)) {
    EXPECT_EQ(f.path().filename().string().front() == '.', false) << "a temporary file was left";
    spooled += f.is_regular_file() ? 1 : 0;
  }
  EXPECT_EQ(static_cast<std::int64_t>(spooled), files);
  std::set<std::string> outbox_keys;
  {
    auto q = got.query("SELECT id FROM outbox WHERE channel = 'hook'");
    while (q.next()) outbox_keys.insert(q.text(0));
  }
  EXPECT_EQ(received_keys, outbox_keys);  // each notice seen by a receiver that honours the key
}

inline std::set<std::string> keys_of(const std::vector<Received>& received) {
  std::set<std::string> keys;
  for (const auto& r : received) keys.insert(r.idempotency_key);
  return keys;
}

// `tsunagu audit verify` with the instance's config (its store, its keys/) passes.
inline void expect_audit_verifies(const Instance& in) {
  std::string out;
  EXPECT_EQ(run_cli({"--config", in.config().string(), "--data-dir", in.data().string(), "audit",
                     "verify"},
                    out),
            0)
      << out;
}

}  // namespace tsunagu_test::chaos
