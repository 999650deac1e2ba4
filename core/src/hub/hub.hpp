// The running hub, without any Poco::Util::Application: tsunagud wires it to signals, tests
// construct it directly.
//
// Construction validates everything (plugins, mappings, store schema, TLS files, the listening
// socket) and throws on the first problem, so a misconfigured hub never starts half-way. start()
// runs the spool watcher on its own thread and then serves HTTPS (if <http> is enabled); stop()
// stops HTTPS first, then asks the watcher to finish the current batch and joins it.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "audit/audit_log.hpp"
#include "common/clock.hpp"
#include "common/current.hpp"
#include "config/hub_config.hpp"
#include "ingest/spool_ingestor.hpp"
#include "plugin/plugin_registry.hpp"
#include "routing/routing_config.hpp"
#include "store/store.hpp"

namespace tsunagu {

namespace http {
class HttpsServer;
}
namespace delivery {
class ChannelDriver;
}

namespace web {
class WebApp;
}

class HubError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Loads each enabled system's mapping and creates its adapter from the loaded plugins.
// Throws HubError naming the system and what is wrong.
std::vector<ingest::SystemPipeline> build_pipelines(const config::HubConfig& config,
                                                    const plugin::PluginRegistry& plugins);

// The routing configuration named by <routing> (policies, roster, holidays, routes), checked;
// nullptr when routing is off. Throws HubError listing every problem.
std::shared_ptr<const routing::RoutingConfig> load_routing(const config::HubConfig& config);

// The routing configuration in force; a reload (Hub::reload) replaces it.
using CurrentRouting = Current<routing::RoutingConfig>;

// Routes every event the pipelines store from now on (inside the storing transaction), under the
// routing configuration current when the event is stored.
void attach_routing(std::vector<ingest::SystemPipeline>& pipelines,
                    std::shared_ptr<const CurrentRouting> routing, const Clock& clock);

// The configured delivery channels (<delivery><channels>), created through their plugins, and
// checked against the channels the routes name. Throws HubError naming the channel or the rule.
std::unique_ptr<delivery::ChannelDriver> make_channels(const config::HubConfig& config,
                                                       const plugin::PluginRegistry& plugins,
                                                       const routing::RoutingConfig* routing);

// Opens the instance's store with its keyring (master key from TSUNAGU_MASTER_KEY or keys/), so
// sealed payloads can be read. `create_keys`: make a master key if there is none (the daemon).
std::unique_ptr<store::Store> open_store(const config::HubConfig& config, bool create_keys = false);

// The instance's audit signing key: keys/audit-ed25519.pem, created on first start together with
// the public key auditors use (keys/audit-ed25519.pub.pem). Throws HubError, before making or
// changing any file, when `store`'s log is already signed with another key (or with one whose
// file is missing): every head signed from then on would fail the auditors' verify as a forgery.
security::SigningKey load_or_create_signing_key(const config::HubConfig& config,
                                                store::Store& store);

// For `tsunagu audit new-key`: moves the current key files (if any) to keys/retired/ — each named
// by its own key id, or "unreadable-<time>" if it cannot be read; never overwritten — and makes
// a new pair in their place. The caller records the change in the log and signs a head with the
// new key.
struct ReplacedSigningKey {
  security::SigningKey key;  // the new one
  std::string old_id;  // the key id of the private key file replaced; "" if none or unreadable
  std::string retired_public_id;  // the key id of the public key file replaced; "" if none or
                                  // unreadable
};
ReplacedSigningKey replace_signing_key(const config::HubConfig& config);
// keys/retired/audit-ed25519-<key id>.pub.pem: where a replaced key's public key is kept.
std::filesystem::path retired_public_key_file(const config::HubConfig& config,
                                              const std::string& key_id);
// Where `audit new-key` keeps the pairs it replaced: keys/retired/.
std::filesystem::path retired_keys_dir(const config::HubConfig& config);
// "audit-ed25519-<64 hex>.pub.pem": the name of a replaced key's public key (not a file new-key
// could not read, kept as audit-ed25519-unreadable-<time>…).
bool is_retired_public_key_name(std::string_view name);
// The public keys of the signing keys replaced so far (keys/retired/audit-ed25519-<id>.pub.pem),
// sorted by name: with the current one, what verifies the log across its key changes.
std::vector<std::filesystem::path> retired_public_keys(const config::HubConfig& config);

class Hub {
 public:
  // `clock`: what deadlines, timers and escalations run on (tests pass a ManualClock).
  explicit Hub(config::HubConfig config, const Clock& clock = SystemClock::instance());
  ~Hub();
  Hub(const Hub&) = delete;
  Hub& operator=(const Hub&) = delete;

  void start();
  // Runs due timers and escalations now, on the caller's thread (the scheduler thread does this
  // every few seconds). Returns how many it handled; 0 when routing is off.
  std::size_t tick_routing();
  // Makes every due delivery attempt now, on the caller's thread (tests); returns how many.
  std::size_t deliver_due();
  // The routing configuration in force (nullptr when routing is off).
  std::shared_ptr<const routing::RoutingConfig> routing() const {
    return routing_ ? routing_->get() : nullptr;
  }
  // Reads the routing files and the mappings again (SIGHUP). A valid set replaces the running
  // one at once (audit entry config.reloaded with each file's SHA-256); an invalid one is refused
  // with every problem logged (config.reload_refused) and the running one stays. tsunagu.xml
  // itself is not re-read: systems, plugins, the store and HTTPS need a restart. Thread-safe;
  // one reload at a time. Never throws.
  struct ReloadOutcome {
    bool reloaded = false;
    std::vector<std::string> problems;  // why it was refused
  };
  ReloadOutcome reload();
  // Idempotent. Returns once the watcher has committed or abandoned its current batch.
  void stop();

  const config::HubConfig& config() const { return config_; }
  const plugin::PluginRegistry& plugins() const { return *plugins_; }
  // The HTTPS listener's port (the bound one when <port> is 0) and URL; 0 and "" when it is off.
  std::uint16_t https_port() const;
  std::string https_url() const;
  // DATA/run/https.port: the bound port while the listener runs, for scripts and tests.
  std::filesystem::path https_port_file() const { return config_.data_dir / "run" / "https.port"; }

 private:
  void run();
  void run_signer();
  void run_scheduler();
  void run_deliverer(int worker);
  void record_start();

  config::HubConfig config_;
  const Clock& clock_;
  std::shared_ptr<CurrentRouting> routing_;  // nullptr when routing is off
  std::mutex reload_mutex_;
  // Declaration order is destruction order in reverse: the ingestor and pipelines (objects made
  // by plugins) go before the registry that holds the libraries.
  std::unique_ptr<plugin::PluginRegistry> plugins_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<audit::AuditLog> audit_;
  std::optional<security::SigningKey> signing_key_;
  std::unique_ptr<ingest::SpoolIngestor> ingestor_;
  // The pages and API for people; its handlers are the listener's routes, so it outlives it.
  std::unique_ptr<web::WebApp> web_;
  std::unique_ptr<delivery::ChannelDriver> channels_;  // objects made by channel plugins
  std::unique_ptr<http::HttpsServer> https_;           // shares the pipelines' adapters
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
  std::thread watcher_;
  std::thread signer_;
  std::thread scheduler_;
  std::vector<std::thread> deliverers_;
  std::mutex tick_mutex_;  // one tick at a time (the scheduler thread, tick_routing())
};

}  // namespace tsunagu
