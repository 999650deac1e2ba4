#include "cli/commands.hpp"

#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include <Poco/Logger.h>
#include <Poco/NullChannel.h>

#include "cli/audit_commands.hpp"
#include "cli/cli_support.hpp"
#include "cli/delivery_commands.hpp"
#include "cli/identity_commands.hpp"
#include "cli/notice_commands.hpp"
#include "cli/ops_commands.hpp"
#include "cli/user_commands.hpp"
#include "delivery/channel_driver.hpp"
#include "hub/hub.hpp"
#include "ingest/quarantine_retry.hpp"
#include "plugin/plugin_registry.hpp"
#include "routing/routing_config.hpp"

namespace tsunagu::cli {
namespace {

std::size_t number(const ParsedArgs& p, const std::string& name, std::size_t fallback) {
  auto it = p.named.find(name);
  if (it == p.named.end()) return fallback;
  try {
    return static_cast<std::size_t>(std::stoul(it->second));
  } catch (const std::exception&) {
    throw std::invalid_argument("--" + name + " takes a number, not '" + it->second + "'");
  }
}

std::string opt(const ParsedArgs& p, const std::string& name) {
  return p.get(name);
}

int plugins_list(const runtime::CommonOptions& options, const Args& args) {
  parse(args, {});
  quiet_logging();
  const auto config = runtime::load_config(options);
  plugin::PluginRegistry registry;
  registry.load_directory(config.plugin_dir);
  std::cout << "プラグイン (plugins) in " << config.plugin_dir.string() << "\n";
  std::cout << std::left << std::setw(10) << "kind" << std::setw(22) << "name" << std::setw(10)
            << "version" << std::setw(5) << "api"
            << "file\n";
  for (const auto& p : registry.plugins()) {
    std::cout << std::left << std::setw(10) << to_string(p.kind) << std::setw(22) << p.name
              << std::setw(10) << p.version << std::setw(5) << p.api_version
              << p.path.filename().string() << "\n";
  }
  for (const auto& r : registry.refusals()) {
    std::cout << "refused  " << r.path.filename().string() << ": " << r.reason << "\n";
  }
  return registry.refusals().empty() ? kExitOk : kExitFailure;
}

// The routing files: every load problem, then every (rule, ward) that reaches nobody. Returns the
// number of problems printed.
int check_routing(const config::HubConfig& config) {
  if (!config.routing_enabled) {
    std::cout << "--  routing: disabled (no <routing> in the config, or enabled=false)\n";
    return 0;
  }
  std::set<std::string> systems;
  for (const auto& s : config.systems) systems.insert(s.name);
  routing::RoutingConfig routing;
  try {
    routing = routing::load(config.routing_files, systems);
  } catch (const config::ConfigError& e) {
    std::cout << "NG  routing: 連絡経路の設定に誤りがあります (the routing files have errors):\n";
    int problems = 0;
    std::istringstream lines(e.what());
    for (std::string line; std::getline(lines, line); ++problems)
      std::cout << "NG  " << line << "\n";
    return problems;
  }
  std::cout << "OK  routing: " << routing.policies.size() << " policies, " << routing.routes.size()
            << " routes, " << routing.correlations.size() << " correlation rules, "
            << routing.timers.size() << " timers, " << routing.roster.wards.size() << " wards, "
            << routing.roster.officers.size() << " officers, " << routing.holidays.by_date.size()
            << " holidays\n";
  const auto unreachable = routing::unreachable(routing);
  for (const auto& line : unreachable) std::cout << "NG  unreachable: " << line << "\n";
  if (unreachable.empty()) {
    std::cout << "OK  routing: すべての経路がすべての区で担当者に届きます (every route reaches "
                 "someone in every ward)\n";
  }
  return static_cast<int>(unreachable.size());
}

int config_check(const runtime::CommonOptions& options, const Args& args) {
  parse(args, {});
  quiet_logging();
  const auto config = runtime::load_config(options);
  std::cout << "設定ファイル (config): " << config.file.string() << "\n";
  plugin::PluginRegistry registry;
  registry.load_directory(config.plugin_dir);
  int problems = 0;
  for (const auto& r : registry.refusals()) {
    std::cout << "NG  plugin " << r.path.string() << ": " << r.reason << "\n";
    ++problems;
  }
  for (const auto& system : config.systems) {
    if (!system.enabled) {
      std::cout << "--  system " << system.name << ": disabled\n";
      continue;
    }
    config::HubConfig one = config;
    one.systems = {system};
    try {
      build_pipelines(one, registry);
      std::cout << "OK  system " << system.name << ": adapter " << system.adapter << ", mapping "
                << system.mapping.filename().string() << "\n";
    } catch (const std::exception& e) {
      std::cout << "NG  " << e.what() << "\n";
      ++problems;
    }
  }
  problems += check_routing(config);
  // The delivery channels: each plugin checks its settings, and every channel a route names exists.
  try {
    std::shared_ptr<const routing::RoutingConfig> routing;
    try {
      routing = load_routing(config);
    } catch (const std::exception&) {
      // already reported above
    }
    const auto driver = make_channels(config, registry, routing.get());
    std::string names = "inbox";
    for (const auto& n : driver->names()) names += ", " + n;
    std::cout << "OK  delivery: channels " << names << "\n";
  } catch (const std::exception& e) {
    std::cout << "NG  " << e.what() << "\n";
    ++problems;
  }
  std::cout << (problems == 0
                    ? "設定に問題はありません (configuration OK)\n"
                    : std::to_string(problems) + " 件の問題があります (problems found)\n");
  return problems == 0 ? kExitOk : kExitFailure;
}

int events_list(const runtime::CommonOptions& options, const Args& args) {
  const auto p = parse(args, {"system", "kind", "limit", "offset"});
  quiet_logging();
  const auto config = runtime::load_config(options);
  auto store = open_store(config);
  store::EventQuery q;
  q.source = opt(p, "system");
  q.kind = opt(p, "kind");
  q.limit = number(p, "limit", 100);
  q.offset = number(p, "offset", 0);
  const auto events = store->events(q);
  for (const auto& se : events) {
    const auto& e = se.event;
    std::cout << e.id << "  " << e.source << "  " << e.source_ref << " v" << e.source_version
              << "  " << e.kind << "  " << e.occurred_at << "  ward " << e.subject.ward_code << "  "
              << to_string(e.sensitivity) << (se.readable ? "" : "  [sealed]") << "\n";
  }
  std::cout << "イベント (events): " << store->count_events(q.source) << " 件 stored, "
            << events.size() << " shown\n";
  return kExitOk;
}

int inputs_list(const runtime::CommonOptions& options, const Args& args) {
  const auto p = parse(args, {"limit"});
  quiet_logging();
  const auto config = runtime::load_config(options);
  auto store = open_store(config);
  for (const auto& in : store->inputs(number(p, "limit", 50))) {
    std::cout << in.id << "  " << in.system << "  " << in.origin << "  " << in.status << "  "
              << in.records << " records, " << in.events << " stored, " << in.duplicates
              << " already stored, " << in.quarantined << " quarantined  " << in.received_at
              << (in.message.empty() ? "" : "  " + in.message) << "\n";
  }
  return kExitOk;
}

int quarantine_list(const runtime::CommonOptions& options, const Args& args) {
  const auto p = parse(args, {"system", "limit"});
  quiet_logging();
  const auto config = runtime::load_config(options);
  auto store = open_store(config);
  const std::string system = opt(p, "system");
  for (const auto& q : store->quarantine(system, number(p, "limit", 1000))) {
    std::cout << q.id << "  " << q.system << "  " << q.origin << "  record " << q.record_no;
    if (q.line > 0) std::cout << " (line " << q.line << ")";
    std::cout << "  " << q.reason << "\n";
  }
  std::cout << "隔離中 (quarantined): " << store->count_quarantine(system) << " 件\n";
  return kExitOk;
}

int quarantine_show(const runtime::CommonOptions& options, const Args& args) {
  const auto p = parse(args, {});
  if (p.positional.size() != 1) throw std::invalid_argument("usage: quarantine show <id>");
  quiet_logging();
  const auto config = runtime::load_config(options);
  auto store = open_store(config);
  const auto q = store->quarantine_entry(static_cast<std::int64_t>(std::stoll(p.positional[0])));
  if (!q) {
    std::cerr << "no quarantined record " << p.positional[0] << "\n";
    return kExitFailure;
  }
  std::cout << "id:       " << q->id << "\nsystem:   " << q->system << "\nfile:     " << q->origin
            << "\nrecord:   " << q->record_no << "\nline:     " << q->line
            << "\nfield:    " << q->field << "\nreason:   " << q->reason
            << "\nstatus:   " << q->status << "\nsince:    " << q->created_at
            << "\nsubject:  " << q->subject_id << "\n";
  if (q->readable) {
    std::cout << "raw (" << q->raw.size() << " bytes, as received):\n" << q->raw << "\n";
  } else {
    std::cout << "raw:      (sealed: no master key here, or purged by retention)\n";
  }
  return kExitOk;
}

int identity_review(const runtime::CommonOptions& options, const Args& args) {
  if (args.empty()) throw std::invalid_argument("usage: identity review list|link|separate …");
  const Args rest(args.begin() + 1, args.end());
  if (args[0] == "list") return identity_review_list(options, rest);
  if (args[0] == "link") return identity_review_link(options, rest);
  if (args[0] == "separate") return identity_review_separate(options, rest);
  throw std::invalid_argument("identity review takes list, link or separate, not '" + args[0] +
                              "'");
}

int quarantine_retry(const runtime::CommonOptions& options, const Args& args) {
  const auto p = parse(args, {"system", "id"});
  quiet_logging();
  const auto config = runtime::load_config(options);
  plugin::PluginRegistry registry;
  registry.load_directory(config.plugin_dir);
  const auto pipelines = build_pipelines(config, registry);
  auto store = open_store(config);
  audit::AuditLog log(*store);
  std::optional<std::int64_t> id;
  if (p.has("id")) id = static_cast<std::int64_t>(number(p, "id", 0));
  const auto outcomes =
      ingest::retry_quarantine(*store, log, pipelines, p.get("system"), id, cli_actor());
  std::size_t resolved = 0;
  for (const auto& o : outcomes) {
    std::cout << o.quarantine_id << "  " << o.system << "  " << o.origin << "  record "
              << o.record_no << "  " << o.outcome << "  " << o.detail << "\n";
    if (o.outcome == "stored" || o.outcome == "duplicate") ++resolved;
  }
  std::cout << resolved << " 件を取り込みました (resolved), " << outcomes.size() - resolved
            << " 件は隔離のまま (still quarantined)\n";
  return resolved == outcomes.size() ? kExitOk : kExitFailure;
}

// Decodes and maps a sample without touching the store: what IT staff run after editing a mapping.
class DryRunSink final : public RecordSink {
 public:
  DryRunSink(const ingest::SystemPipeline& p, const std::string& origin) : p_(p), origin_(origin) {}
  bool accept(NativeRecord&& r) noexcept override {
    try {
      if (!r.error.empty()) {
        reject(r, r.error_field.empty() ? r.error : r.error_field + ": " + r.error);
        return true;
      }
      auto mapped = p_.mapping->map(r.fields);
      if (!mapped.ok()) {
        reject(r, ingest::join_errors(mapped.errors));
        return true;
      }
      const auto& e = mapped.event;
      ++accepted;
      std::cout << "OK  record " << r.number << ": " << e.kind << "  " << e.source_ref << " v"
                << e.source_version << "  " << e.occurred_at << "  " << e.subject.name << " ("
                << e.subject.name_kana << ") " << e.subject.birth_date << " ward "
                << e.subject.ward_code << "\n";
    } catch (...) {
      ++rejected;
    }
    return true;
  }
  std::size_t accepted = 0, rejected = 0;

 private:
  void reject(const NativeRecord& r, const std::string& reason) {
    ++rejected;
    std::cout << "NG  " << origin_ << ": record " << r.number;
    if (r.line > 0) std::cout << " (line " << r.line << ")";
    std::cout << ": " << reason << "\n";
  }
  const ingest::SystemPipeline& p_;
  const std::string& origin_;
};

int mapping_test(const runtime::CommonOptions& options, const Args& args) {
  const auto p = parse(args, {});
  if (p.positional.size() != 2) throw std::invalid_argument("usage: mapping test <system> <file>");
  quiet_logging();
  auto config = runtime::load_config(options);
  const auto* system = config.find_system(p.positional[0]);
  if (system == nullptr)
    throw std::invalid_argument("no system '" + p.positional[0] + "' in config");
  config.systems = {*system};
  config.systems[0].enabled = true;
  plugin::PluginRegistry registry;
  registry.load_directory(config.plugin_dir);
  const auto pipelines = build_pipelines(config, registry);
  std::ifstream in(p.positional[1], std::ios::binary);
  if (!in) throw std::invalid_argument(p.positional[1] + ": cannot open");
  const std::string origin = std::filesystem::path(p.positional[1]).filename().string();
  DryRunSink sink(pipelines.front(), origin);
  const DecodeResult result = pipelines.front().adapter->decode(in, origin, sink);
  if (!result.ok) {
    std::cout << "NG  " << result.message << "\n";  // adapters' messages name the file
    return kExitFailure;
  }
  std::cout << sink.accepted << " 件のイベント (events), " << sink.rejected
            << " 件の却下 (rejected records)\n";
  return sink.rejected == 0 ? kExitOk : kExitFailure;
}

}  // namespace

ParsedArgs parse(const Args& args, const std::vector<std::string>& allowed,
                 const std::vector<std::string>& flags) {
  ParsedArgs out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.rfind("--", 0) == 0) {
      const std::string name = a.substr(2);
      if (std::find(flags.begin(), flags.end(), name) != flags.end()) {
        out.named[name] = "true";
        continue;
      }
      if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
        throw std::invalid_argument("unknown option " + a);
      }
      if (i + 1 >= args.size()) throw std::invalid_argument(a + " needs a value");
      out.named[name] = args[++i];
      out.repeated[name].push_back(args[i]);
    } else {
      out.positional.push_back(a);
    }
  }
  return out;
}

void quiet_logging() {
  Poco::Logger::root().setLevel(Poco::Message::PRIO_ERROR);
}

std::string cli_actor() {
  const char* user = std::getenv("USER");
  return std::string("cli:") + (user != nullptr && *user != '\0' ? user : "unknown");
}

const std::vector<Command>& commands() {
  static const std::vector<Command> table{
      {"plugins", "list", "plugins list", "loaded and refused plugins, with versions",
       plugins_list},
      {"config", "check", "config check",
       "validate the configuration, plugins and mappings without starting", config_check},
      {"events", "list", "events list [--system S] [--kind K] [--limit N] [--offset N]",
       "stored events", events_list},
      {"inputs", "list", "inputs list [--limit N]", "received files and their outcome",
       inputs_list},
      {"quarantine", "list", "quarantine list [--system S] [--limit N]",
       "records that could not become events, with file, record, field and reason",
       quarantine_list},
      {"quarantine", "show", "quarantine show <id>", "one quarantined record, raw",
       quarantine_show},
      {"quarantine", "retry", "quarantine retry [--system S] [--id N]",
       "after a mapping is fixed: decode and map quarantined records again; those that now map "
       "are stored and leave quarantine",
       quarantine_retry},
      {"mapping", "test", "mapping test <system> <file>",
       "dry run: the events a sample would produce and every rejected record; the store is not "
       "touched",
       mapping_test},
      {"audit", "verify", "audit verify [--public-key FILE]... [--head FILE]",
       "recompute every hash, check every signed head and their consistency; names the first "
       "bad entry. Give the public keys you keep yourself, one --public-key each: the current "
       "one and any it replaced (default: keys/audit-ed25519.pub.pem and keys/retired/*.pub.pem)",
       audit_verify},
      {"audit", "sign", "audit sign", "sign a tree head over the log now", audit_sign},
      {"audit", "new-key", "audit new-key [--force]",
       "replace the audit signing key on purpose (every tsunagud on the store stopped; --force "
       "if one crashed): the old key files go to keys/retired/, the change is logged and signed "
       "with the new key",
       audit_new_key},
      {"audit", "head", "audit head",
       "the latest signed tree head, as JSON (keep it to pin "
       "later verifications with --head)",
       audit_head},
      {"audit", "prove", "audit prove <seq>",
       "inclusion proof of one entry against the latest signed head, as JSON", audit_prove},
      {"audit", "check-proof", "audit check-proof <proof.json> --public-key FILE",
       "check a proof without any store", audit_check_proof},
      {"audit", "export",
       "audit export --subject <subject id | event id> [--json FILE] [--html FILE]",
       "one child's exchange history with a proof per entry, for a case conference", audit_export},
      {"identity", "review", "identity review list [--all] | link <id> | separate <id> [--by NAME]",
       "the review queue of partial identity matches; a decision is stored with who made it",
       identity_review},
      {"person", "show", "person show <person id | 宛名番号 | event id>",
       "a person: linked source identities, facts (ward, public assistance, …) and events in time "
       "order",
       person_show},
      {"notices", "list",
       "notices list [--officer ID] [--role R] [--ward CODE] [--status S | --all] [--person P] "
       "[--event E] [--limit N]",
       "notices, most urgent first (open ones unless --status/--all)", notices_list},
      {"notices", "show", "notices show <id> [--as OFFICER]",
       "one notice: reason, legal basis, the policy's fields, history (--as records the opening)",
       notices_show},
      {"notices", "ack", "notices ack <id> [--as OFFICER] [--note TEXT]",
       "acknowledge a notice (stops its escalation)", notices_ack},
      {"notices", "action", "notices action <id> --note TEXT [--as OFFICER]",
       "record an action taken", notices_action},
      {"notices", "close", "notices close <id> [--as OFFICER] [--note TEXT]", "close a notice",
       notices_close},
      {"deadletter", "list", "deadletter list [--all] [--limit N]",
       "deliveries that ran out of attempts or were refused (--all: every outbox row)",
       deadletter_list},
      {"deadletter", "show", "deadletter show <delivery id>", "one delivery and its last outcome",
       deadletter_show},
      {"deadletter", "retry", "deadletter retry <delivery id> | --all",
       "queue dead letters again, their attempts counted afresh", deadletter_retry},
      {"routing", "tick", "routing tick",
       "fire due timers and escalate overdue notices now (tsunagud does this every few seconds)",
       routing_tick},
      {"explain", "", "explain <event id>",
       "which routes, timers and correlation rules an event met, which policy allowed or "
       "withheld each, and who received what",
       explain},
      {"user", "add", "user add <login> --role ROLE [--officer ID] [--ward CODE]",
       "an account for the pages and API (roles: liaison, coordinator, pa_section_chief, "
       "cg_emergency, cg_caseworker, cg_section_chief, auditor, admin); the password is asked "
       "for, or read from standard input",
       user_add},
      {"user", "passwd", "user passwd <login>",
       "set a new password (asked for, or from standard input); ends the account's sessions",
       user_passwd},
      {"user", "disable", "user disable <login>", "no more logins; ends the account's sessions",
       user_disable},
      {"user", "enable", "user enable <login>", "allow logins again", user_enable},
      {"user", "list", "user list", "accounts with role, officer id, ward and status", user_list},
      {"user", "token", "user token <login> [--label TEXT] [--days N]",
       "a bearer token for the REST API, printed once (the store keeps only its hash)", user_token},
      {"user", "token-revoke", "user token-revoke <token id>", "revoke an API token",
       user_token_revoke},
      {"retention", "purge", "retention purge [--as-of YYYY-MM-DD] [--dry-run]",
       "destroy the data keys of subjects past their retention period", retention_purge},
      {"reload", "", "reload [--timeout SECONDS]",
       "make the running tsunagud (DATA/run/tsunagud.pid) read the routing files and mappings "
       "again; an invalid set is refused and the running one stays",
       reload},
      {"backup", "", "backup <dir> [--include-keys]",
       "consistent copy of the store (also while tsunagud runs), the audit public key and the "
       "latest signed head, with SHA256SUMS; keys only with --include-keys",
       backup},
      {"restore", "", "restore <dir> [--force]",
       "into a stopped instance's data directory (an existing store only with --force), then "
       "audit verify on the restored copy",
       restore},
  };
  return table;
}

}  // namespace tsunagu::cli
