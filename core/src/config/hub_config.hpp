// The daemon's configuration (config/tsunagu.xml), validated once at start-up.
//
// Every element is known: an unknown element, a missing required one, or a bad value throws
// ConfigError naming the file, the element path and the reason, and the hub does not start.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <tsunagu/plugin.hpp>

namespace tsunagu::config {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct SystemConfig {
  std::string name;               // system id, e.g. public_assistance (the element name)
  std::string adapter;            // name of the adapter plugin that decodes its format
  std::filesystem::path mapping;  // absolute path of mappings/<system>.xml
  bool enabled = true;
  PluginSettings settings;  // free-form <settings> children, passed to the adapter factory
};

struct SqliteConfig {
  std::filesystem::path file;        // absolute; relative values are under the data directory
  std::string synchronous = "full";  // full | normal (full: every commit is fsync-durable)
  std::chrono::milliseconds busy_timeout{10000};
  int cache_mb = 64;        // page cache per connection, MiB (a ceiling, filled as used)
  int checkpoint_mb = 256;  // the write-ahead log is copied into the database at this size
  // background: a thread of tsunagud copies it; commit: the commit that takes it over the size
  std::string checkpoint = "background";
};

// <store><postgresql>: several instances may share one database (core/DESIGN.md).
struct PostgresConfig {
  // A libpq connection string; what it leaves out comes from PGHOST, PGPORT, PGUSER, PGDATABASE,
  // PGPASSFILE (~/.pgpass). Never put a password here: the file is readable by operators.
  std::string conninfo;
};

// How long a subject's personal data is kept after its latest record, by system and event kind.
struct RetentionRule {
  std::string system;  // empty: any system
  std::string kind;    // empty: any kind
  int days = 0;
};

struct RetentionConfig {
  int default_days = 3650;
  std::vector<RetentionRule> rules;
  // The most specific rule for (system, kind): system+kind, then system, then the default.
  int days_for(const std::string& system, const std::string& kind) const;
};

// A system that pushes over HTTPS: which client certificates are that system, and what it sends.
struct HttpClientConfig {
  std::string system;                           // a configured system (the element name)
  std::vector<std::string> certificate_sha256;  // lower-case hex, no colons; preferred
  std::vector<std::string> certificate_cn;      // subject common names, matched exactly
  std::vector<std::string> content_types;       // media types it may push, lower-case
};

// <http>: the HTTPS listener. Absent: off. Relative paths are relative to the config file; the
// TLS files default to DATA/tls/{server.crt,server.key,ca.crt} (scripts/make-certs.sh DATA/tls).
struct HttpConfig {
  bool enabled = false;
  std::string bind = "127.0.0.1";
  int port = 8443;                           // 0: any free port (see DATA/run/https.port)
  int threads = 8;                           // request threads (a dedicated pool)
  int max_queued = 64;                       // accepted connections waiting for a thread
  std::chrono::milliseconds timeout{30000};  // socket send/receive
  std::chrono::milliseconds keep_alive_timeout{5000};
  // Requests over one connection before the hub closes it (the client connects again: a new TLS
  // handshake with its certificate). Each connection holds a request thread while it is open;
  // those waiting for one get their turn sooner, as every answer closes its connection while any
  // waits (https_server.cpp).
  int max_keep_alive_requests = 1000;
  std::chrono::milliseconds shutdown_grace{5000};  // open requests may finish within this
  std::size_t max_body_bytes = 8 * 1024 * 1024;
  std::filesystem::path certificate;  // server certificate chain, PEM
  std::filesystem::path private_key;  // its key, PEM, unencrypted
  std::filesystem::path ca;           // CA that signs client certificates, PEM
  std::vector<HttpClientConfig> clients;
  // <sessions>: how long a login to the pages lasts without use, and at most.
  std::chrono::minutes session_idle{30};
  std::chrono::minutes session_absolute{12 * 60};
  const HttpClientConfig* find_client(const std::string& system) const;
};

// <routing>: the four routing files (routing::load reads them). Absent: routing is off.
struct RoutingFiles {
  std::filesystem::path policies;
  std::filesystem::path roster;
  std::filesystem::path holidays;
  std::filesystem::path routes;
};

// A channel notices may leave by besides the inbox: a channel plugin with its settings.
struct DeliveryChannelConfig {
  std::string name;      // what routes name in recipient channels="…"
  std::string plugin;    // the channel plugin (smtp, webhook, spool)
  int max_attempts = 0;  // 0: <delivery><max-attempts>
  PluginSettings settings;
};

// <delivery>: the outbox workers (absent: defaults, no channels but the inbox).
struct DeliveryConfig {
  int workers = 2;
  int max_attempts = 8;
  std::chrono::milliseconds backoff_initial{5000};
  std::chrono::milliseconds backoff_max{3600000};
  std::chrono::milliseconds lease{300000};
  std::chrono::milliseconds poll_interval{500};
  std::vector<DeliveryChannelConfig> channels;
};
// <logging><module>: a level for one module's logger (tsunagu.<module>) and those below it.
struct LogModuleLevel {
  std::string name;   // e.g. tsunagu.ingest
  std::string level;  // a Poco level name
};

// The modules whose loggers <logging><module> may name: tsunagu.<module> for the modules of
// core/src (DESIGN.md) and the programs. A module that logs under a new name adds it here.
const std::vector<std::string>& log_modules();

struct HubConfig {
  std::filesystem::path file;  // the configuration file this was read from
  std::string instance_name;
  std::filesystem::path data_dir;  // store, spool/, keys/, logs/ live here
  std::filesystem::path plugin_dir;
  std::filesystem::path mapping_dir;     // holds mapping.xsd and the mappings named by systems
  std::string store_backend = "sqlite";  // sqlite | postgresql
  SqliteConfig sqlite;
  PostgresConfig postgres;
  std::chrono::milliseconds spool_poll_interval{500};
  std::size_t batch_size = 500;  // records per store transaction during ingest
  std::vector<SystemConfig> systems;
  std::chrono::seconds audit_sign_interval{60};  // how often a new tree head is signed
  RetentionConfig retention;
  std::string log_level = "information";
  std::string log_format = "text";                // text | json
  std::vector<LogModuleLevel> log_module_levels;  // in document order
  HttpConfig http;
  // <routing>: off without the element; with it (even empty) on unless <enabled>false</enabled>.
  // Relative paths are relative to the config file; each defaults to its name beside it.
  DeliveryConfig delivery;
  bool routing_enabled = false;
  RoutingFiles routing_files;
  // How often due timers and escalations are run; 0: never by itself (tests drive
  // Hub::tick_routing(), operators `tsunagu routing tick`).
  std::chrono::milliseconds routing_tick_interval{2000};

  std::filesystem::path spool_dir(const std::string& system) const {
    return data_dir / "spool" / system;
  }
  std::filesystem::path mapping_schema() const { return mapping_dir / "mapping.xsd"; }
  std::filesystem::path keys_dir() const { return data_dir / "keys"; }
  std::filesystem::path audit_private_key() const { return keys_dir() / "audit-ed25519.pem"; }
  // The public key auditors verify heads with; copy it somewhere the hub cannot write.
  std::filesystem::path audit_public_key() const { return keys_dir() / "audit-ed25519.pub.pem"; }
  const SystemConfig* find_system(const std::string& name) const;
};

struct LoadOptions {
  std::optional<std::filesystem::path> data_dir;  // --data-dir: overrides <data-dir>
  std::filesystem::path executable_dir;           // where the running program lives
};

// Reads and validates `file`. Relative paths in the file are relative to the file's directory.
HubConfig load(const std::filesystem::path& file, const LoadOptions& options);

// <plugins><directory> left empty: plugins/ beside the programs' bin/ (the build tree), or else
// lib/tsunagu/plugins under their prefix when that exists (an installed tree: /usr/sbin/tsunagud
// → /usr/lib/tsunagu/plugins).
std::filesystem::path default_plugin_dir(const std::filesystem::path& executable_dir);

// The config file to use when none is given: $TSUNAGU_CONFIG, ./config/tsunagu.xml (a checkout),
// <exe>/../../config/tsunagu.xml (the build tree of a checkout), /etc/tsunagu/tsunagu.xml.
std::filesystem::path default_config_file(const std::filesystem::path& executable_dir);

// Creates the data directory layout (spool/<system>/{,work,done,failed}, keys, logs).
void prepare_data_dir(const HubConfig& config);

}  // namespace tsunagu::config
