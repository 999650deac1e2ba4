#include "routing/notice_store.hpp"

#include <algorithm>
#include <sstream>
#include <stdexcept>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "common/json_string.hpp"
#include "routing/calendar.hpp"
#include "store/prepared.hpp"

namespace tsunagu::routing {

namespace {

constexpr const char* kColumns =
    "id, type, rule_id, policy_id, legal_basis, person_id, event_id, subject_id, recipient_role, "
    "recipient_ward, recipients, channels, title, reason, fields, created_at, updated_at, due_at, "
    "status, escalation_level, next_escalation_at, parent_id, opened_at";

}  // namespace

std::string join_ids(const std::vector<std::string>& ids) {
  std::string out;
  for (const auto& id : ids) {
    if (!out.empty()) out += ',';
    out += id;
  }
  return out;
}

std::vector<std::string> split_ids(const std::string& text) {
  std::vector<std::string> out;
  std::string item;
  std::istringstream in(text);
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

std::string NoticeStore::now_text() const {
  return format_jst(clock_.now());
}

bool Notice::addressed_to(const std::string& officer_id) const {
  return std::find(recipients.begin(), recipients.end(), officer_id) != recipients.end();
}

void NoticeStore::address(const std::string& notice_id, const std::vector<std::string>& previous,
                          const std::vector<std::string>& officers) {
  for (const auto& officer : previous) {
    if (std::find(officers.begin(), officers.end(), officer) != officers.end()) continue;
    store_.query("DELETE FROM notice_recipients WHERE officer_id = ? AND notice_id = ?")
        .bind(officer)
        .bind(notice_id)
        .run();
  }
  for (const auto& officer : officers) {
    store_
        .query(
            "INSERT INTO notice_recipients (officer_id, notice_id) VALUES (?, ?) "
            "ON CONFLICT (officer_id, notice_id) DO NOTHING")
        .bind(officer)
        .bind(notice_id)
        .run();
  }
}

std::string NoticeStore::fields_ad(const std::string& notice_id) {
  return "notice:" + notice_id + ":fields";
}

std::string NoticeStore::note_ad(const std::string& notice_id) {
  return "notice:" + notice_id + ":note";
}

std::string NoticeStore::fields_to_json(const std::map<std::string, std::string>& fields) {
  // Written directly (Poco::JSON's object and stream took ~67k instructions per notice under
  // callgrind, 6% of a push's storing); keys in order, as Poco wrote them.
  std::string out = "{";
  append_json_members(out, fields);
  out += '}';
  return out;
}

std::map<std::string, std::string> NoticeStore::fields_from_json(const std::string& json) {
  std::map<std::string, std::string> out;
  Poco::JSON::Parser parser;
  auto object = parser.parse(json).extract<Poco::JSON::Object::Ptr>();
  for (const auto& [k, v] : *object) out[k] = v.toString();
  return out;
}

Notice NoticeStore::read_row(store::Query& q, bool with_fields) {
  Notice n;
  n.id = q.text(0);
  n.type = q.text(1);
  n.rule_id = q.text(2);
  n.policy_id = q.text(3);
  n.legal_basis = q.text(4);
  n.person_id = q.text(5);
  n.event_id = q.text(6);
  n.subject_id = q.text(7);
  n.recipient_role = q.text(8);
  n.recipient_ward = q.text(9);
  n.recipients = split_ids(q.text(10));
  n.channels = split_ids(q.text(11));
  n.title = q.text(12);
  n.reason = q.text(13);
  if (with_fields && !q.is_null(14)) {
    if (auto clear = store_.open_for(n.subject_id, q.blob(14), fields_ad(n.id))) {
      n.fields = fields_from_json(*clear);
      n.fields_readable = true;
    }
  }
  n.created_at = q.text(15);
  n.updated_at = q.text(16);
  n.due_at = q.integer(17);
  n.status = q.text(18);
  n.escalation_level = static_cast<int>(q.integer(19));
  n.next_escalation_at = q.integer(20);
  n.parent_id = q.text(21);
  n.opened_at = q.text(22);
  return n;
}

std::vector<Notice> NoticeStore::list(const NoticeFilter& f) {
  std::string sql = std::string("SELECT ") + kColumns +
                    (f.officer.empty() ? " FROM notices WHERE 1 = 1" : kOfficersNotices);
  std::vector<std::string> params;
  if (!f.officer.empty()) params.push_back(f.officer);
  auto add = [&](const std::string& value, const char* clause) {
    if (value.empty()) return;
    sql += clause;
    params.push_back(value);
  };
  add(f.role, " AND recipient_role = ?");
  add(f.ward, " AND recipient_ward = ?");
  add(f.status, " AND status = ?");
  add(f.person, " AND person_id = ?");
  add(f.event, " AND event_id = ?");
  sql +=
      " ORDER BY CASE status WHEN 'open' THEN 0 WHEN 'acknowledged' THEN 1 ELSE 2 END, "
      "CASE WHEN due_at = 0 THEN 1 ELSE 0 END, due_at, created_at, id LIMIT " +
      std::to_string(f.limit);
  auto q = store_.query(sql);
  for (const auto& p : params) q.bind(p);
  std::vector<Notice> out;
  while (q.next()) out.push_back(read_row(q, false));
  return out;
}

std::optional<Notice> NoticeStore::get(const std::string& id, bool with_details) {
  std::optional<Notice> n;
  {
    auto q = store_.query(std::string("SELECT ") + kColumns + " FROM notices WHERE id = ?");
    q.bind(id);
    if (!q.next()) return std::nullopt;
    n = read_row(q, with_details);
  }
  if (with_details) {
    auto q = store_.query(
        "SELECT at, action, actor, detail, note FROM notice_history WHERE notice_id = ? ORDER BY "
        "id");
    q.bind(id);
    std::vector<std::optional<std::string>> sealed_notes;
    while (q.next()) {
      n->history.push_back({q.text(0), q.text(1), q.text(2), q.text(3), {}});
      sealed_notes.push_back(q.is_null(4) ? std::nullopt : std::optional(q.blob(4)));
    }
    // Opened once the rows are read: no other statement runs while this one steps.
    for (std::size_t i = 0; i < sealed_notes.size(); ++i) {
      if (!sealed_notes[i]) continue;
      if (auto clear = store_.open_for(n->subject_id, *sealed_notes[i], note_ad(id))) {
        n->history[i].note = *clear;
      }
    }
  }
  return n;
}

std::vector<RoutingDecision> NoticeStore::decisions(const std::string& event_id) {
  auto q = store_.query(
      "SELECT id, event_id, rule_id, outcome, policy_id, recipient, notice_id, reason, at FROM "
      "routing_decisions WHERE event_id = ? ORDER BY id");
  q.bind(event_id);
  std::vector<RoutingDecision> out;
  while (q.next()) {
    out.push_back({q.integer(0), q.text(1), q.text(2), q.text(3), q.text(4), q.text(5), q.text(6),
                   q.text(7), q.text(8)});
  }
  return out;
}

void NoticeStore::add_history(const std::string& notice_id, const std::string& action,
                              const std::string& actor, const std::string& detail,
                              const std::string& subject_id, const std::string& note) {
  const std::string sealed =
      note.empty() ? std::string() : store_.seal_for(subject_id, note, note_ad(notice_id));
  store_
      .query(
          "INSERT INTO notice_history (notice_id, at, action, actor, detail, note) VALUES (?, ?, "
          "?, ?, ?, ?)")
      .bind(notice_id)
      .bind(now_text())
      .bind(action)
      .bind(actor)
      .bind(detail)
      .bind_blob(sealed)
      .run();
}

void NoticeStore::add_decision(const RoutingDecision& d) {
  store_
      .query(
          "INSERT INTO routing_decisions (event_id, rule_id, outcome, policy_id, recipient, "
          "notice_id, reason, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
      .bind(d.event_id)
      .bind(d.rule_id)
      .bind(d.outcome)
      .bind(d.policy_id)
      .bind(d.recipient)
      .bind(d.notice_id)
      .bind(d.reason)
      .bind(d.at.empty() ? now_text() : d.at)
      .run();
}

void NoticeStore::change(const std::string& id, const std::string& action, const char* audit_type,
                         const std::string& actor, const std::string& note,
                         const char* new_status) {
  store::Transaction tx(store_);
  auto n = get(id, false);
  if (!n) throw std::invalid_argument("no notice " + id);
  if (n->status == "closed") {
    throw std::invalid_argument("notice " + id + " is closed; nothing can be " + action);
  }
  if (new_status != nullptr) {
    // Acknowledging (or closing) stops the escalation chain of the notice — and of the notice
    // an escalation was raised from: someone has taken it up.
    store_
        .query("UPDATE notices SET status = ?, next_escalation_at = 0, updated_at = ? WHERE id = ?")
        .bind(new_status)
        .bind(now_text())
        .bind(id)
        .run();
    if (!n->parent_id.empty()) {
      store_.query("UPDATE notices SET next_escalation_at = 0 WHERE id = ? AND status = 'open'")
          .bind(n->parent_id)
          .run();
    }
  }
  add_history(id, action, actor, "", n->subject_id, note);
  audit_.append({audit_type,
                 actor,
                 n->subject_id,
                 {{"notice_id", id},
                  {"rule", n->rule_id},
                  {"policy", n->policy_id},
                  {"recipient_role", n->recipient_role},
                  {"ward", n->recipient_ward},
                  {"note_sha256", note.empty() ? "" : audit::to_hex(audit::sha256(note))}}});
  tx.commit();
}

bool NoticeStore::mark_opened(const std::string& id, const std::string& actor) {
  store::Transaction tx(store_);
  auto n = get(id, false);
  if (!n) throw std::invalid_argument("no notice " + id);
  if (!n->opened_at.empty()) return false;
  const std::string now = now_text();
  store_.query("UPDATE notices SET opened_at = ? WHERE id = ? AND opened_at = ''")
      .bind(now)
      .bind(id)
      .run();
  add_history(id, "opened", actor, "");
  audit_.append({audit::entry_type::kNoticeOpened,
                 actor,
                 n->subject_id,
                 {{"notice_id", id}, {"rule", n->rule_id}, {"policy", n->policy_id}}});
  tx.commit();
  return true;
}

void NoticeStore::acknowledge(const std::string& id, const std::string& actor,
                              const std::string& note) {
  change(id, "acknowledged", audit::entry_type::kNoticeAcknowledged, actor, note, "acknowledged");
}

void NoticeStore::record_action(const std::string& id, const std::string& actor,
                                const std::string& note) {
  if (note.empty()) throw std::invalid_argument("an action needs a note saying what was done");
  change(id, "action", audit::entry_type::kNoticeAction, actor, note, nullptr);
}

void NoticeStore::close(const std::string& id, const std::string& actor, const std::string& note) {
  change(id, "closed", audit::entry_type::kNoticeClosed, actor, note, "closed");
}

}  // namespace tsunagu::routing
