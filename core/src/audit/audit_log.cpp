#include "audit/audit_log.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <unordered_set>
#include <utility>

#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <openssl/rand.h>

#include "common/json_string.hpp"
#include "store/prepared.hpp"

namespace tsunagu::audit {

namespace {

// audit_nodes keeps the root of every complete aligned subtree of 2^kNodeLevel leaves or more:
// ~1/128 row per entry, and a proof computes at most two blocks of 256 leaves itself.
constexpr unsigned kNodeLevel = 8;
constexpr std::uint64_t kBlock = std::uint64_t{1} << kNodeLevel;

// The search index of migration 12 counts entries in the same blocks: entry seq (from 1) is in
// block block_of(seq), which holds entries first_seq_of(block) to last_seq_of(block).
constexpr std::int64_t block_of(std::int64_t seq) {
  return (seq - 1) / static_cast<std::int64_t>(kBlock);
}
constexpr std::int64_t first_seq_of(std::int64_t block) {
  return block * static_cast<std::int64_t>(kBlock) + 1;
}
constexpr std::int64_t last_seq_of(std::int64_t block) {
  return first_seq_of(block + 1) - 1;
}

void hex_into(const Hash& h, char (&out)[64]) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (std::size_t k = 0; k < h.size(); ++k) {
    out[2 * k] = kDigits[h[k] >> 4];
    out[2 * k + 1] = kDigits[h[k] & 0xF];
  }
}

std::string bytes_to_hex(const std::string& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 0xF];
  }
  return out;
}

std::optional<std::string> hex_to_bytes(const std::string& hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  std::string out;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    auto nibble = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    const int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
  }
  return out;
}

Hash require_hash(const std::string& hex, const char* what) {
  auto h = hash_from_hex(hex);
  if (!h) throw std::invalid_argument(std::string(what) + " is not a 64-digit hex SHA-256");
  return *h;
}

Poco::JSON::Object::Ptr parse_object(const std::string& json, const char* what) {
  try {
    Poco::JSON::Parser parser;
    return parser.parse(json).extract<Poco::JSON::Object::Ptr>();
  } catch (const std::exception& e) {
    throw std::invalid_argument(std::string(what) + " is not a JSON object: " + e.what());
  }
}

}  // namespace

namespace {

// canonical_entry() into `out` (cleared first), so an appender reuses one buffer.
void write_canonical_entry(std::string& out, std::int64_t seq, std::string_view time,
                           const EntryDraft& d) {
  // Keys in byte order, no whitespace: the same entry always has the same bytes.
  std::size_t size = 96 + d.actor.size() + d.subject.size() + time.size() + d.type.size();
  for (const auto& [k, v] : d.details) size += k.size() + v.size() + 6;
  out.clear();
  out.reserve(size);
  out += "{\"actor\":";
  append_json_string(out, d.actor);
  out += ",\"details\":{";
  append_json_members(out, d.details);
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, seq).ptr;
  out += "},\"seq\":";
  out.append(digits, end);
  out += ",\"subject\":";
  append_json_string(out, d.subject);
  out += ",\"time\":";
  append_json_string(out, time);
  out += ",\"type\":";
  append_json_string(out, d.type);
  out += ",\"v\":1}";
}

}  // namespace

std::string canonical_entry(std::int64_t seq, const std::string& time, const EntryDraft& d) {
  std::string out;
  write_canonical_entry(out, seq, time, d);
  return out;
}

std::map<std::string, std::string> entry_details(std::string_view entry) {
  std::map<std::string, std::string> out;
  try {
    const auto root =
        Poco::JSON::Parser().parse(std::string(entry)).extract<Poco::JSON::Object::Ptr>();
    if (const auto details = root->getObject("details")) {
      std::vector<std::string> names;
      details->getNames(names);
      for (const auto& name : names) out.emplace(name, details->getValue<std::string>(name));
    }
  } catch (const Poco::Exception&) {
    out.clear();
  }
  return out;
}

std::string TreeHead::signed_message() const {
  return "tsunagu-tree-head-v1\n" + std::to_string(tree_size) + "\n" + to_hex(root) + "\n" + time;
}

std::string TreeHead::to_json() const {
  std::string out = "{\"key_id\":";
  append_json_string(out, key_id);
  out += ",\"root\":\"" + to_hex(root) + "\",\"signature\":";
  append_json_string(out, signature_hex);
  out += ",\"time\":";
  append_json_string(out, time);
  out += ",\"tree_size\":" + std::to_string(tree_size) + "}";
  return out;
}

TreeHead TreeHead::from_json(const std::string& json) {
  auto o = parse_object(json, "tree head");
  TreeHead h;
  if (!o->has("tree_size") || !o->has("root") || !o->has("time") || !o->has("signature")) {
    throw std::invalid_argument("tree head needs tree_size, root, time and signature");
  }
  h.tree_size = o->getValue<std::uint64_t>("tree_size");
  h.root = require_hash(o->getValue<std::string>("root"), "tree head root");
  h.time = o->getValue<std::string>("time");
  h.key_id = o->optValue<std::string>("key_id", "");
  h.signature_hex = o->getValue<std::string>("signature");
  return h;
}

struct AuditLog::Frontier final : store::Store::Extension {
  std::optional<MerkleFrontier> tree;
  std::vector<PerfectSubtree> completed;  // scratch: the nodes one append completes
  std::string entry;                      // scratch: the entry being appended (its capacity kept)
  std::uint64_t generation = 0;           // the transaction `tree` belongs to
  bool dirty = false;                     // appended to since it was read: audit_frontier is behind
  // The index block (migration 12) this transaction last appended to, the subjects and types
  // already seen in it, and the audit_subject_blocks / audit_type_blocks rows not yet written:
  // they are written together before COMMIT (a row per statement cost more than the two indexes
  // it replaces when every entry has a subject of its own, as in identity linking).
  std::int64_t block = -1;
  std::vector<std::string> block_subjects;
  std::vector<std::string> block_types;
  std::vector<std::pair<std::string, std::int64_t>> pending_subjects;
  std::vector<std::pair<std::string, std::int64_t>> pending_types;

  bool current(const store::Store& store) const {
    return tree && store.in_transaction() && generation == store.transaction_generation();
  }

  // A new transaction: nothing seen, nothing pending (what a rolled-back one held is gone).
  void reset_blocks() {
    block = -1;
    block_subjects.clear();
    block_types.clear();
    pending_subjects.clear();
    pending_types.clear();
  }

  void write_blocks(store::Store& store) {
    write_rows(store, "audit_subject_blocks", "subject", pending_subjects);
    write_rows(store, "audit_type_blocks", "type", pending_types);
  }

  // Many rows per INSERT (64, then 8, then 1 at a time: three statements to keep prepared).
  // Another transaction or process may have written a row for the same block: ON CONFLICT keeps
  // the one row.
  static void write_rows(store::Store& store, const char* table, const char* column,
                         std::vector<std::pair<std::string, std::int64_t>>& rows) {
    // In key order (neighbouring rows share their B-tree pages), each once.
    std::sort(rows.begin(), rows.end());
    rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
    std::size_t at = 0;
    for (const std::size_t chunk : {std::size_t{64}, std::size_t{8}, std::size_t{1}}) {
      if (rows.size() - at < chunk) continue;
      std::string sql =
          std::string("INSERT INTO ") + table + " (" + column + ", block) VALUES (?, ?)";
      for (std::size_t k = 1; k < chunk; ++k) sql += ", (?, ?)";
      sql += " ON CONFLICT DO NOTHING";
      for (; rows.size() - at >= chunk; at += chunk) {
        auto q = store.query(sql);
        for (std::size_t k = at; k < at + chunk; ++k) q.bind(rows[k].first).bind(rows[k].second);
        q.run();
      }
    }
    rows.clear();
  }

  void before_commit(store::Store& store) override {
    if (!current(store)) return;
    write_blocks(store);
    if (!dirty) return;
    const std::string state = tree->serialize();
    store.query("UPDATE audit_frontier SET size = ?, state = ? WHERE id = 1")
        .bind(static_cast<std::int64_t>(tree->size()))
        .bind(state)
        .run();
    dirty = false;
  }
};

AuditLog::AuditLog(store::Store& store)
    : store_(store),
      frontier_(static_cast<Frontier&>(
          store.extension("audit.frontier", [] { return std::make_unique<Frontier>(); }))) {}

std::int64_t AuditLog::append(const EntryDraft& draft) {
  if (!store_.in_transaction()) {
    throw std::logic_error("audit entries are appended inside the transaction of their change");
  }
  // The frontier is read once per transaction: another process may have appended since.
  if (!frontier_.current(store_)) {
    frontier_.tree.reset();
    frontier_.dirty = false;
    std::int64_t size = 0;
    std::string state;
    {
      auto q = store_.query("SELECT size, state FROM audit_frontier WHERE id = 1");
      if (q.next()) {
        size = q.integer(0);
        state = q.text(1);
      }
    }
    auto tree = size == 0 ? std::optional<MerkleFrontier>(MerkleFrontier{})
                          : MerkleFrontier::deserialize(state);
    if (!tree || tree->size() != static_cast<std::uint64_t>(size)) {
      throw std::runtime_error("the audit frontier state is damaged; run tsunagu audit verify");
    }
    frontier_.tree = std::move(tree);
    frontier_.generation = store_.transaction_generation();
    frontier_.reset_blocks();
  }
  const auto seq = static_cast<std::int64_t>(frontier_.tree->size() + 1);
  const std::string time = store::utc_now();
  std::string& entry = frontier_.entry;
  write_canonical_entry(entry, seq, time, draft);
  const Hash leaf = leaf_hash(entry);
  char leaf_hex[64];
  hex_into(leaf, leaf_hex);
  store_
      .query(
          "INSERT INTO audit_entries (seq, time, type, subject, entry, leaf_hash) "
          "VALUES (?, ?, ?, ?, ?, ?)")
      .bind(seq)
      .bind(time)
      .bind(draft.type)
      .bind(draft.subject)
      .bind(entry)
      .bind(std::string_view(leaf_hex, sizeof leaf_hex))
      .run();
  index_block(seq, draft);
  frontier_.completed.clear();
  frontier_.tree->append(leaf, kNodeLevel, frontier_.completed);
  frontier_.dirty = true;
  // Once every 256 entries (amortised 1/128 row per entry): the subtrees this entry completes.
  for (const PerfectSubtree& node : frontier_.completed) {
    store_.query("INSERT INTO audit_nodes (level, idx, hash) VALUES (?, ?, ?)")
        .bind(static_cast<std::int64_t>(node.level))
        .bind(static_cast<std::int64_t>(node.index))
        .bind(to_hex(node.hash))
        .run();
  }
  return seq;
}

void AuditLog::index_block(std::int64_t seq, const EntryDraft& draft) {
  const std::int64_t block = block_of(seq);
  if (block != frontier_.block) {
    frontier_.block = block;
    frontier_.block_subjects.clear();
    frontier_.block_types.clear();
  }
  // A block holds a dozen types or so: each is noted once per block. It may hold a hundred
  // subjects or more (identity linking: one or two entries each), but a subject's entries come
  // together, so only the last few seen are compared; a subject seen again later in the block is
  // noted again, and write_rows() drops the repeat.
  auto seen = [](std::vector<std::string>& recent, const std::string& key, std::size_t last) {
    const auto from =
        recent.size() > last ? recent.end() - static_cast<std::ptrdiff_t>(last) : recent.begin();
    if (std::find(from, recent.end(), key) != recent.end()) return true;
    recent.push_back(key);
    return false;
  };
  if (!draft.subject.empty() && !seen(frontier_.block_subjects, draft.subject, 4)) {
    frontier_.pending_subjects.emplace_back(draft.subject, block);
  }
  if (!seen(frontier_.block_types, draft.type, SIZE_MAX)) {
    frontier_.pending_types.emplace_back(draft.type, block);
  }
}

std::int64_t AuditLog::append_now(const EntryDraft& draft) {
  store::Transaction tx(store_);
  const auto seq = append(draft);
  tx.commit();
  return seq;
}

std::uint64_t AuditLog::size() {
  // Inside a transaction that has appended, the row is behind until the commit.
  if (frontier_.current(store_)) return frontier_.tree->size();
  auto q = store_.query("SELECT size FROM audit_frontier WHERE id = 1");
  return q.next() ? static_cast<std::uint64_t>(q.integer(0)) : 0;
}

namespace {

// `suffix` is one of a few fixed clauses: the SQL is the key of the store's statement cache.
std::vector<TreeHead> read_heads(store::Store& store, const std::string& suffix) {
  auto q =
      store.query("SELECT id, tree_size, root, time, key_id, signature FROM audit_heads " + suffix);
  std::vector<TreeHead> out;
  while (q.next()) {
    TreeHead h;
    h.id = q.integer(0);
    h.tree_size = static_cast<std::uint64_t>(q.integer(1));
    h.root = hash_from_hex(q.text(2)).value_or(Hash{});
    h.time = q.text(3);
    h.key_id = q.text(4);
    h.signature_hex = q.text(5);
    out.push_back(std::move(h));
  }
  return out;
}

// Reads the rows of a query on audit_entries selecting seq, time, type, subject, entry, leaf_hash.
std::vector<StoredEntry> read_entries(store::Query& q) {
  std::vector<StoredEntry> out;
  while (q.next()) {
    out.push_back({q.integer(0), q.text(1), q.text(2), q.text(3), q.text(4), q.text(5)});
  }
  return out;
}

static_assert(kBlock == 256, "migration 12 and entries_in_blocks_sql() count blocks of 256");

constexpr const char* kEntryColumns =
    "SELECT seq, time, type, subject, entry, leaf_hash FROM audit_entries ";

}  // namespace

std::optional<TreeHead> AuditLog::sign_head(const security::SigningKey& key, bool always) {
  store::Transaction tx(store_);
  std::string state;
  std::int64_t size = 0;
  {
    auto q = store_.query("SELECT size, state FROM audit_frontier WHERE id = 1");
    if (q.next()) {
      size = q.integer(0);
      state = q.text(1);
    }
  }
  auto latest = read_heads(store_, "ORDER BY id DESC LIMIT 1");
  if (!always && !latest.empty() && latest.front().tree_size == static_cast<std::uint64_t>(size)) {
    return std::nullopt;
  }
  auto frontier = size == 0 ? MerkleFrontier{} : MerkleFrontier::deserialize(state);
  if (!frontier) throw std::runtime_error("the audit frontier state is damaged");
  TreeHead h;
  h.tree_size = frontier->size();
  h.root = frontier->root();
  h.time = store::utc_now();
  h.key_id = key.key_id();
  h.signature_hex = bytes_to_hex(key.sign(h.signed_message()));
  const std::string root = to_hex(h.root);
  {
    auto q = store_.insert_query(
        "INSERT INTO audit_heads (tree_size, root, time, key_id, signature) "
        "VALUES (?, ?, ?, ?, ?)");
    q.bind(static_cast<std::int64_t>(h.tree_size))
        .bind(root)
        .bind(h.time)
        .bind(h.key_id)
        .bind(h.signature_hex);
    const auto id = q.inserted_id();
    if (!id) throw std::runtime_error("the tree head was not stored");
    h.id = *id;
  }
  tx.commit();
  return h;
}

std::optional<TreeHead> AuditLog::latest_head() {
  auto h = read_heads(store_, "ORDER BY id DESC LIMIT 1");
  if (h.empty()) return std::nullopt;
  return h.front();
}

std::vector<TreeHead> AuditLog::heads() {
  return read_heads(store_, "ORDER BY id");
}

std::string entries_in_blocks_sql(const char* table, const char* column) {
  return std::string("(SELECT block FROM ") + table + " WHERE " + column +
         " = ? AND block <= ?) AS b CROSS JOIN audit_entries WHERE seq BETWEEN b.block * 256 + 1 "
         "AND b.block * 256 + 256";
}

std::int64_t last_block_before(std::int64_t seq) {
  // The last entry before it is seq - 1 (block 0 for seq 1, which selects nothing anyway).
  return seq >= 2 ? block_of(seq - 1) : 0;
}

std::vector<StoredEntry> AuditLog::entries_of_subject(const std::string& subject) {
  // Inside a transaction that has appended: its block rows first, so that its entries are found.
  if (frontier_.current(store_)) frontier_.write_blocks(store_);
  auto q = store_.query("SELECT seq, time, type, subject, entry, leaf_hash FROM " +
                        entries_in_blocks_sql("audit_subject_blocks", "subject") +
                        " AND subject = ? ORDER BY b.block, seq");
  q.bind(subject).bind(INT64_MAX).bind(subject);
  return read_entries(q);
}

std::optional<StoredEntry> AuditLog::entry(std::int64_t seq) {
  auto q = store_.query(std::string(kEntryColumns) + "WHERE seq = ?");
  q.bind(seq);
  auto e = read_entries(q);
  if (e.empty()) return std::nullopt;
  return e.front();
}

std::vector<Hash> AuditLog::leaf_hashes(std::uint64_t n) {
  // Row by row: the whole log is never held in memory at once.
  std::vector<Hash> out;
  out.reserve(n);
  auto q = store_.query("SELECT entry FROM audit_entries WHERE seq <= ? ORDER BY seq");
  q.bind(static_cast<std::int64_t>(n));
  while (q.next()) out.push_back(leaf_hash(q.text_view(0)));
  return out;
}

namespace {

// The recorded leaf hashes of entries lo+1..hi (0-based leaves [lo, hi)), in order. Throws if one
// is missing or not a hash: the log is damaged and `audit verify` says how.
std::vector<Hash> recorded_leaves(store::Store& store, std::uint64_t lo, std::uint64_t hi) {
  std::vector<Hash> out;
  out.reserve(hi - lo);
  auto q = store.query(
      "SELECT seq, leaf_hash FROM audit_entries WHERE seq > ? AND seq <= ? "
      "ORDER BY seq");
  q.bind(static_cast<std::int64_t>(lo)).bind(static_cast<std::int64_t>(hi));
  while (q.next()) {
    const auto expected = static_cast<std::int64_t>(lo + out.size() + 1);
    const auto h = hash_from_hex(q.text_view(1));
    if (q.integer(0) != expected || !h) break;
    out.push_back(*h);
  }
  if (out.size() != hi - lo) {
    throw std::runtime_error("audit entry " + std::to_string(lo + out.size() + 1) +
                             " is missing or its recorded leaf hash is damaged; run 'tsunagu "
                             "audit verify'");
  }
  return out;
}

struct NodesMissing {};

// Nodes fetched per statement: (level = ? AND idx = ?) OR … — one fixed SQL text (the statement
// cache's key), each term an index lookup on both engines. A path needs at most two per level
// above kNodeLevel (its sibling and, once, a piece of the tree's right edge): ~32 at 10M entries.
constexpr std::size_t kNodesPerQuery = 24;

const std::string& nodes_query() {
  static const std::string sql = [] {
    std::string out = "SELECT level, idx, hash FROM audit_nodes WHERE ";
    for (std::size_t i = 0; i < kNodesPerQuery; ++i) {
      out += i == 0 ? "(level = ? AND idx = ?)" : " OR (level = ? AND idx = ?)";
    }
    return out;
  }();
  return sql;
}

// The subtree roots a proof asks for (merkle.hpp SubtreeSource): those of kNodeLevel and above
// from audit_nodes, smaller ones from the block of 256 recorded leaf hashes that holds them (read
// once, kept for the rest of the proof). A proof touches at most two blocks: the entry's own and
// the partial one at the end of the tree. Which nodes a path needs depends only on the index and
// the size, so they are found first (a dry run of the path) and read in one round trip — on
// PostgreSQL a round trip per node would cost more than the rest of the proof.
class StoredSubtrees {
 public:
  enum class Missing { raise, compute };

  StoredSubtrees(store::Store& store, std::uint64_t tree_size, std::uint64_t index, bool use_nodes,
                 Missing missing)
      : store_(store), tree_size_(tree_size), use_nodes_(use_nodes), missing_(missing) {
    if (use_nodes_) fetch_nodes(index);
  }

  Hash operator()(unsigned level, std::uint64_t index) {
    if (use_nodes_ && level >= kNodeLevel) {
      if (const auto it = nodes_.find({level, index}); it != nodes_.end()) return it->second;
      if (missing_ == Missing::raise) throw NodesMissing{};
    }
    const std::uint64_t first = index << level;
    const std::uint64_t count = std::uint64_t{1} << level;
    if (level > kNodeLevel) return root(recorded_leaves(store_, first, first + count));
    const std::uint64_t block = first >> kNodeLevel;
    auto it = blocks_.find(block);
    if (it == blocks_.end()) {
      const std::uint64_t lo = block << kNodeLevel;
      it = blocks_.emplace(block, recorded_leaves(store_, lo, std::min(lo + kBlock, tree_size_)))
               .first;
    }
    return root(std::span<const Hash>(it->second).subspan(first - (block << kNodeLevel), count));
  }

 private:
  void fetch_nodes(std::uint64_t index) {
    std::vector<std::pair<unsigned, std::uint64_t>> wanted;
    inclusion_proof(tree_size_, index, [&wanted](unsigned level, std::uint64_t i) {
      if (level >= kNodeLevel) wanted.emplace_back(level, i);
      return Hash{};
    });
    for (std::size_t from = 0; from < wanted.size(); from += kNodesPerQuery) {
      auto q = store_.query(nodes_query());
      for (std::size_t k = from; k < from + kNodesPerQuery; ++k) {
        if (k < wanted.size()) {
          q.bind(static_cast<std::int64_t>(wanted[k].first))
              .bind(static_cast<std::int64_t>(wanted[k].second));
        } else {
          q.bind(std::int64_t{-1}).bind(std::int64_t{-1});  // matches nothing
        }
      }
      while (q.next()) {
        if (const auto h = hash_from_hex(q.text_view(2))) {
          nodes_.emplace(std::pair{static_cast<unsigned>(q.integer(0)),
                                   static_cast<std::uint64_t>(q.integer(1))},
                         *h);
        }
      }
    }
  }

  store::Store& store_;
  std::uint64_t tree_size_;
  bool use_nodes_;
  Missing missing_;
  std::map<std::pair<unsigned, std::uint64_t>, Hash> nodes_;
  std::map<std::uint64_t, std::vector<Hash>> blocks_;
};

}  // namespace

std::vector<Hash> AuditLog::audit_path(std::uint64_t tree_size, std::int64_t seq, bool use_nodes) {
  if (seq < 1 || static_cast<std::uint64_t>(seq) > tree_size) {
    throw std::runtime_error("entry " + std::to_string(seq) + " is not in a tree of " +
                             std::to_string(tree_size) + " entries");
  }
  const auto index = static_cast<std::uint64_t>(seq - 1);
  auto path_with = [&](StoredSubtrees::Missing missing) {
    StoredSubtrees source(store_, tree_size, index, use_nodes, missing);
    return inclusion_proof(tree_size, index,
                           [&source](unsigned level, std::uint64_t i) { return source(level, i); });
  };
  if (!use_nodes) return path_with(StoredSubtrees::Missing::compute);
  try {
    return path_with(StoredSubtrees::Missing::raise);
  } catch (const NodesMissing&) {
    // A store from before audit_nodes (or whose nodes were deleted): build them once, unless the
    // caller's transaction is open (its lock may not be the writer's); then compute what is
    // still missing from the leaves.
    if (!store_.in_transaction()) rebuild_nodes();
    return path_with(StoredSubtrees::Missing::compute);
  }
}

std::uint64_t AuditLog::rebuild_nodes() {
  store::Transaction tx(store_);
  std::int64_t size = 0;
  {
    auto q = store_.query("SELECT size FROM audit_frontier WHERE id = 1");
    if (q.next()) size = q.integer(0);
  }
  // Row by row through a frontier: only the nodes (1/128 per entry) are held.
  MerkleFrontier tree;
  std::vector<PerfectSubtree> nodes;
  {
    auto q = store_.query("SELECT seq, leaf_hash FROM audit_entries WHERE seq <= ? ORDER BY seq");
    q.bind(size);
    while (q.next()) {
      const auto h = hash_from_hex(q.text_view(1));
      if (q.integer(0) != static_cast<std::int64_t>(tree.size() + 1) || !h) break;
      tree.append(*h, kNodeLevel, nodes);
    }
  }
  if (tree.size() != static_cast<std::uint64_t>(size)) {
    throw std::runtime_error("cannot build the audit log's Merkle nodes: entry " +
                             std::to_string(tree.size() + 1) +
                             " is missing or its recorded leaf hash is damaged; run 'tsunagu "
                             "audit verify'");
  }
  store_.query("DELETE FROM audit_nodes").run();
  for (const PerfectSubtree& node : nodes) {
    store_.query("INSERT INTO audit_nodes (level, idx, hash) VALUES (?, ?, ?)")
        .bind(static_cast<std::int64_t>(node.level))
        .bind(static_cast<std::int64_t>(node.index))
        .bind(to_hex(node.hash))
        .run();
  }
  tx.commit();
  return nodes.size();
}

std::string InclusionProof::to_json() const {
  std::string out = "{\"entry\":";
  append_json_string(out, entry);
  out += ",\"head\":" + head.to_json() + ",\"path\":[";
  for (std::size_t i = 0; i < path.size(); ++i) {
    out += (i ? ",\"" : "\"") + to_hex(path[i]) + "\"";
  }
  out += "],\"seq\":" + std::to_string(seq) + "}";
  return out;
}

InclusionProof InclusionProof::from_json(const std::string& json) {
  auto o = parse_object(json, "inclusion proof");
  InclusionProof p;
  if (!o->has("seq") || !o->has("entry") || !o->has("head") || !o->has("path")) {
    throw std::invalid_argument("inclusion proof needs seq, entry, head and path");
  }
  p.seq = o->getValue<std::int64_t>("seq");
  p.entry = o->getValue<std::string>("entry");
  std::ostringstream head;
  o->getObject("head")->stringify(head);
  p.head = TreeHead::from_json(head.str());
  auto path = o->getArray("path");
  for (std::size_t i = 0; i < path->size(); ++i) {
    p.path.push_back(require_hash(path->getElement<std::string>(static_cast<unsigned>(i)),
                                  "an audit path element"));
  }
  return p;
}

namespace {

InclusionProof prove_entry(AuditLog& log, std::int64_t seq, const TreeHead& head,
                           std::string entry) {
  InclusionProof p;
  p.seq = seq;
  p.head = head;
  p.path = log.audit_path(head.tree_size, seq);
  // The stored nodes are a cache of what the entries determine: if the path they give does not
  // lead to the signed root, compute it from the leaves alone (O(n), as before they were kept),
  // so a damaged node (which `audit verify` names) costs time, not the proof.
  if (!verify_inclusion(leaf_hash(entry), static_cast<std::uint64_t>(seq - 1), head.tree_size,
                        p.path, head.root)) {
    p.path = log.audit_path(head.tree_size, seq, false);
  }
  p.entry = std::move(entry);
  return p;
}

}  // namespace

InclusionProof prove(AuditLog& log, std::int64_t seq) {
  const auto entry = log.entry(seq);
  if (!entry) throw std::runtime_error("there is no audit entry " + std::to_string(seq));
  const auto head = log.latest_head();
  if (!head || head->tree_size < static_cast<std::uint64_t>(seq)) {
    throw std::runtime_error("entry " + std::to_string(seq) +
                             " is not yet covered by a signed tree head; run 'tsunagu audit sign'"
                             " or wait for the next head");
  }
  return prove_entry(log, seq, *head, entry->entry);
}

InclusionProof prove(AuditLog& log, std::int64_t seq, const TreeHead& head) {
  const auto entry = log.entry(seq);
  if (!entry) throw std::runtime_error("there is no audit entry " + std::to_string(seq));
  if (head.tree_size < static_cast<std::uint64_t>(seq)) {
    throw std::runtime_error("entry " + std::to_string(seq) +
                             " is not covered by the tree head of size " +
                             std::to_string(head.tree_size));
  }
  return prove_entry(log, seq, head, entry->entry);
}

bool check_proof(const InclusionProof& p, const security::VerifyingKey& trusted, std::string& why) {
  const auto signature = hex_to_bytes(p.head.signature_hex);
  if (!signature || !trusted.verify(p.head.signed_message(), *signature)) {
    why = "the tree head's signature does not verify with the trusted public key (key " +
          trusted.key_id() + ")";
    return false;
  }
  try {
    if (parse_object(p.entry, "entry")->getValue<std::int64_t>("seq") != p.seq) {
      why = "the entry's own seq differs from the proof's seq " + std::to_string(p.seq);
      return false;
    }
  } catch (const std::exception& e) {
    why = std::string("the entry is not valid: ") + e.what();
    return false;
  }
  if (p.seq < 1 || !verify_inclusion(leaf_hash(p.entry), static_cast<std::uint64_t>(p.seq - 1),
                                     p.head.tree_size, p.path, p.head.root)) {
    why = "the audit path does not lead from entry " + std::to_string(p.seq) +
          " to the signed root of tree size " + std::to_string(p.head.tree_size);
    return false;
  }
  return true;
}

namespace {

// Reads exactly what canonical_entry() writes — {"actor":…,"details":{…},"seq":N,"subject":…,
// "time":…,"type":…,"v":1}, strings holding valid UTF-8 and only the escapes it makes — and
// returns its seq. Anything else gives nullopt, and the caller reads the entry with the general
// JSON parser instead: this only spares the parser's cost for the millions of entries that are
// exactly as written, and agrees with it on every one of them.
class CanonicalSeq {
 public:
  explicit CanonicalSeq(std::string_view text) : s_(text) {}

  std::optional<std::int64_t> read() {
    if (!literal("{\"actor\":") || !string() || !literal(",\"details\":{")) return std::nullopt;
    if (!literal("}")) {
      do {
        if (!string() || !literal(":") || !string()) return std::nullopt;
      } while (literal(","));
      if (!literal("}")) return std::nullopt;
    }
    if (!literal(",\"seq\":")) return std::nullopt;
    const auto seq = number();
    if (!seq || !literal(",\"subject\":") || !string(&subject_) || !literal(",\"time\":") ||
        !string() || !literal(",\"type\":") || !string(&type_) || !literal(",\"v\":1}") ||
        i_ != s_.size()) {
      return std::nullopt;
    }
    return seq;
  }

  // After read() succeeded: the subject's and the type's JSON string contents, escapes as
  // written (none in a subject or type the hub writes; a backslash means "parse it").
  std::string_view subject() const { return subject_; }
  std::string_view type() const { return type_; }

 private:
  bool literal(std::string_view l) {
    if (s_.size() - i_ < l.size() || std::memcmp(s_.data() + i_, l.data(), l.size()) != 0) {
      return false;
    }
    i_ += l.size();
    return true;
  }

  std::optional<std::int64_t> number() {
    const std::size_t start = i_;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
    const std::size_t digits = i_ - start;
    if (digits == 0 || digits > 18 || (digits > 1 && s_[start] == '0')) return std::nullopt;
    std::int64_t v = 0;
    for (std::size_t k = start; k < i_; ++k) v = v * 10 + (s_[k] - '0');
    return v;
  }

  bool string(std::string_view* contents = nullptr) {
    if (!literal("\"")) return false;
    const std::size_t start = i_;
    while (i_ < s_.size()) {
      skip_plain();
      if (i_ == s_.size()) break;
      const auto c = static_cast<unsigned char>(s_[i_]);
      if (c == '"') {
        if (contents != nullptr) *contents = s_.substr(start, i_ - start);
        ++i_;
        return true;
      }
      if (c < 0x20) return false;
      if (c == '\\') {
        if (i_ + 1 >= s_.size()) return false;
        const char e = s_[i_ + 1];
        if (e == '"' || e == '\\' || e == 'n' || e == 'r' || e == 't') {
          i_ += 2;
          continue;
        }
        // \u00XX, as canonical_entry writes the other control characters.
        if (e != 'u' || i_ + 6 > s_.size() || s_.substr(i_ + 2, 2) != "00" ||
            (s_[i_ + 4] != '0' && s_[i_ + 4] != '1') ||
            !std::isxdigit(static_cast<unsigned char>(s_[i_ + 5])) ||
            std::isupper(static_cast<unsigned char>(s_[i_ + 5]))) {
          return false;
        }
        i_ += 6;
        continue;
      }
      if (c < 0x80) {
        ++i_;
        continue;
      }
      if (!utf8_sequence()) return false;
    }
    return false;
  }

  // Past the bytes that need no further look: printable ASCII other than '"' and '\\'. Eight at a
  // time where it can, in locals: this runs over every byte of a log of millions of entries.
  void skip_plain() {
    const char* p = s_.data() + i_;
    const char* const end = s_.data() + s_.size();
    while (end - p >= 8) {
      const std::uint64_t w = json_scan::load_word(p);
      if ((w & json_scan::kHighs) != 0 || json_scan::word_needs_escape(w)) break;
      p += 8;
    }
    while (p != end) {
      const auto c = static_cast<unsigned char>(*p);
      if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') break;
      ++p;
    }
    i_ = static_cast<std::size_t>(p - s_.data());
  }

  // One well-formed UTF-8 sequence of 2–4 bytes (no overlong forms, surrogates or values past
  // U+10FFFF).
  bool utf8_sequence() {
    const auto c = static_cast<unsigned char>(s_[i_]);
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if ((c & 0xE0) == 0xC0) {
      n = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i_ + n > s_.size()) return false;
    for (std::size_t k = 1; k < n; ++k) {
      const auto b = static_cast<unsigned char>(s_[i_ + k]);
      if ((b & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (b & 0x3F);
    }
    if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) ||
        (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i_ += n;
    return true;
  }

  std::string_view s_;
  std::size_t i_ = 0;
  std::string_view subject_;
  std::string_view type_;
};

// Rows of audit_entries copied out of the statement (its text is valid only until the next row),
// so that another thread can check them.
struct RowChunk {
  struct Row {
    std::int64_t seq;
    std::size_t at;  // entry, recorded hash, subject column, type column, one after another
    std::uint32_t entry_size, recorded_size, subject_size, type_size;
  };
  static constexpr std::size_t kRows = 4096;
  std::vector<Row> rows;
  std::string bytes;

  void add(std::int64_t seq, std::string_view entry, std::string_view recorded,
           std::string_view subject, std::string_view type) {
    if (rows.empty()) rows.reserve(kRows);
    rows.push_back({seq, bytes.size(), static_cast<std::uint32_t>(entry.size()),
                    static_cast<std::uint32_t>(recorded.size()),
                    static_cast<std::uint32_t>(subject.size()),
                    static_cast<std::uint32_t>(type.size())});
    bytes.append(entry);
    bytes.append(recorded);
    bytes.append(subject);
    bytes.append(type);
  }
  bool full() const { return rows.size() >= kRows; }
  std::string_view entry(const Row& r) const { return {bytes.data() + r.at, r.entry_size}; }
  std::string_view recorded(const Row& r) const {
    return {bytes.data() + r.at + r.entry_size, r.recorded_size};
  }
  std::string_view subject(const Row& r) const {
    return {bytes.data() + r.at + r.entry_size + r.recorded_size, r.subject_size};
  }
  std::string_view type(const Row& r) const {
    return {bytes.data() + r.at + r.entry_size + r.recorded_size + r.subject_size, r.type_size};
  }
};

// Runs `check` on each chunk handed over, in order, on a thread of its own. At most two chunks
// wait, so memory stays bounded whatever the log's size. An exception in `check` is rethrown by
// finish() (or the next hand_over); the destructor stops and joins the thread in any case.
class ChunkPipeline {
 public:
  explicit ChunkPipeline(std::function<void(const RowChunk&)> check)
      : check_(std::move(check)), worker_([this] { run(); }) {}
  ~ChunkPipeline() {
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
    }
    changed_.notify_all();
    if (worker_.joinable()) worker_.join();
  }
  ChunkPipeline(const ChunkPipeline&) = delete;
  ChunkPipeline& operator=(const ChunkPipeline&) = delete;

  // Queues `chunk`; returns an emptied chunk (a recycled one when available) to fill next.
  RowChunk hand_over(RowChunk chunk) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [this] { return queue_.size() < 2 || error_; });
    if (error_) std::rethrow_exception(error_);
    if (!chunk.rows.empty()) queue_.push_back(std::move(chunk));
    RowChunk next;
    if (!spare_.empty()) {
      next = std::move(spare_.back());
      spare_.pop_back();
    }
    lock.unlock();
    changed_.notify_all();
    next.rows.clear();
    next.bytes.clear();
    return next;
  }

  // Waits until every chunk is checked.
  void finish() {
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
    }
    changed_.notify_all();
    worker_.join();
    if (error_) std::rethrow_exception(error_);
  }

 private:
  void run() {
    while (true) {
      RowChunk chunk;
      {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [this] { return !queue_.empty() || closed_; });
        if (queue_.empty()) return;
        chunk = std::move(queue_.front());
        queue_.pop_front();
      }
      changed_.notify_all();
      try {
        check_(chunk);
      } catch (...) {
        std::lock_guard lock(mutex_);
        error_ = std::current_exception();
        queue_.clear();
        changed_.notify_all();
        return;
      }
      std::lock_guard lock(mutex_);
      spare_.push_back(std::move(chunk));
    }
  }

  std::function<void(const RowChunk&)> check_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<RowChunk> queue_;
  std::vector<RowChunk> spare_;
  std::exception_ptr error_;
  bool closed_ = false;
  std::thread worker_;  // last: started once everything it uses exists
};

// What an entry says of itself: its seq (-1 if it cannot be read) and, if it can be read, its
// subject and type. The views point into the entry or into the owned strings: not copied.
struct OwnFields {
  std::int64_t seq = -1;
  bool keys = false;
  std::string_view subject, type;
  std::string owned_subject, owned_type;
};

void own_fields(std::string_view entry, OwnFields& f) {
  f.seq = -1;
  f.keys = false;
  CanonicalSeq canonical(entry);
  if (const auto seq = canonical.read()) {
    f.seq = *seq;
    if (canonical.subject().find('\\') == std::string_view::npos &&
        canonical.type().find('\\') == std::string_view::npos) {
      f.subject = canonical.subject();
      f.type = canonical.type();
      f.keys = true;
      return;
    }
  }
  try {
    const auto o = parse_object(std::string(entry), "entry");
    if (f.seq < 0) f.seq = o->getValue<std::int64_t>("seq");
    if (o->has("subject") && o->has("type")) {
      f.owned_subject = o->getValue<std::string>("subject");
      f.owned_type = o->getValue<std::string>("type");
      f.subject = f.owned_subject;
      f.type = f.owned_type;
      f.keys = true;
    }
  } catch (const std::exception&) {
    f.keys = false;
  }
}

// The search index of migration 12 (audit_subject_blocks, audit_type_blocks) against the rows
// the entries say it must hold: one per subject (not empty) and per type in each block of 256.
// Each block's rows are kept as a count and the XOR of a hash keyed for this check only (so rows
// cannot be made up to cancel out a deleted one), and the last block's keys in full: a live hub
// may still be adding rows to it, so there only the rows its entries need are looked up.
class BlockIndexCheck {
 public:
  struct Table {
    const char* name;
    const char* column;
    const char* what;  // in messages: "subject", "type"
  };
  static constexpr Table kTables[2] = {{"audit_subject_blocks", "subject", "subject"},
                                       {"audit_type_blocks", "type", "type"}};

  BlockIndexCheck() {
    if (RAND_bytes(salt_.data(), static_cast<int>(salt_.size())) != 1) {
      throw std::runtime_error("no random bytes for the search index check");
    }
  }

  // Entry by entry, in seq order (the checking thread).
  void add(std::int64_t seq, std::string_view subject, std::string_view type) {
    const std::int64_t block = block_of(seq);
    if (block < 0) return;
    if (block != block_) {
      block_ = block;
      for (auto& keys : last_keys_) keys.clear();
    }
    if (!subject.empty()) note(0, block, subject);
    note(1, block, type);
  }

  // After every entry was added; `last_seq` is the highest seq read.
  void check(store::Store& store, std::int64_t last_seq,
             const std::function<void(std::string)>& fail) {
    if (last_seq < 1) return;
    const std::int64_t last = block_of(last_seq);
    for (int t = 0; t < 2; ++t) {
      const Table& table = kTables[t];
      std::vector<Digest> actual(static_cast<std::size_t>(last));
      expected_[t].resize(static_cast<std::size_t>(last));
      std::int64_t negative = 0;
      {
        auto q = store.query(std::string("SELECT ") + table.column + ", block FROM " + table.name +
                             " WHERE block < ?");
        q.bind(last);
        while (q.next()) {
          const std::int64_t block = q.integer(1);
          if (block < 0) {
            ++negative;
            continue;
          }
          actual[static_cast<std::size_t>(block)].add(digest(t, block, q.text_view(0)));
        }
      }
      if (negative > 0) {
        fail(std::string(table.name) + ": " + std::to_string(negative) +
             " rows name a negative block; the search index was altered");
      }
      int named = 0;
      std::int64_t more = 0;
      for (std::int64_t b = 0; b < last; ++b) {
        const auto i = static_cast<std::size_t>(b);
        if (actual[i] == expected_[t][i]) continue;
        if (named < 5) {
          ++named;
          if (!explain(store, t, b, actual[i].rows, fail)) {
            fail(blocks_name(table, b) +
                 ": its rows differ from what its entries need. The "
                 "search index was altered");
          }
        } else {
          ++more;
        }
      }
      if (more > 0) {
        fail(std::string(table.name) + ": " + std::to_string(more) +
             " more blocks differ from their entries in the same way");
      }
      // The last block: every row its entries need (a live hub may have added more since).
      for (const std::string& key : last_keys_[t]) {
        if (!has_row(store, table, key, last)) missing(store, table, key, last, fail);
      }
    }
  }

 private:
  struct Digest {
    std::uint64_t a = 0, b = 0;
    std::uint32_t rows = 0;
    void add(const Digest& d) {
      a ^= d.a;
      b ^= d.b;
      rows += d.rows;
    }
    bool operator==(const Digest&) const = default;
  };

  void note(int t, std::int64_t block, std::string_view key) {
    auto& keys = last_keys_[t];
    if (!keys.emplace(key).second) return;
    auto& blocks = expected_[t];
    if (blocks.size() <= static_cast<std::size_t>(block)) {
      blocks.resize(static_cast<std::size_t>(block) + 1);
    }
    blocks[static_cast<std::size_t>(block)].add(digest(t, block, key));
  }

  Digest digest(int t, std::int64_t block, std::string_view key) {
    scratch_.assign(reinterpret_cast<const char*>(salt_.data()), salt_.size());
    scratch_.push_back(static_cast<char>('0' + t));
    for (int shift = 56; shift >= 0; shift -= 8) {
      scratch_.push_back(static_cast<char>((static_cast<std::uint64_t>(block) >> shift) & 0xff));
    }
    scratch_.append(key);
    const Hash h = sha256(scratch_);
    Digest d;
    std::memcpy(&d.a, h.data(), sizeof d.a);
    std::memcpy(&d.b, h.data() + sizeof d.a, sizeof d.b);
    d.rows = 1;
    return d;
  }

  static std::string blocks_name(const Table& table, std::int64_t block) {
    return std::string(table.name) + " (the auditors' search by " + table.what + "), block " +
           std::to_string(block) + " (entries " + std::to_string(first_seq_of(block)) + "–" +
           std::to_string(last_seq_of(block)) + ")";
  }

  static bool has_row(store::Store& store, const Table& table, const std::string& key,
                      std::int64_t block) {
    auto q = store.query(std::string("SELECT 1 FROM ") + table.name + " WHERE " + table.column +
                         " = ? AND block = ?");
    q.bind(key).bind(block);
    return q.next();
  }

  static void missing(store::Store& store, const Table& table, const std::string& key,
                      std::int64_t block, const std::function<void(std::string)>& fail) {
    std::int64_t first = 0;
    {
      auto q = store.query(std::string("SELECT MIN(seq) FROM audit_entries WHERE seq BETWEEN ? "
                                       "AND ? AND ") +
                           table.column + " = ?");
      q.bind(first_seq_of(block)).bind(last_seq_of(block)).bind(key);
      if (q.next()) first = q.integer(0);
    }
    fail(blocks_name(table, block) + ": no row for " + table.what + " " + key + " of entry " +
         std::to_string(first) + "; a search by that " + table.what +
         " would not find the entry. The search index was altered");
  }

  // Names what differs in one complete block: the keys its entries have and the index lacks,
  // and how many rows the index has that none of its entries needs. False if it found neither.
  static bool explain(store::Store& store, int t, std::int64_t block, std::uint32_t rows,
                      const std::function<void(std::string)>& fail) {
    const Table& table = kTables[t];
    std::vector<std::string> keys;
    {
      auto q = store.query(std::string("SELECT DISTINCT ") + table.column +
                           " FROM audit_entries WHERE seq BETWEEN ? AND ?");
      q.bind(first_seq_of(block)).bind(last_seq_of(block));
      while (q.next()) {
        if (t == 0 && q.text_view(0).empty()) continue;
        keys.push_back(q.text(0));
      }
    }
    std::uint32_t found = 0;
    bool named = false;
    for (const std::string& key : keys) {
      if (has_row(store, table, key, block)) {
        ++found;
      } else {
        missing(store, table, key, block, fail);
        named = true;
      }
    }
    if (rows > found) {
      fail(blocks_name(table, block) + ": " + std::to_string(rows - found) + " rows name a " +
           table.what + " that no entry of the block has. The search index was altered");
      named = true;
    }
    return named;
  }

  std::array<unsigned char, 16> salt_{};
  std::string scratch_;
  std::int64_t block_ = -1;
  std::vector<Digest> expected_[2];
  std::unordered_set<std::string> last_keys_[2];  // the keys of the block being read (at the
                                                  // end: of the last block)
};

// An audit.key_replaced entry: from its seq on, heads are signed by new_id instead of old_id.
struct KeyReplacement {
  std::int64_t seq = 0;
  std::string old_id;
  std::string new_id;
};

// The key ids an intact audit.key_replaced entry names; nullopt if it names none.
std::optional<KeyReplacement> key_replacement(std::int64_t seq, std::string_view entry) {
  auto details = entry_details(entry);
  KeyReplacement k{seq, std::move(details["old_key_id"]), std::move(details["new_key_id"])};
  if (k.old_id.empty() || k.new_id.empty()) return std::nullopt;
  return k;
}

// The key that must sign a head over the first `tree_size` entries, as the log's own record of
// key changes says, with why; nullopt if the log never changed its key.
std::optional<std::pair<std::string, std::string>> key_in_effect(
    const std::vector<KeyReplacement>& replacements, std::uint64_t tree_size) {
  if (replacements.empty()) return std::nullopt;
  const KeyReplacement* last = nullptr;
  for (const auto& k : replacements) {
    if (static_cast<std::uint64_t>(k.seq) <= tree_size) last = &k;
  }
  if (last == nullptr) {
    const auto& first = replacements.front();
    return std::pair{first.old_id, "entry " + std::to_string(first.seq) +
                                       " (audit.key_replaced) replaced it only later"};
  }
  return std::pair{last->new_id, "entry " + std::to_string(last->seq) +
                                     " (audit.key_replaced) made it the key from there on"};
}

}  // namespace

VerifyReport verify(store::Store& store, const security::VerifyingKey& trusted,
                    const std::optional<TreeHead>& pinned) {
  return verify(store, std::vector<security::VerifyingKey>{trusted}, pinned);
}

VerifyReport verify(store::Store& store, const std::vector<security::VerifyingKey>& trusted,
                    const std::optional<TreeHead>& pinned) {
  VerifyReport r;
  std::map<std::string, const security::VerifyingKey*> keys;  // by key id
  std::string trusted_ids;
  for (const auto& k : trusted) {
    const auto [it, added] = keys.emplace(k.key_id(), &k);
    if (added) trusted_ids += (trusted_ids.empty() ? "" : ", ") + it->first;
  }
  auto fail = [&r](std::string problem) {
    r.ok = false;
    r.problems.push_back(std::move(problem));
  };

  store.read_once_in_order();  // one pass over the whole log
  auto heads = read_heads(store, "ORDER BY id");
  if (pinned) heads.push_back(*pinned);
  // The roots the heads need, computed in the one pass over the entries below: a frontier
  // advanced leaf by leaf gives the root of every prefix it passes (O(n) in all, O(log n)
  // memory), where recomputing each head's root from the leaves was O(n) per head.
  std::map<std::uint64_t, Hash> roots;
  for (const auto& h : heads) roots.emplace(h.tree_size, Hash{});

  // 1. Every entry: contiguous sequence, its own seq, its recorded hash. Read row by row by
  // this thread (the store's connection is used by one thread), checked and hashed by a second
  // one in chunks: reading the rows and hashing them each take about half the time, and a log of
  // millions of entries is verified in one pass.
  MerkleFrontier all;
  BlockIndexCheck search_index;  // 5. below: the search index, as the entries say it must be
  std::int64_t expected = 1;     // the next seq: after the pass, one past the highest read
  // Every node audit_nodes should hold, from the same pass: (level, index) → root.
  std::map<std::pair<unsigned, std::uint64_t>, Hash> nodes;
  std::vector<std::int64_t> named;  // entries found altered, in order: their nodes differ too
  std::vector<KeyReplacement> replacements;  // the log's key changes, from intact entries
  {
    std::vector<PerfectSubtree> completed;
    OwnFields own;
    auto check = [&](const RowChunk& chunk) {
      char hex[64];
      for (const RowChunk::Row& row : chunk.rows) {
        const std::int64_t seq = row.seq;
        const std::string_view entry = chunk.entry(row);
        const std::string_view recorded = chunk.recorded(row);
        if (seq != expected) {
          named.push_back(expected);
          fail("entry " + std::to_string(expected) + ": missing (the next entry is " +
               std::to_string(seq) + "); entries were deleted");
          expected = seq;
        }
        own_fields(entry, own);
        bool intact = true;
        if (own.seq != seq) {
          intact = false;
          named.push_back(seq);
          fail("entry " + std::to_string(seq) + ": its content says seq " +
               std::to_string(own.seq) + "; entries were reordered, moved or altered");
        }
        const Hash leaf = leaf_hash(entry);
        hex_into(leaf, hex);
        if (std::string_view(hex, sizeof hex) != recorded) {
          intact = false;
          named.push_back(seq);
          fail("entry " + std::to_string(seq) +
               ": its content does not match its recorded leaf hash; the entry was altered");
        }
        // The columns the auditors' search matches on must say what the entry says; the index
        // is checked against what the entry says (its columns, when it cannot be read).
        const bool own_keys = intact && own.keys;
        if (own_keys && (own.subject != chunk.subject(row) || own.type != chunk.type(row))) {
          fail("entry " + std::to_string(seq) + ": its subject or type column (" +
               std::string(chunk.subject(row)) + ", " + std::string(chunk.type(row)) +
               ") differs from the entry's own (" + std::string(own.subject) + ", " +
               std::string(own.type) +
               "); a search would not find it where it belongs. The columns were altered");
        }
        search_index.add(seq, own_keys ? own.subject : chunk.subject(row),
                         own_keys ? own.type : chunk.type(row));
        if (own_keys && own.type == entry_type::kAuditKeyReplaced) {
          if (auto k = key_replacement(seq, entry)) {
            replacements.push_back(std::move(*k));
          } else {
            fail("entry " + std::to_string(seq) +
                 ": an audit.key_replaced entry without old_key_id and new_key_id");
          }
        }
        completed.clear();
        all.append(leaf, kNodeLevel, completed);
        for (const PerfectSubtree& node : completed)
          nodes.emplace(std::pair{node.level, node.index}, node.hash);
        if (const auto it = roots.find(all.size()); it != roots.end()) it->second = all.root();
        ++expected;
      }
    };
    ChunkPipeline pipeline(check);
    auto q =
        store.query("SELECT seq, entry, leaf_hash, subject, type FROM audit_entries ORDER BY seq");
    RowChunk chunk;
    while (q.next()) {
      chunk.add(q.integer(0), q.text_view(1), q.text_view(2), q.text_view(3), q.text_view(4));
      if (chunk.full()) chunk = pipeline.hand_over(std::move(chunk));
    }
    pipeline.hand_over(std::move(chunk));
    pipeline.finish();
  }
  const std::uint64_t n = all.size();
  r.entries = n;
  if (const auto it = roots.find(0); it != roots.end()) it->second = empty_root();

  // 2. Every signed head: signature, size, root; successive heads consistent.
  struct Signer {
    std::string key_id;
    std::int64_t first = 0, last = 0;  // head ids
  };
  std::vector<Signer> signers;  // the stored heads that verified, by key in turn
  r.heads = heads.size();
  const TreeHead* previous = nullptr;
  for (const auto& h : heads) {
    const std::string name =
        (h.id == 0 ? std::string("pinned tree head") : "tree head #" + std::to_string(h.id)) +
        " (size " + std::to_string(h.tree_size) + ", " + h.time + ")";
    const auto key = keys.find(h.key_id);
    if (key == keys.end()) {
      fail(name + ": signed with key " + h.key_id + ", which is not a trusted public key (" +
           trusted_ids +
           "); if it is a key the log replaced, give its public key too, otherwise the log was "
           "forged or re-signed");
      continue;
    }
    const auto signature = hex_to_bytes(h.signature_hex);
    if (!signature || !key->second->verify(h.signed_message(), *signature)) {
      fail(name + ": the signature does not verify with the trusted public key " + h.key_id +
           " it names; the log was forged or re-signed");
      continue;
    }
    if (h.tree_size > n) {
      fail(name + ": the log has only " + std::to_string(n) + " entries; entries " +
           std::to_string(n + 1) + "–" + std::to_string(h.tree_size) + " were removed (truncated)");
      continue;
    }
    if (roots.at(h.tree_size) != h.root) {
      fail(name + ": the root recomputed from entries 1–" + std::to_string(h.tree_size) +
           " differs from the signed root; entries up to " + std::to_string(h.tree_size) +
           " were altered");
      continue;
    }
    // The entries up to this head are intact, so their record of key changes holds for it.
    if (const auto in_effect = key_in_effect(replacements, h.tree_size);
        in_effect && in_effect->first != h.key_id) {
      fail(name + ": signed with key " + h.key_id + ", but the log's key at that size is " +
           in_effect->first + ": " + in_effect->second +
           ". A replaced key signed after its replacement (was it leaked?)");
      continue;
    }
    // Consistency with the previous head: both roots have just been recomputed from the same
    // entries and matched, so the earlier tree is a prefix of this one by construction (an RFC
    // 9162 consistency proof built from these leaves always verifies); only the order of the
    // heads is left to check.
    if (previous != nullptr && previous->tree_size > h.tree_size && h.id != 0) {
      fail(name + ": smaller than the previous head (size " + std::to_string(previous->tree_size) +
           "); heads were reordered or the log was rolled back");
    }
    if (h.id != 0) {
      previous = &h;
      if (signers.empty() || signers.back().key_id != h.key_id) {
        signers.push_back({h.key_id, h.id, h.id});
      } else {
        signers.back().last = h.id;
      }
    }
  }
  if (signers.size() > 1) {  // the log changed its key: which heads each one signed
    std::string note = "heads ";
    for (std::size_t i = 0; i < signers.size(); ++i) {
      const Signer& signer = signers[i];
      note += (i > 0 ? ", #" : "#") + std::to_string(signer.first) +
              (signer.last != signer.first ? "–#" + std::to_string(signer.last) : "") +
              (i == 0 ? " were signed with key " : " with key ") + signer.key_id;
    }
    r.notes.push_back(note);
  }

  // 3. The appender's frontier must describe the same tree.
  std::int64_t frontier_size = 0;
  std::string state;
  {
    auto q = store.query("SELECT size, state FROM audit_frontier WHERE id = 1");
    if (q.next()) {
      frontier_size = q.integer(0);
      state = q.text(1);
    }
  }
  if (static_cast<std::uint64_t>(frontier_size) != n) {
    fail("the appender's frontier says " + std::to_string(frontier_size) +
         " entries, the log has " + std::to_string(n));
  } else if (frontier_size > 0) {
    auto frontier = MerkleFrontier::deserialize(state);
    if (!frontier || frontier->root() != all.root()) {
      fail("the appender's frontier does not match the entries");
    }
  }
  // 4. The stored Merkle nodes. Only a cache — a wrong one makes a proof fall back to the leaves
  // (or fail against the signed root), it cannot forge one — but a changed node is tampering.
  {
    std::sort(named.begin(), named.end());
    std::uint64_t matched = 0;
    auto q = store.query("SELECT level, idx, hash FROM audit_nodes ORDER BY level, idx");
    while (q.next()) {
      const std::int64_t level = q.integer(0);
      const std::int64_t index = q.integer(1);
      std::string name =
          "Merkle node level " + std::to_string(level) + " index " + std::to_string(index);
      if (level >= 0 && level < 63 && index >= 0 && index < (std::int64_t{1} << (62 - level))) {
        name += " (entries " + std::to_string((index << level) + 1) + "–" +
                std::to_string((index + 1) << level) + ")";
      }
      const auto it = nodes.find({static_cast<unsigned>(level), static_cast<std::uint64_t>(index)});
      if (level < 0 || index < 0 || it == nodes.end()) {
        fail(name + ": stored, but the log has no such complete subtree; audit_nodes was altered");
        continue;
      }
      ++matched;
      if (hash_from_hex(q.text_view(2)) == it->second) continue;
      const std::int64_t first = (index << level) + 1;
      const auto altered = std::lower_bound(named.begin(), named.end(), first);
      if (altered != named.end() && *altered < first + (std::int64_t{1} << level)) {
        continue;  // an entry under it is named above
      }
      fail(name +
           ": its stored hash differs from the root recomputed from those entries; the "
           "node (or those entries and their hashes) were altered after it was stored");
    }
    if (matched < nodes.size()) {
      r.notes.push_back(std::to_string(nodes.size() - matched) + " of the log's " +
                        std::to_string(nodes.size()) +
                        " Merkle nodes are not stored yet (a store from before they were kept): "
                        "the next inclusion proof builds them");
    }
  }
  // 5. The search index by block (migration 12): a row missing from it hides an entry from the
  // auditors' search by subject or type, though not from this check or a full export.
  search_index.check(store, expected - 1, fail);
  if (previous == nullptr && n > 0) {
    r.notes.push_back("no signed tree head yet: the entries are hash-chained but not signed");
  } else if (previous != nullptr && previous->tree_size < n) {
    r.notes.push_back("entries " + std::to_string(previous->tree_size + 1) + "–" +
                      std::to_string(n) + " are not yet covered by a signed head");
  }
  return r;
}

}  // namespace tsunagu::audit
