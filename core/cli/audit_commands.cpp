#include "cli/audit_commands.hpp"

#include <chrono>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string_view>
#include <vector>

#include "audit/audit_log.hpp"
#include "cli/cli_support.hpp"
#include "hub/hub.hpp"
#include "runtime/daemon_files.hpp"
#include "store/prepared.hpp"
#include "web/audit_search.hpp"
#include "web/forms.hpp"

namespace tsunagu::cli {
namespace {

// The instances whose latest hub.started entry has no hub.stopped after it: running, or ended
// without a word (a crash). On a shared PostgreSQL store each such instance would go on signing
// heads with the key it loaded.
std::vector<std::string> started_not_stopped(store::Store& store) {
  std::map<std::string, std::pair<std::int64_t, std::int64_t>> last;  // → (started, stopped)
  for (const char* type : {audit::entry_type::kHubStarted, audit::entry_type::kHubStopped}) {
    auto q = store.query("SELECT seq, entry FROM " +
                         audit::entries_in_blocks_sql("audit_type_blocks", "type") +
                         " AND type = ? ORDER BY b.block, seq");
    q.bind(type).bind(INT64_MAX).bind(type);
    while (q.next()) {
      const std::string instance = audit::entry_details(q.text_view(1))["instance"];
      auto& [started, stopped] = last[instance];
      (std::string_view(type) == audit::entry_type::kHubStarted ? started : stopped) = q.integer(0);
    }
  }
  std::vector<std::string> out;
  for (const auto& [instance, seqs] : last) {
    if (seqs.first > seqs.second) out.push_back(instance);
  }
  return out;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::invalid_argument(path + ": cannot open");
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The keys `audit verify` trusts: each --public-key given (the current key and those it
// replaced), or else this instance's own public key and the replaced ones in keys/retired/.
std::vector<security::VerifyingKey> trusted_keys(const ParsedArgs& p,
                                                 const config::HubConfig& config) {
  std::vector<security::VerifyingKey> keys;
  if (p.has("public-key")) {
    for (const auto& file : p.get_all("public-key"))
      keys.push_back(security::VerifyingKey::load_pem_file(file));
    return keys;
  }
  keys.push_back(security::VerifyingKey::load_pem_file(config.audit_public_key()));
  for (const auto& file : retired_public_keys(config))
    keys.push_back(security::VerifyingKey::load_pem_file(file));
  return keys;
}

// Days since 1970-01-01 of an ISO date or date-time's date part; nullopt if malformed.
std::optional<int> day_number(const std::string& iso) {
  int y = 0;
  unsigned m = 0, d = 0;
  if (iso.size() < 10 || std::sscanf(iso.c_str(), "%4d-%2u-%2u", &y, &m, &d) != 3)
    return std::nullopt;
  const std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{m},
                                        std::chrono::day{d}};
  if (!ymd.ok()) return std::nullopt;
  return std::chrono::sys_days(ymd).time_since_epoch().count();
}

}  // namespace

int audit_verify(const runtime::CommonOptions& options, const Args& args) {
  const auto p = parse(args, {"public-key", "head"});
  quiet_logging();
  const auto config = runtime::load_config(options);
  const auto keys = trusted_keys(p, config);
  std::optional<audit::TreeHead> pinned;
  if (p.has("head")) pinned = audit::TreeHead::from_json(read_text(p.get("head")));
  auto store = open_store(config);
  const auto report = audit::verify(*store, keys, pinned);
  std::cout << "監査ログ検証 (audit verify): " << report.entries << " entries, " << report.heads
            << " signed heads, trusted key" << (keys.size() > 1 ? "s " : " ");
  for (std::size_t i = 0; i < keys.size(); ++i)
    std::cout << (i > 0 ? ", " : "") << keys[i].key_id();
  std::cout << "\n";
  for (const auto& problem : report.problems) std::cout << "NG  " << problem << "\n";
  for (const auto& note : report.notes) std::cout << "--  " << note << "\n";
  std::cout << (report.ok ? "OK  改ざんは検出されませんでした (no tampering found)\n"
                          : "改ざんまたは欠落を検出しました (tampering or loss detected)\n");
  return report.ok ? kExitOk : kExitFailure;
}

int audit_sign(const runtime::CommonOptions& options, const Args& args) {
  parse(args, {});
  quiet_logging();
  const auto config = runtime::load_config(options);
  auto store = open_store(config);
  const auto key = load_or_create_signing_key(config, *store);
  audit::AuditLog log(*store);
  auto head = log.sign_head(key, true);
  std::cout << head->to_json() << "\n";
  return kExitOk;
}

// A new audit signing key, on purpose (a suspected leak, a lost key file): the old key files go
// to keys/retired/, the change is an entry of the log, and the first head signed with the new key
// covers it. tsunagud refuses to start while the log's latest head names another key than its
// file, so this is the one way to change it.
int audit_new_key(const runtime::CommonOptions& options, const Args& args) {
  const auto p = parse(args, {}, {"force"});
  quiet_logging();
  const auto config = runtime::load_config(options);
  if (const auto pid = runtime::running_daemon(config)) {
    std::cerr << "tsunagud (pid " << *pid << ") is running on " << config.data_dir.string()
              << ": stop it first (it goes on signing with the key it loaded)\n";
    return kExitFailure;
  }
  auto store = open_store(config);
  // Other instances of a shared store are not seen by the pid file: the log says which started
  // and have not stopped. This one's own entry may be from a crash; the pid file spoke for it.
  auto others = started_not_stopped(*store);
  std::erase(others, config.instance_name);
  if (!others.empty() && !p.has("force")) {
    std::cerr << "other instances of " << store->location()
              << " started and have not stopped (hub.started with no hub.stopped after it):";
    for (const auto& name : others) std::cerr << " " << (name.empty() ? "(unnamed)" : name);
    std::cerr << ". Stop them first: they would go on signing with the old key, and verify "
                 "would report their heads. If they ended without stopping (a crash), give "
                 "--force\n";
    return kExitFailure;
  }
  audit::AuditLog log(*store);
  const auto before = log.latest_head();
  const auto replaced = replace_signing_key(config);
  const auto& key = replaced.key;
  // The key that signed the log so far, or (no head yet) the one whose file was replaced.
  std::string old_id = before ? before->key_id : replaced.old_id;
  if (old_id.empty()) old_id = replaced.retired_public_id;
  if (old_id.empty()) old_id = "none";  // no head, no readable key file: nothing was signed
  {
    store::Transaction tx(*store);
    log.append({audit::entry_type::kAuditKeyReplaced,
                cli_actor(),
                "",
                {{"old_key_id", old_id}, {"new_key_id", key.key_id()}}});
    tx.commit();
  }
  const auto head = log.sign_head(key, true);
  std::cout << "OK  新しい署名鍵 (new audit signing key) " << key.key_id() << ": "
            << config.audit_private_key().string() << "\n";
  if (before) {
    std::cout << "--  heads up to #" << before->id << " verify with the old public key " << old_id;
    const auto kept = retired_public_key_file(config, old_id);
    std::error_code ec;
    if (std::filesystem::exists(kept, ec)) {
      std::cout << " (kept in " << kept.string() << ")\n";
    } else {
      std::cout << "\nWARNING: its public key is not in " << kept.parent_path().string()
                << ": verifying those heads needs the copy the auditors keep (--public-key)\n";
    }
  }
  std::cout << "--  give the auditors the new public key " << config.audit_public_key().string()
            << "; the first head it signs: " << head->to_json() << "\n";
  return kExitOk;
}

int audit_head(const runtime::CommonOptions& options, const Args& args) {
  parse(args, {});
  quiet_logging();
  const auto config = runtime::load_config(options);
  auto store = open_store(config);
  audit::AuditLog log(*store);
  const auto head = log.latest_head();
  if (!head) {
    std::cerr << "no signed tree head yet\n";
    return kExitFailure;
  }
  std::cout << head->to_json() << "\n";
  return kExitOk;
}

int audit_prove(const runtime::CommonOptions& options, const Args& args) {
  const auto p = parse(args, {});
  if (p.positional.size() != 1) throw std::invalid_argument("usage: audit prove <seq>");
  quiet_logging();
  const auto config = runtime::load_config(options);
  auto store = open_store(config);
  audit::AuditLog log(*store);
  const auto proof = audit::prove(log, std::stoll(p.positional[0]));
  std::cout << proof.to_json() << "\n";
  return kExitOk;
}

int audit_check_proof(const runtime::CommonOptions&, const Args& args) {
  const auto p = parse(args, {"public-key"});
  if (p.positional.size() != 1 || !p.has("public-key")) {
    throw std::invalid_argument("usage: audit check-proof <proof.json> --public-key FILE");
  }
  const auto proof = audit::InclusionProof::from_json(read_text(p.positional[0]));
  const auto key = security::VerifyingKey::load_pem_file(p.get("public-key"));
  std::string why;
  if (!audit::check_proof(proof, key, why)) {
    std::cout << "NG  entry " << proof.seq << ": " << why << "\n";
    return kExitFailure;
  }
  std::cout << "OK  entry " << proof.seq << " is in the log signed at tree size "
            << proof.head.tree_size << " (" << proof.head.time << ", key " << key.key_id() << ")\n";
  return kExitOk;
}

int audit_export(const runtime::CommonOptions& options, const Args& args) {
  const auto p = parse(args, {"subject", "json", "html"});
  if (!p.has("subject"))
    throw std::invalid_argument("usage: audit export --subject <id> [--json FILE] [--html FILE]");
  quiet_logging();
  const auto config = runtime::load_config(options);
  auto store = open_store(config);
  audit::AuditLog log(*store);
  std::string subject = p.get("subject");
  if (auto event = store->event(subject)) subject = event->subject_id;  // an event id was given

  auto entries = log.entries_of_subject(subject);
  if (entries.empty()) {
    std::cerr << "no audit entries for subject " << subject << "\n";
    return kExitFailure;
  }
  // The key first (a store signed with another one is refused before anything is recorded).
  // Then record the export, so that the history it prints includes it; then sign, so that every
  // entry printed is covered by the head the proofs refer to.
  const auto key = load_or_create_signing_key(config, *store);
  log.append_now({audit::entry_type::kAuditExported,
                  cli_actor(),
                  subject,
                  {{"entries", std::to_string(entries.size())}}});
  log.sign_head(key);
  entries = log.entries_of_subject(subject);
  const auto head = *log.latest_head();

  std::ostringstream json;
  json << "{\"subject\":\"" << subject << "\",\"head\":" << head.to_json() << ",\"entries\":[";
  std::ostringstream rows;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const auto& e = entries[i];
    // From the stored Merkle nodes: O(log n) rows per entry rather than the whole log.
    const audit::InclusionProof proof = audit::prove(log, e.seq, head);
    json << (i ? "," : "") << proof.to_json();
    const std::string& details = e.entry;  // as recorded: metadata and digests only
    rows << "<tr><td>" << e.seq << "</td><td>" << web::html_escape(e.time) << "</td><td>"
         << web::audit_type_label(e.type) << "<br><code>" << web::html_escape(e.type)
         << "</code></td><td><code>" << web::html_escape(details) << "</code></td><td><code>"
         << audit::to_hex(audit::leaf_hash(e.entry)).substr(0, 16) << "…</code></td></tr>\n";
  }
  json << "]}";
  if (p.has("json")) {
    std::ofstream(p.get("json"), std::ios::trunc) << json.str() << "\n";
  } else if (!p.has("html")) {
    std::cout << json.str() << "\n";
  }
  if (p.has("html")) {
    std::ofstream html(p.get("html"), std::ios::trunc);
    html << "<!DOCTYPE html>\n<html lang=\"ja\"><head><meta charset=\"utf-8\">"
         << "<title>情報連携の記録 — 対象 " << web::html_escape(subject) << "</title>"
         << "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
            "td,th{border:1px solid #999;padding:4px 8px;vertical-align:top}"
            "code{font-size:85%;word-break:break-all}</style></head><body>\n"
         << "<h1>情報連携の記録（ケース会議用）</h1>\n"
         << "<p>対象 (subject): <code>" << web::html_escape(subject)
         << "</code>　記録件数: " << entries.size() << "</p>\n<p>署名済みツリーヘッド: サイズ "
         << head.tree_size << "、時刻 " << web::html_escape(head.time) << "、ルート <code>"
         << audit::to_hex(head.root) << "</code>、鍵 <code>" << web::html_escape(head.key_id)
         << "</code></p>\n<p>各記録の包含証明は JSON 出力にあり、<code>tsunagu audit "
            "check-proof</code> "
            "と監査用公開鍵で、ストアなしに検証できます。記録には個人情報の本文は含まれません"
            "（メタデータとハッシュのみ）。</p>\n"
         << "<table><tr><th>番号</th><th>時刻 (UTC)</th><th>種別</th><th>内容（メタデータ）</th>"
            "<th>葉ハッシュ</th></tr>\n"
         << rows.str() << "</table>\n</body></html>\n";
  }
  std::cerr << entries.size() << " 件の記録を出力しました (entries exported), head size "
            << head.tree_size << "\n";
  return kExitOk;
}

int retention_purge(const runtime::CommonOptions& options, const Args& args) {
  const auto p = parse(args, {"as-of"}, {"dry-run"});
  quiet_logging();
  const auto config = runtime::load_config(options);
  auto store = open_store(config);
  audit::AuditLog log(*store);
  std::string as_of_text = p.has("as-of") ? p.get("as-of") : store::utc_now();
  const auto as_of = day_number(as_of_text);
  if (!as_of)
    throw std::invalid_argument("--as-of takes a date YYYY-MM-DD, not '" + as_of_text + "'");

  // A subject is purged only when every one of its records is past its retention period.
  std::map<std::string, int> keep_until;  // subject → last day its data must be kept
  for (const auto& a : store->subject_activity()) {
    const auto latest = day_number(a.latest);
    if (!latest) continue;
    const int until = *latest + config.retention.days_for(a.source, a.kind);
    auto [it, inserted] = keep_until.emplace(a.subject_id, until);
    if (!inserted) it->second = std::max(it->second, until);
  }
  std::size_t purged = 0;
  for (const auto& [subject, until] : keep_until) {
    if (until >= *as_of) continue;
    if (p.has("dry-run")) {
      std::cout << "would purge " << subject << "\n";
      ++purged;
      continue;
    }
    store::Transaction tx(*store);
    if (store->purge_subject(subject)) {
      log.append({audit::entry_type::kRetentionPurged,
                  cli_actor(),
                  subject,
                  {{"as_of", as_of_text.substr(0, 10)}}});
      ++purged;
    }
    tx.commit();
    std::cout << "purged " << subject << "\n";
  }
  std::cout << purged << " 件の対象のデータ鍵を破棄しました (subjects purged"
            << (p.has("dry-run") ? ", dry run" : "") << ") as of " << as_of_text.substr(0, 10)
            << "\n";
  return kExitOk;
}

}  // namespace tsunagu::cli
