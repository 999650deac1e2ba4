#include "cli/notice_commands.hpp"

#include <iostream>

#include "cli/cli_support.hpp"
#include "hub/hub.hpp"
#include "routing/calendar.hpp"
#include "routing/notice_store.hpp"
#include "routing/router.hpp"

namespace tsunagu::cli {
namespace {

std::string due_text(std::int64_t due_at) {
  return due_at == 0 ? std::string("期限なし") : routing::format_jst(routing::from_unix(due_at));
}

// The acting officer: --as <officer id> (recorded as user:<id>), or the OS user.
std::string actor_of(const ParsedArgs& p) {
  return p.has("as") ? "user:" + p.get("as") : cli_actor();
}

int change(const runtime::CommonOptions& options, const Args& args, const char* usage,
           const char* done,
           void (routing::NoticeStore::*action)(const std::string&, const std::string&,
                                                const std::string&)) {
  const auto p = parse(args, {"as", "note"});
  if (p.positional.size() != 1) throw std::invalid_argument(std::string("usage: ") + usage);
  quiet_logging();
  const auto config = runtime::load_config(options);
  auto store = open_store(config);
  audit::AuditLog log(*store);
  routing::NoticeStore notices(*store, log);
  (notices.*action)(p.positional[0], actor_of(p), p.get("note"));
  std::cout << "notice " << p.positional[0] << ": " << done << "\n";
  return kExitOk;
}

}  // namespace

int notices_list(const runtime::CommonOptions& options, const Args& args) {
  const auto p =
      parse(args, {"officer", "role", "ward", "status", "person", "event", "limit"}, {"all"});
  quiet_logging();
  const auto config = runtime::load_config(options);
  auto store = open_store(config);
  audit::AuditLog log(*store);
  routing::NoticeStore notices(*store, log);
  routing::NoticeFilter f;
  f.officer = p.get("officer");
  f.role = p.get("role");
  f.ward = p.get("ward");
  f.status = p.has("all") ? p.get("status") : (p.has("status") ? p.get("status") : "open");
  f.person = p.get("person");
  f.event = p.get("event");
  if (p.has("limit")) f.limit = std::stoul(p.get("limit"));
  const auto list = notices.list(f);
  for (const auto& n : list) {
    std::cout << n.id << "  " << n.status << "  " << n.type << "  " << n.rule_id << "  "
              << n.recipient_role << "@" << n.recipient_ward << " → "
              << routing::join_ids(n.recipients) << "  期限 " << due_text(n.due_at) << "  "
              << n.title
              << (n.escalation_level > 0
                      ? "  (escalated " + std::to_string(n.escalation_level) + ")"
                      : "")
              << "\n";
  }
  std::cout << list.size() << " 件\n";
  return kExitOk;
}

int notices_show(const runtime::CommonOptions& options, const Args& args) {
  const auto p = parse(args, {"as"});
  if (p.positional.size() != 1)
    throw std::invalid_argument("usage: notices show <id> [--as OFFICER]");
  quiet_logging();
  const auto config = runtime::load_config(options);
  auto store = open_store(config);
  audit::AuditLog log(*store);
  routing::NoticeStore notices(*store, log);
  auto n = notices.get(p.positional[0], true);
  if (!n) throw std::invalid_argument("no notice " + p.positional[0]);
  // Showing a notice to its officer is opening it; IT staff looking without --as are not.
  if (p.has("as") && notices.mark_opened(n->id, actor_of(p))) n = notices.get(n->id, true);
  std::cout << "通知 " << n->id << " (" << n->type << ", " << n->status << ")\n"
            << "件名: " << n->title << "\n"
            << "理由: " << n->reason << "\n"
            << "法的根拠: " << n->legal_basis << " (policy " << n->policy_id << ")\n"
            << "宛先: " << n->recipient_role << "@" << n->recipient_ward << " → "
            << routing::join_ids(n->recipients) << "\n"
            << "期限: " << due_text(n->due_at) << "\n"
            << "rule " << n->rule_id << ", event " << n->event_id << ", person " << n->person_id
            << (n->parent_id.empty() ? "" : ", from notice " + n->parent_id) << "\n"
            << "項目 (fields allowed by the policy):\n";
  if (!n->fields_readable) std::cout << "  (sealed: no key, or purged)\n";
  for (const auto& [k, v] : n->fields) std::cout << "  " << k << ": " << v << "\n";
  std::cout << "履歴 (history):\n";
  for (const auto& h : n->history) {
    std::cout << "  " << h.at << "  " << h.action << "  " << h.actor
              << (h.detail.empty() ? "" : "  " + h.detail)
              << (h.note.empty() ? "" : "  「" + h.note + "」") << "\n";
  }
  return kExitOk;
}

int notices_ack(const runtime::CommonOptions& options, const Args& args) {
  return change(options, args, "notices ack <id> [--as OFFICER] [--note TEXT]",
                "acknowledged (確認済み)", &routing::NoticeStore::acknowledge);
}

int notices_action(const runtime::CommonOptions& options, const Args& args) {
  return change(options, args, "notices action <id> --note TEXT [--as OFFICER]",
                "action recorded (対応を記録)", &routing::NoticeStore::record_action);
}

int notices_close(const runtime::CommonOptions& options, const Args& args) {
  return change(options, args, "notices close <id> [--as OFFICER] [--note TEXT]", "closed (完了)",
                &routing::NoticeStore::close);
}

int routing_tick(const runtime::CommonOptions& options, const Args& args) {
  parse(args, {});
  quiet_logging();
  const auto config = runtime::load_config(options);
  auto routing = load_routing(config);
  if (!routing) throw std::invalid_argument("routing is off in " + config.file.string());
  auto store = open_store(config);
  audit::AuditLog log(*store);
  const std::size_t n = routing::Router(routing, *store, log, SystemClock::instance()).tick();
  std::cout << n << " timers and escalations handled\n";
  return kExitOk;
}

int explain(const runtime::CommonOptions& options, const Args& args) {
  const auto p = parse(args, {});
  if (p.positional.size() != 1) throw std::invalid_argument("usage: explain <event id>");
  quiet_logging();
  const auto config = runtime::load_config(options);
  auto store = open_store(config);
  audit::AuditLog log(*store);
  routing::NoticeStore notices(*store, log);
  const std::string& id = p.positional[0];
  auto event = store->event(id);
  if (!event) throw std::invalid_argument("no event " + id);
  std::cout << "event " << id << ": " << event->event.source << " " << event->event.kind << " "
            << event->event.occurred_at << " (" << event->event.source_ref << " v"
            << event->event.source_version << ")\n";
  const auto decisions = notices.decisions(id);
  if (decisions.empty()) std::cout << "  no route, timer or correlation rule matched\n";
  for (const auto& d : decisions) {
    std::cout << "  " << d.outcome << "  rule " << d.rule_id
              << (d.policy_id.empty() ? "" : "  policy " + d.policy_id)
              << (d.recipient.empty() ? "" : "  " + d.recipient)
              << (d.notice_id.empty() ? "" : "  notice " + d.notice_id)
              << (d.reason.empty() ? "" : "\n      " + d.reason) << "\n";
  }
  routing::NoticeFilter f;
  f.event = id;
  for (const auto& n : notices.list(f)) {
    std::cout << "  notice " << n.id << " now " << n.status << ", " << n.recipient_role << "@"
              << n.recipient_ward << " → " << routing::join_ids(n.recipients) << "\n";
  }
  return kExitOk;
}

}  // namespace tsunagu::cli
