// The router: turns stored, linked events into notices for the officers who must act, on a legal
// basis, and makes sure someone is told when nobody acts.
//
// on_event() runs inside the transaction that stores the event, so an event is never stored
// without its routing (and never routed twice: a re-sent record is a duplicate and is not routed
// again; a revised one updates the notices it made). For each event it
//   1. hands a moved person's open notices over to the new ward (both liaisons are told, by the
//      channels, deadline and escalation of the first notice handed over);
//   2. stops and starts timers (cg.report_received starts the 48-hour clock, cg.safety_confirmed
//      stops it);
//   3. tries every route: a match becomes a notice per recipient role — if the route's policy
//      covers the event's system and kind and the role, with only the policy's fields — or a
//      withheld decision with its reason;
//   4. records concern signals and raises or updates a combined notice when a correlation rule
//      is met.
// tick() runs what is due on the clock: timers that ran out, and acknowledgement deadlines that
// passed (escalation along the route's chain; outside office hours and on holidays to the
// after-hours role on duty). Those are committed a few at a time (a group of at most 64, held
// for at most ~5 ms, with a rest between groups while more are due); a timer fires once.
//
// Every decision writes its routing_decisions row and its audit entry (rule, policy, legal
// basis, recipients, reason — never field values) in the same transaction as the notice change.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <tsunagu/event.hpp>

#include "audit/audit_log.hpp"
#include "common/clock.hpp"
#include "identity/person_master.hpp"
#include "routing/calendar.hpp"
#include "routing/notice_store.hpp"
#include "routing/routing_config.hpp"
#include "store/store.hpp"

namespace tsunagu::routing {

class Router {
 public:
  Router(std::shared_ptr<const RoutingConfig> config, store::Store& store, audit::AuditLog& audit,
         const Clock& clock);

  // Inside the caller's transaction, right after the event was stored and linked.
  void on_event(const CaseEvent& event, const std::string& subject_id,
                const identity::LinkResult& link);

  // After an identity review merged two persons (identity::PersonMaster::decide, inside its
  // transaction). The merged person's signals, timers and notices move to the survivor; its open
  // notices addressed to another ward than the survivor's current one are handed over (both
  // liaisons told); and the survivor's events of the last correlation window (the longest; the
  // latest version of each record) are routed again with the merged facts: a route that now
  // matches raises its notice (one raised before stays as it is), a confirmation stops a timer
  // the other person's report started, and correlation rules see both persons' signals.
  void on_merged(const identity::Merge& merge);

  // Fires due timers and escalates overdue notices as of clock.now(), in short transactions of
  // a group each (in_groups). Returns how many it handled.
  std::size_t tick();

  const RoutingConfig& config() const { return *config_; }

  struct Delivery;  // what one recipient role of one rule gets (router.cpp)

 private:
  struct Context;
  Context context_of(const CaseEvent& event, const std::string& subject_id,
                     const std::string& person_id, const identity::PersonFacts& facts) const;
  bool matches(const Match& match, const Context& c) const;
  void route(const Route& route, const Context& c);
  void deliver(const Delivery& d, const Context& c);
  void timers(const Context& c);
  // `met`: rules already raised or updated in this pass (on_merged), skipped; those met are added.
  void correlate(const Context& c, std::set<std::string>* met = nullptr);
  void hand_over(const Context& c, const std::string& from_ward, const std::string& to_ward);
  // Inside the caller's transaction; false when the row is no longer due (nothing written).
  bool fire_timer(const std::string& timer_id);
  bool escalate(const std::string& notice_id);
  // The escalation chain (nullptr: the rule is no longer configured) and acknowledgement
  // deadline of the rule that raised `n`. A hand-over or escalation notice has the terms of the
  // notice it came from (its parent).
  struct Terms {
    const std::vector<Recipient>* chain = nullptr;
    Deadline deadline;
  };
  Terms terms_of(const Notice& n, int depth = 0);
  // Runs `step` for each id, a group of steps per transaction; a group that fails is run again
  // one step per transaction, so the steps before the failing one are kept and it throws.
  std::size_t in_groups(const std::vector<std::string>& ids,
                        bool (Router::*step)(const std::string&));
  // One outbox row: the notice to one officer through one channel (not the inbox).
  void queue_delivery(const std::string& notice_id, const std::string& channel,
                      const std::string& officer, const std::string& now);

  struct Resolved {
    std::string role;  // the role that was used (the fallback, if it came to that)
    std::vector<std::string> officers;
    std::string how;  // "ward", "fallback <role>", "on duty", …
  };
  Resolved resolve(const Recipient& recipient, const std::string& ward) const;
  Resolved on_duty(const std::string& role, const std::string& ward, TimePoint at) const;
  std::map<std::string, std::string> minimise(const std::vector<std::string>& fields,
                                              const Policy& policy, const Context& c) const;
  std::string fill(const std::string& reason, const Context& c) const;
  std::string insert_notice(const std::string& type, const std::string& dedupe_key,
                            const std::string& rule_id, const Policy& policy, const Context& c,
                            const Resolved& to, const std::vector<std::string>& channels,
                            const std::string& title, const std::string& reason,
                            const std::map<std::string, std::string>& fields, std::int64_t due_at,
                            std::int64_t next_escalation_at, const std::string& parent_id,
                            int escalation_level);
  void withhold(const std::string& rule_id, const Policy* policy, const Context& c,
                const std::string& recipient, const std::string& reason);

  std::shared_ptr<const RoutingConfig> config_;
  store::Store& store_;
  audit::AuditLog& audit_;
  const Clock& clock_;
  Calendar calendar_;
  NoticeStore notices_;
};

// The idempotency key of a notice's delivery to one officer through one channel: stable across
// retries and restarts. (Channel names and officer ids are [A-Za-z0-9_-], checked at load.)
std::string delivery_id(const std::string& notice_id, const std::string& channel,
                        const std::string& officer);

// Unix seconds ⇄ TimePoint.
std::int64_t to_unix(TimePoint t);
TimePoint from_unix(std::int64_t seconds);

}  // namespace tsunagu::routing
