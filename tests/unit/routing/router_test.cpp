// The router over a real store with a small routing configuration built in code: routing to the
// ward's officer with only the policy's fields, withheld decisions, revisions and re-sends,
// escalation by day and after hours, the 48-hour timer (across a restart, fired once, stopped by
// a safety confirmation), combined concerns, and a move between wards.
#include "routing/router.hpp"

#include <gtest/gtest.h>

#include "audit/audit_log.hpp"
#include "identity/person_master.hpp"
#include "routing/calendar.hpp"
#include "store/prepared.hpp"
#include "support/temp_dir.hpp"
#include "support/test_store.hpp"

namespace {

using namespace tsunagu;
using namespace tsunagu::routing;
using namespace std::chrono_literals;

WeeklySlot slot(std::set<int> days, int from, int to, bool holidays = false,
                bool not_on_holidays = false) {
  WeeklySlot s;
  s.weekdays = std::move(days);
  s.from_minute = from;
  s.to_minute = to;
  s.holidays = holidays;
  s.not_on_holidays = not_on_holidays;
  return s;
}

Officer officer(const std::string& id, const std::string& role, const std::string& ward,
                std::vector<WeeklySlot> duty = {}) {
  Officer o;
  o.id = id;
  o.name = id;
  o.role = role;
  o.ward = ward;
  o.duty = std::move(duty);
  return o;
}

Deadline deadline(const char* iso, Deadline::Clock clock) {
  auto d = parse_duration(iso);
  EXPECT_TRUE(d.has_value()) << iso;
  d->clock = clock;
  return *d;
}

std::shared_ptr<const RoutingConfig> test_config() {
  auto c = std::make_shared<RoutingConfig>();
  c->roster.wards = {{"01101", "中央区"}, {"01103", "東区"}};
  c->roster.roles = {"liaison", "coordinator", "pa_section_chief", "cg_caseworker", "cg_emergency"};
  const int open = 8 * 60 + 45, close = 17 * 60 + 15;
  c->roster.office_hours = {slot({1, 2, 3, 4, 5}, open, close, false, true)};
  c->roster.officers = {
      officer("liaison-chuo", "liaison", "01101"),
      officer("liaison-higashi", "liaison", "01103"),
      officer("coord-higashi", "coordinator", "01103"),
      officer("chief-chuo", "pa_section_chief", "01101"),
      officer("cg-worker", "cg_caseworker", ""),
      officer("cge-day", "cg_emergency", "", {slot({1, 2, 3, 4, 5}, open, close, false, true)}),
      officer("cge-night", "cg_emergency", "",
              {slot({0, 1, 2, 3, 4, 5, 6}, close, open), slot({}, 0, 1440, true)}),
  };
  c->holidays.by_date = {{"2019-05-03", "憲法記念日"}, {"2019-05-06", "振替休日"}};

  Policy liaison;
  liaison.id = "p_liaison";
  liaison.legal_basis = {"児童福祉法25条の3", "児童福祉法第25条の3"};
  liaison.sources = {"health_centre", "public_assistance", "child_guidance"};
  liaison.kinds = {"infant_checkup.*", "home_visit.*", "cg.report_received", "welfare.*"};
  liaison.roles = {"liaison", "coordinator", "pa_section_chief", "cg_caseworker", "cg_emergency"};
  liaison.fields = {"kind",
                    "occurred_at",
                    "source",
                    "subject.name",
                    "subject.name_kana",
                    "subject.age_months",
                    "subject.ward_code",
                    "attributes.checkup_type"};
  Policy narrow;
  narrow.id = "p_narrow";
  narrow.legal_basis = {"x", "y"};
  narrow.sources = {"health_centre"};
  narrow.kinds = {"infant_checkup.concern"};
  narrow.roles = {"liaison"};
  narrow.fields = {"kind", "occurred_at"};
  c->policies = {liaison, narrow};

  Route missed;
  missed.id = "r_missed";
  missed.title = "乳幼児健診未受診";
  missed.policy = "p_liaison";
  missed.match.kinds = {"infant_checkup.missed"};
  missed.match.on_public_assistance = true;
  missed.recipients = {{"liaison", "", {"inbox"}}};
  missed.deadline = deadline("P1D", Deadline::Clock::office_hours);
  missed.escalation = {{"coordinator", "pa_section_chief", {}}, {"pa_section_chief", "", {}}};
  missed.fields = {"subject.name", "kind", "occurred_at", "attributes.checkup_type"};
  missed.reason = "{ward}の生活保護世帯の子どもが{kind}です。";
  Route psych;
  psych.id = "r_psych";
  psych.title = "精神保健相談";
  psych.policy = "p_liaison";
  psych.match.kinds = {"psych_consult.opened"};
  psych.recipients = {{"liaison", "", {}}};
  psych.fields = {"subject.name"};
  psych.reason = "相談";
  Route concern;
  concern.id = "r_concern";
  concern.title = "健診で要フォロー";
  concern.policy = "p_narrow";
  concern.match.kinds = {"infant_checkup.concern"};
  concern.recipients = {{"liaison", "", {}}};
  concern.fields = {"kind", "occurred_at"};
  concern.reason = "要フォロー";
  Route unreachable;  // a wall-clock deadline, which can run out at night
  unreachable.id = "r_unreachable";
  unreachable.title = "家庭訪問で会えず";
  unreachable.policy = "p_liaison";
  unreachable.match.kinds = {"home_visit.unreachable"};
  unreachable.match.on_public_assistance = true;
  unreachable.recipients = {{"liaison", "", {}}};
  unreachable.deadline = deadline("PT2H", Deadline::Clock::wall);
  unreachable.escalation = {{"coordinator", "pa_section_chief", {}}};
  unreachable.fields = {"subject.name", "kind"};
  unreachable.reason = "会えませんでした。";
  c->routes = {missed, psych, concern, unreachable};

  TimerRule t;
  t.id = "safety_48h";
  t.title = "48時間以内の安全確認なし";
  t.policy = "p_liaison";
  t.start_kind = "cg.report_received";
  t.stop_kind = "cg.safety_confirmed";
  t.duration = deadline("PT48H", Deadline::Clock::wall);
  t.recipient = {"cg_emergency", "", {}};
  t.deadline = deadline("PT2H", Deadline::Clock::wall);
  t.fields = {"subject.name", "kind", "occurred_at"};
  t.reason = "通告から48時間以内に安全確認の記録がありません。";
  c->timers = {t};

  CorrelationRule combined;
  combined.id = "combined_concern";
  combined.title = "複数機関からの懸念";
  combined.policy = "p_liaison";
  combined.kinds = {"infant_checkup.missed", "home_visit.unreachable",
                    "welfare.visit_child_not_seen", "cg.report_received"};
  combined.recipients = {{"liaison", "", {}}, {"cg_caseworker", "", {}}};
  combined.deadline = deadline("P1D", Deadline::Clock::office_hours);
  combined.fields = {"subject.name", "kind", "occurred_at"};
  combined.reason = "{kinds}が重なっています。";
  c->correlations = {combined};
  c->kind_labels = {{"infant_checkup.missed", "乳幼児健診未受診"},
                    {"welfare.visit_child_not_seen", "訪問時児童未確認"}};
  return c;
}

CaseEvent event(const std::string& source, const std::string& ref, const std::string& kind,
                const std::string& occurred_at, const std::string& ward) {
  CaseEvent e;
  e.source = source;
  e.source_ref = ref;
  e.source_version = 1;
  e.kind = kind;
  e.occurred_at = occurred_at;
  e.subject.resident_id = "0001234567";
  e.subject.name = "山田　ことり";
  e.subject.name_kana = "ヤマダ　コトリ";
  e.subject.birth_date = "2017-03-10";
  e.subject.sex = "F";
  e.subject.ward_code = ward;
  e.subject.address = "札幌市東区北1条東1丁目";
  return e;
}

// The same child in another system's records under another 宛名番号 (a data-entry error): the
// same kana and birth date, so the person master opens a review instead of linking.
CaseEvent other_record(const std::string& source, const std::string& ref, const std::string& kind,
                       const std::string& occurred_at, const std::string& ward) {
  CaseEvent e = event(source, ref, kind, occurred_at, ward);
  e.subject.resident_id = "0007654321";
  return e;
}

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override { open(); }

  void open() {
    store_ = tsunagu_test::open_test_store(dir_ / "store.db", {});
    store_->set_keyring(keyring_);
    audit_ = std::make_unique<audit::AuditLog>(*store_);
  }

  // Stores, links and routes an event in one transaction, as ingest does. False: a duplicate.
  bool ingest(CaseEvent e) {
    store::Transaction tx(*store_);
    if (input_ == 0) input_ = store_->open_input("test", "t", "digest", 0);
    std::string subject;
    if (!store_->insert_event(e, input_, ++record_, "raw", &subject)) return false;
    identity::PersonMaster master(*store_, *audit_);
    auto link = master.link(e, subject, "test");
    Router(config_, *store_, *audit_, clock_).on_event(e, subject, link);
    tx.commit();
    last_event_ = e.id;
    return true;
  }

  void on_welfare(const std::string& ward, const std::string& at = "2018-06-01T09:00:00+09:00") {
    ASSERT_TRUE(ingest(event("public_assistance", "PA-1", "welfare.member_added", at, ward)));
  }

  std::size_t tick() { return Router(config_, *store_, *audit_, clock_).tick(); }

  // Links the open review's subject to its candidate, as `tsunagu identity review link` does.
  identity::Merge merge_review() {
    identity::PersonMaster master(*store_, *audit_);
    const auto open = master.reviews(true);
    EXPECT_FALSE(open.empty());
    identity::Merge merged;
    if (open.empty()) return merged;
    master.decide(open.front().id, true, "user:tanaka", [&](const identity::Merge& m) {
      merged = m;
      Router(config_, *store_, *audit_, clock_).on_merged(m);
    });
    return merged;
  }

  std::vector<Notice> notices(const std::string& officer = "") {
    NoticeStore s(*store_, *audit_, clock_);
    NoticeFilter f;
    f.officer = officer;
    return s.list(f);
  }

  std::optional<Notice> notice(const std::string& id) {
    return NoticeStore(*store_, *audit_, clock_).get(id, true);
  }

  std::vector<RoutingDecision> decisions(const std::string& event_id) {
    return NoticeStore(*store_, *audit_, clock_).decisions(event_id);
  }

  std::int64_t audit_count(const std::string& type) {
    auto q = store_->query("SELECT COUNT(*) FROM audit_entries WHERE type = ?");
    q.bind(type);
    q.next();
    return q.integer(0);
  }

  tsunagu_test::TempDir dir_;
  std::shared_ptr<const security::Keyring> keyring_ =
      std::make_shared<const security::Keyring>(security::DataKey::generate());
  std::shared_ptr<const RoutingConfig> config_ = test_config();
  ManualClock clock_{parse_iso("2019-01-07T10:00:00+09:00")};  // a Monday
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<audit::AuditLog> audit_;
  std::int64_t input_ = 0;
  std::int64_t record_ = 0;
  std::string last_event_;
};

TEST_F(RouterTest, RoutesToTheWardLiaisonWithOnlyThePolicysFields) {
  on_welfare("01103");
  auto missed =
      event("health_centre", "HC-1", "infant_checkup.missed", "2019-01-05T10:00:00+09:00", "01103");
  missed.attributes["checkup_type"] = "FOLLOWUP";
  missed.attributes["note"] = "自由記述";
  ASSERT_TRUE(ingest(missed));

  auto list = notices("liaison-higashi");
  ASSERT_EQ(list.size(), 1u);
  auto n = notice(list[0].id);
  EXPECT_EQ(n->rule_id, "r_missed");
  EXPECT_EQ(n->policy_id, "p_liaison");
  EXPECT_EQ(n->recipient_ward, "01103");
  EXPECT_EQ(n->reason, "東区の生活保護世帯の子どもが乳幼児健診未受診です。");
  ASSERT_TRUE(n->fields_readable);
  std::map<std::string, std::string> expected{{"subject.name", "山田　ことり"},
                                              {"kind", "infant_checkup.missed"},
                                              {"occurred_at", "2019-01-05T10:00:00+09:00"},
                                              {"attributes.checkup_type", "FOLLOWUP"}};
  EXPECT_EQ(n->fields, expected);  // no address, no note, no 宛名番号
  // One office day after Monday 10:00.
  EXPECT_EQ(format_jst(from_unix(n->due_at)), "2019-01-08T10:00:00+09:00");
  ASSERT_GE(n->history.size(), 2u);
  EXPECT_EQ(n->history[0].action, "created");
  EXPECT_EQ(n->history[1].action, "delivered");
  EXPECT_EQ(audit_count("routing.routed"), 1);
  EXPECT_TRUE(notices("liaison-chuo").empty());
}

TEST_F(RouterTest, DoesNotRouteAChildOutsideAWelfareHousehold) {
  ASSERT_TRUE(ingest(event("health_centre", "HC-1", "infant_checkup.missed",
                           "2019-01-05T10:00:00+09:00", "01103")));
  EXPECT_TRUE(notices().empty());
  EXPECT_TRUE(decisions(last_event_).empty());
}

TEST_F(RouterTest, WithholdsWhatThePolicyDoesNotCoverAndSaysWhy) {
  on_welfare("01103");
  ASSERT_TRUE(ingest(event("health_centre", "HC-2", "psych_consult.opened",
                           "2019-01-05T10:00:00+09:00", "01103")));
  EXPECT_TRUE(notices().empty());
  auto d = decisions(last_event_);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].outcome, "withheld");
  EXPECT_EQ(d[0].rule_id, "r_psych");
  EXPECT_NE(d[0].reason.find("psych_consult.opened"), std::string::npos) << d[0].reason;
  EXPECT_EQ(audit_count("routing.withheld"), 1);
}

TEST_F(RouterTest, WithholdsWhenTheAllowedFieldsIdentifyNobody) {
  ASSERT_TRUE(ingest(event("health_centre", "HC-3", "infant_checkup.concern",
                           "2019-01-05T10:00:00+09:00", "01103")));
  EXPECT_TRUE(notices().empty());
  auto d = decisions(last_event_);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].outcome, "withheld");
  EXPECT_NE(d[0].reason.find("特定できません"), std::string::npos) << d[0].reason;
}

TEST_F(RouterTest, ARevisionUpdatesItsNoticeAndAReSendAddsNothing) {
  on_welfare("01103");
  auto missed =
      event("health_centre", "HC-1", "infant_checkup.missed", "2019-01-05T10:00:00+09:00", "01103");
  ASSERT_TRUE(ingest(missed));
  EXPECT_FALSE(ingest(missed));  // the same record again: a duplicate, not routed again
  missed.source_version = 2;
  missed.attributes["checkup_type"] = "18M";
  ASSERT_TRUE(ingest(missed));
  auto list = notices();
  ASSERT_EQ(list.size(), 1u);
  auto n = notice(list[0].id);
  EXPECT_EQ(n->fields.at("attributes.checkup_type"), "18M");
  EXPECT_EQ(n->history.back().action, "updated");
  EXPECT_EQ(audit_count("routing.routed"), 1);
  EXPECT_EQ(audit_count("notice.updated"), 1);
}

TEST_F(RouterTest, EscalatesAlongTheChainInOfficeHours) {
  on_welfare("01103");
  ASSERT_TRUE(ingest(event("health_centre", "HC-1", "infant_checkup.missed",
                           "2019-01-05T10:00:00+09:00", "01103")));
  const std::string id = notices()[0].id;
  clock_.set(parse_iso("2019-01-08T09:59:00+09:00"));
  EXPECT_EQ(tick(), 0u);
  clock_.set(parse_iso("2019-01-08T10:00:30+09:00"));
  EXPECT_EQ(tick(), 1u);
  auto coord = notices("coord-higashi");
  ASSERT_EQ(coord.size(), 1u);
  EXPECT_EQ(coord[0].type, "escalation");
  EXPECT_EQ(coord[0].parent_id, id);
  EXPECT_EQ(notice(id)->escalation_level, 1);
  EXPECT_EQ(tick(), 0u);  // nothing twice
  // The next step's deadline: one office day later, Wednesday 10:00:30.
  clock_.set(parse_iso("2019-01-09T10:01:00+09:00"));
  EXPECT_EQ(tick(), 1u);
  EXPECT_EQ(notices("coord-higashi").size(), 1u);
  // 東区 has no section chief in this roster, and the chain's last step names no fallback: the
  // step is withheld as unreachable and recorded.
  EXPECT_EQ(notice(id)->history.back().action, "withheld_step");
  EXPECT_EQ(audit_count("notice.escalated"), 1);
}

TEST_F(RouterTest, ADeadlineRunningOutAfterHoursGoesToTheEmergencyTeamOnDuty) {
  on_welfare("01103");
  clock_.set(parse_iso("2019-01-07T16:30:00+09:00"));  // Monday afternoon: due 18:30
  ASSERT_TRUE(ingest(event("health_centre", "HC-5", "home_visit.unreachable",
                           "2019-01-07T15:00:00+09:00", "01103")));
  const std::string id = notices("liaison-higashi")[0].id;
  clock_.set(parse_iso("2019-01-07T18:31:00+09:00"));
  EXPECT_EQ(tick(), 1u);
  auto night = notices("cge-night");
  ASSERT_EQ(night.size(), 1u);
  EXPECT_EQ(night[0].parent_id, id);
  EXPECT_NE(night[0].reason.find("時間外・休日"), std::string::npos) << night[0].reason;
  EXPECT_TRUE(notices("coord-higashi").empty());
  EXPECT_TRUE(notices("cge-day").empty());
}

TEST_F(RouterTest, AnEscalationGoesByTheChannelsItsStepNames) {
  auto c = std::make_shared<RoutingConfig>(*config_);
  c->routes[0].escalation[0].channels = {"inbox", "mail"};
  c->routes[3].escalation[0].channels = {"webhook"};
  config_ = c;
  on_welfare("01103");
  ASSERT_TRUE(ingest(event("health_centre", "HC-1", "infant_checkup.missed",
                           "2019-01-05T10:00:00+09:00", "01103")));
  clock_.set(parse_iso("2019-01-07T16:30:00+09:00"));  // Monday afternoon: due 18:30
  ASSERT_TRUE(ingest(event("health_centre", "HC-5", "home_visit.unreachable",
                           "2019-01-07T15:00:00+09:00", "01103")));
  auto deliveries = [&](const std::string& officer) {
    std::vector<std::string> out;
    auto q = store_->query(
        "SELECT o.channel FROM outbox o JOIN notices n ON n.id = o.notice_id WHERE o.recipient = "
        "? AND n.type = 'escalation' ORDER BY o.channel");
    q.bind(officer);
    while (q.next()) out.push_back(q.text(0));
    return out;
  };
  EXPECT_TRUE(deliveries("coord-higashi").empty());
  // After hours the step's channels go with the escalation to the emergency officer on duty.
  clock_.set(parse_iso("2019-01-07T18:31:00+09:00"));
  EXPECT_EQ(tick(), 1u);
  EXPECT_EQ(deliveries("cge-night"), std::vector<std::string>{"webhook"});
  // In office hours, to the coordinator: the inbox and mail.
  clock_.set(parse_iso("2019-01-08T10:00:30+09:00"));
  EXPECT_EQ(tick(), 1u);
  EXPECT_EQ(deliveries("coord-higashi"), std::vector<std::string>{"mail"});
  auto coord = notices("coord-higashi");
  ASSERT_EQ(coord.size(), 1u);
  auto n = notice(coord[0].id);
  EXPECT_EQ(n->channels, (std::vector<std::string>{"inbox", "mail"}));
}

TEST_F(RouterTest, AnAcknowledgedNoticeDoesNotEscalate) {
  on_welfare("01103");
  ASSERT_TRUE(ingest(event("health_centre", "HC-1", "infant_checkup.missed",
                           "2019-01-05T10:00:00+09:00", "01103")));
  const std::string id = notices()[0].id;
  NoticeStore(*store_, *audit_, clock_).acknowledge(id, "user:liaison-higashi", "家庭訪問を予定");
  clock_.set(parse_iso("2019-01-09T10:00:00+09:00"));
  EXPECT_EQ(tick(), 0u);
  auto n = notice(id);
  EXPECT_EQ(n->status, "acknowledged");
  EXPECT_EQ(n->history.back().note, "家庭訪問を予定");
  EXPECT_EQ(audit_count("notice.acknowledged"), 1);
}

TEST_F(RouterTest, TheSafetyTimerFiresOnceAcrossARestartToWhoeverIsOnDuty) {
  on_welfare("01101");
  // A report on a holiday night (憲法記念日).
  clock_.set(parse_iso("2019-05-03T22:00:00+09:00"));
  ASSERT_TRUE(ingest(
      event("child_guidance", "CG-1", "cg.report_received", "2019-05-03T22:00:00+09:00", "01101")));
  EXPECT_EQ(audit_count("timer.started"), 1);
  clock_.set(parse_iso("2019-05-05T21:59:00+09:00"));
  EXPECT_EQ(tick(), 0u);

  // Restart: a new store session, a new router.
  audit_.reset();
  store_.reset();
  open();
  clock_.set(parse_iso("2019-05-05T22:00:05+09:00"));
  EXPECT_EQ(tick(), 1u);
  EXPECT_EQ(tick(), 0u);
  auto night = notices("cge-night");
  ASSERT_EQ(night.size(), 1u);
  EXPECT_EQ(night[0].type, "timer");
  EXPECT_TRUE(notices("cge-day").empty());
  EXPECT_EQ(audit_count("timer.fired"), 1);
  // And again after another restart.
  audit_.reset();
  store_.reset();
  open();
  clock_.advance(24h);
  tick();
  EXPECT_EQ(notices("cge-night").size(), 1u);
  EXPECT_EQ(audit_count("timer.fired"), 1);
}

TEST_F(RouterTest, ABacklogOfTimersFiresInGroupsAndAFailingOneKeepsThoseBeforeIt) {
  on_welfare("01101");
  clock_.set(parse_iso("2019-05-08T10:00:00+09:00"));
  constexpr int kReports = 150;  // more than one group (at most 64 per transaction)
  for (int i = 1; i <= kReports; ++i) {
    ASSERT_TRUE(ingest(event("child_guidance", "CG-" + std::to_string(i), "cg.report_received",
                             "2019-05-08T10:00:00+09:00", "01101")));
  }
  ASSERT_EQ(audit_count("timer.started"), kReports);
  // The 101st timer in the order tick() fires them cannot be fired: its UPDATE is refused.
  std::string failing;
  {
    auto q = store_->query("SELECT id FROM routing_timers ORDER BY due_at, id LIMIT 1 OFFSET 100");
    ASSERT_TRUE(q.next());
    failing = q.text(0);
  }
  if (tsunagu_test::store_on_postgres()) {
    store_
        ->query(
            "CREATE FUNCTION refuse_one() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "IF OLD.id = '" +
            failing +
            "' THEN RAISE EXCEPTION 'refused by the test'; "
            "END IF; RETURN NEW; END $$")
        .run();
    store_
        ->query(
            "CREATE TRIGGER refuse_one BEFORE UPDATE ON routing_timers FOR EACH ROW "
            "EXECUTE FUNCTION refuse_one()")
        .run();
  } else {
    store_
        ->query("CREATE TRIGGER refuse_one BEFORE UPDATE ON routing_timers WHEN OLD.id = '" +
                failing + "' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END")
        .run();
  }
  clock_.set(parse_iso("2019-05-10T10:00:01+09:00"));
  EXPECT_THROW(tick(), std::exception);
  auto fired = [&] {
    auto q = store_->query("SELECT COUNT(*) FROM routing_timers WHERE status = 'fired'");
    q.next();
    return q.integer(0);
  };
  // Every timer before the failing one fired and was committed, whichever group it was in.
  EXPECT_EQ(fired(), 100);
  EXPECT_EQ(audit_count("timer.fired"), 100);
  EXPECT_EQ(notices("cge-day").size() + notices("cge-night").size(), 100u);
  store_
      ->query(tsunagu_test::store_on_postgres() ? "DROP TRIGGER refuse_one ON routing_timers"
                                                : "DROP TRIGGER refuse_one")
      .run();
  EXPECT_EQ(tick(), static_cast<std::size_t>(kReports - 100));
  EXPECT_EQ(fired(), kReports);
  EXPECT_EQ(audit_count("timer.fired"), kReports);
  EXPECT_EQ(tick(), 0u);
}

TEST_F(RouterTest, ASafetyConfirmationStopsTheTimer) {
  on_welfare("01101");
  ASSERT_TRUE(ingest(
      event("child_guidance", "CG-1", "cg.report_received", "2019-05-08T10:00:00+09:00", "01101")));
  ASSERT_TRUE(ingest(event("child_guidance", "CG-2", "cg.safety_confirmed",
                           "2019-05-09T15:00:00+09:00", "01101")));
  EXPECT_EQ(audit_count("timer.stopped"), 1);
  clock_.set(parse_iso("2019-05-12T00:00:00+09:00"));
  EXPECT_EQ(tick(), 0u);
  EXPECT_TRUE(notices("cge-night").empty());
}

TEST_F(RouterTest, SignalsFromTwoSystemsMakeOneCombinedNoticeThatLaterSignalsUpdate) {
  on_welfare("01103");
  ASSERT_TRUE(ingest(event("health_centre", "HC-1", "infant_checkup.missed",
                           "2019-01-05T10:00:00+09:00", "01103")));
  EXPECT_TRUE(notices("cg-worker").empty());  // one system only
  ASSERT_TRUE(ingest(event("public_assistance", "PA-9", "welfare.visit_child_not_seen",
                           "2019-02-20T10:00:00+09:00", "01103")));
  auto cg = notices("cg-worker");
  ASSERT_EQ(cg.size(), 1u);
  EXPECT_EQ(cg[0].type, "combined");
  EXPECT_EQ(cg[0].reason, "乳幼児健診未受診、訪問時児童未確認が重なっています。");
  auto n = notice(cg[0].id);
  EXPECT_NE(n->fields.at("signals").find("2019-01-05"), std::string::npos);
  ASSERT_TRUE(ingest(event("health_centre", "HC-4", "home_visit.unreachable",
                           "2019-03-01T10:00:00+09:00", "01103")));
  EXPECT_EQ(notices("cg-worker").size(), 1u);
  EXPECT_EQ(notice(cg[0].id)->history.back().action, "updated");
  // The liaison has the two routes' notices and one combined notice.
  int combined = 0;
  for (const auto& m : notices("liaison-higashi")) combined += m.type == "combined" ? 1 : 0;
  EXPECT_EQ(combined, 1);
  EXPECT_EQ(notices("liaison-higashi").size(), 3u);
}

TEST_F(RouterTest, AMoveHandsOpenNoticesOverAndTellsBothLiaisons) {
  on_welfare("01103");
  ASSERT_TRUE(ingest(event("health_centre", "HC-1", "infant_checkup.missed",
                           "2019-01-05T10:00:00+09:00", "01103")));
  const std::string id = notices("liaison-higashi")[0].id;
  auto moved = event("public_assistance", "PA-2", "welfare.address_changed",
                     "2019-03-10T10:00:00+09:00", "01101");
  ASSERT_TRUE(ingest(moved));
  auto n = notice(id);
  EXPECT_EQ(n->recipient_ward, "01101");
  EXPECT_EQ(n->recipients, std::vector<std::string>{"liaison-chuo"});
  bool handed = false;
  for (const auto& h : n->history) handed = handed || h.action == "handed_over";
  EXPECT_TRUE(handed);
  // The notice is in the new liaison's inbox and no longer in the old one's.
  auto has = [&](const char* officer) {
    for (const auto& m : notices(officer)) {
      if (m.id == id) return true;
    }
    return false;
  };
  EXPECT_TRUE(has("liaison-chuo"));
  EXPECT_FALSE(has("liaison-higashi"));
  // Each liaison gets a hand-over notice.
  int told = 0;
  for (const auto& who : {"liaison-higashi", "liaison-chuo"}) {
    for (const auto& m : notices(who)) told += m.type == "handover" ? 1 : 0;
  }
  EXPECT_EQ(told, 2);
  EXPECT_EQ(audit_count("notice.handed_over"), 1);
}

TEST_F(RouterTest, AMergeRoutesWhatOnlyBothRecordsTogetherSay) {
  on_welfare("01103");
  ASSERT_TRUE(ingest(event("public_assistance", "PA-9", "welfare.visit_child_not_seen",
                           "2019-01-04T10:00:00+09:00", "01103")));
  // The missed check-up is about a child the person master cannot yet tell is the same: no
  // welfare household known for it, one system's signal each.
  auto missed = other_record("health_centre", "HC-1", "infant_checkup.missed",
                             "2019-01-05T10:00:00+09:00", "01103");
  missed.attributes["checkup_type"] = "4M";
  ASSERT_TRUE(ingest(missed));
  missed.source_version = 2;  // a revision: the merge routes this version, not the first
  missed.attributes["checkup_type"] = "18M";
  ASSERT_TRUE(ingest(missed));
  const std::string missed_event = last_event_;
  EXPECT_TRUE(notices("liaison-higashi").empty());
  EXPECT_TRUE(notices("cg-worker").empty());

  const identity::Merge m = merge_review();
  ASSERT_FALSE(m.from_person.empty());
  EXPECT_TRUE(m.facts.on_public_assistance);
  // The route that needs the welfare household now reaches the ward's liaison, and the two
  // systems' signals make a combined concern for the liaison and the child guidance centre.
  std::map<std::string, int> by_type;
  for (const auto& n : notices("liaison-higashi")) ++by_type[n.type];
  EXPECT_EQ(by_type, (std::map<std::string, int>{{"combined", 1}, {"route", 1}}));
  ASSERT_EQ(notices("cg-worker").size(), 1u);
  EXPECT_EQ(notices("cg-worker")[0].type, "combined");
  bool routed = false;
  for (const auto& d : decisions(missed_event)) routed = routed || d.outcome == "routed";
  EXPECT_TRUE(routed);
  for (const auto& n : notices("liaison-higashi")) {
    if (n.type == "route") {
      EXPECT_EQ(notice(n.id)->fields.at("attributes.checkup_type"), "18M");
    }
  }
  // The liaison is told why a check-up of last week reaches her only now.
  for (const auto& n : notices("liaison-higashi")) {
    EXPECT_NE(n.reason.find("照合確認で別々の記録が同じ子どものものと確認された"),
              std::string::npos)
        << n.reason;
  }
  EXPECT_EQ(audit_count("routing.reevaluated"), 1);
  const auto routed_before = audit_count("routing.routed");
  EXPECT_EQ(routed_before, 3);  // the route, and the combined concern to two roles

  // Routing the same merge again tells nobody anything twice.
  {
    store::Transaction tx(*store_);
    Router(config_, *store_, *audit_, clock_).on_merged(m);
    tx.commit();
  }
  EXPECT_EQ(notices("liaison-higashi").size(), 2u);
  EXPECT_EQ(notices("cg-worker").size(), 1u);
  EXPECT_EQ(audit_count("routing.routed"), routed_before);
}

TEST_F(RouterTest, AMergeStopsATimerTheOtherRecordStartedAndHandsItsNoticesOver) {
  on_welfare("01103");
  // The other record: a welfare household in 中央区, a missed check-up routed to that ward's
  // liaison, and a report to the child guidance centre that starts the 48-hour clock.
  ASSERT_TRUE(ingest(other_record("public_assistance", "PA-7", "welfare.member_added",
                                  "2018-12-01T09:00:00+09:00", "01101")));
  ASSERT_TRUE(ingest(other_record("health_centre", "HC-1", "infant_checkup.missed",
                                  "2019-01-05T10:00:00+09:00", "01101")));
  ASSERT_TRUE(ingest(other_record("child_guidance", "CG-1", "cg.report_received",
                                  "2019-01-05T12:00:00+09:00", "01101")));
  ASSERT_EQ(notices("liaison-chuo").size(), 2u);  // the route and a combined concern
  const std::string chuo_route = notices("liaison-chuo")[0].type == "route"
                                     ? notices("liaison-chuo")[0].id
                                     : notices("liaison-chuo")[1].id;
  // The safety confirmation the child guidance centre recorded under the first 宛名番号, in 東区.
  ASSERT_TRUE(ingest(event("child_guidance", "CG-2", "cg.safety_confirmed",
                           "2019-01-06T10:00:00+09:00", "01103")));
  EXPECT_EQ(audit_count("timer.stopped"), 0);  // another person, as far as anyone knew

  const identity::Merge m = merge_review();
  EXPECT_EQ(m.facts.ward_code, "01103");
  EXPECT_EQ(audit_count("timer.stopped"), 1);
  clock_.set(parse_iso("2019-01-09T10:00:00+09:00"));
  tick();
  EXPECT_EQ(audit_count("timer.fired"), 0);
  // The other record's open notices follow the child to 東区, and both liaisons are told.
  auto n = notice(chuo_route);
  EXPECT_EQ(n->recipient_ward, "01103");
  EXPECT_EQ(n->recipients, std::vector<std::string>{"liaison-higashi"});
  EXPECT_EQ(n->person_id, m.into_person);
  int told = 0;
  for (const auto& who : {"liaison-higashi", "liaison-chuo"}) {
    for (const auto& x : notices(who)) told += x.type == "handover" ? 1 : 0;
  }
  EXPECT_EQ(told, 2);
  for (const auto& x : notices("liaison-chuo")) EXPECT_EQ(x.type, "handover");
}

}  // namespace

namespace {

TEST(NoticeFieldsTest, WrittenAsJsonTheyReadBackTheSame) {
  const std::map<std::string, std::string> fields = {
      {"name", "山田　花子"},
      {"reason", "「訪問時児童未確認」\n2019-01-05 \"quoted\" \\ back\tslash"},
      {"control", std::string("a\x01z", 3)},
      {"empty", ""},
  };
  const std::string json = NoticeStore::fields_to_json(fields);
  EXPECT_EQ(json.front(), '{');
  EXPECT_NE(json.find("\"name\":\"山田　花子\""), std::string::npos) << json;  // UTF-8 as it is
  EXPECT_EQ(NoticeStore::fields_from_json(json), fields);
  EXPECT_EQ(NoticeStore::fields_to_json({}), "{}");
  EXPECT_TRUE(NoticeStore::fields_from_json("{}").empty());
}

}  // namespace
