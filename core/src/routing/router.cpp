#include "routing/router.hpp"

#include <algorithm>
#include <chrono>
#include <set>
#include <stdexcept>
#include <thread>
#include <utility>

#include "routing/signal_window.hpp"
#include "store/prepared.hpp"

namespace tsunagu::routing {

std::int64_t to_unix(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

std::string delivery_id(const std::string& notice_id, const std::string& channel,
                        const std::string& officer) {
  return notice_id + "." + channel + "." + officer;
}

TimePoint from_unix(std::int64_t seconds) {
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(std::chrono::seconds(seconds)));
}

namespace {

const char* kHub = "hub";

bool identifying(const std::map<std::string, std::string>& fields) {
  for (const char* key : {"subject.name", "subject.name_kana", "subject.resident_id"}) {
    if (auto it = fields.find(key); it != fields.end() && !it->second.empty()) return true;
  }
  return false;
}

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
}

std::string describe(const std::string& role, const std::string& ward,
                     const std::vector<std::string>& officers) {
  return role + "@" + (ward.empty() ? "-" : ward) + " → " +
         (officers.empty() ? std::string("(nobody)") : join_ids(officers));
}

// Said after the reason of a notice raised or updated by on_merged, so that a liaison who gets a
// notice about an event of some weeks ago knows why it comes now.
constexpr const char* kRoutedAgain =
    "（照合確認で別々の記録が同じ子どものものと確認されたため、改めて判定しました。）";

}  // namespace

struct Router::Context {
  const CaseEvent* event = nullptr;  // null for notices raised from a stored notice
  std::string event_id;
  std::string subject_id;
  std::string person_id;
  std::string ward;
  identity::PersonFacts facts;
  TimePoint occurred{};
  std::string birth_date;
  std::optional<int> age_months;
  std::string kinds_text;  // correlation: the signals' labels
  // Routed again after a merge (on_merged): no timer is started, a route's notice raised before
  // is left as it is, and a withheld decision already recorded is not recorded again.
  bool again = false;
  std::string handover_key;  // the hand-over notices' dedupe key part; empty: the event id
};

struct Router::Delivery {
  std::string type;  // route | combined | timer
  std::string rule_id;
  const Policy* policy = nullptr;
  const Recipient* recipient = nullptr;
  const std::vector<std::string>* fields = nullptr;
  Deadline deadline;
  bool escalates = false;
  std::string title;
  std::string reason;
  std::string dedupe_key;  // empty: combined (the open notice of rule, role and person)
  std::map<std::string, std::string> extra_fields;
  bool by_duty = false;  // timer: whoever of the role is on duty now
};

namespace {

// The parts of a delivery every kind of rule (route, correlation, timer) gives the same way.
template <typename Rule>
Router::Delivery delivery_for(const char* type, const Rule& rule, const Policy* policy,
                              const Recipient& recipient, std::string reason) {
  Router::Delivery d;
  d.type = type;
  d.rule_id = rule.id;
  d.policy = policy;
  d.recipient = &recipient;
  d.fields = &rule.fields;
  d.deadline = rule.deadline;
  d.escalates = !rule.escalation.empty();
  d.title = rule.title;
  d.reason = std::move(reason);
  return d;
}

}  // namespace

Router::Router(std::shared_ptr<const RoutingConfig> config, store::Store& store,
               audit::AuditLog& audit, const Clock& clock)
    : config_(std::move(config)),
      store_(store),
      audit_(audit),
      clock_(clock),
      calendar_(config_->roster, config_->holidays),
      notices_(store, audit, clock) {}

Router::Context Router::context_of(const CaseEvent& event, const std::string& subject_id,
                                   const std::string& person_id,
                                   const identity::PersonFacts& facts) const {
  Context c;
  c.event = &event;
  c.event_id = event.id;
  c.subject_id = subject_id;
  c.person_id = person_id;
  c.facts = facts;
  c.ward = !facts.ward_code.empty() ? facts.ward_code : event.subject.ward_code;
  try {
    c.occurred = parse_iso(event.occurred_at);
  } catch (const std::exception&) {
    c.occurred = clock_.now();
  }
  c.birth_date = !event.subject.birth_date.empty() ? event.subject.birth_date : facts.birth_date;
  if (!c.birth_date.empty() && event.occurred_at.size() >= 10) {
    c.age_months = identity::age_in_months(c.birth_date, event.occurred_at.substr(0, 10));
  }
  return c;
}

void Router::on_event(const CaseEvent& event, const std::string& subject_id,
                      const identity::LinkResult& link) {
  const Context c = context_of(event, subject_id, link.person_id, link.facts);
  if (!link.facts_before.ward_code.empty() && !link.facts.ward_code.empty() &&
      link.facts_before.ward_code != link.facts.ward_code) {
    hand_over(c, link.facts_before.ward_code, link.facts.ward_code);
  }
  timers(c);
  for (const Route& r : config_->routes) {
    if (matches(r.match, c)) route(r, c);
  }
  correlate(c);
}

bool Router::matches(const Match& m, const Context& c) const {
  const CaseEvent& e = *c.event;
  if (!m.matches_kind(e.kind)) return false;
  if (!m.sources.empty() && m.sources.count(e.source) == 0) return false;
  if (m.on_public_assistance && *m.on_public_assistance != c.facts.on_public_assistance) {
    return false;
  }
  if (m.has_open_cg_case && *m.has_open_cg_case != c.facts.has_open_cg_case) return false;
  if (m.min_age_months || m.max_age_months) {
    if (!c.age_months) return false;
    if (m.min_age_months && *c.age_months < *m.min_age_months) return false;
    if (m.max_age_months && *c.age_months > *m.max_age_months) return false;
  }
  for (const auto& a : m.attributes) {
    auto it = e.attributes.find(a.name);
    if (it == e.attributes.end() || it->second.empty()) return false;
    if (!a.in.empty() && a.in.count(it->second) == 0) return false;
  }
  return true;
}

std::map<std::string, std::string> Router::minimise(const std::vector<std::string>& fields,
                                                    const Policy& policy, const Context& c) const {
  std::map<std::string, std::string> out;
  const CaseEvent& e = *c.event;
  for (const auto& f : fields) {
    if (policy.fields.count(f) == 0) continue;  // never past the allow-list
    std::string v;
    if (f == "kind") {
      v = e.kind;
    } else if (f == "occurred_at") {
      v = e.occurred_at;
    } else if (f == "source") {
      v = e.source;
    } else if (f == "source_ref") {
      v = e.source_ref;
    } else if (f == "subject.name") {
      v = e.subject.name;
    } else if (f == "subject.name_kana") {
      v = e.subject.name_kana;
    } else if (f == "subject.birth_date") {
      v = c.birth_date;
    } else if (f == "subject.age_months") {
      v = c.age_months ? std::to_string(*c.age_months) : std::string();
    } else if (f == "subject.sex") {
      v = e.subject.sex;
    } else if (f == "subject.address") {
      v = e.subject.address;
    } else if (f == "subject.resident_id") {
      v = e.subject.resident_id;
    } else if (f == "subject.ward_code") {
      v = c.ward;
    } else if (f == "household.role") {
      v = e.household.role;
    } else if (f.rfind("attributes.", 0) == 0) {
      if (auto it = e.attributes.find(f.substr(11)); it != e.attributes.end()) v = it->second;
    }
    if (!v.empty()) out[f] = v;
  }
  return out;
}

std::string Router::fill(const std::string& reason, const Context& c) const {
  std::string out = reason;
  if (c.event != nullptr) {
    replace_all(out, "{kind}", config_->kind_label(c.event->kind));
    replace_all(out, "{source}", config_->system_label(c.event->source));
  }
  const Ward* ward = config_->roster.ward(c.ward);
  replace_all(out, "{ward}", ward != nullptr ? ward->name : c.ward);
  replace_all(out, "{kinds}", c.kinds_text);
  return out;
}

Router::Resolved Router::resolve(const Recipient& recipient, const std::string& ward) const {
  auto ids = [](const std::vector<const Officer*>& officers) {
    std::vector<std::string> out;
    for (const Officer* o : officers) out.push_back(o->id);
    return out;
  };
  if (auto found = ids(config_->roster.serving(recipient.role, ward)); !found.empty()) {
    return {recipient.role, found, "ward"};
  }
  if (!recipient.fallback.empty()) {
    if (auto found = ids(config_->roster.serving(recipient.fallback, ward)); !found.empty()) {
      return {recipient.fallback, found, "fallback"};
    }
  }
  return {recipient.role, {}, "nobody"};
}

Router::Resolved Router::on_duty(const std::string& role, const std::string& ward,
                                 TimePoint at) const {
  std::vector<std::string> ids;
  for (const Officer* o : calendar_.on_duty(role, at)) ids.push_back(o->id);
  if (!ids.empty()) return {role, ids, "on duty"};
  Resolved team = resolve(Recipient{role, {}, {}}, ward);
  team.how = "team (nobody on duty)";
  return team;
}

void Router::withhold(const std::string& rule_id, const Policy* policy, const Context& c,
                      const std::string& recipient, const std::string& reason) {
  if (c.again) {
    auto q = store_.query(
        "SELECT 1 FROM routing_decisions WHERE event_id = ? AND rule_id = ? AND outcome = "
        "'withheld' AND recipient = ? AND reason = ?");
    q.bind(c.event_id).bind(rule_id).bind(recipient).bind(reason);
    if (q.next()) return;
  }
  notices_.add_decision({0, c.event_id, rule_id, "withheld", policy ? policy->id : "", recipient,
                         "", reason, format_jst(clock_.now())});
  audit_.append({audit::entry_type::kRoutingWithheld,
                 kHub,
                 c.subject_id,
                 {{"event_id", c.event_id},
                  {"rule", rule_id},
                  {"policy", policy ? policy->id : ""},
                  {"legal_basis", policy ? policy->legal_basis.code : ""},
                  {"recipient", recipient},
                  {"reason", reason}}});
}

std::string Router::insert_notice(const std::string& type, const std::string& dedupe_key,
                                  const std::string& rule_id, const Policy& policy,
                                  const Context& c, const Resolved& to,
                                  const std::vector<std::string>& channels,
                                  const std::string& title, const std::string& reason,
                                  const std::map<std::string, std::string>& fields,
                                  std::int64_t due_at, std::int64_t next_escalation_at,
                                  const std::string& parent_id, int escalation_level) {
  const std::string id = store::time_ordered_uuid();
  const std::string now = format_jst(clock_.now());
  const std::string sealed = store_.seal_for(c.subject_id, NoticeStore::fields_to_json(fields),
                                             NoticeStore::fields_ad(id));
  const std::string legal = policy.legal_basis.code + " " + policy.legal_basis.citation;
  const std::vector<std::string> chans =
      channels.empty() ? std::vector<std::string>{"inbox"} : channels;
  store_
      .query(
          "INSERT INTO notices (id, dedupe_key, type, rule_id, policy_id, legal_basis, person_id, "
          "event_id, subject_id, recipient_role, recipient_ward, recipients, channels, title, "
          "reason, fields, created_at, updated_at, due_at, status, escalation_level, "
          "next_escalation_at, parent_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
          "?, ?, ?, 'open', ?, ?, ?)")
      .bind(id)
      .bind(dedupe_key)
      .bind(type)
      .bind(rule_id)
      .bind(policy.id)
      .bind(legal)
      .bind(c.person_id)
      .bind(c.event_id)
      .bind(c.subject_id)
      .bind(to.role)
      .bind(c.ward)
      .bind("," + join_ids(to.officers) + ",")
      .bind(join_ids(chans))
      .bind(title)
      .bind(reason)
      .bind_blob(sealed)
      .bind(now)
      .bind(now)
      .bind(due_at)
      .bind(escalation_level)
      .bind(next_escalation_at)
      .bind(parent_id)
      .run();
  notices_.address(id, {}, to.officers);
  const std::string recipient = describe(to.role, c.ward, to.officers);
  notices_.add_history(id, "created", kHub,
                       "rule " + rule_id + ", policy " + policy.id + ", " + recipient +
                           (to.how == "ward" ? "" : " (" + to.how + ")"));
  for (const auto& channel : chans) {
    if (channel == "inbox") {
      notices_.add_history(id, "delivered", kHub, "inbox");
      continue;
    }
    // Every other channel: one outbox row per officer, in this transaction, so a notice is never
    // stored without its deliveries (the outbox workers send them).
    for (const auto& officer : to.officers) queue_delivery(id, channel, officer, now);
  }
  notices_.add_decision({0, c.event_id, rule_id, "routed", policy.id, recipient, id, reason, now});
  audit_.append({audit::entry_type::kNoticeRouted,
                 kHub,
                 c.subject_id,
                 {{"notice_id", id},
                  {"type", type},
                  {"event_id", c.event_id},
                  {"rule", rule_id},
                  {"policy", policy.id},
                  {"legal_basis", legal},
                  {"recipient_role", to.role},
                  {"ward", c.ward},
                  {"recipients", join_ids(to.officers)},
                  {"channels", join_ids(chans)},
                  {"fields",
                   [&] {
                     std::string names;
                     for (const auto& [k, v] : fields) names += (names.empty() ? "" : ",") + k;
                     return names;
                   }()},
                  {"due_at", due_at > 0 ? format_jst(from_unix(due_at)) : ""},
                  {"parent", parent_id},
                  {"reason", reason}}});
  return id;
}

void Router::deliver(const Delivery& d, const Context& c) {
  const Policy& policy = *d.policy;
  const CaseEvent& e = *c.event;
  const std::string wanted = d.recipient->role + "@" + (c.ward.empty() ? "-" : c.ward);
  if (!policy.covers(e.source, e.kind)) {
    withhold(d.rule_id, &policy, c, wanted,
             "方針「" + policy.id + "」は" + config_->system_label(e.source) + "の「" +
                 config_->kind_label(e.kind) + "」を対象としていません (policy does not cover " +
                 e.source + "/" + e.kind + ")");
    return;
  }
  if (policy.roles.count(d.recipient->role) == 0) {
    withhold(d.rule_id, &policy, c, wanted,
             "方針「" + policy.id + "」は役割 " + d.recipient->role +
                 " への提供を認めていません (role not allowed by the policy)");
    return;
  }
  std::map<std::string, std::string> fields = minimise(*d.fields, policy, c);
  for (const auto& [k, v] : d.extra_fields) fields[k] = v;
  if (!identifying(fields)) {
    withhold(d.rule_id, &policy, c, wanted,
             "方針「" + policy.id +
                 "」で許可された項目だけでは対象者を特定できません (the allowed fields identify "
                 "nobody)");
    return;
  }
  const TimePoint now = clock_.now();
  Resolved to = d.by_duty ? on_duty(d.recipient->role, c.ward, now) : resolve(*d.recipient, c.ward);
  if (to.officers.empty() && policy.roles.count(config_->after_hours_role) != 0) {
    // Nobody holds the role (or its fallback) for this ward: the on-duty emergency team is told
    // rather than no one.
    to = on_duty(config_->after_hours_role, c.ward, now);
    to.how = "nobody serves " + wanted + "; " + to.how;
  }
  if (to.officers.empty()) {
    notices_.add_decision({0, c.event_id, d.rule_id, "unreachable", policy.id, wanted, "",
                           "名簿に該当する職員がいません (no officer serves this role and ward)",
                           format_jst(now)});
    audit_.append({audit::entry_type::kRoutingUnreachable,
                   kHub,
                   c.subject_id,
                   {{"event_id", c.event_id},
                    {"rule", d.rule_id},
                    {"policy", policy.id},
                    {"recipient", wanted}}});
    return;
  }
  if (policy.roles.count(to.role) == 0) {
    withhold(d.rule_id, &policy, c, to.role + "@" + c.ward,
             "方針「" + policy.id + "」は代替の役割 " + to.role +
                 " への提供を認めていません (fallback role not allowed by the policy)");
    return;
  }

  // The notice this delivery may already have: the same rule, role and source record (a
  // revision), or — for a combined concern — the open one for this person.
  std::optional<Notice> existing;
  {
    std::string id;
    if (!d.dedupe_key.empty()) {
      auto q = store_.query("SELECT id FROM notices WHERE dedupe_key = ?");
      q.bind(d.dedupe_key);
      if (q.next()) id = q.text(0);
    } else {
      auto q = store_.query(
          "SELECT id FROM notices WHERE type = ? AND rule_id = ? AND recipient_role = ? AND "
          "person_id = ? AND status <> 'closed' ORDER BY created_at DESC, id DESC LIMIT 1");
      q.bind(d.type).bind(d.rule_id).bind(to.role).bind(c.person_id);
      if (q.next()) id = q.text(0);
    }
    if (!id.empty()) existing = notices_.get(id, false);
  }
  const std::int64_t due = d.deadline.empty() ? 0 : to_unix(calendar_.due(now, d.deadline));
  const std::int64_t next = d.escalates ? due : 0;
  if (existing && c.again && d.type != "combined") return;  // told before the merge
  if (existing) {
    if (existing->status == "closed") {
      notices_.add_decision({0, c.event_id, d.rule_id, "duplicate", policy.id, wanted, existing->id,
                             "通知は既に完了しています (the notice is closed)", format_jst(now)});
      return;
    }
    const std::string sealed =
        store_.seal_for(existing->subject_id.empty() ? c.subject_id : existing->subject_id,
                        NoticeStore::fields_to_json(fields), NoticeStore::fields_ad(existing->id));
    const bool reopen = existing->status == "acknowledged";
    store_
        .query(
            "UPDATE notices SET fields = ?, event_id = ?, reason = ?, updated_at = ?, status = "
            "'open', due_at = CASE WHEN ? = 1 THEN ? ELSE due_at END, next_escalation_at = CASE "
            "WHEN ? = 1 THEN ? ELSE next_escalation_at END WHERE id = ?")
        .bind_blob(sealed)
        .bind(c.event_id)
        .bind(d.reason)
        .bind(format_jst(now))
        .bind(reopen ? 1 : 0)
        .bind(due)
        .bind(reopen ? 1 : 0)
        .bind(next)
        .bind(existing->id)
        .run();
    notices_.add_history(existing->id, reopen ? "reopened" : "updated", kHub,
                         "event " + c.event_id + " (" + e.kind + ")");
    notices_.add_decision(
        {0, c.event_id, d.rule_id, "updated", policy.id,
         describe(existing->recipient_role, existing->recipient_ward, existing->recipients),
         existing->id, d.reason, format_jst(now)});
    audit_.append({audit::entry_type::kNoticeUpdated,
                   kHub,
                   c.subject_id,
                   {{"notice_id", existing->id},
                    {"event_id", c.event_id},
                    {"rule", d.rule_id},
                    {"policy", policy.id},
                    {"legal_basis", policy.legal_basis.code},
                    {"reopened", reopen ? "true" : "false"}}});
    return;
  }
  const std::string key = d.dedupe_key.empty() ? d.type + ":" + d.rule_id + ":" + to.role + ":" +
                                                     c.person_id + ":" + store::random_uuid()
                                               : d.dedupe_key;
  insert_notice(d.type, key, d.rule_id, policy, c, to, d.recipient->channels, d.title, d.reason,
                fields, due, next, "", 0);
}

void Router::route(const Route& r, const Context& c) {
  const Policy* policy = config_->policy(r.policy);
  if (policy == nullptr) {  // the loader refuses this; kept so that a bug can never share
    withhold(r.id, nullptr, c, "", "unknown policy " + r.policy);
    return;
  }
  const std::string reason = fill(r.reason, c) + (c.again ? kRoutedAgain : "");
  for (const Recipient& recipient : r.recipients) {
    Delivery d = delivery_for("route", r, policy, recipient, reason);
    d.dedupe_key = "route:" + r.id + ":" + recipient.role + ":" + c.person_id + ":" +
                   c.event->source + ":" + c.event->source_ref;
    deliver(d, c);
  }
}

void Router::timers(const Context& c) {
  const CaseEvent& e = *c.event;
  const std::string now = format_jst(clock_.now());
  for (const TimerRule& rule : config_->timers) {
    if (e.kind == rule.stop_kind) {
      std::vector<std::pair<std::string, std::string>> stopped;  // id, started_at
      {
        auto q = store_.query(
            "SELECT id, started_at FROM routing_timers WHERE rule_id = ? AND person_id = ? AND "
            "status = 'running' ORDER BY started_at, id");
        q.bind(rule.id).bind(c.person_id);
        while (q.next()) stopped.emplace_back(q.text(0), q.text(1));
      }
      for (const auto& [id, started] : stopped) {
        // A confirmation older than the report does not confirm it.
        if (parse_iso(started) > c.occurred) continue;
        store_
            .query(
                "UPDATE routing_timers SET status = 'stopped', stopped_by = ? WHERE id = ? AND "
                "status = 'running'")
            .bind(c.event_id)
            .bind(id)
            .run();
        notices_.add_decision(
            {0, c.event_id, rule.id, "timer_stopped", rule.policy, "", "", "timer " + id, now});
        audit_.append({audit::entry_type::kTimerStopped,
                       kHub,
                       c.subject_id,
                       {{"timer_id", id}, {"rule", rule.id}, {"stopped_by", c.event_id}}});
      }
    }
    if (e.kind == rule.start_kind && !c.again) {
      const Policy* policy = config_->policy(rule.policy);
      if (policy == nullptr || !policy->covers(e.source, e.kind)) {
        withhold(rule.id, policy, c, rule.recipient.role,
                 "方針が" + config_->system_label(e.source) + "の「" + config_->kind_label(e.kind) +
                     "」を対象としていないため、期限の監視を開始しません (policy does not cover "
                     "the start event)");
        continue;
      }
      const std::string id = store::time_ordered_uuid();
      const TimePoint due = calendar_.due(c.occurred, rule.duration);
      const std::int64_t inserted =
          store_
              .query(
                  "INSERT INTO routing_timers (id, rule_id, start_key, person_id, event_id, "
                  "subject_id, ward_code, started_at, due_at, status) VALUES (?, ?, ?, ?, ?, ?, "
                  "?, ?, ?, 'running') ON CONFLICT (rule_id, start_key) DO NOTHING")
              .bind(id)
              .bind(rule.id)
              .bind(e.source + ":" + e.source_ref)
              .bind(c.person_id)
              .bind(c.event_id)
              .bind(c.subject_id)
              .bind(c.ward)
              .bind(format_jst(c.occurred))
              .bind(to_unix(due))
              .run();
      if (inserted == 0) continue;  // a revision of the same report: the clock keeps running
      notices_.add_decision({0, c.event_id, rule.id, "timer_started", policy->id, "", "",
                             "timer " + id + " due " + format_jst(due), now});
      audit_.append({audit::entry_type::kTimerStarted,
                     kHub,
                     c.subject_id,
                     {{"timer_id", id},
                      {"rule", rule.id},
                      {"policy", policy->id},
                      {"legal_basis", policy->legal_basis.code},
                      {"event_id", c.event_id},
                      {"due_at", format_jst(due)}}});
    }
  }
}

void Router::correlate(const Context& c, std::set<std::string>* met) {
  const CaseEvent& e = *c.event;
  bool recorded = false;
  for (const CorrelationRule& rule : config_->correlations) {
    if (rule.kinds.count(e.kind) == 0) continue;
    if (met != nullptr && met->count(rule.id) != 0) continue;
    if (!recorded) {
      store_
          .query(
              "INSERT INTO routing_signals (event_id, person_id, kind, source, occurred_at) "
              "VALUES (?, ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING")
          .bind(c.event_id)
          .bind(c.person_id)
          .bind(e.kind)
          .bind(e.source)
          .bind(to_unix(c.occurred))
          .run();
      recorded = true;
    }
    struct Signal {
      std::string kind, source, event_id;
      std::int64_t at;
    };
    const std::int64_t t = to_unix(c.occurred);
    const std::int64_t window = static_cast<std::int64_t>(rule.window_days) * 86400;
    const Policy* policy = config_->policy(rule.policy);
    std::vector<Signal> signals;
    {
      // In the index's order; signals of the same second are put in event order below, which
      // the index cannot give (an ORDER BY on event_id made SQLite sort every time).
      auto q = store_.query(
          "SELECT kind, source, occurred_at, event_id FROM routing_signals WHERE person_id = ? "
          "AND occurred_at BETWEEN ? AND ? ORDER BY occurred_at");
      q.bind(c.person_id).bind(t - window).bind(t + window);
      while (q.next()) {
        Signal s{q.text(0), q.text(1), q.text(3), q.integer(2)};
        if (rule.kinds.count(s.kind) != 0) signals.push_back(std::move(s));
      }
    }
    std::sort(signals.begin(), signals.end(), [](const Signal& a, const Signal& b) {
      return a.at != b.at ? a.at < b.at : a.event_id < b.event_id;
    });
    std::vector<WindowSignal> marks;
    marks.reserve(signals.size());
    for (const Signal& s : signals) {
      marks.push_back({s.at, policy != nullptr && policy->covers(s.source, s.kind)});
    }
    // The best window of the rule's length that holds this event.
    const SignalWindow chosen = best_window(marks, t, window);
    std::vector<Signal> best;
    std::vector<Signal> uncovered;
    for (std::size_t i = chosen.begin; i < chosen.end; ++i) {
      (marks[i].covered ? best : uncovered).push_back(signals[i]);
    }
    std::set<std::string> kinds, systems;
    for (const Signal& s : best) {
      kinds.insert(s.kind);
      systems.insert(s.source);
    }
    if (static_cast<int>(kinds.size()) < rule.min_kinds ||
        static_cast<int>(systems.size()) < rule.min_systems) {
      if (!uncovered.empty() && !best.empty() && policy != nullptr && !c.again) {
        withhold(rule.id, policy, c, "",
                 "方針「" + policy->id +
                     "」が対象としないシグナルを除くと条件を満たしません (the signals the policy "
                     "covers do not meet the rule)");
      }
      continue;
    }
    Context cc = c;
    std::string listed;
    std::string kinds_text;
    for (const Signal& s : best) {
      const std::string label = config_->kind_label(s.kind);
      if (kinds_text.find(label) == std::string::npos) {
        kinds_text += (kinds_text.empty() ? "" : "、") + label;
      }
      std::string item;
      if (policy->fields.count("occurred_at") != 0)
        item += format_jst(from_unix(s.at)).substr(0, 10) + " ";
      if (policy->fields.count("kind") != 0) item += label;
      if (policy->fields.count("source") != 0)
        item += "（" + config_->system_label(s.source) + "）";
      if (!item.empty()) listed += (listed.empty() ? "" : "; ") + item;
    }
    cc.kinds_text = kinds_text;
    const std::string reason = fill(rule.reason, cc) + (c.again ? kRoutedAgain : "");
    for (const Recipient& recipient : rule.recipients) {
      Delivery d = delivery_for("combined", rule, policy, recipient, reason);
      if (!listed.empty()) d.extra_fields["signals"] = listed;
      deliver(d, cc);
    }
    if (met != nullptr) met->insert(rule.id);
  }
}

void Router::hand_over(const Context& c, const std::string& from_ward, const std::string& to_ward) {
  std::vector<std::string> ids;
  {
    auto q = store_.query(
        "SELECT id FROM notices WHERE person_id = ? AND status <> 'closed' AND recipient_ward = ? "
        "AND type <> 'handover' ORDER BY created_at, id");
    q.bind(c.person_id).bind(from_ward);
    while (q.next()) ids.push_back(q.text(0));
  }
  if (ids.empty()) return;
  const std::string now = format_jst(clock_.now());
  std::optional<Notice> first;
  for (const auto& id : ids) {
    auto n = notices_.get(id, true);
    if (!n) continue;
    // The same role in the new ward; the rule's fallback when the new ward lacks it.
    Recipient wanted{n->recipient_role, {}, {}};
    auto consider = [&](const std::vector<Recipient>& list) {
      for (const auto& rc : list) {
        if (rc.role == n->recipient_role || rc.fallback == n->recipient_role) wanted = rc;
      }
    };
    for (const Route& r : config_->routes) {
      if (r.id == n->rule_id) consider(r.recipients), consider(r.escalation);
    }
    for (const CorrelationRule& r : config_->correlations) {
      if (r.id == n->rule_id) consider(r.recipients), consider(r.escalation);
    }
    for (const TimerRule& r : config_->timers) {
      if (r.id == n->rule_id) consider({r.recipient}), consider(r.escalation);
    }
    Resolved to = resolve(wanted, to_ward);
    if (to.officers.empty()) to = on_duty(config_->after_hours_role, to_ward, clock_.now());
    store_
        .query(
            "UPDATE notices SET recipient_ward = ?, recipient_role = ?, recipients = ?, "
            "updated_at = ? WHERE id = ?")
        .bind(to_ward)
        .bind(to.role)
        .bind("," + join_ids(to.officers) + ",")
        .bind(now)
        .bind(id)
        .run();
    notices_.address(id, n->recipients, to.officers);
    // The new officers get the notice by its channels too (the old ones' deliveries stand).
    for (const auto& channel : n->channels) {
      if (channel == "inbox") continue;
      for (const auto& officer : to.officers) queue_delivery(id, channel, officer, now);
    }
    const std::string detail = describe(n->recipient_role, from_ward, n->recipients) + "  ⇒  " +
                               describe(to.role, to_ward, to.officers);
    notices_.add_history(id, "handed_over", kHub, detail);
    notices_.add_decision(
        {0, c.event_id, "handover", "handed_over", n->policy_id, detail, id, "", now});
    audit_.append({audit::entry_type::kNoticeHandedOver,
                   kHub,
                   n->subject_id,
                   {{"notice_id", id},
                    {"event_id", c.event_id},
                    {"rule", n->rule_id},
                    {"policy", n->policy_id},
                    {"legal_basis", n->legal_basis},
                    {"from_ward", from_ward},
                    {"to_ward", to_ward},
                    {"recipients", join_ids(to.officers)}}});
    if (!first) first = std::move(n);
  }
  if (!first) return;
  // Both liaisons are told, under the policy of the first notice handed over, by its channels,
  // with its rule's acknowledgement deadline and escalation chain: a hand-over nobody reads is
  // escalated like the notice itself.
  const Policy* policy = config_->policy(first->policy_id);
  const Terms terms = terms_of(*first);
  const std::int64_t due =
      terms.deadline.empty() ? 0 : to_unix(calendar_.due(clock_.now(), terms.deadline));
  const std::int64_t next = terms.chain != nullptr && !terms.chain->empty() ? due : 0;
  const Ward* from = config_->roster.ward(from_ward);
  const Ward* to = config_->roster.ward(to_ward);
  const std::string from_name = from ? from->name : from_ward;
  const std::string to_name = to ? to->name : to_ward;
  const std::string reason = "対象の子どもの住所が" + from_name + "から" + to_name +
                             "へ変わったため、未完了の通知" + std::to_string(ids.size()) + "件を" +
                             to_name + "の担当へ引き継ぎました。";
  for (const std::string& ward : {from_ward, to_ward}) {
    Context wc = c;
    wc.ward = ward;
    wc.subject_id = first->subject_id;
    const std::string wanted = "liaison@" + ward;
    if (policy == nullptr || policy->roles.count("liaison") == 0) {
      withhold("handover", policy, wc, wanted,
               "引継ぎの通知を許可する方針がありません (no policy lets the liaison be told)");
      continue;
    }
    Resolved liaison = resolve(Recipient{"liaison", {}, {}}, ward);
    if (liaison.officers.empty()) continue;
    insert_notice("handover",
                  "handover:" + (c.handover_key.empty() ? c.event_id : c.handover_key) + ":" + ward,
                  "handover", *policy, wc, liaison, first->channels, "担当区の変更（引継ぎ）",
                  reason, first->fields, due, next, first->id, 0);
  }
}

void Router::on_merged(const identity::Merge& m) {
  if (m.from_person.empty() || m.from_person == m.into_person) return;
  // 1. The merged person's routing state follows its subjects to the survivor. A route notice's
  //    dedupe key names the person; it is renamed so that routing the same record again finds it
  //    (unless the survivor already has one for that record: both stay, under their own keys).
  for (const char* table : {"routing_signals", "routing_timers"}) {
    store_.query(std::string("UPDATE ") + table + " SET person_id = ? WHERE person_id = ?")
        .bind(m.into_person)
        .bind(m.from_person)
        .run();
  }
  const std::string from_part = ":" + m.from_person + ":";
  const std::string into_part = ":" + m.into_person + ":";
  store_
      .query(
          "UPDATE notices SET dedupe_key = replace(dedupe_key, ?, ?) WHERE person_id = ? AND "
          "type = 'route' AND NOT EXISTS (SELECT 1 FROM notices o WHERE o.dedupe_key = "
          "replace(notices.dedupe_key, ?, ?))")
      .bind(from_part)
      .bind(into_part)
      .bind(m.from_person)
      .bind(from_part)
      .bind(into_part)
      .run();
  store_.query("UPDATE notices SET person_id = ? WHERE person_id = ?")
      .bind(m.into_person)
      .bind(m.from_person)
      .run();

  // The survivor's events: the latest version of each record (the events' unique key serves
  // the subquery), newest first.
  struct Row {
    std::string id, subject_id;
    TimePoint occurred;
  };
  std::vector<Row> rows;
  {
    auto q = store_.query(
        "SELECT e.id, e.subject_id, e.occurred_at FROM events e JOIN identity_subjects s ON "
        "s.subject_id = e.subject_id WHERE s.person_id = ? AND e.source_version = (SELECT "
        "MAX(v.source_version) FROM events v WHERE v.source = e.source AND v.source_ref = "
        "e.source_ref)");
    q.bind(m.into_person);
    while (q.next()) {
      TimePoint at{};
      try {
        at = parse_iso(q.text(2));
      } catch (const std::exception&) {
        continue;  // stored events carry a valid time; one that does not is not routed again
      }
      rows.push_back({q.text(0), q.text(1), at});
    }
  }
  if (rows.empty()) return;
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    if (a.occurred != b.occurred) return a.occurred > b.occurred;
    return a.id > b.id;
  });

  // 2. Open notices addressed to another ward than the survivor's current one are handed over,
  //    as on a move; the hand-over is recorded against the survivor's newest event.
  Context base;
  base.event_id = rows.front().id;
  base.subject_id = m.subject_id;
  base.person_id = m.into_person;
  base.facts = m.facts;
  base.ward = m.facts.ward_code;
  base.handover_key = "review-" + std::to_string(m.review_id);
  if (!base.ward.empty()) {
    std::vector<std::string> wards;
    {
      auto q = store_.query(
          "SELECT DISTINCT recipient_ward FROM notices WHERE person_id = ? AND status <> 'closed' "
          "AND type <> 'handover' AND recipient_ward <> '' AND recipient_ward <> ? ORDER BY "
          "recipient_ward");
      q.bind(m.into_person).bind(base.ward);
      while (q.next()) wards.push_back(q.text(0));
    }
    for (const auto& ward : wards) hand_over(base, ward, base.ward);
  }

  // 3. Route again what happened within the longest correlation window before now.
  int window_days = 0;
  for (const CorrelationRule& r : config_->correlations)
    window_days = std::max(window_days, r.window_days);
  if (window_days == 0) window_days = CorrelationRule{}.window_days;
  const TimePoint since = clock_.now() - std::chrono::hours(24) * window_days;
  std::set<std::string> met;
  std::size_t again = 0;
  for (const Row& r : rows) {
    if (r.occurred < since) break;  // newest first
    const auto stored = store_.event(r.id);
    if (!stored || !stored->readable) continue;  // its subject's key was purged: nothing to tell
    Context c = context_of(stored->event, r.subject_id, m.into_person, m.facts);
    c.again = true;
    ++again;
    timers(c);
    for (const Route& route_rule : config_->routes) {
      if (matches(route_rule.match, c)) route(route_rule, c);
    }
    correlate(c, &met);
  }
  audit_.append({audit::entry_type::kRoutingReevaluated,
                 m.by,
                 m.subject_id,
                 {{"review_id", std::to_string(m.review_id)},
                  {"from_person", m.from_person},
                  {"into_person", m.into_person},
                  {"events", std::to_string(again)},
                  {"window_days", std::to_string(window_days)}}});
}

void Router::queue_delivery(const std::string& notice_id, const std::string& channel,
                            const std::string& officer, const std::string& now) {
  const auto now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now().time_since_epoch());
  store_
      .query(
          "INSERT INTO outbox (id, notice_id, channel, recipient, status, next_attempt_at, "
          "created_at) VALUES (?, ?, ?, ?, 'pending', ?, ?) ON CONFLICT (id) DO NOTHING")
      .bind(delivery_id(notice_id, channel, officer))
      .bind(notice_id)
      .bind(channel)
      .bind(officer)
      .bind(static_cast<std::int64_t>(now_ms.count()))
      .bind(now)
      .run();
}

std::size_t Router::tick() {
  const std::int64_t now = to_unix(clock_.now());
  std::size_t handled = 0;
  std::vector<std::string> due;
  {
    auto q = store_.query(
        "SELECT id FROM routing_timers WHERE status = 'running' AND due_at <= ? ORDER BY due_at, "
        "id LIMIT 500");
    q.bind(now);
    while (q.next()) due.push_back(q.text(0));
  }
  handled += in_groups(due, &Router::fire_timer);
  due.clear();
  {
    auto q = store_.query(
        "SELECT id FROM notices WHERE status = 'open' AND next_escalation_at > 0 AND "
        "next_escalation_at <= ? ORDER BY next_escalation_at, id LIMIT 500");
    q.bind(now);
    while (q.next()) due.push_back(q.text(0));
  }
  handled += in_groups(due, &Router::escalate);
  return handled;
}

std::size_t Router::in_groups(const std::vector<std::string>& ids,
                              bool (Router::*step)(const std::string&)) {
  // A backlog (timers that ran out while the hub was down, or events whose clock had already
  // run out when they arrived) is handled a group per transaction: one fsync for the group, and
  // the writer lock held for a few milliseconds at a time, so pushes and spool batches queued
  // behind it keep their turn; between groups the scheduler rests (B4 in bench/RESULTS.md: a
  // backlog of 20,000 fired flat out took the pushes' p99 at half load from ~30 to ~330 ms). Each
  // step re-checks its row inside the transaction, so a group that fails is simply done again one
  // step per transaction: the steps before the failing one are kept, and the failure is reported as
  // before.
  constexpr std::size_t kMaxGroup = 64;
  constexpr auto kMaxHold = std::chrono::milliseconds(5);
  constexpr int kRest = 3;
  std::size_t handled = 0;
  std::size_t next = 0;  // the first step not yet in a committed transaction
  while (next < ids.size()) {
    const std::size_t first = next;
    std::size_t last = first;  // the last step started in this group
    try {
      store::Transaction tx(store_);
      const auto started = std::chrono::steady_clock::now();
      std::size_t in_group = 0;
      for (last = first; last < ids.size(); ++last) {
        if ((this->*step)(ids[last])) ++in_group;
        if (last + 1 - first >= kMaxGroup ||
            std::chrono::steady_clock::now() - started >= kMaxHold) {
          break;
        }
      }
      last = std::min(last, ids.size() - 1);
      tx.commit();
      handled += in_group;
      // More due: rest three times as long as the group took, so that a backlog takes at most a
      // quarter of a core and of the writer's time from the ingest running beside it.
      if (last + 1 < ids.size()) {
        std::this_thread::sleep_for((std::chrono::steady_clock::now() - started) * kRest);
      }
    } catch (const std::exception&) {
      for (std::size_t i = first; i <= last; ++i) {
        store::Transaction tx(store_);
        const bool done = (this->*step)(ids[i]);
        tx.commit();
        handled += done ? 1 : 0;
      }
    }
    next = last + 1;
  }
  return handled;
}

bool Router::fire_timer(const std::string& timer_id) {
  std::string rule_id, person_id, event_id, subject_id;
  std::int64_t due_at = 0;
  {
    auto q = store_.query(
        "SELECT rule_id, person_id, event_id, subject_id, due_at FROM routing_timers WHERE id = ? "
        "AND status = 'running'");
    q.bind(timer_id);
    if (!q.next()) return false;
    rule_id = q.text(0);
    person_id = q.text(1);
    event_id = q.text(2);
    subject_id = q.text(3);
    due_at = q.integer(4);
  }
  if (store_
          .query(
              "UPDATE routing_timers SET status = 'fired', fired_at = ? WHERE id = ? AND status = "
              "'running'")
          .bind(format_jst(clock_.now()))
          .bind(timer_id)
          .run() != 1) {
    return false;
  }
  const TimerRule* rule = nullptr;
  for (const auto& t : config_->timers) {
    if (t.id == rule_id) rule = &t;
  }
  auto stored = store_.event(event_id);
  identity::PersonMaster persons(store_, audit_);
  const auto facts = persons.facts_of(person_id);
  std::string notice_id;
  if (rule != nullptr && stored && stored->readable) {
    Context c =
        context_of(stored->event, subject_id, person_id, facts ? *facts : identity::PersonFacts{});
    const Policy* policy = config_->policy(rule->policy);
    if (policy != nullptr) {
      Delivery d = delivery_for("timer", *rule, policy, rule->recipient, fill(rule->reason, c));
      d.dedupe_key = "timer:" + timer_id + ":" + rule->recipient.role;
      d.by_duty = true;
      deliver(d, c);
      auto q = store_.query("SELECT id FROM notices WHERE dedupe_key = ?");
      q.bind(d.dedupe_key);
      if (q.next()) notice_id = q.text(0);
    }
  }
  if (!notice_id.empty()) {
    store_.query("UPDATE routing_timers SET notice_id = ? WHERE id = ?")
        .bind(notice_id)
        .bind(timer_id)
        .run();
  }
  audit_.append(
      {audit::entry_type::kTimerFired,
       kHub,
       subject_id,
       {{"timer_id", timer_id},
        {"rule", rule_id},
        {"event_id", event_id},
        {"due_at", format_jst(from_unix(due_at))},
        {"notice_id", notice_id},
        {"policy", rule != nullptr ? rule->policy : ""},
        {"outcome", notice_id.empty() ? (rule == nullptr ? "rule no longer configured"
                                                         : "no notice (withheld or unreadable)")
                                      : "notice"}}});
  return true;
}

Router::Terms Router::terms_of(const Notice& n, int depth) {
  Terms t;
  if (n.type == "route") {
    for (const auto& r : config_->routes) {
      if (r.id == n.rule_id) t = {&r.escalation, r.deadline};
    }
  } else if (n.type == "combined") {
    for (const auto& r : config_->correlations) {
      if (r.id == n.rule_id) t = {&r.escalation, r.deadline};
    }
  } else if (n.type == "timer") {
    for (const auto& r : config_->timers) {
      if (r.id == n.rule_id) t = {&r.escalation, r.deadline};
    }
  } else if (!n.parent_id.empty() && depth < 4) {
    // Parents are older notices: an escalation's is the notice it escalated, a hand-over's the
    // first notice handed over (perhaps an escalation, perhaps of a hand-over).
    if (const auto parent = notices_.get(n.parent_id, false)) t = terms_of(*parent, depth + 1);
  }
  return t;
}

bool Router::escalate(const std::string& notice_id) {
  const TimePoint now = clock_.now();
  auto n = notices_.get(notice_id, true);
  if (!n || n->status != "open" || n->next_escalation_at == 0 ||
      n->next_escalation_at > to_unix(now)) {
    return false;
  }
  const auto [chain, deadline] = terms_of(*n);
  const int level = n->escalation_level;
  const Policy* policy = config_->policy(n->policy_id);
  const TimePoint was_due = from_unix(n->next_escalation_at);
  // Whether the deadline ran out outside office hours (judged just before it, so that a deadline
  // counted in office hours that ends at closing time is still an office-hours one).
  const bool after_hours = !calendar_.in_office_hours(was_due - std::chrono::seconds(1));
  const bool more = chain != nullptr && level + 1 < static_cast<int>(chain->size());
  const std::int64_t next = more && !deadline.empty() ? to_unix(calendar_.due(now, deadline)) : 0;
  auto advance = [&] {
    store_
        .query(
            "UPDATE notices SET escalation_level = ?, next_escalation_at = ?, updated_at = ? "
            "WHERE id = ?")
        .bind(level + 1)
        .bind(next)
        .bind(format_jst(now))
        .bind(notice_id)
        .run();
  };
  Context c;
  c.event_id = n->event_id;
  c.subject_id = n->subject_id;
  c.person_id = n->person_id;
  c.ward = n->recipient_ward;
  if (chain == nullptr || (level >= static_cast<int>(chain->size()) && !after_hours)) {
    advance();
    notices_.add_history(notice_id, "overdue", kHub,
                         chain == nullptr ? "the rule is no longer configured"
                                          : "the escalation chain is exhausted");
    return true;
  }
  Resolved to;
  if (after_hours) {
    // The chain's next role if someone holding it is on duty now (an on-call section chief),
    // else the after-hours role's officer on duty.
    if (level < static_cast<int>(chain->size())) {
      const Recipient& step = (*chain)[static_cast<std::size_t>(level)];
      for (const std::string& role : {step.role, step.fallback}) {
        if (role.empty() || !to.officers.empty()) continue;
        for (const Officer* o : calendar_.on_duty(role, now)) {
          if (o->ward.empty() || o->ward == c.ward) to.officers.push_back(o->id);
        }
        to.role = role;
        to.how = "on duty";
      }
    }
    if (to.officers.empty()) to = on_duty(config_->after_hours_role, c.ward, now);
  } else {
    to = resolve((*chain)[static_cast<std::size_t>(level)], c.ward);
  }
  const std::string wanted = describe(to.role, c.ward, to.officers);
  if (policy == nullptr || policy->roles.count(to.role) == 0 || to.officers.empty()) {
    const std::string why = policy == nullptr ? "the policy is no longer configured"
                            : to.officers.empty()
                                ? "名簿に該当する職員がいません (nobody to escalate to)"
                                : "方針「" + policy->id + "」は役割 " + to.role +
                                      " への提供を認めていません (role not allowed by the policy)";
    advance();
    notices_.add_history(notice_id, "withheld_step", kHub, wanted + ": " + why);
    withhold(n->rule_id, policy, c, wanted, why);
    return true;
  }
  const Ward* ward = config_->roster.ward(c.ward);
  const std::string reason =
      "期限（" + format_jst_japanese(was_due) + "）までに確認されなかったため通知します" +
      (after_hours && to.role == config_->after_hours_role ? "（時間外・休日のため緊急対応担当へ）"
                                                           : "") +
      "。" + n->reason;
  const std::int64_t due = deadline.empty() ? 0 : to_unix(calendar_.due(now, deadline));
  // The step's own channels (escalation/step @channels); past the chain's end (after hours), the
  // channels the notice itself went by.
  const std::vector<std::string>& channels =
      level < static_cast<int>(chain->size()) ? (*chain)[static_cast<std::size_t>(level)].channels
                                              : n->channels;
  const std::string escalation_id = insert_notice(
      "escalation", "esc:" + notice_id + ":" + std::to_string(level), n->rule_id, *policy, c, to,
      channels, "【期限超過】" + n->title, reason, n->fields, due, 0, notice_id, level + 1);
  advance();
  notices_.add_history(
      notice_id, "escalated", kHub,
      wanted + (ward ? " (" + ward->name + ")" : "") + ", notice " + escalation_id);
  audit_.append({audit::entry_type::kNoticeEscalated,
                 kHub,
                 n->subject_id,
                 {{"notice_id", notice_id},
                  {"escalation_notice", escalation_id},
                  {"level", std::to_string(level + 1)},
                  {"rule", n->rule_id},
                  {"policy", policy->id},
                  {"legal_basis", policy->legal_basis.code},
                  {"recipient_role", to.role},
                  {"recipients", join_ids(to.officers)},
                  {"after_hours", after_hours ? "true" : "false"}}});
  return true;
}

}  // namespace tsunagu::routing
