// The pattern of the 2019 Sapporo case, replayed across all four systems through the real hub
// (the real plugins, the real mappings, the shipped config/policies.xml, roster.xml,
// holidays.xml and routes.xml), with the hub's clock moved by the test:
//
//   a young mother and her daughter in a welfare household in 東区; the mother becomes a
//   特定妊婦 (specified expectant mother); the girl's 18-month check-up flags a concern, the
//   follow-up check-up is missed, the health centre's home visits find nobody, the caseworker
//   does not see the child; the family moves from 東区 to 中央区; three reports reach the child
//   guidance centre — one on a holiday night — and no safety confirmation follows any of them.
//
// Every notice is checked: recipients, deadline, escalation, hand-over, and that its fields are
// within its policy's allow-list. Re-sent files add nothing. The exchange log verifies.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "codec/cp932.hpp"
#include "config/hub_config.hpp"
#include "hub/hub.hpp"
#include "routing/calendar.hpp"
#include "routing/notice_store.hpp"
#include "routing/router.hpp"
#include "store/prepared.hpp"
#include "support/daemon.hpp"
#include "support/test_store.hpp"

namespace {

using namespace tsunagu_test;
using namespace tsunagu;
using routing::format_jst;
using routing::from_unix;
using routing::Notice;
using routing::parse_iso;
namespace fs = std::filesystem;

std::string cp932(const std::string& utf8) {
  codec::Cp932Encoder encoder;
  std::string out, error;
  if (!encoder.encode(utf8, out, error)) throw std::runtime_error(error);
  return out;
}

const char* kPaHeader =
    "処理番号,版,異動区分,発生日,世帯番号,宛名番号,氏名,氏名カナ,生年月日,性別,続柄,区コード,"
    "住所,担当CW,備考\r\n";

// One public-assistance row about the mother (M) or the girl (C).
std::string pa_row(const std::string& ref, const std::string& code, const std::string& date,
                   char who, const std::string& ward, const std::string& address) {
  const bool mother = who == 'M';
  return ref + ",1," + code + "," + date + ",40000001," +
         (mother ? "0077000001,山田　美咲,ﾔﾏﾀﾞ ﾐｻｷ,H12.02.14,2,世帯主,"
                 : "0077000002,山田　ことり,ﾔﾏﾀﾞ ｺﾄﾘ,H29.03.10,2,子,") +
         ward + "," + address + ",CW0301,\r\n";
}

// One health-centre CDA document; `observations` are (code, value code) pairs.
std::string hc_document(const std::string& id, const std::string& doc_code, const std::string& date,
                        char who, const std::string& ward,
                        const std::vector<std::pair<std::string, std::string>>& observations) {
  const bool mother = who == 'M';
  std::string obs;
  for (const auto& [code, value] : observations) {
    obs += R"(<entry><observation classCode="OBS" moodCode="EVN"><code code=")" + code +
           R"("/><value xsi:type="CD" code=")" + value + R"("/></observation></entry>)";
  }
  return R"(<ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
    <id root="urn:sapporo:health-centre:record" extension=")" +
         id + R"("/>
    <versionNumber value="1"/>
    <code code=")" +
         doc_code + R"(" codeSystem="urn:sapporo:health-centre:doc-type"/>
    <effectiveTime value=")" +
         date + R"("/>
    <recordTarget><patientRole>
      <id root="urn:sapporo:resident-id" extension=")" +
         (mother ? "0077000001" : "0077000002") + R"("/>
      <addr><streetAddressLine>札幌市東区北10条東7丁目</streetAddressLine></addr>
      <patient>
        <name use="IDE"><family>山田</family><given>)" +
         (mother ? "美咲" : "ことり") + R"(</given></name>
        <name use="SYL"><family>ヤマダ</family><given>)" +
         (mother ? "ミサキ" : "コトリ") + R"(</given></name>
        <administrativeGenderCode code="2"/>
        <birthTime value=")" +
         (mother ? "20000214" : "20170310") + R"("/>
      </patient>
      <providerOrganization><id root="urn:sapporo:ward" extension=")" +
         ward + R"("/></providerOrganization>
    </patientRole></recordTarget>
    <component><structuredBody><component><section>)" +
         obs + R"(</section></component></structuredBody></component>
  </ClinicalDocument>)";
}

std::string hc_export(const std::string& document) {
  return R"(<?xml version="1.0" encoding="UTF-8"?>
<HealthCentreExport xmlns="urn:sapporo:health-centre:export:1" created="2019-01-01T00:00:00+09:00">
  )" + document +
         "\n</HealthCentreExport>\n";
}

std::string cg_report(const std::string& id, const std::string& at, const std::string& ward) {
  return R"({"event_id": ")" + id +
         R"(", "revision": 1, "type": "report_received", "occurred_at": ")" + at +
         R"(", "child": {"resident_id": null, "name": "山田 ことり", "name_kana": "ヤマダ コトリ", "birth_date": "2017-03-10", "sex": "F"}, "ward_code": ")" +
         ward +
         R"(", "risk_level": "B", "report_source": "近隣住民", "address": "札幌市中央区南8条西10丁目", "note": "夜間に泣き声"})" +
         "\n";
}

class Scenario2019 : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string systems = R"(
    <health_centre><adapter>health_centre</adapter><mapping>health_centre.xml</mapping></health_centre>
    <education><adapter>education</adapter><mapping>education.xml</mapping></education>
    <child_guidance><adapter>child_guidance</adapter><mapping>child_guidance.xml</mapping></child_guidance>)";
    const std::string routing = shipped_routing_config();
    // On PostgreSQL (pg.Scenario2019) the file names the database, so the CLI runs below use it
    // too.
    std::string store;
    if (tsunagu_test::store_on_postgres()) {
      store = "<store><backend>postgresql</backend><postgresql><conninfo>" +
              tsunagu_test::test_postgres_database(
                  tsunagu_test::test_database_name(dir_ / "data" / "store.db")) +
              "</conninfo></postgresql></store>";
    }
    config_file_ = write_test_config(dir_, 50, systems, routing + store);
    config::LoadOptions options;
    options.executable_dir = kBinDir;
    config_ = config::load(config_file_, options);
    ASSERT_EQ(config_.store_backend, tsunagu_test::store_on_postgres() ? "postgresql" : "sqlite");
    hub_ = std::make_unique<Hub>(config_, clock_);
    hub_->start();
    store_ = open_store(config_);
    audit_ = std::make_unique<audit::AuditLog>(*store_);
  }

  void TearDown() override {
    audit_.reset();
    store_.reset();
    if (hub_) hub_->stop();
  }

  // Sets the clock, drops a file into a system's spool and waits until the hub has taken it.
  void deliver(const std::string& at, const std::string& system, const std::string& name,
               const std::string& bytes) {
    clock_.set(parse_iso(at));
    drop_into_spool(config_.spool_dir(system), name, bytes);
    ASSERT_TRUE(wait_until([&] { return fs::exists(config_.spool_dir(system) / "done" / name); }))
        << system << "/" << name;
  }

  std::size_t tick_at(const std::string& at) {
    clock_.set(parse_iso(at));
    return hub_->tick_routing();
  }

  routing::NoticeStore notices() { return routing::NoticeStore(*store_, *audit_, clock_); }

  std::vector<Notice> all() {
    routing::NoticeFilter f;
    f.limit = 1000;
    return notices().list(f);
  }

  // The notices of one rule and type addressed to `officer`.
  std::vector<Notice> to(const std::string& officer, const std::string& rule,
                         const std::string& type = "") {
    routing::NoticeFilter f;
    f.officer = officer;
    std::vector<Notice> out;
    for (auto& n : notices().list(f)) {
      if (n.rule_id == rule && (type.empty() || n.type == type)) out.push_back(std::move(n));
    }
    return out;
  }

  std::string due(const Notice& n) { return format_jst(from_unix(n.due_at)); }

  // The officer takes up every open escalation of `rule` addressed to them (which ends that
  // chain); returns how many.
  std::size_t take_up(const std::string& officer, const std::string& rule) {
    std::size_t n = 0;
    for (const auto& e : to(officer, rule, "escalation")) {
      if (e.status != "open") continue;
      notices().acknowledge(e.id, "user:" + officer, "対応します");
      ++n;
    }
    return n;
  }

  TempDir dir_;
  fs::path config_file_;
  config::HubConfig config_;
  ManualClock clock_;
  std::unique_ptr<Hub> hub_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<audit::AuditLog> audit_;
};

const std::vector<std::string> kHigashiLiaisons{"higashi-liaison-1", "higashi-liaison-2"};
const std::vector<std::string> kChuoLiaisons{"chuo-liaison-1", "chuo-liaison-2"};

TEST_F(Scenario2019, EveryNoticeRecipientDeadlineEscalationAndHandOver) {
  // 1. 2018-04-02 (Mon): public assistance opens the household in 東区, mother and daughter.
  deliver(
      "2018-04-02T10:00:00+09:00", "public_assistance", "PA_EVENTS_20180402.csv",
      cp932(std::string(kPaHeader) +
            pa_row("PA2018040200001", "01", "H30.04.02", 'M', "01103", "札幌市東区北10条東7丁目") +
            pa_row("PA2018040200002", "03", "H30.04.02", 'C', "01103", "札幌市東区北10条東7丁目")));
  EXPECT_TRUE(all().empty());

  // 2. 2018-05-07 (Mon): the health centre registers the mother as a 特定妊婦 → 東区's liaisons,
  //    two office days; she acknowledges.
  deliver("2018-05-07T10:00:00+09:00", "health_centre", "HC_20180507.xml",
          hc_export(hc_document("HC-2018-1001", "SPECIFIED_EXPECTANT_MOTHER", "20180507", 'M',
                                "01103", {})));
  auto sem = to("higashi-liaison-1", "pa_specified_expectant_mother");
  ASSERT_EQ(sem.size(), 1u);
  EXPECT_EQ(sem[0].recipients, kHigashiLiaisons);
  EXPECT_EQ(due(sem[0]), "2018-05-09T10:00:00+09:00");
  notices().acknowledge(sem[0].id, "user:higashi-liaison-1", "保健師と同行訪問を予定");

  // 3. 2018-09-20 (Thu): the 18-month check-up flags a concern → 東区's liaisons; acknowledged.
  deliver("2018-09-20T10:00:00+09:00", "health_centre", "HC_20180920.xml",
          hc_export(hc_document("HC-2018-2001", "INFANT_CHECKUP", "20180920", 'C', "01103",
                                {{"CHECKUP_TYPE", "18M"}, {"RESULT", "CONCERN"}})));
  auto concern = to("higashi-liaison-2", "pa_checkup_concern");
  ASSERT_EQ(concern.size(), 1u);
  EXPECT_EQ(due(concern[0]), "2018-09-21T10:00:00+09:00");
  notices().acknowledge(concern[0].id, "user:higashi-liaison-2", "再健診の案内を確認");

  // 4. 2018-12-19 (Wed): the follow-up check-up is missed → 東区's liaisons, one office day.
  //    Nobody acknowledges: the next morning it escalates to 東区's 支援調整課.
  deliver("2018-12-19T10:00:00+09:00", "health_centre", "HC_20181219.xml",
          hc_export(hc_document("HC-2018-3001", "INFANT_CHECKUP", "20181219", 'C', "01103",
                                {{"CHECKUP_TYPE", "FOLLOWUP"}, {"RESULT", "MISSED"}})));
  auto missed = to("higashi-liaison-1", "pa_checkup_missed");
  ASSERT_EQ(missed.size(), 1u);
  EXPECT_EQ(due(missed[0]), "2018-12-20T10:00:00+09:00");
  EXPECT_EQ(tick_at("2018-12-20T09:59:00+09:00"), 0u);
  EXPECT_EQ(tick_at("2018-12-20T10:00:30+09:00"), 1u);
  auto escalated = to("higashi-coordinator-1", "pa_checkup_missed", "escalation");
  ASSERT_EQ(escalated.size(), 1u);
  EXPECT_EQ(escalated[0].parent_id, missed[0].id);
  EXPECT_EQ(escalated[0].title.rfind("【期限超過】", 0), 0u);
  EXPECT_EQ(take_up("higashi-coordinator-1", "pa_checkup_missed"), 1u);
  EXPECT_EQ(tick_at("2018-12-21T10:01:00+09:00"), 0u);  // taken up: the chain stops

  // 5. 2019-01-16 (Wed): the health centre's home visit finds nobody → 東区's liaisons. Two
  //    concern kinds now, but from one system: no combined notice yet.
  deliver("2019-01-16T10:00:00+09:00", "health_centre", "HC_20190116.xml",
          hc_export(hc_document("HC-2019-0101", "HOME_VISIT", "20190116", 'C', "01103",
                                {{"RESULT", "UNREACHABLE"}})));
  auto unreachable = to("higashi-liaison-1", "pa_home_visit_unreachable");
  ASSERT_EQ(unreachable.size(), 1u);
  EXPECT_TRUE(to("cg-caseworker-1", "combined_concern").empty());
  notices().acknowledge(unreachable[0].id, "user:higashi-liaison-1", "CWに確認を依頼");

  // 6. 2019-02-13 (Wed): the caseworker does not see the child → 東区's liaisons; a second system
  //    → one combined concern to the liaisons and the child guidance centre's caseworkers.
  deliver("2019-02-13T11:00:00+09:00", "public_assistance", "PA_EVENTS_20190213.csv",
          cp932(std::string(kPaHeader) + pa_row("PA2019021300001", "05", "H31.02.13", 'C', "01103",
                                                "札幌市東区北10条東7丁目")));
  auto not_seen = to("higashi-liaison-1", "pa_visit_child_not_seen");
  ASSERT_EQ(not_seen.size(), 1u);
  notices().acknowledge(not_seen[0].id, "user:higashi-liaison-2", "次回訪問で確認");
  auto combined_cg = to("cg-caseworker-1", "combined_concern");
  ASSERT_EQ(combined_cg.size(), 1u);
  EXPECT_EQ(combined_cg[0].recipients,
            (std::vector<std::string>{"cg-caseworker-1", "cg-caseworker-2", "cg-caseworker-3"}));
  auto combined_liaison = to("higashi-liaison-1", "combined_concern");
  ASSERT_EQ(combined_liaison.size(), 1u);
  auto detail = notices().get(combined_liaison[0].id, true);
  EXPECT_NE(detail->reason.find("乳幼児健診の未受診"), std::string::npos) << detail->reason;
  EXPECT_NE(detail->fields.at("signals").find("2019-02-13"), std::string::npos);
  // Both take it up — and still nobody sees the child.
  notices().acknowledge(combined_liaison[0].id, "user:higashi-liaison-1", "要対協で共有予定");
  notices().acknowledge(combined_cg[0].id, "user:cg-caseworker-1", "情報として把握");

  // 7. 2019-03-01 (Fri): the family moves to 中央区. Every open notice about the girl (and the
  //    mother's acknowledged one) goes to 中央区; the coordinator's escalation goes to 中央区's
  //    保護課長 (中央区 has no 支援調整課); both wards' liaisons are told.
  deliver(
      "2019-03-01T10:00:00+09:00", "public_assistance", "PA_EVENTS_20190301.csv",
      cp932(
          std::string(kPaHeader) +
          pa_row("PA2019030100001", "06", "H31.03.01", 'M', "01101", "札幌市中央区南8条西10丁目") +
          pa_row("PA2019030100002", "06", "H31.03.01", 'C', "01101", "札幌市中央区南8条西10丁目")));
  for (const auto& id : {missed[0].id, combined_liaison[0].id, sem[0].id}) {
    auto n = notices().get(id, true);
    EXPECT_EQ(n->recipient_ward, "01101") << n->rule_id;
    EXPECT_EQ(n->recipients, kChuoLiaisons) << n->rule_id;
    EXPECT_EQ(n->history.back().action, "handed_over") << n->rule_id;
  }
  auto moved_escalation = notices().get(escalated[0].id, false);
  EXPECT_EQ(moved_escalation->recipients, std::vector<std::string>{"chuo-pa-chief"});
  EXPECT_EQ(notices().get(combined_cg[0].id, false)->recipient_ward, "01101");
  EXPECT_EQ(to("higashi-liaison-1", "handover", "handover").size(), 2u);  // the girl, the mother
  EXPECT_EQ(to("chuo-liaison-1", "handover", "handover").size(), 2u);
  EXPECT_TRUE(to("chuo-liaison-0", "handover").empty());  // transferred away: inactive
  // Each hand-over notice has the channels, deadline and escalation chain of the first notice
  // handed over (the girl's: one office day; the mother's: two). 東区's liaison acknowledges
  // both; 中央区's are left unread and go to its 保護課長 when their deadlines pass.
  for (const auto& h : to("higashi-liaison-1", "handover", "handover")) {
    EXPECT_EQ(h.channels, notices().get(h.parent_id, false)->channels);
    notices().acknowledge(h.id, "user:higashi-liaison-1", "引継ぎを確認");
  }
  auto told = to("chuo-liaison-1", "handover", "handover");
  ASSERT_EQ(told.size(), 2u);
  std::set<std::string> told_due;
  for (const auto& h : told) {
    told_due.insert(due(h));
    EXPECT_EQ(h.next_escalation_at, h.due_at);
  }
  EXPECT_EQ(told_due,
            (std::set<std::string>{"2019-03-04T10:00:00+09:00", "2019-03-05T10:00:00+09:00"}));
  EXPECT_EQ(tick_at("2019-03-04T09:59:59+09:00"), 0u);
  EXPECT_EQ(tick_at("2019-03-04T10:00:01+09:00"), 1u);
  EXPECT_EQ(take_up("chuo-pa-chief", "handover"), 1u);
  EXPECT_EQ(tick_at("2019-03-05T10:00:01+09:00"), 1u);
  EXPECT_EQ(take_up("chuo-pa-chief", "handover"), 1u);

  // 8. 2019-04-05 (Fri) 15:00: the first report to the child guidance centre → 中央区's liaisons
  //    (four office hours: Monday 10:30); the 48-hour clock starts; the combined concern is
  //    updated with a third system, not repeated.
  deliver("2019-04-05T15:00:00+09:00", "child_guidance", "CG_20190405.ndjson",
          cg_report("CG-2019-0405", "2019-04-05T15:00:00+09:00", "01101"));
  auto report1 = to("chuo-liaison-1", "pa_cg_report");
  ASSERT_EQ(report1.size(), 1u);
  EXPECT_EQ(due(report1[0]), "2019-04-08T10:30:00+09:00");
  EXPECT_EQ(to("chuo-liaison-1", "combined_concern").size(), 1u);
  // A new signal reopens the acknowledged combined concern, with a new deadline.
  for (const auto& id : {combined_liaison[0].id, combined_cg[0].id}) {
    auto n = notices().get(id, true);
    EXPECT_EQ(n->status, "open");
    EXPECT_EQ(n->history.back().action, "reopened");
    EXPECT_EQ(due(*n), "2019-04-08T10:30:00+09:00");
  }
  // No safety confirmation: Sunday 15:00 the weekend emergency officer is told.
  EXPECT_EQ(tick_at("2019-04-07T14:59:00+09:00"), 0u);
  EXPECT_EQ(tick_at("2019-04-07T15:00:10+09:00"), 1u);
  auto timer1 = to("cg-emergency-weekend", "safety_confirmation_48h", "timer");
  ASSERT_EQ(timer1.size(), 1u);
  EXPECT_EQ(timer1[0].recipients, std::vector<std::string>{"cg-emergency-weekend"});
  EXPECT_EQ(due(timer1[0]), "2019-04-07T16:00:10+09:00");  // one hour, wall clock
  // Not acknowledged within the hour: the section chief on call.
  EXPECT_EQ(tick_at("2019-04-07T16:01:00+09:00"), 1u);
  EXPECT_EQ(take_up("cg-section-chief", "safety_confirmation_48h"), 1u);
  // Monday 10:30 passes with the liaison's notice and both combined notices unacknowledged:
  // 中央区 has no 支援調整課, so the report's first step falls back to its 保護課長, who is also
  // the combined concern's first step.
  EXPECT_EQ(tick_at("2019-04-08T10:31:00+09:00"), 3u);
  EXPECT_EQ(take_up("chuo-pa-chief", "pa_cg_report"), 1u);
  EXPECT_EQ(take_up("chuo-pa-chief", "combined_concern"), 2u);

  // 9. 2019-05-03 (Fri, 憲法記念日) 22:00: a second report, on a holiday night. Its clock runs
  //    out on Sunday 5 May (こどもの日) at 22:00: everyone on duty then is told.
  deliver("2019-05-03T22:00:00+09:00", "child_guidance", "CG_20190503.ndjson",
          cg_report("CG-2019-0503", "2019-05-03T22:00:00+09:00", "01101"));
  auto report2 = to("chuo-liaison-2", "pa_cg_report");
  ASSERT_EQ(report2.size(), 2u);
  // Golden Week: the office opens again on Tuesday 7 May.
  EXPECT_EQ(due(report2[1].created_at > report2[0].created_at ? report2[1] : report2[0]),
            "2019-05-07T12:45:00+09:00");
  EXPECT_EQ(tick_at("2019-05-05T21:59:59+09:00"), 0u);
  EXPECT_EQ(tick_at("2019-05-05T22:00:01+09:00"), 1u);
  std::vector<std::string> holiday_night;
  for (const auto& n : all()) {
    if (n.type == "timer" && n.created_at.rfind("2019-05-05T22", 0) == 0) {
      holiday_night = n.recipients;
    }
  }
  EXPECT_EQ(holiday_night, (std::vector<std::string>{"cg-emergency-night-1", "cg-emergency-weekend",
                                                     "cg-emergency-holiday"}));
  EXPECT_EQ(tick_at("2019-05-05T23:00:02+09:00"), 1u);  // the hour passes: the chief on call
  EXPECT_EQ(take_up("cg-section-chief", "safety_confirmation_48h"), 1u);
  EXPECT_EQ(tick_at("2019-05-07T12:46:00+09:00"), 1u);  // the liaisons' deadline after the holidays
  EXPECT_EQ(take_up("chuo-pa-chief", "pa_cg_report"), 1u);

  // 10. 2019-05-15 (Wed) 21:30: a third report; its clock runs out on Friday night.
  deliver("2019-05-15T21:30:00+09:00", "child_guidance", "CG_20190515.ndjson",
          cg_report("CG-2019-0515", "2019-05-15T21:30:00+09:00", "01101"));
  auto report3 = to("chuo-liaison-1", "pa_cg_report");
  ASSERT_EQ(report3.size(), 3u);
  EXPECT_EQ(tick_at("2019-05-16T12:46:00+09:00"), 1u);  // Thursday: four office hours from 08:45
  EXPECT_EQ(take_up("chuo-pa-chief", "pa_cg_report"), 1u);
  EXPECT_EQ(tick_at("2019-05-17T21:30:30+09:00"), 1u);
  EXPECT_EQ(to("cg-emergency-night-2", "safety_confirmation_48h", "timer").size(), 1u);
  // Three reports, three timers fired, none stopped: every one is in the log.
  {
    auto q = store_->query("SELECT COUNT(*) FROM audit_entries WHERE type = 'timer.fired'");
    q.next();
    EXPECT_EQ(q.integer(0), 3);
  }
  // A timer fires once: nothing more a day later.
  EXPECT_EQ(to("cg-emergency-weekend", "safety_confirmation_48h", "timer").size(), 2u);
  tick_at("2019-05-18T21:30:00+09:00");
  EXPECT_EQ(to("cg-emergency-night-2", "safety_confirmation_48h", "timer").size(), 1u);

  // 11. The same files again, under new names: nothing new.
  const std::size_t before = all().size();
  deliver("2019-05-20T10:00:00+09:00", "health_centre", "HC_20181219_resent.xml",
          hc_export(hc_document("HC-2018-3001", "INFANT_CHECKUP", "20181219", 'C', "01103",
                                {{"CHECKUP_TYPE", "FOLLOWUP"}, {"RESULT", "MISSED"}})));
  deliver("2019-05-20T10:00:00+09:00", "child_guidance", "CG_20190515_resent.ndjson",
          cg_report("CG-2019-0515", "2019-05-15T21:30:00+09:00", "01101"));
  EXPECT_EQ(all().size(), before);

  // Every notice carries only what its policy allows: never the address to a liaison, never the
  // 宛名番号, never the free-text note.
  const auto& rc = *hub_->routing();
  for (const auto& n : all()) {
    auto full = notices().get(n.id, true);
    ASSERT_TRUE(full->fields_readable) << n.id;
    const routing::Policy* policy = rc.policy(full->policy_id);
    ASSERT_NE(policy, nullptr) << full->policy_id;
    for (const auto& [field, value] : full->fields) {
      if (field == "signals") continue;  // the combined notice's list of kinds and dates
      EXPECT_EQ(policy->fields.count(field), 1u)
          << field << " in notice " << n.id << " (" << n.rule_id << ") under " << policy->id;
    }
    EXPECT_EQ(full->fields.count("subject.resident_id"), 0u);
    EXPECT_EQ(full->fields.count("attributes.note"), 0u);
    if (full->recipient_role == "liaison") {
      EXPECT_EQ(full->fields.count("subject.address"), 0u);
    }
  }

  // explain: which routes met the second report, and who received what.
  hub_->stop();
  std::string out;
  ASSERT_EQ(run_cli({"--config", config_file_.string(), "audit", "verify"}, out), 0) << out;
  std::string event_id;
  {
    auto q = store_->query("SELECT id FROM events WHERE source_ref = 'CG-2019-0503'");
    ASSERT_TRUE(q.next());
    event_id = q.text(0);
  }
  ASSERT_EQ(run_cli({"--config", config_file_.string(), "explain", event_id}, out), 0) << out;
  EXPECT_NE(out.find("routed  rule pa_cg_report"), std::string::npos) << out;
  EXPECT_NE(out.find("timer_started  rule safety_confirmation_48h"), std::string::npos) << out;
  EXPECT_NE(out.find("updated  rule combined_concern"), std::string::npos) << out;
}

TEST_F(Scenario2019, APsychiatricConsultationIsWithheldAndLogged) {
  deliver("2018-04-02T10:00:00+09:00", "public_assistance", "PA_EVENTS_20180402.csv",
          cp932(std::string(kPaHeader) + pa_row("PA2018040200001", "01", "H30.04.02", 'M', "01103",
                                                "札幌市東区北10条東7丁目")));
  deliver("2018-06-01T10:00:00+09:00", "health_centre", "HC_20180601.xml",
          hc_export(hc_document("HC-2018-5001", "PSYCH_CONSULT", "20180601", 'M', "01103", {})));
  EXPECT_TRUE(all().empty());
  auto q = store_->query(
      "SELECT COUNT(*) FROM routing_decisions WHERE outcome = 'withheld' AND rule_id = "
      "'pa_psych_consult'");
  q.next();
  EXPECT_EQ(q.integer(0), 1);
  auto a = store_->query("SELECT COUNT(*) FROM audit_entries WHERE type = 'routing.withheld'");
  a.next();
  EXPECT_EQ(a.integer(0), 1);
}

}  // namespace
