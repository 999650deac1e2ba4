#include "hub/hub.hpp"

#include <Poco/Logger.h>

namespace tsunagu {
namespace {
Poco::Logger& log() { return Poco::Logger::get("tsunagu.hub"); }
}  // namespace

std::vector<ingest::SystemPipeline> build_pipelines(const config::HubConfig& config,
                                                    const plugin::PluginRegistry& plugins) {
  std::vector<ingest::SystemPipeline> pipelines;
  for (const auto& system : config.systems) {
    if (!system.enabled) continue;
    ingest::SystemPipeline p;
    p.system = system.name;
    try {
      p.mapping = std::make_shared<const mapping::Mapping>(
          mapping::Mapping::load_file(system.mapping, config.mapping_schema()));
    } catch (const std::exception& e) {
      throw HubError("system '" + system.name + "': " + e.what());
    }
    if (p.mapping->system() != system.name) {
      throw HubError("system '" + system.name + "': mapping " + system.mapping.string() +
                     " is for system '" + p.mapping->system() + "'");
    }
    PluginSettings settings = p.mapping->adapter_settings();
    for (const auto& [k, v] : system.settings) settings[k] = v;  // config overrides the mapping
    try {
      p.adapter = plugins.create_adapter(system.adapter, settings);
    } catch (const std::exception& e) {
      throw HubError("system '" + system.name + "': " + e.what());
    }
    pipelines.push_back(std::move(p));
  }
  return pipelines;
}

std::unique_ptr<store::Store> open_store(const config::HubConfig& config) {
  store::SqliteOptions options;
  options.synchronous_full = config.sqlite.synchronous == "full";
  options.busy_timeout_ms = static_cast<int>(config.sqlite.busy_timeout.count());
  return store::Store::open_sqlite(config.sqlite.file, options);
}

Hub::Hub(config::HubConfig config) : config_(std::move(config)) {
  config::prepare_data_dir(config_);
  plugins_ = std::make_unique<plugin::PluginRegistry>();
  plugins_->load_directory(config_.plugin_dir);
  auto pipelines = build_pipelines(config_, *plugins_);
  store_ = open_store(config_);
  ingestor_ = std::make_unique<ingest::SpoolIngestor>(config_, *store_, std::move(pipelines),
                                                      stopping_);
}

Hub::~Hub() { stop(); }

void Hub::start() {
  watcher_ = std::thread([this] { run(); });
  log().information("hub '%s' started: data directory %s, spool %s", config_.instance_name,
                    config_.data_dir.string(), (config_.data_dir / "spool").string());
}

void Hub::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (watcher_.joinable()) {
    watcher_.join();
    log().information("hub '%s' stopped", config_.instance_name);
  }
}

void Hub::run() {
  while (!stopping_) {
    std::size_t processed = 0;
    try {
      processed = ingestor_->poll_once();
    } catch (const std::exception& e) {
      // A store or file-system failure: nothing is acknowledged until committed, so waiting and
      // trying again is safe.
      log().error("spool pass failed, retrying in %d ms: %s",
                  static_cast<int>(config_.spool_poll_interval.count()), std::string(e.what()));
    }
    if (processed > 0) continue;
    std::unique_lock<std::mutex> lock(mutex_);
    wake_.wait_for(lock, config_.spool_poll_interval, [this] { return stopping_.load(); });
  }
}

}  // namespace tsunagu
