// Hub::reload: the routing files and the mappings read again while the hub runs (SIGHUP).
//
// Everything is loaded and checked before anything is swapped, so a reload either takes effect
// whole or not at all. What changes: the routing configuration (one Current<> shared with the
// pipelines' on_stored hooks and the scheduler) and the pipelines (mappings and the adapters made
// with their settings), handed to the spool watcher and the HTTPS endpoint. What does not:
// tsunagu.xml itself (systems, plugins, store, HTTPS, logging) — that needs a restart.
#include <sstream>

#include <Poco/Logger.h>

#include "http/https_server.hpp"
#include "hub/hub.hpp"

namespace tsunagu {
namespace {

Poco::Logger& log() {
  return Poco::Logger::get("tsunagu.hub");
}

// "a\nb\n" → {"a", "b"}: routing::load reports every problem on a line of its own.
void append_lines(const std::string& text, std::vector<std::string>& out) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty()) out.push_back(line);
  }
}

}  // namespace

Hub::ReloadOutcome Hub::reload() {
  std::lock_guard<std::mutex> one_at_a_time(reload_mutex_);
  ReloadOutcome outcome;
  std::map<std::string, std::string> digests;  // audit details: <file>_sha256
  auto digest = [&digests](const std::string& name, const std::filesystem::path& file) {
    try {
      std::int64_t size = 0;
      digests[name + "_sha256"] = ingest::file_sha256(file, size);
    } catch (const std::exception&) {
      digests[name + "_sha256"] = "unreadable";
    }
  };

  std::shared_ptr<const routing::RoutingConfig> routing;
  if (routing_) {
    try {
      routing = load_routing(config_);
    } catch (const std::exception& e) {
      append_lines(e.what(), outcome.problems);
    }
    digest("policies", config_.routing_files.policies);
    digest("roster", config_.routing_files.roster);
    digest("holidays", config_.routing_files.holidays);
    digest("routes", config_.routing_files.routes);
  }

  // System by system, so that every broken mapping is reported, not only the first.
  std::vector<ingest::SystemPipeline> pipelines;
  for (const auto& system : config_.systems) {
    if (!system.enabled) continue;
    config::HubConfig one = config_;
    one.systems = {system};
    try {
      auto built = build_pipelines(one, *plugins_);
      for (auto& p : built) pipelines.push_back(std::move(p));
    } catch (const std::exception& e) {
      outcome.problems.emplace_back(e.what());
    }
    digest("mapping." + system.name, system.mapping);
  }
  digest("mapping_schema", config_.mapping_schema());

  try {
    auto store = open_store(config_);
    audit::AuditLog audit(*store);
    auto details = digests;
    if (!outcome.problems.empty()) {
      // The problems quote the files (officers' names and addresses in the roster): the log has
      // them, the exchange log only how many there were.
      details["problems"] = std::to_string(outcome.problems.size());
      audit.append_now({audit::entry_type::kConfigReloadRefused, "hub", "", details});
    } else {
      audit.append_now({audit::entry_type::kConfigReloaded, "hub", "", details});
    }
  } catch (const std::exception& e) {
    // A change the exchange log does not show is not made.
    outcome.problems.push_back(std::string("could not record the reload in the audit log: ") +
                               e.what());
  }

  if (!outcome.problems.empty()) {
    log().error("configuration reload refused (%s problems); the running configuration stays:",
                std::to_string(outcome.problems.size()));
    for (const auto& problem : outcome.problems) log().error("  %s", problem);
    return outcome;
  }

  attach_routing(pipelines, routing_, clock_);
  if (routing_) routing_->set(routing);
  if (https_) https_->replace_pipelines(pipelines);
  ingestor_->replace_pipelines(std::move(pipelines));
  outcome.reloaded = true;
  if (routing) {
    log().notice(
        "configuration reloaded: %s routes, %s officers, %s holidays; mappings of %s "
        "systems",
        std::to_string(routing->routes.size()), std::to_string(routing->roster.officers.size()),
        std::to_string(routing->holidays.by_date.size()),
        std::to_string(ingestor_->pipelines().size()));
  } else {
    log().notice("configuration reloaded: mappings of %s systems (routing is off)",
                 std::to_string(ingestor_->pipelines().size()));
  }
  return outcome;
}

}  // namespace tsunagu
