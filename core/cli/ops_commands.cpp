#include "cli/ops_commands.hpp"

#include <signal.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>
#include <vector>

#include <Poco/JSON/Object.h>

#include "audit/audit_log.hpp"
#include "cli/cli_support.hpp"
#include "hub/hub.hpp"
#include "ingest/spool_ingestor.hpp"
#include "runtime/daemon_files.hpp"
#include "security/keyring.hpp"
#include "store/backup.hpp"

namespace tsunagu::cli {
namespace fs = std::filesystem;
namespace {

// What a backup directory holds (README, "Back up and restore").
constexpr const char* kStoreFile = "store.db";
constexpr const char* kPublicKeyFile = "audit-ed25519.pub.pem";
constexpr const char* kHeadFile = "head.json";
constexpr const char* kInfoFile = "backup.json";
constexpr const char* kSumsFile = "SHA256SUMS";  // `sha256sum -c SHA256SUMS` checks it too
constexpr const char* kMasterKeyFile = "master.key";
constexpr const char* kSigningKeyFile = "audit-ed25519.pem";
constexpr const char* kRetiredDir = "retired";  // public keys of replaced signing keys

// "retired/audit-ed25519-<64 hex>.pub.pem", and nothing else a SHA256SUMS line could name.
bool is_retired_public_key(const std::string& name) {
  const std::string prefix = std::string(kRetiredDir) + "/";
  return name.starts_with(prefix) && is_retired_public_key_name(name.substr(prefix.size()));
}

std::string sha256_of(const fs::path& file) {
  std::int64_t size = 0;
  return ingest::file_sha256(file, size);
}

void write_text(const fs::path& file, const std::string& text) {
  std::ofstream out(file, std::ios::trunc | std::ios::binary);
  out << text;
  if (!out.flush()) throw std::runtime_error(file.string() + ": cannot write");
}

// Copies a key file, readable by its owner only (the loader refuses anything looser).
void copy_private(const fs::path& from, const fs::path& to) {
  fs::copy_file(from, to, fs::copy_options::overwrite_existing);
  fs::permissions(to, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
}

bool empty_or_missing(const fs::path& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) return true;
  return fs::is_directory(dir, ec) && fs::is_empty(dir, ec);
}

}  // namespace

int reload(const runtime::CommonOptions& options, const Args& args) {
  const auto p = parse(args, {"timeout"});
  quiet_logging();
  const auto config = runtime::load_config(options);
  const auto pid = runtime::running_daemon(config);
  if (!pid) {
    std::cerr << "tsunagud is not running on " << config.data_dir.string() << " (no "
              << runtime::pid_file(config).string() << ", or it names a process that has ended)\n";
    return kExitFailure;
  }
  const auto before = runtime::read_reload_result(config);
  const std::uint64_t last = before ? before->number : 0;
  if (::kill(*pid, SIGHUP) != 0) {
    std::cerr << "cannot signal tsunagud (pid " << *pid << "): " << std::strerror(errno)
              << " — run this as the daemon's user, or `systemctl reload tsunagud`\n";
    return kExitFailure;
  }
  const auto timeout = std::chrono::seconds(p.has("timeout") ? std::stoi(p.get("timeout")) : 60);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    const auto result = runtime::read_reload_result(config);
    if (result && result->number != last) {
      if (result->reloaded) {
        std::cout << "OK  設定を再読込しました (tsunagud pid " << *pid
                  << " reloaded the routing files and mappings)\n";
        return kExitOk;
      }
      std::cout
          << "NG  再読込を拒否しました: 現在の設定で動作を続けます (reload refused; tsunagud keeps "
             "the running configuration):\n";
      for (const auto& problem : result->problems) std::cout << "NG  " << problem << "\n";
      return kExitFailure;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::cerr << "tsunagud (pid " << *pid << ") was signalled but wrote no result to "
            << runtime::reload_result_file(config).string() << " within " << timeout.count()
            << " s; see its log\n";
  return kExitFailure;
}

int backup(const runtime::CommonOptions& options, const Args& args) {
  const auto p = parse(args, {}, {"include-keys"});
  if (p.positional.size() != 1) throw std::invalid_argument("usage: backup <dir> [--include-keys]");
  quiet_logging();
  const auto config = runtime::load_config(options);
  const fs::path dir = fs::absolute(p.positional[0]);
  std::error_code ec;
  if (config.store_backend == "postgresql") {
    throw std::invalid_argument(
        "backup: the store is on PostgreSQL; back it up with PostgreSQL's own tools (pg_dump, or "
        "a base backup with WAL archiving) and keep keys/ and audit.pub beside it "
        "(docs/postgresql.md)");
  }
  if (!fs::is_regular_file(config.sqlite.file, ec)) {
    throw std::invalid_argument(config.sqlite.file.string() +
                                ": no store here (is --data-dir right?)");
  }
  if (!empty_or_missing(dir)) {
    throw std::invalid_argument(dir.string() + ": not empty; a backup goes into a new directory");
  }
  fs::create_directories(dir);
  // It holds sealed personal data (and with --include-keys the keys to it).
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace);

  store::backup_sqlite(config.sqlite.file, dir / kStoreFile,
                       static_cast<int>(config.sqlite.busy_timeout.count()));
  std::optional<audit::TreeHead> head;
  std::int64_t events = 0;
  std::uint64_t entries = 0;
  int schema = 0;
  {
    // Read from the copy, not the live store: the head must be one the copy's log can verify.
    auto copy = store::Store::open_sqlite(dir / kStoreFile, {});
    audit::AuditLog log(*copy);
    head = log.latest_head();
    events = copy->count_events();
    entries = log.size();
    schema = copy->schema_version();
  }
  if (head) write_text(dir / kHeadFile, head->to_json() + "\n");
  if (fs::is_regular_file(config.audit_public_key(), ec)) {
    fs::copy_file(config.audit_public_key(), dir / kPublicKeyFile);
  } else {
    std::cout << "--  no " << config.audit_public_key().string()
              << ": the backup cannot be verified without the public key you keep\n";
  }
  // The public keys of signing keys `audit new-key` replaced: the heads they signed verify only
  // with them.
  std::vector<std::string> retired;
  for (const auto& file : retired_public_keys(config)) {
    fs::create_directories(dir / kRetiredDir);
    const std::string name = std::string(kRetiredDir) + "/" + file.filename().string();
    fs::copy_file(file, dir / name);
    retired.push_back(name);
  }
  const bool include_keys = p.has("include-keys");
  bool master_copied = false;
  if (include_keys) {
    const fs::path master = config.keys_dir() / kMasterKeyFile;
    if (fs::is_regular_file(master, ec)) {
      copy_private(master, dir / kMasterKeyFile);
      master_copied = true;
    } else if (std::getenv(security::Keyring::kMasterKeyVariable) != nullptr) {
      std::cout << "--  the master key comes from " << security::Keyring::kMasterKeyVariable
                << ", not a file: back it up from where you keep it\n";
    }
    if (fs::is_regular_file(config.audit_private_key(), ec)) {
      copy_private(config.audit_private_key(), dir / kSigningKeyFile);
    }
  }

  Poco::JSON::Object info;
  info.set("format", 1);
  info.set("instance", config.instance_name);
  info.set("created_at", store::utc_now());
  info.set("data_dir", config.data_dir.string());
  info.set("schema_version", schema);
  info.set("events", events);
  info.set("audit_entries", entries);
  info.set("head_tree_size", head ? static_cast<Poco::Int64>(head->tree_size) : 0);
  info.set("includes_keys", include_keys);
  std::ostringstream json;
  info.stringify(json, 2);
  write_text(dir / kInfoFile, json.str() + "\n");

  std::string sums;
  for (const char* name :
       {kStoreFile, kHeadFile, kPublicKeyFile, kMasterKeyFile, kSigningKeyFile, kInfoFile}) {
    if (fs::is_regular_file(dir / name, ec)) sums += sha256_of(dir / name) + "  " + name + "\n";
  }
  for (const auto& name : retired) sums += sha256_of(dir / name) + "  " + name + "\n";
  write_text(dir / kSumsFile, sums);

  std::cout << "OK  バックアップ (backup) " << dir.string() << ": " << events << " events, "
            << entries << " audit entries, signed head "
            << (head ? "of size " + std::to_string(head->tree_size) : std::string("none yet"))
            << ", schema " << schema << "\n";
  if (include_keys) {
    std::cout << "WARNING: このバックアップには鍵が含まれます (this backup holds the "
              << (master_copied ? "master key, which opens every payload in it, and the " : "")
              << "audit signing key): keep it offline and apart from other copies of the store\n";
  } else {
    std::cout << "--  keys/master.key and the audit signing key are not in it: restore them from "
                 "your separate key backup (or "
              << security::Keyring::kMasterKeyVariable << ")\n";
  }
  return kExitOk;
}

int restore(const runtime::CommonOptions& options, const Args& args) {
  const auto p = parse(args, {}, {"force"});
  if (p.positional.size() != 1) throw std::invalid_argument("usage: restore <dir> [--force]");
  quiet_logging();
  const auto config = runtime::load_config(options);
  const fs::path dir = fs::absolute(p.positional[0]);
  if (const auto pid = runtime::running_daemon(config)) {
    std::cerr << "tsunagud (pid " << *pid << ") is running on " << config.data_dir.string()
              << ": stop it before restoring\n";
    return kExitFailure;
  }
  std::error_code ec;
  // Every file the backup lists must be there and unchanged.
  std::ifstream sums(dir / kSumsFile);
  if (!sums)
    throw std::invalid_argument((dir / kSumsFile).string() + ": cannot open (not a backup?)");
  std::map<std::string, std::string> listed;
  for (std::string line; std::getline(sums, line);) {
    const auto gap = line.find("  ");
    if (gap == std::string::npos) continue;
    listed[line.substr(gap + 2)] = line.substr(0, gap);
  }
  int damaged = 0;
  for (const auto& [name, digest] : listed) {
    const fs::path file = dir / name;
    if (!fs::is_regular_file(file, ec) || sha256_of(file) != digest) {
      std::cout << "NG  " << file.string() << ": missing or changed since the backup was made\n";
      ++damaged;
    }
  }
  for (const char* required : {kStoreFile, kPublicKeyFile}) {
    if (listed.count(required) == 0) {
      std::cout << "NG  the backup has no " << required << "\n";
      ++damaged;
    }
  }
  if (damaged > 0) {
    std::cout << "復元を中止しました (restore refused): the backup is incomplete or damaged\n";
    return kExitFailure;
  }

  if (config.store_backend == "postgresql") {
    std::cerr
        << "restore: the store is on PostgreSQL; restore it with pg_restore (docs/postgresql.md)\n";
    return kExitFailure;
  }
  const fs::path target = config.sqlite.file;
  if (fs::exists(target, ec) && !p.has("force")) {
    std::cerr << target.string()
              << " exists: restore into an empty data directory, or give --force to replace it\n";
    return kExitFailure;
  }
  config::prepare_data_dir(config);
  // Into a temporary name beside it, then one rename: an interrupted restore leaves no half store.
  const fs::path tmp = target.parent_path() / ("." + target.filename().string() + ".restoring");
  fs::copy_file(dir / kStoreFile, tmp, fs::copy_options::overwrite_existing);
  for (const char* suffix : {"-wal", "-shm"}) fs::remove(target.string() + suffix, ec);
  fs::rename(tmp, target);
  fs::copy_file(dir / kPublicKeyFile, config.audit_public_key(),
                fs::copy_options::overwrite_existing);
  for (const char* key : {kMasterKeyFile, kSigningKeyFile}) {
    if (listed.count(key) != 0) copy_private(dir / key, config.keys_dir() / key);
  }
  // The public keys of replaced signing keys: the log's earlier heads verify with them.
  std::vector<fs::path> retired;
  const fs::path retired_dir = retired_keys_dir(config);
  for (const auto& [name, digest] : listed) {
    if (!is_retired_public_key(name)) continue;
    fs::create_directories(retired_dir);
    retired.push_back(retired_dir / fs::path(name).filename());
    fs::copy_file(dir / name, retired.back(), fs::copy_options::overwrite_existing);
  }
  std::cout << "OK  復元しました (restored) " << target.string() << " from " << dir.string()
            << "\n";

  // The restored copy, checked as an auditor would: against the backup's public keys and its head.
  std::vector<security::VerifyingKey> keys{
      security::VerifyingKey::load_pem_file(config.audit_public_key())};
  for (const auto& file : retired) keys.push_back(security::VerifyingKey::load_pem_file(file));
  std::optional<audit::TreeHead> pinned;
  if (listed.count(kHeadFile) != 0) {
    std::ifstream in(dir / kHeadFile);
    pinned = audit::TreeHead::from_json(
        std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()));
  }
  std::int64_t events = 0;
  audit::VerifyReport report;
  {
    auto store = store::Store::open_sqlite(target, {});
    events = store->count_events();
    report = audit::verify(*store, keys, pinned);
  }
  std::cout << "イベント (events): " << events << " 件\n";
  std::cout << "監査ログ検証 (audit verify): " << report.entries << " entries, " << report.heads
            << " signed heads, key " << keys.front().key_id();
  if (keys.size() > 1) std::cout << " (and " << keys.size() - 1 << " it replaced)";
  std::cout << "\n";
  for (const auto& problem : report.problems) std::cout << "NG  " << problem << "\n";
  for (const auto& note : report.notes) std::cout << "--  " << note << "\n";
  std::cout << (report.ok ? "OK  改ざんは検出されませんでした (no tampering found)\n"
                          : "改ざんまたは欠落を検出しました (tampering or loss detected)\n");

  const bool has_master = fs::is_regular_file(config.keys_dir() / kMasterKeyFile, ec) ||
                          std::getenv(security::Keyring::kMasterKeyVariable) != nullptr;
  if (!has_master) {
    std::cout
        << "WARNING: no master key here. Put keys/master.key back from your key backup (or set "
        << security::Keyring::kMasterKeyVariable
        << ") BEFORE starting tsunagud: without it tsunagud creates a new one, and the "
           "restored payloads can never be read under it\n";
  }
  if (!fs::is_regular_file(config.audit_private_key(), ec)) {
    std::cout << "WARNING: no audit signing key here. Put keys/audit-ed25519.pem back: "
                 "tsunagud refuses to start without the key that signed the log's latest head. "
                 "If it is lost, 'tsunagu audit new-key' makes a new one on purpose, and the heads "
                 "signed before verify only with the public key of this backup (keep it)\n";
  }
  return report.ok ? kExitOk : kExitFailure;
}

}  // namespace tsunagu::cli
