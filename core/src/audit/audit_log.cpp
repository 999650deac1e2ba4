#include "audit/audit_log.hpp"

#include <stdexcept>

#include <Poco/Data/LOB.h>
#include <Poco/Data/RecordSet.h>
#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

namespace tsunagu::audit {
using namespace Poco::Data::Keywords;
using Poco::Data::Statement;

namespace {

void append_json_string(std::string& out, const std::string& s) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
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

std::string canonical_entry(std::int64_t seq, const std::string& time, const EntryDraft& d) {
  // Keys in byte order, no whitespace: the same entry always has the same bytes.
  std::string out = "{\"actor\":";
  append_json_string(out, d.actor);
  out += ",\"details\":{";
  bool first = true;
  for (const auto& [k, v] : d.details) {
    if (!first) out += ',';
    first = false;
    append_json_string(out, k);
    out += ':';
    append_json_string(out, v);
  }
  out += "},\"seq\":" + std::to_string(seq) + ",\"subject\":";
  append_json_string(out, d.subject);
  out += ",\"time\":";
  append_json_string(out, time);
  out += ",\"type\":";
  append_json_string(out, d.type);
  out += ",\"v\":1}";
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

std::int64_t AuditLog::append(const EntryDraft& draft) {
  if (!store_.in_transaction()) {
    throw std::logic_error("audit entries are appended inside the transaction of their change");
  }
  auto& session = store_.session();
  // The frontier is read once per transaction: another process may have appended since.
  if (!frontier_ || frontier_generation_ != store_.transaction_generation()) {
    std::string state;
    Poco::Int64 size = 0;
    session << "SELECT size, state FROM audit_frontier WHERE id = 1", into(size), into(state), now;
    frontier_ = size == 0 ? MerkleFrontier{} : MerkleFrontier::deserialize(state);
    if (!frontier_ || frontier_->size() != static_cast<std::uint64_t>(size)) {
      throw std::runtime_error("the audit frontier state is damaged; run tsunagu audit verify");
    }
    frontier_generation_ = store_.transaction_generation();
  }
  const auto seq = static_cast<std::int64_t>(frontier_->size() + 1);
  std::string time = store::utc_now();
  std::string entry = canonical_entry(seq, time, draft);
  const Hash leaf = leaf_hash(entry);
  std::string leaf_hex = to_hex(leaf), type = draft.type, subject = draft.subject;
  Poco::Int64 seq_value = seq;
  session << "INSERT INTO audit_entries (seq, time, type, subject, entry, leaf_hash) "
             "VALUES (?, ?, ?, ?, ?, ?)",
      use(seq_value), use(time), use(type), use(subject), use(entry), use(leaf_hex), now;
  MerkleFrontier next = *frontier_;
  next.append(leaf);
  std::string state = next.serialize();
  Poco::Int64 size = static_cast<Poco::Int64>(next.size());
  session << "UPDATE audit_frontier SET size = ?, state = ? WHERE id = 1", use(size), use(state),
      now;
  frontier_ = std::move(next);
  return seq;
}

std::int64_t AuditLog::append_now(const EntryDraft& draft) {
  store::Transaction tx(store_);
  const auto seq = append(draft);
  tx.commit();
  return seq;
}

std::uint64_t AuditLog::size() {
  Poco::Int64 n = 0;
  store_.session() << "SELECT size FROM audit_frontier WHERE id = 1", into(n), now;
  return static_cast<std::uint64_t>(n);
}

namespace {

std::vector<TreeHead> read_heads(Poco::Data::Session& session, const std::string& suffix) {
  Statement select(session);
  select << "SELECT id, tree_size, root, time, key_id, signature FROM audit_heads " + suffix;
  select.execute();
  Poco::Data::RecordSet rs(select);
  std::vector<TreeHead> out;
  for (bool more = rs.moveFirst(); more; more = rs.moveNext()) {
    TreeHead h;
    h.id = rs[0].convert<Poco::Int64>();
    h.tree_size = static_cast<std::uint64_t>(rs[1].convert<Poco::Int64>());
    h.root = hash_from_hex(rs[2].convert<std::string>()).value_or(Hash{});
    h.time = rs[3].convert<std::string>();
    h.key_id = rs[4].convert<std::string>();
    h.signature_hex = rs[5].convert<std::string>();
    out.push_back(std::move(h));
  }
  return out;
}

std::vector<StoredEntry> read_entries(Poco::Data::Session& session, const std::string& where,
                                      const std::string& arg) {
  Statement select(session);
  std::string a = arg;
  select << "SELECT seq, time, type, subject, entry, leaf_hash FROM audit_entries " + where;
  if (!arg.empty()) select, use(a);
  select.execute();
  Poco::Data::RecordSet rs(select);
  std::vector<StoredEntry> out;
  for (bool more = rs.moveFirst(); more; more = rs.moveNext()) {
    out.push_back({rs[0].convert<Poco::Int64>(), rs[1].convert<std::string>(),
                   rs[2].convert<std::string>(), rs[3].convert<std::string>(),
                   rs[4].convert<std::string>(), rs[5].convert<std::string>()});
  }
  return out;
}

}  // namespace

std::optional<TreeHead> AuditLog::sign_head(const security::SigningKey& key, bool always) {
  store::Transaction tx(store_);
  std::string state;
  Poco::Int64 size = 0;
  store_.session() << "SELECT size, state FROM audit_frontier WHERE id = 1", into(size),
      into(state), now;
  auto latest = read_heads(store_.session(), "ORDER BY id DESC LIMIT 1");
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
  std::string root = to_hex(h.root);
  Poco::Int64 tree_size = static_cast<Poco::Int64>(h.tree_size);
  store_.session() << "INSERT INTO audit_heads (tree_size, root, time, key_id, signature) "
                      "VALUES (?, ?, ?, ?, ?)",
      use(tree_size), use(root), use(h.time), use(h.key_id), use(h.signature_hex), now;
  Poco::Int64 id = 0;
  store_.session() << "SELECT last_insert_rowid()", into(id), now;
  h.id = id;
  tx.commit();
  return h;
}

std::optional<TreeHead> AuditLog::latest_head() {
  auto h = read_heads(store_.session(), "ORDER BY id DESC LIMIT 1");
  if (h.empty()) return std::nullopt;
  return h.front();
}

std::vector<TreeHead> AuditLog::heads() { return read_heads(store_.session(), "ORDER BY id"); }

std::vector<StoredEntry> AuditLog::entries_of_subject(const std::string& subject) {
  return read_entries(store_.session(), "WHERE subject = ? ORDER BY seq", subject);
}

std::optional<StoredEntry> AuditLog::entry(std::int64_t seq) {
  auto e = read_entries(store_.session(), "WHERE seq = " + std::to_string(seq), "");
  if (e.empty()) return std::nullopt;
  return e.front();
}

std::vector<Hash> AuditLog::leaf_hashes(std::uint64_t n) {
  Statement select(store_.session());
  select << "SELECT entry FROM audit_entries WHERE seq <= " + std::to_string(n) + " ORDER BY seq";
  select.execute();
  Poco::Data::RecordSet rs(select);
  std::vector<Hash> out;
  out.reserve(n);
  for (bool more = rs.moveFirst(); more; more = rs.moveNext()) {
    out.push_back(leaf_hash(rs[0].convert<std::string>()));
  }
  return out;
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

InclusionProof prove(AuditLog& log, std::int64_t seq) {
  const auto entry = log.entry(seq);
  if (!entry) throw std::runtime_error("there is no audit entry " + std::to_string(seq));
  const auto head = log.latest_head();
  if (!head || head->tree_size < static_cast<std::uint64_t>(seq)) {
    throw std::runtime_error("entry " + std::to_string(seq) +
                             " is not yet covered by a signed tree head; run 'tsunagu audit sign'"
                             " or wait for the next head");
  }
  const auto leaves = log.leaf_hashes(head->tree_size);
  InclusionProof p;
  p.seq = seq;
  p.entry = entry->entry;
  p.head = *head;
  p.path = inclusion_proof(leaves, static_cast<std::uint64_t>(seq - 1));
  return p;
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

VerifyReport verify(store::Store& store, const security::VerifyingKey& trusted,
                    const std::optional<TreeHead>& pinned) {
  VerifyReport r;
  auto& session = store.session();
  auto fail = [&r](std::string problem) {
    r.ok = false;
    r.problems.push_back(std::move(problem));
  };

  // 1. Every entry: contiguous sequence, its own seq, its recorded hash.
  std::vector<Hash> leaves;
  {
    Statement select(session);
    select << "SELECT seq, entry, leaf_hash FROM audit_entries ORDER BY seq";
    select.execute();
    Poco::Data::RecordSet rs(select);
    std::int64_t expected = 1;
    for (bool more = rs.moveFirst(); more; more = rs.moveNext(), ++expected) {
      const std::int64_t seq = rs[0].convert<Poco::Int64>();
      const std::string entry = rs[1].convert<std::string>();
      const std::string recorded = rs[2].convert<std::string>();
      if (seq != expected) {
        fail("entry " + std::to_string(expected) + ": missing (the next entry is " +
             std::to_string(seq) + "); entries were deleted");
        expected = seq;
      }
      std::int64_t own = -1;
      try {
        own = parse_object(entry, "entry")->getValue<std::int64_t>("seq");
      } catch (const std::exception&) {
      }
      if (own != seq) {
        fail("entry " + std::to_string(seq) + ": its content says seq " + std::to_string(own) +
             "; entries were reordered, moved or altered");
      }
      const Hash leaf = leaf_hash(entry);
      if (to_hex(leaf) != recorded) {
        fail("entry " + std::to_string(seq) +
             ": its content does not match its recorded leaf hash; the entry was altered");
      }
      leaves.push_back(leaf);
    }
  }
  r.entries = leaves.size();

  // 2. Every signed head: signature, size, root; successive heads consistent.
  auto heads = read_heads(session, "ORDER BY id");
  if (pinned) heads.push_back(*pinned);
  r.heads = heads.size();
  const TreeHead* previous = nullptr;
  for (const auto& h : heads) {
    const std::string name = (h.id == 0 ? std::string("pinned tree head") : "tree head #" + std::to_string(h.id)) +
                             " (size " + std::to_string(h.tree_size) + ", " + h.time + ")";
    const auto signature = hex_to_bytes(h.signature_hex);
    if (!signature || !trusted.verify(h.signed_message(), *signature)) {
      fail(name + ": the signature does not verify with the trusted public key " + trusted.key_id() +
           " (the head names key " + h.key_id + "); the log was forged or re-signed");
      continue;
    }
    if (h.tree_size > leaves.size()) {
      fail(name + ": the log has only " + std::to_string(leaves.size()) + " entries; entries " +
           std::to_string(leaves.size() + 1) + "–" + std::to_string(h.tree_size) +
           " were removed (truncated)");
      continue;
    }
    const Hash computed = root(std::span<const Hash>(leaves.data(), h.tree_size));
    if (computed != h.root) {
      fail(name + ": the root recomputed from entries 1–" + std::to_string(h.tree_size) +
           " differs from the signed root; entries up to " + std::to_string(h.tree_size) +
           " were altered");
      continue;
    }
    if (previous != nullptr && previous->tree_size <= h.tree_size) {
      const std::span<const Hash> all(leaves.data(), h.tree_size);
      const auto proof = consistency_proof(all, previous->tree_size);
      if (!verify_consistency(previous->tree_size, h.tree_size, previous->root, h.root, proof)) {
        fail(name + ": not consistent with the previous head (size " +
             std::to_string(previous->tree_size) + ")");
      }
    } else if (previous != nullptr && h.id != 0) {
      fail(name + ": smaller than the previous head (size " + std::to_string(previous->tree_size) +
           "); heads were reordered or the log was rolled back");
    }
    if (h.id != 0) previous = &h;
  }

  // 3. The appender's frontier must describe the same tree.
  Poco::Int64 frontier_size = 0;
  std::string state;
  session << "SELECT size, state FROM audit_frontier WHERE id = 1", into(frontier_size),
      into(state), now;
  if (static_cast<std::uint64_t>(frontier_size) != leaves.size()) {
    fail("the appender's frontier says " + std::to_string(frontier_size) + " entries, the log has " +
         std::to_string(leaves.size()));
  } else if (frontier_size > 0) {
    auto frontier = MerkleFrontier::deserialize(state);
    if (!frontier || frontier->root() != root(leaves)) {
      fail("the appender's frontier does not match the entries");
    }
  }
  if (previous == nullptr && !leaves.empty()) {
    r.notes.push_back("no signed tree head yet: the entries are hash-chained but not signed");
  } else if (previous != nullptr && previous->tree_size < leaves.size()) {
    r.notes.push_back("entries " + std::to_string(previous->tree_size + 1) + "–" +
                      std::to_string(leaves.size()) + " are not yet covered by a signed head");
  }
  return r;
}

}  // namespace tsunagu::audit
