// The routing configuration: what may flow (policies.xml), who the officers are and when they
// work (roster.xml, holidays.xml), and what must flow (routes.xml: routes, correlation rules,
// timers). Read and checked once at start-up (and on reload); every problem is a ConfigError that
// names the file, the line, the element and the reason, and all problems are reported together.
//
// Deny by default: a route that names no policy or an unknown one, or asks for a field outside
// its policy's allow-list, is a start-up error naming both. Whether a policy authorises a flow
// for a particular event (its source system, its kind, the recipient's role) is decided per event
// by the router; a match that no policy authorises is withheld and logged.
//
// Times are Japan time (+09:00, no daylight saving): office hours, duty slots and holidays are
// local dates and times.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "config/hub_config.hpp"

namespace tsunagu::routing {

using config::ConfigError;

// Where an element was read from, for messages: "routes.xml:42 <route id=\"x\">".
struct Origin {
  std::filesystem::path file;
  int line = 0;
  std::string element;
  std::string where() const;  // "routes.xml:42 <route id=\"x\">" (file name only)
};

struct LegalBasis {
  std::string code;      // e.g. 児童福祉法25条の3
  std::string citation;  // e.g. 児童福祉法第25条の3（要保護児童対策地域協議会）
};

// Canonical field paths a policy may allow and a route may ask for:
//   kind, occurred_at, source, source_ref,
//   subject.name, subject.name_kana, subject.birth_date, subject.age_months (derived),
//   subject.sex, subject.address, subject.resident_id, subject.ward_code,
//   household.role, attributes.<name>
bool is_known_field(const std::string& path);

struct Policy {
  std::string id;
  std::string title;  // Japanese
  LegalBasis legal_basis;
  std::string purpose;                // Japanese
  std::set<std::string> sources;      // systems whose events it covers
  std::set<std::string> kinds;        // exact kinds, or "prefix.*"
  std::set<std::string> roles;        // recipient roles it allows
  std::set<std::string> fields;       // the allow-list (canonical paths)
  int retention_days = 0;             // how long a notice's fields are kept
  Origin origin;

  bool covers_kind(const std::string& kind) const;
  bool covers(const std::string& source, const std::string& kind) const {
    return sources.count(source) != 0 && covers_kind(kind);
  }
};

// A weekly time slot in Japan time. `to_minute` <= `from_minute` runs past midnight into the next
// day (a night shift 17:15–08:45). Minutes since 00:00; 1440 is allowed for "to" (end of day).
struct WeeklySlot {
  std::set<int> weekdays;   // 0 = Sunday … 6 = Saturday; the days the slot starts on
  bool holidays = false;    // also (or only, with no weekdays) on public holidays, all slots
  bool not_on_holidays = false;  // office hours: never on a holiday even if the weekday matches
  int from_minute = 0;
  int to_minute = 0;
};

struct Ward {
  std::string code;  // 01101 …
  std::string name;  // 中央区 …
};

struct Officer {
  std::string id;
  std::string name;
  std::string role;   // liaison | coordinator | cg_emergency | cg_caseworker | …
  std::string ward;   // ward code; empty: city-wide (serves every ward)
  std::string email;
  std::string phone;
  std::vector<WeeklySlot> duty;  // when on duty (cg_emergency); empty: office hours
  bool active = true;
  Origin origin;
};

struct Roster {
  std::vector<Ward> wards;
  std::vector<WeeklySlot> office_hours;  // the city's office hours (weekdays, not on holidays)
  std::vector<Officer> officers;
  std::set<std::string> roles;  // the roles the roster declares
  std::map<std::string, std::string> role_names;  // role → Japanese name (子ども支援窓口 …)

  const Ward* ward(const std::string& code) const;
  const Officer* officer(const std::string& id) const;
  // Active officers with `role` who serve `ward` (officers of that ward, then city-wide ones).
  std::vector<const Officer*> serving(const std::string& role, const std::string& ward) const;
};

struct Holiday {
  std::string date;  // YYYY-MM-DD
  std::string name;  // 元日 …
};

struct Holidays {
  std::map<std::string, std::string> by_date;  // YYYY-MM-DD → name
  bool contains(const std::string& date) const { return by_date.count(date) != 0; }
};

// An ISO-8601 duration (PnDTnHnM) and the clock it runs on.
struct Deadline {
  enum class Clock { wall, office_hours };
  int days = 0, hours = 0, minutes = 0;
  Clock clock = Clock::wall;
  std::string text;  // as written, e.g. "P2D"
  bool empty() const { return days == 0 && hours == 0 && minutes == 0; }
};
// Parses "P2D", "PT48H", "P1DT12H", "PT90M"; nullopt when malformed or zero.
std::optional<Deadline> parse_duration(const std::string& iso);

struct AttributeCondition {
  std::string name;               // attributes.<name>
  std::set<std::string> in;       // any of these values; empty: only that it is present
};

struct Match {
  std::set<std::string> kinds;    // exact kinds, or "prefix.*"; required, non-empty
  std::set<std::string> sources;  // empty: any system
  std::optional<bool> on_public_assistance;
  std::optional<bool> has_open_cg_case;
  std::optional<int> min_age_months;  // subject's age on occurred_at, inclusive
  std::optional<int> max_age_months;  // inclusive; an unknown age never matches an age condition
  std::vector<AttributeCondition> attributes;
  bool matches_kind(const std::string& kind) const;
};

// A recipient role of a route, resolved through the roster by the subject's current ward. When
// the ward has no active officer with `role`, `fallback` (another role) is used.
struct Recipient {
  std::string role;
  std::string fallback;                // empty: none
  std::vector<std::string> channels;   // delivery channels; default {"inbox"}
};

struct Route {
  std::string id;
  std::string title;  // Japanese
  std::string policy;
  Match match;
  std::vector<Recipient> recipients;
  Deadline deadline;                  // acknowledgement deadline
  std::vector<Recipient> escalation;  // roles in order when a deadline passes unacknowledged
  std::vector<std::string> fields;    // what the notice carries; ⊆ policy's allow-list
  // One Japanese sentence without personal data; placeholders {kind}, {ward}, {source} are
  // replaced with the kind's label, the ward's name and the system's Japanese name.
  std::string reason;
  Origin origin;
};

// Two or more distinct concern kinds from two or more systems about the same person within
// `window` → one combined notice (updated, not repeated, while it is open).
struct CorrelationRule {
  std::string id;
  std::string title;
  std::string policy;
  std::set<std::string> kinds;
  int window_days = 90;
  int min_kinds = 2;
  int min_systems = 2;
  std::vector<Recipient> recipients;
  Deadline deadline;
  std::vector<Recipient> escalation;
  std::vector<std::string> fields;
  std::string reason;  // placeholders {kinds} (labels, 「、」-joined), {ward}
  Origin origin;
};

// `start` (e.g. cg.report_received) starts a clock of `duration`; a later `stop` event (e.g.
// cg.safety_confirmed) about the same person stops it; otherwise, when it runs out, a notice goes
// to `recipient` — the officer(s) of that role on duty at that moment (cg_emergency).
struct TimerRule {
  std::string id;
  std::string title;
  std::string policy;
  std::string start_kind;
  std::string stop_kind;
  Deadline duration;
  Recipient recipient;
  Deadline deadline;                  // for the escalation notice it creates
  std::vector<Recipient> escalation;
  std::vector<std::string> fields;
  std::string reason;
  Origin origin;
};

struct RoutingConfig {
  std::vector<Policy> policies;
  Roster roster;
  Holidays holidays;
  std::vector<Route> routes;
  std::vector<CorrelationRule> correlations;
  std::vector<TimerRule> timers;
  std::map<std::string, std::string> kind_labels;    // event kind → Japanese label
  std::map<std::string, std::string> system_labels;  // system → Japanese name
  // The role that receives escalations outside office hours and on holidays (cg_emergency).
  std::string after_hours_role = "cg_emergency";

  const Policy* policy(const std::string& id) const;
  std::string kind_label(const std::string& kind) const;      // the kind itself if unlabelled
  std::string system_label(const std::string& system) const;  // likewise
};

// The four files; defined in config/hub_config.hpp so that <routing> in tsunagu.xml can name them
// without the config library depending on this one.
using RoutingFiles = config::RoutingFiles;

// Reads and checks the four files. `systems`: the configured system names (a policy or route
// naming another system is an error). Throws ConfigError listing every problem, one per line,
// each "file:line <element>: reason".
RoutingConfig load(const RoutingFiles& files, const std::set<std::string>& systems);

// A (route, ward) pair — or correlation / timer rule — whose recipients reach nobody: no active
// officer of the role or its fallback serves that ward. One Japanese-and-English line each, for
// `tsunagu config check`. Empty when every pair reaches someone.
std::vector<std::string> unreachable(const RoutingConfig& config);

}  // namespace tsunagu::routing
