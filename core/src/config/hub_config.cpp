#include "config/hub_config.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <map>
#include <set>
#include <sstream>

#include <Poco/AutoPtr.h>
#include <Poco/Exception.h>
#include <Poco/NumberParser.h>
#include <Poco/SAX/SAXException.h>
#include <Poco/Util/XMLConfiguration.h>

namespace tsunagu::config {
namespace fs = std::filesystem;
namespace {

using Poco::Util::AbstractConfiguration;

// Which child elements each element may have. A key not listed here is an error; "*" means any
// child name (the free-form <settings> of a plugin, the systems by name).
const std::map<std::string, std::set<std::string>>& allowed_children() {
  static const std::map<std::string, std::set<std::string>> table{
      {"",
       {"instance", "data-dir", "plugins", "mappings", "store", "spool", "systems", "audit",
        "retention", "logging", "http", "routing", "delivery"}},
      {"delivery",
       {"workers", "max-attempts", "backoff-initial-ms", "backoff-max-ms", "lease-ms",
        "poll-interval-ms", "channels"}},
      {"delivery.channels", {"*"}},
      {"delivery.channels.*", {"plugin", "max-attempts", "settings"}},
      {"delivery.channels.*.settings", {"*"}},
      {"routing", {"enabled", "policies", "roster", "holidays", "routes", "tick-interval-ms"}},
      {"audit", {"sign-interval-seconds"}},
      {"retention", {"default-days", "rule"}},
      {"retention.rule", {"system", "kind", "days"}},
      {"instance", {"name"}},
      {"plugins", {"directory"}},
      {"mappings", {"directory"}},
      {"store", {"backend", "sqlite", "postgresql"}},
      {"store.postgresql", {"conninfo"}},
      {"store.sqlite",
       {"file", "synchronous", "busy-timeout-ms", "cache-mb", "checkpoint-mb", "checkpoint"}},
      {"spool", {"poll-interval-ms", "batch-size"}},
      {"systems", {"*"}},
      {"systems.*", {"adapter", "mapping", "enabled", "settings"}},
      {"systems.*.settings", {"*"}},
      {"logging", {"level", "format", "module"}},
      {"logging.module", {"name", "level"}},
      {"http",
       {"enabled", "bind", "port", "threads", "max-queued", "timeout-ms", "keep-alive-timeout-ms",
        "max-keep-alive-requests", "shutdown-grace-ms", "max-body-bytes", "tls", "clients",
        "sessions"}},
      {"http.sessions", {"idle-minutes", "absolute-minutes"}},
      {"http.tls", {"certificate", "private-key", "ca"}},
      {"http.clients", {"*"}},
      {"http.clients.*", {"certificate-sha256", "certificate-cn", "content-types"}},
  };
  return table;
}

class Reader {
 public:
  Reader(fs::path file, const AbstractConfiguration& conf) : file_(std::move(file)), conf_(conf) {}

  [[noreturn]] void fail(const std::string& key, const std::string& reason) const {
    throw ConfigError(file_.string() + ": <" + element_path(key) + ">: " + reason);
  }

  // Rejects every element the schema does not know, depth first.
  void check_keys(const std::string& key, const std::string& schema_key) const {
    AbstractConfiguration::Keys children;
    conf_.keys(key, children);
    const auto& table = allowed_children();
    auto allowed = table.find(schema_key);
    for (const auto& child : children) {
      const std::string child_key = key.empty() ? child : key + "." + child;
      const std::string base = child.substr(0, child.find('['));
      // A client may have several certificates at once while one replaces another.
      const bool repeatable = (schema_key == "retention" && base == "rule") ||
                              (schema_key == "logging" && base == "module") ||
                              (schema_key == "http.clients.*" &&
                               (base == "certificate-sha256" || base == "certificate-cn"));
      if (base != child && !repeatable) {
        fail(child_key, "appears more than once; each element may be given once");
      }
      if (allowed == table.end()) {
        fail(key, "takes a value, not child elements (found <" + child + ">)");
      }
      const bool any = allowed->second.count("*") > 0;
      if (!any && allowed->second.count(base) == 0) {
        std::string names;
        for (const auto& n : allowed->second) names += (names.empty() ? "" : ", ") + n;
        fail(child_key, "unknown element (allowed here: " + names + ")");
      }
      const std::string child_schema =
          (any ? (schema_key.empty() ? "*" : schema_key + ".*")
               : (schema_key.empty() ? base : schema_key + "." + base));
      // Free-form settings are leaves; everything else is checked recursively.
      if (schema_key != "systems.*.settings" && schema_key != "delivery.channels.*.settings") {
        check_keys(child_key, child_schema);
      }
    }
  }

  bool has(const std::string& key) const { return conf_.has(key); }

  std::string text(const std::string& key, const std::optional<std::string>& fallback) const {
    if (!conf_.has(key)) {
      if (fallback) return *fallback;
      fail(key, "required element is missing");
    }
    std::string value = conf_.getRawString(key);
    trim(value);
    if (value.empty() && !fallback) fail(key, "must not be empty");
    if (value.empty()) return *fallback;
    return value;
  }

  long long integer(const std::string& key, long long fallback, long long min,
                    long long max) const {
    if (!conf_.has(key)) return fallback;
    const std::string raw = text(key, std::nullopt);
    Poco::Int64 value = 0;
    if (!Poco::NumberParser::tryParse64(raw, value)) {
      fail(key, "'" + raw + "' is not an integer");
    }
    if (value < min || value > max) {
      fail(key, std::to_string(value) + " is out of range [" + std::to_string(min) + ", " +
                    std::to_string(max) + "]");
    }
    return value;
  }

  bool boolean(const std::string& key, bool fallback) const {
    if (!conf_.has(key)) return fallback;
    const std::string raw = text(key, std::nullopt);
    if (raw == "true") return true;
    if (raw == "false") return false;
    fail(key, "'" + raw + "' is not a boolean (true or false)");
  }

  std::string one_of(const std::string& key, const std::string& fallback,
                     const std::set<std::string>& choices) const {
    const std::string value = text(key, fallback);
    if (choices.count(value) == 0) {
      std::string names;
      for (const auto& n : choices) names += (names.empty() ? "" : ", ") + n;
      fail(key, "'" + value + "' is not one of: " + names);
    }
    return value;
  }

  AbstractConfiguration::Keys children(const std::string& key) const {
    AbstractConfiguration::Keys out;
    conf_.keys(key, out);
    return out;
  }

  const fs::path& file() const { return file_; }

 private:
  static void trim(std::string& s) {
    const auto first = s.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) {
      s.clear();
      return;
    }
    s = s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
  }

  static std::string element_path(const std::string& key) {
    std::string path = "tsunagu";
    if (!key.empty()) {
      path += "/";
      for (char c : key) path += (c == '.') ? '/' : c;
    }
    return path;
  }

  fs::path file_;
  const AbstractConfiguration& conf_;
};

fs::path resolve(const fs::path& base, const std::string& value) {
  fs::path p(value);
  if (p.is_relative()) p = base / p;
  return p.lexically_normal();
}

bool valid_system_name(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

// Every value of a repeatable element `name` under `key`, in document order.
std::vector<std::string> repeated(const Reader& r, const std::string& key,
                                  const std::string& name) {
  std::vector<std::string> out;
  for (const auto& child : r.children(key)) {
    if (child.substr(0, child.find('[')) == name) {
      out.push_back(r.text(key + "." + child, std::nullopt));
    }
  }
  return out;
}

// "AB:cd:…" or "abcd…" → 64 lower-case hex digits, or "" if it is not a SHA-256.
std::string normalise_sha256(const std::string& value) {
  std::string hex;
  for (char c : value) {
    if (c == ':' || c == ' ') continue;
    if (!std::isxdigit(static_cast<unsigned char>(c))) return "";
    hex += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return hex.size() == 64 ? hex : "";
}

void load_http(const Reader& r, const fs::path& base, HubConfig& c) {
  HttpConfig& h = c.http;
  if (!r.has("http")) return;  // no listener unless the file asks for one
  h.enabled = r.boolean("http.enabled", true);
  h.bind = r.text("http.bind", std::string("127.0.0.1"));
  h.port = static_cast<int>(r.integer("http.port", 8443, 0, 65535));
  h.threads = static_cast<int>(r.integer("http.threads", 8, 1, 1024));
  h.max_queued = static_cast<int>(r.integer("http.max-queued", 64, 1, 100000));
  h.timeout = std::chrono::milliseconds(r.integer("http.timeout-ms", 30000, 100, 3600000));
  h.keep_alive_timeout =
      std::chrono::milliseconds(r.integer("http.keep-alive-timeout-ms", 5000, 0, 600000));
  h.max_keep_alive_requests =
      static_cast<int>(r.integer("http.max-keep-alive-requests", 1000, 1, 1000000));
  h.shutdown_grace =
      std::chrono::milliseconds(r.integer("http.shutdown-grace-ms", 5000, 0, 600000));
  h.max_body_bytes =
      static_cast<std::size_t>(r.integer("http.max-body-bytes", 8 << 20, 1, 1LL << 30));
  h.session_idle = std::chrono::minutes(r.integer("http.sessions.idle-minutes", 30, 1, 24 * 60));
  h.session_absolute =
      std::chrono::minutes(r.integer("http.sessions.absolute-minutes", 12 * 60, 1, 7 * 24 * 60));
  if (h.session_absolute < h.session_idle) {
    r.fail("http.sessions.absolute-minutes", "must not be shorter than <idle-minutes>");
  }
  const fs::path tls = c.data_dir / "tls";
  auto file = [&](const std::string& key, const char* fallback) {
    const std::string value = r.text(key, std::string());
    return value.empty() ? tls / fallback : resolve(base, value);
  };
  h.certificate = file("http.tls.certificate", "server.crt");
  h.private_key = file("http.tls.private-key", "server.key");
  h.ca = file("http.tls.ca", "ca.crt");

  std::map<std::string, std::string> owner_of_fingerprint, owner_of_cn;
  for (const auto& name : r.children("http.clients")) {
    const std::string key = "http.clients." + name;
    const SystemConfig* system = c.find_system(name);
    if (system == nullptr) r.fail(key, "'" + name + "' is not a configured system");
    HttpClientConfig client;
    client.system = name;
    for (const auto& raw : repeated(r, key, "certificate-sha256")) {
      const std::string hex = normalise_sha256(raw);
      if (hex.empty()) {
        r.fail(key + ".certificate-sha256",
               "'" + raw + "' is not a SHA-256 fingerprint (64 hex digits, colons allowed)");
      }
      const auto [it, fresh] = owner_of_fingerprint.emplace(hex, name);
      if (!fresh && it->second != name) {
        r.fail(key + ".certificate-sha256", "the certificate is already that of " + it->second);
      }
      client.certificate_sha256.push_back(hex);
    }
    for (const auto& cn : repeated(r, key, "certificate-cn")) {
      const auto [it, fresh] = owner_of_cn.emplace(cn, name);
      if (!fresh && it->second != name) {
        r.fail(key + ".certificate-cn", "'" + cn + "' is already the name of " + it->second);
      }
      client.certificate_cn.push_back(cn);
    }
    if (client.certificate_sha256.empty() && client.certificate_cn.empty()) {
      r.fail(key,
             "names no certificate: give <certificate-sha256> (preferred) or <certificate-cn>");
    }
    // "application/json, application/x-ndjson": media types without parameters.
    std::string types = r.text(key + ".content-types", std::nullopt);
    for (char& ch : types) {
      ch = (ch == ',') ? ' ' : static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    }
    std::istringstream words(types);
    for (std::string type; words >> type;) {
      const auto slash = type.find('/');
      if (slash == 0 || slash == std::string::npos || slash + 1 == type.size() ||
          type.find_first_of(";/", slash + 1) != std::string::npos) {
        r.fail(key + ".content-types",
               "'" + type + "' is not a media type such as application/json");
      }
      client.content_types.push_back(type);
    }
    h.clients.push_back(std::move(client));
  }
}

// <routing>: present (even empty) means on; each file defaults to its name beside the config file.
void load_routing(const Reader& r, const fs::path& base, HubConfig& c) {
  auto file = [&](const std::string& name) {
    return resolve(base, r.text("routing." + name, name + ".xml"));
  };
  c.routing_files =
      RoutingFiles{file("policies"), file("roster"), file("holidays"), file("routes")};
  c.routing_enabled = r.has("routing") && r.boolean("routing.enabled", true);
  c.routing_tick_interval =
      std::chrono::milliseconds(r.integer("routing.tick-interval-ms", 2000, 0, 3600000));
}

// <delivery>: the outbox workers and the channels (plugins) notices leave by besides the inbox.
void load_delivery(const Reader& r, HubConfig& c) {
  DeliveryConfig& d = c.delivery;
  d.workers = static_cast<int>(r.integer("delivery.workers", 2, 1, 64));
  d.max_attempts = static_cast<int>(r.integer("delivery.max-attempts", 8, 1, 1000));
  d.backoff_initial =
      std::chrono::milliseconds(r.integer("delivery.backoff-initial-ms", 5000, 1, 86400000));
  d.backoff_max =
      std::chrono::milliseconds(r.integer("delivery.backoff-max-ms", 3600000, 1, 604800000));
  if (d.backoff_max < d.backoff_initial) {
    r.fail("delivery.backoff-max-ms", "is shorter than backoff-initial-ms");
  }
  d.lease = std::chrono::milliseconds(r.integer("delivery.lease-ms", 300000, 1000, 86400000));
  d.poll_interval =
      std::chrono::milliseconds(r.integer("delivery.poll-interval-ms", 500, 10, 3600000));
  for (const auto& name : r.children("delivery.channels")) {
    const std::string key = "delivery.channels." + name;
    if (name == "inbox" || name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRS"
                                                  "TUVWXYZ0123456789_-") != std::string::npos) {
      r.fail(key, "channel names use letters, digits, '_' and '-', and 'inbox' is the hub's own");
    }
    DeliveryChannelConfig ch;
    ch.name = name;
    ch.plugin = r.text(key + ".plugin", std::nullopt);
    ch.max_attempts = static_cast<int>(r.integer(key + ".max-attempts", 0, 0, 1000));
    for (const auto& setting : r.children(key + ".settings")) {
      ch.settings[setting] = r.text(key + ".settings." + setting, std::string());
    }
    d.channels.push_back(std::move(ch));
  }
}

const std::set<std::string> kLogLevels{"fatal",  "critical",    "error", "warning",
                                       "notice", "information", "debug", "trace"};

// <logging><module><name>tsunagu.ingest</name><level>debug</level></module>, repeatable.
void load_log_modules(const Reader& r, HubConfig& c) {
  std::set<std::string> seen;
  for (const auto& child : r.children("logging")) {
    if (child.rfind("module", 0) != 0) continue;
    const std::string key = "logging." + child;
    LogModuleLevel m;
    m.name = r.text(key + ".name", std::nullopt);
    const auto& known = log_modules();
    if (std::find(known.begin(), known.end(), m.name) == known.end()) {
      std::string names;
      for (const auto& n : known) names += (names.empty() ? "" : ", ") + n;
      r.fail(key + ".name", "'" + m.name + "' is not a module that logs (one of: " + names + ")");
    }
    if (!seen.insert(m.name).second) r.fail(key + ".name", "'" + m.name + "' is given twice");
    if (!r.has(key + ".level")) r.fail(key + ".level", "required element is missing");
    m.level = r.one_of(key + ".level", "information", kLogLevels);
    c.log_module_levels.push_back(std::move(m));
  }
}

}  // namespace

const std::vector<std::string>& log_modules() {
  static const std::vector<std::string> names{
      "tsunagu",          "tsunagu.audit",  "tsunagu.config",   "tsunagu.http",   "tsunagu.hub",
      "tsunagu.identity", "tsunagu.ingest", "tsunagu.mapping",  "tsunagu.plugin", "tsunagu.routing",
      "tsunagu.security", "tsunagu.store",  "tsunagu.delivery", "tsunagu.web"};
  return names;
}

const HttpClientConfig* HttpConfig::find_client(const std::string& system) const {
  for (const auto& c : clients) {
    if (c.system == system) return &c;
  }
  return nullptr;
}

int RetentionConfig::days_for(const std::string& system, const std::string& kind) const {
  // Most specific wins: system and kind, then system alone, then kind alone, then the default.
  int best_score = 0, days = default_days;
  for (const auto& rule : rules) {
    if ((!rule.system.empty() && rule.system != system) ||
        (!rule.kind.empty() && rule.kind != kind)) {
      continue;
    }
    const int score = (rule.system.empty() ? 0 : 2) + (rule.kind.empty() ? 0 : 1);
    if (score > best_score) {
      best_score = score;
      days = rule.days;
    }
  }
  return days;
}

const SystemConfig* HubConfig::find_system(const std::string& name) const {
  for (const auto& s : systems) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

HubConfig load(const fs::path& file, const LoadOptions& options) {
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) {
    throw ConfigError(file.string() + ": configuration file not found");
  }
  Poco::AutoPtr<Poco::Util::XMLConfiguration> xml;
  try {
    xml = new Poco::Util::XMLConfiguration(file.string());
  } catch (const Poco::XML::SAXParseException& e) {
    throw ConfigError(file.string() + ":" + std::to_string(e.getLineNumber()) +
                      ": not well-formed XML: " + e.message());
  } catch (const Poco::Exception& e) {
    throw ConfigError(file.string() + ": cannot read: " + e.displayText());
  }
  const Reader r(fs::absolute(file), *xml);
  r.check_keys("", "");

  const fs::path base = fs::absolute(file).parent_path();
  HubConfig c;
  c.file = fs::absolute(file).lexically_normal();
  c.instance_name = r.text("instance.name", std::string("tsunagu"));
  if (options.data_dir) {
    c.data_dir = fs::absolute(*options.data_dir).lexically_normal();
  } else {
    c.data_dir = resolve(base, r.text("data-dir", std::nullopt));
  }
  const std::string plugin_dir = r.text("plugins.directory", std::string());
  c.plugin_dir =
      plugin_dir.empty() ? default_plugin_dir(options.executable_dir) : resolve(base, plugin_dir);
  c.mapping_dir = resolve(base, r.text("mappings.directory", std::nullopt));

  c.store_backend = r.one_of("store.backend", "sqlite", {"sqlite", "postgresql"});
  // Empty: everything from libpq's environment (PGHOST, PGDATABASE, …).
  c.postgres.conninfo = r.text("store.postgresql.conninfo", std::string());
  if (c.postgres.conninfo.find("password") != std::string::npos) {
    r.fail("store.postgresql.conninfo",
           "must not hold a password (the file is readable by operators): use PGPASSFILE or "
           "~/.pgpass of the user tsunagud runs as");
  }
  const std::string sqlite_file = r.text("store.sqlite.file", std::string("store.db"));
  c.sqlite.file =
      fs::path(sqlite_file).is_relative() ? c.data_dir / sqlite_file : fs::path(sqlite_file);
  c.sqlite.synchronous = r.one_of("store.sqlite.synchronous", "full", {"full", "normal"});
  c.sqlite.busy_timeout =
      std::chrono::milliseconds(r.integer("store.sqlite.busy-timeout-ms", 10000, 0, 600000));
  c.sqlite.cache_mb = static_cast<int>(r.integer("store.sqlite.cache-mb", 64, 2, 4096));
  c.sqlite.checkpoint_mb = static_cast<int>(r.integer("store.sqlite.checkpoint-mb", 256, 1, 4096));
  c.sqlite.checkpoint = r.one_of("store.sqlite.checkpoint", "background", {"background", "commit"});

  c.spool_poll_interval =
      std::chrono::milliseconds(r.integer("spool.poll-interval-ms", 500, 10, 3600000));
  c.batch_size = static_cast<std::size_t>(r.integer("spool.batch-size", 500, 1, 100000));

  if (!r.has("systems") || r.children("systems").empty()) {
    r.fail("systems", "at least one system must be configured");
  }
  for (const auto& name : r.children("systems")) {
    const std::string key = "systems." + name;
    if (!valid_system_name(name)) {
      r.fail(key, "system names use a-z, 0-9 and _ only");
    }
    SystemConfig s;
    s.name = name;
    s.adapter = r.text(key + ".adapter", std::nullopt);
    s.mapping = resolve(c.mapping_dir, r.text(key + ".mapping", std::nullopt));
    s.enabled = r.boolean(key + ".enabled", true);
    for (const auto& setting : r.children(key + ".settings")) {
      s.settings[setting] = r.text(key + ".settings." + setting, std::string());
    }
    c.systems.push_back(std::move(s));
  }

  c.audit_sign_interval =
      std::chrono::seconds(r.integer("audit.sign-interval-seconds", 60, 1, 86400));
  c.retention.default_days = static_cast<int>(r.integer("retention.default-days", 3650, 1, 36500));
  for (const auto& child : r.children("retention")) {
    if (child.rfind("rule", 0) != 0) continue;
    const std::string key = "retention." + child;
    RetentionRule rule;
    rule.system = r.text(key + ".system", std::string());
    rule.kind = r.text(key + ".kind", std::string());
    if (!r.has(key + ".days")) r.fail(key + ".days", "required element is missing");
    rule.days = static_cast<int>(r.integer(key + ".days", 0, 1, 36500));
    if (!rule.system.empty() &&
        std::none_of(c.systems.begin(), c.systems.end(),
                     [&](const SystemConfig& s) { return s.name == rule.system; })) {
      r.fail(key + ".system", "'" + rule.system + "' is not a configured system");
    }
    c.retention.rules.push_back(rule);
  }

  c.log_level = r.one_of("logging.level", "information", kLogLevels);
  c.log_format = r.one_of("logging.format", "text", {"text", "json"});
  load_log_modules(r, c);
  load_http(r, base, c);
  load_routing(r, base, c);
  load_delivery(r, c);
  return c;
}

fs::path default_plugin_dir(const fs::path& executable_dir) {
  const fs::path beside = (executable_dir / ".." / "plugins").lexically_normal();
  const fs::path installed =
      (executable_dir / ".." / "lib" / "tsunagu" / "plugins").lexically_normal();
  std::error_code ec;
  if (!fs::is_directory(beside, ec) && fs::is_directory(installed, ec)) return installed;
  return beside;
}

fs::path default_config_file(const fs::path& executable_dir) {
  if (const char* env = std::getenv("TSUNAGU_CONFIG"); env != nullptr && *env != '\0') {
    return env;
  }
  const fs::path candidates[] = {
      fs::current_path() / "config" / "tsunagu.xml",
      executable_dir / ".." / ".." / "config" / "tsunagu.xml",
      "/etc/tsunagu/tsunagu.xml",
  };
  std::error_code ec;
  for (const auto& c : candidates) {
    if (fs::is_regular_file(c, ec)) return c.lexically_normal();
  }
  return candidates[0];
}

void prepare_data_dir(const HubConfig& config) {
  try {
    fs::create_directories(config.data_dir / "keys");
    fs::create_directories(config.data_dir / "logs");
    for (const auto& s : config.systems) {
      for (const char* sub : {"work", "done", "failed"}) {
        fs::create_directories(config.spool_dir(s.name) / sub);
      }
    }
  } catch (const fs::filesystem_error& e) {
    throw ConfigError(config.data_dir.string() +
                      ": cannot create the data directory: " + e.code().message());
  }
}

}  // namespace tsunagu::config
