#include "cli/delivery_commands.hpp"

#include <iostream>

#include "cli/cli_support.hpp"
#include "delivery/outbox.hpp"
#include "hub/hub.hpp"

namespace tsunagu::cli {
namespace {

// The outbox for listing and retrying: no channels are created (the running daemon delivers).
struct OutboxSession {
  explicit OutboxSession(const runtime::CommonOptions& options)
      : config(runtime::load_config(options)),
        store(open_store(config)),
        log(*store),
        outbox(*store, log, nullptr, nullptr, {}, SystemClock::instance()) {}
  config::HubConfig config;
  std::unique_ptr<store::Store> store;
  audit::AuditLog log;
  delivery::Outbox outbox;
};

void print(const delivery::OutboxRow& r) {
  std::cout << r.id << "  " << r.status << "  " << r.channel << " → " << r.recipient
            << "  attempts " << r.attempts << "  " << r.last_outcome
            << (r.last_detail.empty() ? "" : " (" + r.last_detail + ")") << "\n";
}

}  // namespace

int deadletter_list(const runtime::CommonOptions& options, const Args& args) {
  const auto p = parse(args, {"limit"}, {"all"});
  quiet_logging();
  OutboxSession s(options);
  const auto rows =
      s.outbox.list(p.has("all") ? "" : "dead", p.has("limit") ? std::stoul(p.get("limit")) : 200);
  for (const auto& r : rows) print(r);
  std::cout << "dead letters: " << s.outbox.count("dead") << ", pending: "
            << s.outbox.count("pending") << ", delivered: " << s.outbox.count("delivered") << "\n";
  return kExitOk;
}

int deadletter_show(const runtime::CommonOptions& options, const Args& args) {
  const auto p = parse(args, {});
  if (p.positional.size() != 1) throw std::invalid_argument("usage: deadletter show <delivery id>");
  quiet_logging();
  OutboxSession s(options);
  auto r = s.outbox.get(p.positional[0]);
  if (!r) throw std::invalid_argument("no delivery " + p.positional[0]);
  std::cout << "delivery " << r->id << "\n  notice " << r->notice_id << "\n  channel "
            << r->channel << "\n  recipient " << r->recipient << "\n  status " << r->status
            << "\n  attempts " << r->attempts << "\n  last outcome " << r->last_outcome << " "
            << r->last_detail << "\n  created " << r->created_at << "\n";
  return kExitOk;
}

int deadletter_retry(const runtime::CommonOptions& options, const Args& args) {
  const auto p = parse(args, {}, {"all"});
  if (p.positional.size() != 1 && !p.has("all")) {
    throw std::invalid_argument("usage: deadletter retry <delivery id> | --all");
  }
  quiet_logging();
  OutboxSession s(options);
  std::vector<std::string> ids = p.positional;
  if (p.has("all")) {
    for (const auto& r : s.outbox.list("dead", 100000)) ids.push_back(r.id);
  }
  for (const auto& id : ids) s.outbox.retry(id, cli_actor());
  std::cout << ids.size() << " dead letters queued again (tsunagud delivers them)\n";
  return kExitOk;
}

}  // namespace tsunagu::cli
