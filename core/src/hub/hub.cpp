#include "hub/hub.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <set>

#include <Poco/Logger.h>

#include "delivery/outbox.hpp"
#include "http/https_server.hpp"
#include "routing/router.hpp"
#include "security/errors.hpp"
#include "store/prepared.hpp"
#include "web/web_app.hpp"

namespace tsunagu {
namespace {
Poco::Logger& log() {
  return Poco::Logger::get("tsunagu.hub");
}
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

std::shared_ptr<const routing::RoutingConfig> load_routing(const config::HubConfig& config) {
  if (!config.routing_enabled) return nullptr;
  std::set<std::string> systems;
  for (const auto& s : config.systems) systems.insert(s.name);
  try {
    return std::make_shared<const routing::RoutingConfig>(
        routing::load(config.routing_files, systems));
  } catch (const std::exception& e) {
    throw HubError(std::string("routing configuration: ") + e.what());
  }
}

void attach_routing(std::vector<ingest::SystemPipeline>& pipelines,
                    std::shared_ptr<const CurrentRouting> routing, const Clock& clock) {
  if (!routing) return;
  for (auto& p : pipelines) {
    p.on_stored = [routing, &clock](store::Store& store, audit::AuditLog& audit,
                                    const CaseEvent& event, const std::string& subject,
                                    const identity::LinkResult& link) {
      // One snapshot per event: a reload during this call does not change its decisions.
      routing::Router(routing->get(), store, audit, clock).on_event(event, subject, link);
    };
  }
}

std::unique_ptr<delivery::ChannelDriver> make_channels(const config::HubConfig& config,
                                                       const plugin::PluginRegistry& plugins,
                                                       const routing::RoutingConfig* routing) {
  std::vector<delivery::ChannelConfig> channels;
  for (const auto& c : config.delivery.channels) {
    channels.push_back({c.name, c.plugin, c.settings});
  }
  std::unique_ptr<delivery::ChannelDriver> driver;
  try {
    driver = std::make_unique<delivery::ChannelDriver>(plugins, channels);
  } catch (const std::exception& e) {
    throw HubError(std::string("delivery: ") + e.what());
  }
  // A route may only name channels that exist: a notice must never wait for a channel that
  // nobody configured.
  if (routing != nullptr) {
    auto check = [&](const std::string& rule, const std::vector<routing::Recipient>& list) {
      for (const auto& r : list) {
        for (const auto& ch : r.channels) {
          if (ch != delivery::kInboxChannel && !driver->has(ch)) {
            throw HubError("routing: rule '" + rule + "' sends to channel '" + ch +
                           "', which <delivery><channels> does not configure");
          }
        }
      }
    };
    for (const auto& r : routing->routes) check(r.id, r.recipients), check(r.id, r.escalation);
    for (const auto& r : routing->correlations) check(r.id, r.recipients);
    for (const auto& r : routing->timers) check(r.id, {r.recipient});
  }
  return driver;
}

delivery::OutboxSettings outbox_settings(const config::HubConfig& config) {
  delivery::OutboxSettings s;
  s.max_attempts = config.delivery.max_attempts;
  s.initial_backoff = config.delivery.backoff_initial;
  s.max_backoff = config.delivery.backoff_max;
  s.lease = config.delivery.lease;
  for (const auto& c : config.delivery.channels) {
    if (c.max_attempts > 0) s.max_attempts_by_channel[c.name] = c.max_attempts;
  }
  return s;
}

std::unique_ptr<store::Store> open_store(const config::HubConfig& config, bool create_keys) {
  std::unique_ptr<store::Store> store;
  if (config.store_backend == "postgresql") {
    store = store::Store::open_postgres(config.postgres.conninfo);
  } else {
    store::SqliteOptions options;
    options.synchronous_full = config.sqlite.synchronous == "full";
    options.busy_timeout_ms = static_cast<int>(config.sqlite.busy_timeout.count());
    options.cache_mb = config.sqlite.cache_mb;
    options.checkpoint_mb = config.sqlite.checkpoint_mb;
    options.checkpoint_in_background = config.sqlite.checkpoint == "background";
    store = store::Store::open_sqlite(config.sqlite.file, options);
  }
  if (create_keys) {
    // A new master key for a store that already holds sealed data would make all of it
    // unreadable for good (a restored backup without its key, a lost keys/ directory): refuse.
    const char* variable = std::getenv(security::Keyring::kMasterKeyVariable);
    const bool have_key = (variable != nullptr && *variable != '\0') ||
                          std::filesystem::exists(config.keys_dir() / "master.key");
    if (!have_key) {
      auto q = store->query("SELECT COUNT(*) FROM subjects");
      q.next();
      if (q.integer(0) > 0) {
        throw HubError("the store " + store->location() + " holds sealed data of " +
                       std::to_string(q.integer(0)) + " subjects but there is no master key (" +
                       (config.keys_dir() / "master.key").string() + " or " +
                       security::Keyring::kMasterKeyVariable +
                       "): restore the key; a new one would make that data unreadable");
      }
    }
  }
  try {
    store->set_keyring(security::Keyring::open(config.keys_dir(), create_keys));
  } catch (const security::KeyError& e) {
    if (create_keys) throw;
    // The CLI still lists metadata without the master key; payloads stay sealed.
    log().warning("%s", std::string(e.what()));
  }
  return store;
}

namespace {

// keys/audit-ed25519.pub.pem, what auditors verify with: written (atomically) when it is not the
// key's.
void write_public_key(const config::HubConfig& config, const security::SigningKey& key) {
  const auto public_file = config.audit_public_key();
  const std::string pem = key.public_key_pem();
  std::ifstream existing(public_file);
  const std::string current((std::istreambuf_iterator<char>(existing)),
                            std::istreambuf_iterator<char>());
  if (current != pem) {
    const auto tmp = public_file.parent_path() / ".audit-ed25519.pub.pem.tmp";
    std::ofstream(tmp, std::ios::trunc) << pem;
    std::filesystem::rename(tmp, public_file);
  }
}

}  // namespace

security::SigningKey load_or_create_signing_key(const config::HubConfig& config,
                                                store::Store& store) {
  const auto private_file = config.audit_private_key();
  std::error_code ec;
  const bool have_file = std::filesystem::exists(private_file, ec);
  security::SigningKey key = have_file ? security::SigningKey::load_pem_file(private_file)
                                       : security::SigningKey::generate();
  // The log's heads name the key that signed them. A restore or a second instance without the
  // first one's keys/audit-ed25519*.pem would sign the next head with another key, and the
  // auditors' verify (with the public key they keep) would call every later head forged.
  if (const auto head = audit::AuditLog(store).latest_head();
      head && head->key_id != key.key_id()) {
    const std::string signed_by =
        "the exchange log of " + store.location() + " is signed with audit key " + head->key_id +
        " (its latest tree head, #" + std::to_string(head->id) + " of " + head->time + ")";
    const std::string remedy =
        ": restore keys/audit-ed25519.pem and keys/audit-ed25519.pub.pem from the backup of this "
        "store (a second instance of a shared PostgreSQL store copies them from the first). "
        "Heads signed with another key would fail the auditors' verify as forged. To replace the "
        "key on purpose, run 'tsunagu audit new-key' and give the auditors its public key";
    if (!have_file) {
      throw HubError(signed_by + ", but there is no signing key " + private_file.string() + remedy);
    }
    throw HubError(signed_by + ", but " + private_file.string() + " is key " + key.key_id() +
                   remedy);
  }
  if (!have_file) {
    std::filesystem::create_directories(private_file.parent_path());
    key.save_pem_file(private_file);
    log().notice("created the audit signing key %s (key id %s)", private_file.string(),
                 key.key_id());
  }
  write_public_key(config, key);
  return key;
}

std::filesystem::path retired_keys_dir(const config::HubConfig& config) {
  return config.audit_private_key().parent_path() / "retired";
}

bool is_retired_public_key_name(std::string_view name) {
  constexpr std::string_view prefix = "audit-ed25519-", suffix = ".pub.pem";
  if (name.size() != prefix.size() + 64 + suffix.size() || !name.starts_with(prefix) ||
      !name.ends_with(suffix)) {
    return false;
  }
  const auto id = name.substr(prefix.size(), 64);
  return std::all_of(id.begin(), id.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::vector<std::filesystem::path> retired_public_keys(const config::HubConfig& config) {
  std::vector<std::filesystem::path> out;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(retired_keys_dir(config), ec), end; !ec && it != end;
       it.increment(ec)) {
    if (is_retired_public_key_name(it->path().filename().string())) out.push_back(it->path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::filesystem::path retired_public_key_file(const config::HubConfig& config,
                                              const std::string& key_id) {
  return retired_keys_dir(config) / ("audit-ed25519-" + key_id + ".pub.pem");
}

namespace {

// Moves `file` into keys/retired/ as `name` (+ ".1", ".2", … if that is taken): a key file is
// never overwritten or deleted.
void retire(const config::HubConfig& config, const std::filesystem::path& file,
            const std::string& name) {
  const auto dir = retired_keys_dir(config);
  std::filesystem::create_directories(dir);
  auto target = dir / name;
  for (int n = 1; std::filesystem::exists(target); ++n) {
    target = dir / (name + "." + std::to_string(n));
  }
  std::filesystem::rename(file, target);
}

// "20261207T010203Z": for the name of a key file that could not be read.
std::string file_stamp() {
  const std::string now = store::utc_now();  // 2026-12-07T01:02:03.123456+00:00
  std::string out;
  for (const char c : now.substr(0, 19)) {
    if (c != '-' && c != ':') out += c;
  }
  return out + "Z";
}

}  // namespace

ReplacedSigningKey replace_signing_key(const config::HubConfig& config) {
  const auto private_file = config.audit_private_key();
  const auto public_file = config.audit_public_key();
  std::string old_id, public_id;
  std::error_code ec;
  // The public key on its own: when the private key is lost or damaged, the heads it signed still
  // verify with it, so it is kept under its key id where `audit verify` and `backup` find it.
  if (std::filesystem::exists(public_file, ec)) {
    std::string name = "audit-ed25519-unreadable-" + file_stamp() + ".pub.pem";
    try {
      public_id = security::VerifyingKey::load_pem_file(public_file).key_id();
      name = retired_public_key_file(config, public_id).filename().string();
    } catch (const security::KeyError&) {  // NOLINT(bugprone-empty-catch): kept as it is
    }
    retire(config, public_file, name);
  }
  if (std::filesystem::exists(private_file, ec)) {
    std::string name = "audit-ed25519-unreadable-" + file_stamp() + ".pem";
    try {
      old_id = security::SigningKey::load_pem_file(private_file).key_id();
      name = "audit-ed25519-" + old_id + ".pem";
    } catch (const security::KeyError&) {  // NOLINT(bugprone-empty-catch)
      // Damaged, or readable by others: kept as it is, and replaced like a lost one.
    }
    retire(config, private_file, name);
  }
  std::filesystem::create_directories(private_file.parent_path());
  auto key = security::SigningKey::generate();
  key.save_pem_file(private_file);
  write_public_key(config, key);
  return {std::move(key), std::move(old_id), std::move(public_id)};
}

Hub::Hub(config::HubConfig config, const Clock& clock) : config_(std::move(config)), clock_(clock) {
  config::prepare_data_dir(config_);
  plugins_ = std::make_unique<plugin::PluginRegistry>();
  plugins_->load_directory(config_.plugin_dir);
  auto pipelines = build_pipelines(config_, *plugins_);
  // A hub with a broken routing config does not start.
  if (auto routing = load_routing(config_)) routing_ = std::make_shared<CurrentRouting>(routing);
  attach_routing(pipelines, routing_, clock_);
  channels_ = make_channels(config_, *plugins_, routing_ ? routing_->get().get() : nullptr);
  store_ = open_store(config_, true);
  signing_key_ = load_or_create_signing_key(config_, *store_);
  audit_ = std::make_unique<audit::AuditLog>(*store_);
  std::error_code ignored;
  std::filesystem::remove(https_port_file(), ignored);  // a stale one would name a dead port
  if (config_.http.enabled) {  // before hub.started: a hub that cannot listen does not start
    https_ = std::make_unique<http::HttpsServer>(config_, pipelines,
                                                 [this] { return open_store(config_); });
    web::WebOptions web_options;
    web_options.sessions.idle = config_.http.session_idle;
    web_options.sessions.absolute = config_.http.session_absolute;
    web_ =
        std::make_unique<web::WebApp>([this] { return open_store(config_); }, web_options, clock_);
    web_->set_routing([routing = routing_] { return routing ? routing->get() : nullptr; });
    web_->install(https_->router());
    // /healthz: every enabled system's adapter is loaded; how many plugins are, or were refused.
    https_->status().add_health_check("plugins", [this] {
      http::HealthCheck c;
      for (const auto& s : config_.systems) {
        c.ok = c.ok && (!s.enabled || plugins_->find(PluginKind::adapter, s.adapter) != nullptr);
      }
      c.details.emplace_back("loaded", static_cast<int>(plugins_->plugins().size()));
      c.details.emplace_back("refused", static_cast<int>(plugins_->refusals().size()));
      return c;
    });
    // SQLite: the WAL's checkpoints, run by a thread of this process. While they fail, a commit
    // that finds the log at twice its size copies it itself; the disk needs looking at.
    if (auto checkpointer = store_->checkpointer()) {
      https_->status().add_health_check("checkpoints", [checkpointer] {
        http::HealthCheck c;
        const auto counts = checkpointer->counts();
        c.ok = !counts.failing;
        c.details.emplace_back("passes", counts.passes);
        c.details.emplace_back("rounds", counts.rounds);
        c.details.emplace_back("by_commit", counts.by_commit);
        c.details.emplace_back("failures", counts.failures);
        return c;
      });
    }
  }
  record_start();
  ingestor_ = std::make_unique<ingest::SpoolIngestor>(config_, *store_, *audit_,
                                                      std::move(pipelines), stopping_);
}

std::uint16_t Hub::https_port() const {
  return https_ ? https_->port() : 0;
}
std::string Hub::https_url() const {
  return https_ ? https_->url() : std::string();
}

void Hub::record_start() {
  std::int64_t config_size = 0;
  const std::string config_sha256 = ingest::file_sha256(config_.file, config_size);
  store::Transaction tx(*store_);
  audit_->append({audit::entry_type::kHubStarted,
                  "hub",
                  "",
                  {{"instance", config_.instance_name},
                   {"config_file", config_.file.string()},
                   {"config_sha256", config_sha256},
                   {"audit_key_id", signing_key_->key_id()}}});
  for (const auto& p : plugins_->plugins()) {
    std::int64_t size = 0;
    audit_->append({audit::entry_type::kPluginLoaded,
                    "hub",
                    "",
                    {{"kind", to_string(p.kind)},
                     {"name", p.name},
                     {"version", p.version},
                     {"api_version", std::to_string(p.api_version)},
                     {"file", p.path.string()},
                     {"sha256", ingest::file_sha256(p.path, size)}}});
  }
  for (const auto& r : plugins_->refusals()) {
    audit_->append({audit::entry_type::kPluginRefused,
                    "hub",
                    "",
                    {{"file", r.path.string()}, {"reason", r.reason}}});
  }
  tx.commit();
}

Hub::~Hub() {
  stop();
}

void Hub::start() {
  watcher_ = std::thread([this] { run(); });
  signer_ = std::thread([this] { run_signer(); });
  for (int i = 0; i < config_.delivery.workers; ++i) {
    deliverers_.emplace_back([this, i] { run_deliverer(i); });
  }
  if (routing_ && config_.routing_tick_interval.count() > 0) {
    scheduler_ = std::thread([this] { run_scheduler(); });
  }
  log().information("hub '%s' started: data directory %s, spool %s", config_.instance_name,
                    config_.data_dir.string(), (config_.data_dir / "spool").string());
  if (https_) {
    https_->start();
    http::write_port_file(https_port_file(), https_->port());
    log().information("HTTPS listening on %s (push: POST %s/api/v1/ingest/<system>)", https_->url(),
                      https_->url());
  }
}

void Hub::stop() {
  // Pushes first: no new input may arrive while the rest shuts down.
  if (https_) {
    https_->stop();
    std::error_code ignored;
    std::filesystem::remove(https_port_file(), ignored);
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (signer_.joinable()) signer_.join();
  if (scheduler_.joinable()) scheduler_.join();
  for (auto& t : deliverers_) t.join();
  deliverers_.clear();
  if (watcher_.joinable()) {
    watcher_.join();
    try {
      // The last word: a signed head that covers everything this run wrote.
      audit_->append_now(
          {audit::entry_type::kHubStopped, "hub", "", {{"instance", config_.instance_name}}});
      audit_->sign_head(*signing_key_);
    } catch (const std::exception& e) {
      log().error("could not sign the final tree head: %s", std::string(e.what()));
    }
    log().information("hub '%s' stopped", config_.instance_name);
  }
}

void Hub::run_signer() {
  // Its own store session: a Poco::Data session belongs to one thread.
  std::unique_ptr<store::Store> store;
  std::unique_ptr<audit::AuditLog> log_of_signer;
  while (!stopping_) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait_for(lock, config_.audit_sign_interval, [this] { return stopping_.load(); });
    }
    if (stopping_) break;
    try {
      if (!store) {
        store = open_store(config_);
        log_of_signer = std::make_unique<audit::AuditLog>(*store);
      }
      if (auto head = log_of_signer->sign_head(*signing_key_)) {
        log().information("signed tree head: size %s", std::to_string(head->tree_size));
      }
    } catch (const std::exception& e) {
      log().error("signing a tree head failed, retrying: %s", std::string(e.what()));
    }
  }
}

std::size_t Hub::tick_routing() {
  if (!routing_) return 0;
  std::lock_guard<std::mutex> lock(tick_mutex_);
  auto store = open_store(config_);
  audit::AuditLog log_of_tick(*store);
  return routing::Router(routing_->get(), *store, log_of_tick, clock_).tick();
}

std::size_t Hub::deliver_due() {
  auto store = open_store(config_);
  audit::AuditLog log_of_delivery(*store);
  return delivery::Outbox(*store, log_of_delivery, channels_.get(),
                          routing_ ? routing_->get() : nullptr, outbox_settings(config_), clock_)
      .run_due();
}

void Hub::run_deliverer(int worker) {
  // One outbox worker: its own store session; attempts run outside transactions, so a slow
  // channel holds up only its own worker.
  std::unique_ptr<store::Store> store;
  std::unique_ptr<audit::AuditLog> log_of_worker;
  const delivery::OutboxSettings settings = outbox_settings(config_);
  while (!stopping_) {
    bool worked = false;
    try {
      if (!store) {
        store = open_store(config_);
        log_of_worker = std::make_unique<audit::AuditLog>(*store);
      }
      // The roster in force now (a reload may have changed it) names the recipients.
      worked = delivery::Outbox(*store, *log_of_worker, channels_.get(),
                                routing_ ? routing_->get() : nullptr, settings, clock_)
                   .run_one();
    } catch (const std::exception& e) {
      log().error("delivery worker %d failed, retrying: %s", worker, std::string(e.what()));
      log_of_worker.reset();
      store.reset();
    }
    if (worked) continue;
    std::unique_lock<std::mutex> lock(mutex_);
    wake_.wait_for(lock, config_.delivery.poll_interval, [this] { return stopping_.load(); });
  }
}

void Hub::run_scheduler() {
  // Timers and escalations: every few seconds, on a store session of its own. A failed tick
  // changes nothing (each firing is one transaction) and is tried again.
  std::unique_ptr<store::Store> store;
  std::unique_ptr<audit::AuditLog> log_of_scheduler;
  while (!stopping_) {
    try {
      if (!store) {
        store = open_store(config_);
        log_of_scheduler = std::make_unique<audit::AuditLog>(*store);
      }
      std::lock_guard<std::mutex> lock(tick_mutex_);
      if (const std::size_t n =
              routing::Router(routing_->get(), *store, *log_of_scheduler, clock_).tick()) {
        log().information("routing: %s timers and escalations handled", std::to_string(n));
      }
    } catch (const std::exception& e) {
      log().error("routing tick failed, retrying: %s", std::string(e.what()));
      store.reset();
      log_of_scheduler.reset();
    }
    std::unique_lock<std::mutex> lock(mutex_);
    wake_.wait_for(lock, config_.routing_tick_interval, [this] { return stopping_.load(); });
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
