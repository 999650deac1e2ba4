// Notices as stored: what the router created, what officers did with them, and why the router
// decided what it did (routing_decisions, for `tsunagu explain` and the auditor).
//
// A notice's fields are the policy-minimised copy of an event's data, sealed under the data key
// of the event's subject; everything else on the row is metadata. Every change an officer makes
// (opened, acknowledged, action, closed) is a history row and an audit entry in one transaction.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "audit/audit_log.hpp"
#include "common/clock.hpp"
#include "store/store.hpp"

namespace tsunagu::routing {

struct NoticeHistoryEntry {
  std::string at;
  std::string action;  // created, delivered, opened, acknowledged, action, updated, escalated,
                       // handed_over, withheld_step, closed
  std::string actor;
  std::string detail;  // metadata (roles, wards, ids)
  std::string note;    // an officer's note; empty unless readable
};

struct Notice {
  std::string id;
  std::string type;  // route | combined | timer | escalation | handover
  std::string rule_id;
  std::string policy_id;
  std::string legal_basis;
  std::string person_id;
  std::string event_id;
  std::string subject_id;
  std::string recipient_role;
  std::string recipient_ward;
  std::vector<std::string> recipients;  // officer ids
  std::vector<std::string> channels;
  std::string title;
  std::string reason;
  std::map<std::string, std::string> fields;  // only when read with fields and readable
  bool fields_readable = false;
  std::string created_at;
  std::string updated_at;
  std::int64_t due_at = 0;  // Unix seconds; 0: no deadline
  std::string status;       // open | acknowledged | closed
  int escalation_level = 0;
  std::int64_t next_escalation_at = 0;
  std::string parent_id;
  std::string opened_at;
  std::vector<NoticeHistoryEntry> history;  // only when read with details

  bool addressed_to(const std::string& officer_id) const;
};

struct NoticeFilter {
  std::string officer;  // addressed to this officer id
  std::string role;
  std::string ward;
  std::string status;  // empty: any
  std::string person;
  std::string event;
  std::size_t limit = 200;
};

struct RoutingDecision {
  std::int64_t id = 0;
  std::string event_id;
  std::string rule_id;
  std::string outcome;  // routed | updated | withheld | unreachable | timer_started | timer_stopped
  std::string policy_id;
  std::string recipient;  // role@ward → officers
  std::string notice_id;
  std::string reason;
  std::string at;
};

// The FROM and WHERE of a query over one officer's notices (bind the officer id first, then
// add " AND …" conditions on notices' columns): the officer's own range of notice_recipients'
// (officer_id, notice_id) key, not a test of every notice's recipients list. CROSS JOIN keeps
// that order on SQLite, which has no statistics to choose it and would walk every open notice
// instead; PostgreSQL plans it from its own.
inline constexpr const char* kOfficersNotices =
    " FROM notice_recipients r CROSS JOIN notices WHERE notices.id = r.notice_id AND "
    "r.officer_id = ?";

class NoticeStore {
 public:
  NoticeStore(store::Store& store, audit::AuditLog& audit,
              const Clock& clock = SystemClock::instance())
      : store_(store), audit_(audit), clock_(clock) {}

  // Most urgent first: open before acknowledged before closed, then by due time.
  std::vector<Notice> list(const NoticeFilter& filter);
  std::optional<Notice> get(const std::string& id, bool with_details);
  std::vector<RoutingDecision> decisions(const std::string& event_id);

  // Officer actions, each in its own transaction with its history row and audit entry. They
  // throw std::invalid_argument if the notice does not exist or the action does not fit its
  // status (acknowledging a closed notice). `actor` is "user:<login>" or "cli:<user>".
  // The first opening is recorded; later ones are not (returns false).
  bool mark_opened(const std::string& id, const std::string& actor);
  void acknowledge(const std::string& id, const std::string& actor, const std::string& note);
  void record_action(const std::string& id, const std::string& actor, const std::string& note);
  void close(const std::string& id, const std::string& actor, const std::string& note);

  // Used by the router, inside its transaction.
  void add_history(const std::string& notice_id, const std::string& action,
                   const std::string& actor, const std::string& detail,
                   const std::string& subject_id = "", const std::string& note = "");
  void add_decision(const RoutingDecision& decision);
  // Keeps notice_recipients, the (officer, notice) index of the recipients column that an
  // officer's inbox and unread count read, equal to it: `previous` are the ids the notice was
  // addressed to before (none for a new notice), `officers` the ids it is addressed to now.
  void address(const std::string& notice_id, const std::vector<std::string>& previous,
               const std::vector<std::string>& officers);

  // Associated data binding sealed fields / notes to their notice.
  static std::string fields_ad(const std::string& notice_id);
  static std::string note_ad(const std::string& notice_id);
  static std::string fields_to_json(const std::map<std::string, std::string>& fields);
  static std::map<std::string, std::string> fields_from_json(const std::string& json);

 private:
  Notice read_row(store::Query& q, bool with_fields);
  void change(const std::string& id, const std::string& action, const char* audit_type,
              const std::string& actor, const std::string& note, const char* new_status);

  std::string now_text() const;

  store::Store& store_;
  audit::AuditLog& audit_;
  const Clock& clock_;
};

// "a,b" ⇄ {"a","b"}
std::string join_ids(const std::vector<std::string>& ids);
std::vector<std::string> split_ids(const std::string& text);

}  // namespace tsunagu::routing
