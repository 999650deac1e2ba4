// The exchange log: every step of the hub is an entry, appended in the same transaction as the
// change it records, in an RFC 6962-style Merkle tree whose heads are signed with Ed25519.
//
// Entries hold metadata and digests only — never a name, address or payload field in clear.
// `subject` is an opaque subject id (a UUID), never an identifier from a source system.
//
// Entry bytes are canonical JSON (keys sorted, no spaces) and the leaf hash covers exactly them:
//   {"actor":"…","details":{…},"seq":N,"subject":"…","time":"…","type":"…","v":1}
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "audit/merkle.hpp"
#include "security/ed25519.hpp"
#include "store/store.hpp"

namespace tsunagu::audit {

// Entry types (DESIGN.md "Audit log"); later capabilities add theirs here.
namespace entry_type {
inline constexpr const char* kHubStarted = "hub.started";
inline constexpr const char* kHubStopped = "hub.stopped";
inline constexpr const char* kPluginLoaded = "plugin.loaded";
inline constexpr const char* kPluginRefused = "plugin.refused";
// SIGHUP / `tsunagu reload`: the routing files and mappings read again (each file's SHA-256), or
// refused (how many problems; the problems themselves are in the daemon's log).
inline constexpr const char* kConfigReloaded = "config.reloaded";
inline constexpr const char* kConfigReloadRefused = "config.reload_refused";
inline constexpr const char* kInputReceived = "input.received";
// A push refused before anything was read: not an input, but the auditor sees it.
inline constexpr const char* kIngestRefused = "ingest.refused";
inline constexpr const char* kInputCompleted = "input.completed";
inline constexpr const char* kEventStored = "event.stored";
inline constexpr const char* kRecordQuarantined = "record.quarantined";
inline constexpr const char* kQuarantineRetried = "quarantine.retried";
inline constexpr const char* kRetentionPurged = "retention.purged";
inline constexpr const char* kAuditExported = "audit.exported";
inline constexpr const char* kAuditProved = "audit.proved";
inline constexpr const char* kAuditKeyReplaced = "audit.key_replaced";
inline constexpr const char* kIdentityLinked = "identity.linked";
inline constexpr const char* kIdentityReviewOpened = "identity.review_opened";
inline constexpr const char* kIdentityReviewResolved = "identity.review_resolved";
inline constexpr const char* kIdentityMerged = "identity.merged";
inline constexpr const char* kPersonFactsChanged = "person.facts_changed";
// Routing (metadata only: rule, policy, legal basis, recipients, reason; never field values).
inline constexpr const char* kNoticeRouted = "routing.routed";
inline constexpr const char* kRoutingWithheld = "routing.withheld";
inline constexpr const char* kRoutingUnreachable = "routing.unreachable";
// An identity merge routed the survivor's recent events again (Router::on_merged).
inline constexpr const char* kRoutingReevaluated = "routing.reevaluated";
inline constexpr const char* kNoticeUpdated = "notice.updated";
inline constexpr const char* kNoticeEscalated = "notice.escalated";
inline constexpr const char* kNoticeHandedOver = "notice.handed_over";
inline constexpr const char* kNoticeOpened = "notice.opened";
inline constexpr const char* kNoticeAcknowledged = "notice.acknowledged";
inline constexpr const char* kNoticeAction = "notice.action";
inline constexpr const char* kNoticeClosed = "notice.closed";
inline constexpr const char* kTimerStarted = "timer.started";
inline constexpr const char* kTimerStopped = "timer.stopped";
inline constexpr const char* kTimerFired = "timer.fired";
// Delivery through a channel: every attempt (channel, attempt, outcome), and dead letters retried.
inline constexpr const char* kDeliveryAttempted = "delivery.attempted";
inline constexpr const char* kDeliveryRetried = "delivery.retried";
// Accounts and the pages (web/accounts.hpp): never a password, session id or token.
inline constexpr const char* kUserCreated = "user.created";
inline constexpr const char* kUserChanged = "user.changed";  // details.change says what
inline constexpr const char* kUserLogin = "user.login";
inline constexpr const char* kUserLoginFailed = "user.login_failed";
inline constexpr const char* kUserLogout = "user.logout";
// An auditor searched the exchange log (the filters and the number of entries shown).
inline constexpr const char* kAuditSearched = "audit.searched";
}  // namespace entry_type

struct EntryDraft {
  std::string type;
  std::string actor;    // "hub", "system:<name>", "user:<login>", "cli:<os user>"
  std::string subject;  // subject id, or empty
  std::map<std::string, std::string> details;
};

struct StoredEntry {
  std::int64_t seq = 0;
  std::string time;
  std::string type;
  std::string subject;
  std::string entry;      // the exact bytes the leaf hash covers
  std::string leaf_hash;  // hex, as recorded
};

struct TreeHead {
  std::int64_t id = 0;  // row id in audit_heads (0 for a head not from a store)
  std::uint64_t tree_size = 0;
  Hash root{};
  std::string time;
  std::string key_id;
  std::string signature_hex;

  // The bytes the signature covers.
  std::string signed_message() const;
  std::string to_json() const;
  // Throws std::invalid_argument naming what is wrong.
  static TreeHead from_json(const std::string& json);
};

// The entries of one subject or type are found through the blocks of 256 entries that hold
// them (audit_subject_blocks, audit_type_blocks; migration 12), not through an index of every
// entry. This is the FROM … WHERE of such a read: the blocks of `table` whose `column` is the
// first parameter and whose block is at most the second (INT64_MAX: all; (before-1)/256 for
// entries before `before`), joined to the rows of audit_entries in each block's seq range. The
// blocks' table is visible only as `b` with its `block` column, so the entries' own columns
// keep their bare names. `ORDER BY b.block DESC, seq DESC` (or ascending) walks the blocks and
// each block's rows in seq order, with no sort; add `AND <column> = ?` for the rows themselves.
std::string entries_in_blocks_sql(const char* table, const char* column);
// The block bound (the second parameter) for entries before `seq` only (seq ≥ 1).
std::int64_t last_block_before(std::int64_t seq);

class AuditLog {
 public:
  explicit AuditLog(store::Store& store);

  // Appends an entry inside the store's open transaction (throws std::logic_error if none is
  // open). Returns its sequence number.
  std::int64_t append(const EntryDraft& draft);
  // Opens a transaction, appends, commits.
  std::int64_t append_now(const EntryDraft& draft);

  // Signs the current tree head and stores it (own transaction). Skips when nothing was appended
  // since the latest head unless `always`. Returns the new head, if one was made.
  std::optional<TreeHead> sign_head(const security::SigningKey& key, bool always = false);
  std::optional<TreeHead> latest_head();
  std::vector<TreeHead> heads();
  std::uint64_t size();

  std::vector<StoredEntry> entries_of_subject(const std::string& subject);
  std::optional<StoredEntry> entry(std::int64_t seq);
  // Leaf hashes recomputed from the entries' bytes, 1..n.
  std::vector<Hash> leaf_hashes(std::uint64_t n);

  // The audit path of entry `seq` in the tree of the first `tree_size` entries (as
  // inclusion_proof() over their leaf hashes gives it). With `use_nodes`, the path's large
  // subtrees come from audit_nodes — O(log n) rows and one block of at most 256 recorded leaf
  // hashes, plus the partial block at the end of the tree — and if some are missing (a store
  // from before they were kept) they are built first (rebuild_nodes(), when no transaction is
  // open) or else computed from the leaves. Without, every subtree is computed from the
  // recorded leaf hashes: O(n). Throws std::runtime_error if entries are missing.
  std::vector<Hash> audit_path(std::uint64_t tree_size, std::int64_t seq, bool use_nodes = true);
  // Recomputes audit_nodes from the recorded leaf hashes of the whole log, in its own writer
  // transaction (so no entry is appended meanwhile). Returns how many nodes it stored.
  std::uint64_t rebuild_nodes();

 private:
  struct Frontier;
  // Notes the entry's subject's and type's rows for its block, the first time in a block; they
  // are written before the transaction commits (Frontier::before_commit).
  void index_block(std::int64_t seq, const EntryDraft& draft);
  store::Store& store_;
  // The appender's Merkle frontier, kept per store (shared by every AuditLog on it): read once
  // per transaction, advanced in memory by each append, and written back to audit_frontier once,
  // just before the transaction commits.
  Frontier& frontier_;
};

std::string canonical_entry(std::int64_t seq, const std::string& time, const EntryDraft& draft);
// The details of an entry's bytes, as canonical_entry() wrote them; empty if it cannot be read
// (verify names such an entry).
std::map<std::string, std::string> entry_details(std::string_view entry);

// An inclusion proof of one entry against a signed head: everything an auditor needs to check it
// without the store.
struct InclusionProof {
  std::int64_t seq = 0;
  std::string entry;
  TreeHead head;
  std::vector<Hash> path;

  std::string to_json() const;
  static InclusionProof from_json(const std::string& json);
};

// Throws std::runtime_error if the entry is unknown or not yet covered by a signed head.
InclusionProof prove(AuditLog& log, std::int64_t seq);
// The same against a given head of this log (which must cover the entry).
InclusionProof prove(AuditLog& log, std::int64_t seq, const TreeHead& head);
// Checks the entry hash, the audit path and the head's signature. On failure `why` says which.
bool check_proof(const InclusionProof& proof, const security::VerifyingKey& trusted,
                 std::string& why);

struct VerifyReport {
  bool ok = true;
  std::uint64_t entries = 0;
  std::uint64_t heads = 0;
  std::vector<std::string> problems;  // each names the entry or head and what is wrong
  std::vector<std::string> notes;     // not failures (e.g. entries after the latest head)
};

// Recomputes every leaf hash from the entry bytes, checks the sequence, every signed head's
// signature and root, consistency between successive heads, `pinned` (a head the auditor kept
// from an earlier check) if given, every stored Merkle node (audit_nodes) against the entries,
// each intact entry's subject and type columns against its own, and the search index by block
// (audit_subject_blocks, audit_type_blocks) against the rows the entries need. Reads only;
// works on a copy.
//
// Keys: each head is checked with the trusted key its key_id names (a head naming a key not in
// `trusted` fails). A log whose key was replaced (`tsunagu audit new-key`) records each change
// as an audit.key_replaced entry (old_key_id, new_key_id); a head over a tree of size n must be
// signed by the key in effect after entry n — the old key up to the change, the new one from
// it — so a retired key, perhaps leaked, cannot sign a head over entries after its replacement.
VerifyReport verify(store::Store& store, const std::vector<security::VerifyingKey>& trusted,
                    const std::optional<TreeHead>& pinned = std::nullopt);
// The same with one trusted key (a log that never changed its key).
VerifyReport verify(store::Store& store, const security::VerifyingKey& trusted,
                    const std::optional<TreeHead>& pinned = std::nullopt);

}  // namespace tsunagu::audit
