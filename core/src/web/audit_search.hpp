// The auditor's search over the exchange log: metadata of entries (seq, time, type, actor,
// subject and details — which by the log's design never hold a payload value), newest first.
//
// Filters combine with AND; empty ones are ignored:
//   subject    the entry's subject id, exactly (an opaque child/subject id)
//   system     details.system, or an actor "system:<name>"
//   type       exactly, or every type under a prefix ending in '.' ("user." → user.login, …)
//   actor      the actor exactly, "user:<actor>", or details.login (who logged in or failed to)
//   recipient  who a notice went to or who acted on it: a roster officer id, a login or a
//              role@ward — details.recipient (withheld, unreachable: "liaison@01103"), one of
//              details.recipients (routed, escalated, handed over: officer ids), the actor
//              user:<login>, or the actor of an account tied to that officer id (opened,
//              acknowledged, action)
//   notice     details.notice_id: every entry about one notice (routed, opened, acknowledged …)
//   from, to   time, UTC, "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM[:SS]"; a date-only `to` includes
//              the whole day
//   before     only entries with seq < before (paging: the last page's smallest seq)
//   limit      1..500 (default 50)
//
// The system, actor and recipient filters read the entry's JSON and use no index: fine for the
// log sizes of one city; an index on generated columns is the remedy if it is not.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "store/store.hpp"

namespace tsunagu::web {

struct AuditFilter {
  std::string subject;
  std::string system;
  std::string type;
  std::string actor;
  std::string recipient;
  std::string notice;
  std::string from;
  std::string to;
  std::int64_t before = 0;  // 0: from the newest
  std::size_t limit = 50;

  // The non-empty filters, for the audit.searched entry and for links.
  std::map<std::string, std::string> as_map() const;
};

struct AuditRow {
  std::int64_t seq = 0;
  std::string time;
  std::string type;
  std::string actor;
  std::string subject;
  std::vector<std::pair<std::string, std::string>> details;  // sorted by key, as in the entry
};

class FilterError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// From query parameters; unknown names are ignored. Throws FilterError naming the parameter and
// what it takes.
AuditFilter audit_filter_from(const std::map<std::string, std::string>& params);

std::vector<AuditRow> search_audit(store::Store& store, const AuditFilter& filter);

// 記録受領・保存, ログイン, … for the pages ("" for a type without a label).
const char* audit_type_label(const std::string& type);

}  // namespace tsunagu::web
