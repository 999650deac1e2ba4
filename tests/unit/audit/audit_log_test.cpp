// The exchange log over a real store: appending, signing, proofs, and verify catching every kind
// of tampering with the place named.
#include "audit/audit_log.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <span>

#include "store/prepared.hpp"
#include "support/temp_dir.hpp"
#include "support/test_store.hpp"

namespace {

using namespace tsunagu;

class AuditLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = tsunagu_test::open_test_store(dir_ / "store.db", {});
    log_ = std::make_unique<audit::AuditLog>(*store_);
  }

  void append(int n, const std::string& subject = "") {
    for (int i = 0; i < n; ++i) {
      log_->append_now(
          {audit::entry_type::kEventStored,
           "system:test",
           subject,
           {{"event_id", "e" + std::to_string(count_)}, {"kind", "welfare.member_added"}}});
      ++count_;
    }
  }

  audit::VerifyReport verify(const std::optional<audit::TreeHead>& pinned = std::nullopt) {
    return audit::verify(*store_, key_.verifying_key(), pinned);
  }

  std::string problems(const audit::VerifyReport& r) {
    std::string out;
    for (const auto& p : r.problems) out += p + "\n";
    return out;
  }

  // verify() finds exactly one problem, and it says `expected`.
  ::testing::AssertionResult only_problem(const std::string& expected) {
    const auto r = verify();
    if (!r.ok && r.problems.size() == 1 && r.problems[0].find(expected) != std::string::npos) {
      return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure()
           << "expected only a problem saying \"" << expected << "\", got:\n"
           << problems(r);
  }

  void exec(const std::string& sql) { store_->query(sql).run(); }

  // n entries in one transaction (thousands of commits would be slow on a durable store).
  void append_batch(int n) {
    store::Transaction tx(*store_);
    for (int i = 0; i < n; ++i) {
      log_->append({audit::entry_type::kEventStored,
                    "system:test",
                    "",
                    {{"event_id", "e" + std::to_string(count_)}}});
      ++count_;
    }
    tx.commit();
  }

  std::int64_t scalar(const std::string& sql) {
    auto q = store_->query(sql);
    return q.next() ? q.integer(0) : -1;
  }

  // ---- the full-rebuild reference: every leaf from the entries' bytes, RFC 9162 PATH ----------
  std::vector<audit::Hash> reference_leaves() {
    std::vector<audit::Hash> out;
    auto q = store_->query("SELECT entry FROM audit_entries ORDER BY seq");
    while (q.next()) out.push_back(audit::leaf_hash(q.text_view(0)));
    return out;
  }
  static std::size_t split(std::size_t n) {
    std::size_t k = 1;
    while (k * 2 < n) k *= 2;
    return k;
  }
  static audit::Hash reference_root(std::span<const audit::Hash> d) {
    if (d.size() == 1) return d[0];
    const std::size_t k = split(d.size());
    return audit::node_hash(reference_root(d.first(k)), reference_root(d.subspan(k)));
  }
  static std::vector<audit::Hash> reference_path(std::size_t m, std::span<const audit::Hash> d) {
    if (d.size() <= 1) return {};
    const std::size_t k = split(d.size());
    auto out = m < k ? reference_path(m, d.first(k)) : reference_path(m - k, d.subspan(k));
    out.push_back(m < k ? reference_root(d.subspan(k)) : reference_root(d.first(k)));
    return out;
  }

  // Proves `seq` and checks it against the reference and the signed root.
  void expect_proof_as_reference(std::int64_t seq, const std::vector<audit::Hash>& leaves,
                                 std::uint64_t size) {
    const auto proof = audit::prove(*log_, seq);
    ASSERT_EQ(proof.head.tree_size, size);
    const std::span<const audit::Hash> tree(leaves.data(), size);
    EXPECT_EQ(proof.path, reference_path(static_cast<std::size_t>(seq - 1), tree))
        << "size " << size << " seq " << seq;
    std::string why;
    EXPECT_TRUE(audit::check_proof(proof, key_.verifying_key(), why))
        << "size " << size << " seq " << seq << ": " << why;
  }

  tsunagu_test::TempDir dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<audit::AuditLog> log_;
  security::SigningKey key_ = security::SigningKey::generate();
  int count_ = 0;
};

TEST_F(AuditLogTest, AnIntactLogVerifies) {
  append(5);
  log_->sign_head(key_);
  append(4);
  log_->sign_head(key_);
  append(2);
  const auto r = verify();
  EXPECT_TRUE(r.ok) << problems(r);
  EXPECT_EQ(r.entries, 11u);
  EXPECT_EQ(r.heads, 2u);
  ASSERT_EQ(r.notes.size(), 1u);
  EXPECT_NE(r.notes[0].find("entries 10–11 are not yet covered"), std::string::npos) << r.notes[0];
}

TEST_F(AuditLogTest, EntriesAreCanonicalMetadata) {
  append(1, "subject-1");
  const auto e = log_->entry(1);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->entry.substr(0, 10), "{\"actor\":\"");
  EXPECT_NE(e->entry.find("\"seq\":1,\"subject\":\"subject-1\""), std::string::npos) << e->entry;
  EXPECT_EQ(e->leaf_hash, audit::to_hex(audit::leaf_hash(e->entry)));
}

// The escapes canonical_entry() must make, one byte at a time: the definition its faster scan
// has to agree with.
std::string reference_json_string(const std::string& s) {
  std::string out = "\"";
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"') {
      out += "\\\"";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20) {
      const char* digits = "0123456789abcdef";
      out += "\\u00";
      out += digits[c >> 4];
      out += digits[c & 0xF];
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

TEST(CanonicalEntry, EscapesEveryByteThatNeedsItWhereverItFalls) {
  // Each byte that needs an escape (and a few that do not: space, DEL, UTF-8) at every offset of
  // a 24-byte value, so that it falls in each lane of the eight-byte scan and in the tail.
  std::vector<char> specials;
  for (int c = 0; c < 0x20; ++c) specials.push_back(static_cast<char>(c));
  for (const char c : {'"', '\\', ' ', '\x7f', '/', '\xe3', '\x81', '\x82'}) specials.push_back(c);
  for (const char special : specials) {
    for (std::size_t at = 0; at < 24; ++at) {
      std::string value(24, 'a');
      value[at] = special;
      const audit::EntryDraft d{"t", value, value, {{value, value}}};
      const std::string entry = audit::canonical_entry(7, "2019-04-01T00:00:00.000000+00:00", d);
      const std::string v = reference_json_string(value);
      EXPECT_EQ(entry, "{\"actor\":" + v + ",\"details\":{" + v + ":" + v +
                           "},\"seq\":7,\"subject\":" + v +
                           ",\"time\":\"2019-04-01T00:00:00.000000+00:00\",\"type\":\"t\",\"v\":1}")
          << "byte " << static_cast<int>(static_cast<unsigned char>(special)) << " at " << at;
    }
  }
}

TEST_F(AuditLogTest, EntriesWithEscapesAndJapaneseVerifyAcrossManyChunks) {
  // More entries than verify checks per chunk (4,096), each with escapes, 日本語 and a control
  // character, so that the reader and the checking thread hand over several chunks.
  store::Transaction tx(*store_);
  for (int i = 0; i < 9000; ++i) {
    log_->append({audit::entry_type::kEventStored,
                  "system:test",
                  "subject-" + std::to_string(i % 7),
                  {{"note", "\"引用\"\\ 改行\n" + std::string(1, static_cast<char>(i % 0x20)) +
                                std::to_string(i)},
                   {"event_id", "e" + std::to_string(i)}}});
  }
  tx.commit();
  log_->sign_head(key_);
  const auto r = verify();
  EXPECT_TRUE(r.ok) << problems(r);
  EXPECT_EQ(r.entries, 9000u);
}

TEST_F(AuditLogTest, AnEntryAlteredInALaterChunkIsNamed) {
  append_batch(9000);
  log_->sign_head(key_);
  // Same length, so only the hash can tell.
  exec(
      "UPDATE audit_entries SET entry = replace(entry, '\"e8500\"', '\"x8500\"') WHERE seq = 8501");
  const auto r = verify();
  EXPECT_FALSE(r.ok);
  EXPECT_NE(problems(r).find("entry 8501: its content does not match its recorded leaf hash"),
            std::string::npos)
      << problems(r);
}

TEST_F(AuditLogTest, AppendOutsideATransactionIsRefused) {
  EXPECT_THROW(log_->append({"x", "y", "", {}}), std::logic_error);
}

TEST_F(AuditLogTest, ARolledBackChangeLeavesNoEntry) {
  append(2);
  {
    store::Transaction tx(*store_);
    log_->append({audit::entry_type::kEventStored, "system:test", "", {}});
  }  // rolled back
  append(1);
  EXPECT_EQ(log_->size(), 3u);
  log_->sign_head(key_);
  EXPECT_TRUE(verify().ok) << problems(verify());
}

TEST_F(AuditLogTest, ChangingOneByteOfAnEntryIsNamed) {
  append(6);
  log_->sign_head(key_);
  exec("UPDATE audit_entries SET entry = replace(entry, 'e3', 'e9') WHERE seq = 4");
  const auto r = verify();
  EXPECT_FALSE(r.ok);
  EXPECT_NE(problems(r).find("entry 4: its content does not match its recorded leaf hash"),
            std::string::npos)
      << problems(r);
}

TEST_F(AuditLogTest, ChangingAnEntryAndItsHashIsCaughtByTheSignedRoot) {
  append(6);
  log_->sign_head(key_);
  std::string entry;
  {
    auto q = store_->query("SELECT entry FROM audit_entries WHERE seq = 2");
    if (q.next()) entry = q.text(0);
  }
  const std::string forged = entry.replace(entry.find("e1"), 2, "e7");
  const std::string hash = audit::to_hex(audit::leaf_hash(forged));
  store_->query("UPDATE audit_entries SET entry = ?, leaf_hash = ? WHERE seq = 2")
      .bind(forged)
      .bind(hash)
      .run();
  const auto r = verify();
  EXPECT_FALSE(r.ok);
  EXPECT_NE(problems(r).find("tree head #1 (size 6"), std::string::npos) << problems(r);
  EXPECT_NE(problems(r).find("differs from the signed root"), std::string::npos) << problems(r);
}

TEST_F(AuditLogTest, DeletingAnEntryIsNamed) {
  append(6);
  log_->sign_head(key_);
  exec("DELETE FROM audit_entries WHERE seq = 3");
  const auto r = verify();
  EXPECT_FALSE(r.ok);
  EXPECT_NE(problems(r).find("entry 3: missing (the next entry is 4); entries were deleted"),
            std::string::npos)
      << problems(r);
}

TEST_F(AuditLogTest, ReorderingTwoEntriesIsNamed) {
  append(6);
  log_->sign_head(key_);
  // Swap the contents (and their recorded hashes) of entries 2 and 5.
  exec("UPDATE audit_entries SET seq = -2 WHERE seq = 2");
  exec("UPDATE audit_entries SET seq = 2 WHERE seq = 5");
  exec("UPDATE audit_entries SET seq = 5 WHERE seq = -2");
  const auto r = verify();
  EXPECT_FALSE(r.ok);
  EXPECT_NE(problems(r).find("entry 2: its content says seq 5"), std::string::npos) << problems(r);
  EXPECT_NE(problems(r).find("entry 5: its content says seq 2"), std::string::npos) << problems(r);
}

TEST_F(AuditLogTest, TruncatingTheLogIsNamed) {
  append(8);
  log_->sign_head(key_);
  exec("DELETE FROM audit_entries WHERE seq > 5");
  const auto r = verify();
  EXPECT_FALSE(r.ok);
  EXPECT_NE(problems(r).find("the log has only 5 entries; entries 6–8 were removed (truncated)"),
            std::string::npos)
      << problems(r);
}

TEST_F(AuditLogTest, TruncatingLogAndHeadsTogetherIsCaughtByAPinnedHead) {
  append(8);
  const auto kept = log_->sign_head(key_);  // the auditor keeps this head
  ASSERT_TRUE(kept.has_value());
  exec("DELETE FROM audit_entries WHERE seq > 5");
  exec("DELETE FROM audit_heads");
  // A thorough forger also rewrites the frontier.
  audit::MerkleFrontier frontier;
  for (const auto& leaf : log_->leaf_hashes(5)) frontier.append(leaf);
  std::string state = frontier.serialize();
  store_->query("UPDATE audit_frontier SET size = 5, state = ? WHERE id = 1").bind(state).run();
  EXPECT_TRUE(verify().ok) << "without a pinned head the shorter log looks whole";
  auto pinned = audit::TreeHead::from_json(kept->to_json());
  const auto r = verify(pinned);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(problems(r).find("pinned tree head (size 8"), std::string::npos) << problems(r);
}

TEST_F(AuditLogTest, AConsistentForgerySignedByAnotherKeyIsRejected) {
  append(5);
  log_->sign_head(key_);
  // The forger rebuilds the whole log with its own key: internally consistent.
  exec("DELETE FROM audit_entries");
  exec("DELETE FROM audit_heads");
  exec("UPDATE audit_frontier SET size = 0, state = ''");
  audit::AuditLog forged(*store_);
  for (int i = 0; i < 5; ++i)
    forged.append_now({audit::entry_type::kEventStored, "system:test", "", {}});
  const auto forger = security::SigningKey::generate();
  forged.sign_head(forger);
  const auto r = verify();
  EXPECT_FALSE(r.ok);
  EXPECT_NE(problems(r).find("signed with key " + forger.key_id() +
                             ", which is not a trusted public key (" + key_.key_id() + ")"),
            std::string::npos)
      << problems(r);
  // Naming the trusted key does not help: its signature is checked with that key.
  exec("UPDATE audit_heads SET key_id = '" + key_.key_id() + "'");
  const auto named = verify();
  EXPECT_FALSE(named.ok);
  EXPECT_NE(problems(named).find("the signature does not verify with the trusted public key " +
                                 key_.key_id()),
            std::string::npos)
      << problems(named);
}

// `tsunagu audit new-key`: the log records the change, and each head must be signed by the key
// in effect at its size — the old one before the change, the new one from it.
TEST_F(AuditLogTest, ALogAcrossAKeyChangeVerifiesWithBothKeysAndOnlyInTheirTurn) {
  const auto old_key = key_;
  const auto new_key = security::SigningKey::generate();
  append(3);
  log_->sign_head(old_key);  // #1 over 3
  append(2);
  log_->sign_head(old_key);  // #2 over 5
  const auto change =
      log_->append_now({audit::entry_type::kAuditKeyReplaced,
                        "cli:test",
                        "",
                        {{"old_key_id", old_key.key_id()}, {"new_key_id", new_key.key_id()}}});
  ASSERT_EQ(change, 6);
  log_->sign_head(new_key, true);  // #3 over 6
  append(2);
  log_->sign_head(new_key);  // #4 over 8
  const std::vector<security::VerifyingKey> both{new_key.verifying_key(), old_key.verifying_key()};

  auto r = audit::verify(*store_, both);
  EXPECT_TRUE(r.ok) << problems(r);
  EXPECT_EQ(r.heads, 4u);
  EXPECT_NE(std::find(r.notes.begin(), r.notes.end(),
                      "heads #1–#2 were signed with key " + old_key.key_id() + ", #3–#4 with key " +
                          new_key.key_id()),
            r.notes.end());
  // The old key's heads with the new key alone: named, and why.
  r = audit::verify(*store_, new_key.verifying_key());
  EXPECT_FALSE(r.ok);
  EXPECT_NE(problems(r).find("tree head #1 (size 3, "), std::string::npos) << problems(r);
  EXPECT_NE(problems(r).find("signed with key " + old_key.key_id() +
                             ", which is not a trusted public key"),
            std::string::npos)
      << problems(r);
  EXPECT_EQ(problems(r).find("tree head #3"), std::string::npos) << problems(r);

  // The old key, leaked, signs a head over entries after its replacement.
  append(1);
  log_->sign_head(old_key);  // #5 over 9
  r = audit::verify(*store_, both);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.problems.size(), 1u) << problems(r);
  EXPECT_NE(problems(r).find("tree head #5 (size 9, "), std::string::npos) << problems(r);
  EXPECT_NE(problems(r).find("signed with key " + old_key.key_id() +
                             ", but the log's key at that size is " + new_key.key_id() +
                             ": entry 6 (audit.key_replaced) made it the key from there on"),
            std::string::npos)
      << problems(r);
  exec("DELETE FROM audit_heads WHERE id = 5");
  // The new key signing a size before the change is as wrong: head #2 re-signed with it.
  audit::TreeHead second;
  {
    auto q = store_->query("SELECT tree_size, root, time FROM audit_heads WHERE id = 2");
    ASSERT_TRUE(q.next());
    second.tree_size = static_cast<std::uint64_t>(q.integer(0));
    second.root = *audit::hash_from_hex(q.text(1));
    second.time = q.text(2);
  }
  std::string signature_hex;
  for (const unsigned char c : new_key.sign(second.signed_message())) {
    static constexpr char kDigits[] = "0123456789abcdef";
    signature_hex += kDigits[c >> 4];
    signature_hex += kDigits[c & 15];
  }
  exec("UPDATE audit_heads SET key_id = '" + new_key.key_id() + "', signature = '" + signature_hex +
       "' WHERE id = 2");
  r = audit::verify(*store_, both);
  EXPECT_NE(problems(r).find("signed with key " + new_key.key_id() +
                             ", but the log's key at that size is " + old_key.key_id() +
                             ": entry 6 (audit.key_replaced) replaced it only later"),
            std::string::npos)
      << problems(r);
  EXPECT_NE(problems(r).find("tree head #2 (size 5, "), std::string::npos) << problems(r);

  // A change entry that names no keys is itself a problem.
  log_->append_now({audit::entry_type::kAuditKeyReplaced, "cli:test", "", {}});
  r = audit::verify(*store_, both);
  EXPECT_NE(problems(r).find("entry 10: an audit.key_replaced entry without old_key_id and "
                             "new_key_id"),
            std::string::npos)
      << problems(r);
}

TEST_F(AuditLogTest, ReorderedHeadsAreNamed) {
  append(3);
  log_->sign_head(key_);
  append(3);
  log_->sign_head(key_);
  exec("UPDATE audit_heads SET id = 99 WHERE id = 1");
  const auto r = verify();
  EXPECT_FALSE(r.ok);
  EXPECT_NE(problems(r).find("smaller than the previous head"), std::string::npos) << problems(r);
}

TEST_F(AuditLogTest, InclusionProofsCheckWithoutTheStore) {
  for (int size : {1, 2, 3, 4, 5, 8, 9, 16, 17}) {
    append(size - count_);
    log_->sign_head(key_);
    for (int seq = 1; seq <= size; ++seq) {
      const auto proof = audit::prove(*log_, seq);
      const auto copy = audit::InclusionProof::from_json(proof.to_json());
      std::string why;
      EXPECT_TRUE(audit::check_proof(copy, key_.verifying_key(), why))
          << size << "/" << seq << ": " << why;
      auto tampered = copy;
      tampered.entry[tampered.entry.size() / 2] ^= 1;
      EXPECT_FALSE(audit::check_proof(tampered, key_.verifying_key(), why));
      EXPECT_FALSE(audit::check_proof(copy, security::SigningKey::generate().verifying_key(), why));
      EXPECT_NE(why.find("signature"), std::string::npos);
    }
  }
}

// Proofs come from the stored roots of aligned 256-leaf subtrees and up (audit_nodes) plus at most
// two blocks of leaves; they must be exactly the proofs a full rebuild of the tree gives.
TEST_F(AuditLogTest, ProofsFromStoredNodesEqualTheFullRebuild) {
  for (int size : {1, 2, 255, 256, 257, 1000, 4097}) {
    append_batch(size - count_);
    log_->sign_head(key_);
    const auto leaves = reference_leaves();
    ASSERT_EQ(leaves.size(), static_cast<std::size_t>(size));
    for (int seq = 1; seq <= size; ++seq) {
      // Every entry up to 1000; of the large log, a sample and the whole of its last blocks.
      if (size > 1000 && seq % 37 != 1 && seq < size - 300) continue;
      ASSERT_NO_FATAL_FAILURE(expect_proof_as_reference(seq, leaves, size)) << seq;
    }
  }
  // Nodes of 4097 entries: 16 of 256 leaves, 8 of 512, … 1 of 4096.
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM audit_nodes"), 16 + 8 + 4 + 2 + 1);
  EXPECT_EQ(scalar("SELECT MAX(level) FROM audit_nodes"), 12);
  // An older head is still proved against as given.
  const auto first = log_->heads().front();
  const auto proof = audit::prove(*log_, 1, first);
  EXPECT_EQ(proof.head.tree_size, 1u);
  EXPECT_TRUE(proof.path.empty());
  const auto heads = log_->heads();
  const auto old = audit::prove(*log_, 700, heads[5]);  // the head of 1000 entries
  ASSERT_EQ(old.head.tree_size, 1000u);
  const auto leaves = reference_leaves();
  EXPECT_EQ(old.path, reference_path(699, std::span<const audit::Hash>(leaves.data(), 1000)));
  EXPECT_THROW(audit::prove(*log_, 1001, heads[5]), std::runtime_error);
}

TEST_F(AuditLogTest, AStoreWithoutNodesBuildsThemAtTheFirstProof) {
  append_batch(1000);
  log_->sign_head(key_);
  const auto nodes = scalar("SELECT COUNT(*) FROM audit_nodes");
  EXPECT_EQ(nodes, 3 + 1);
  // As a store from before audit_nodes was kept: verify notes it, the first proof builds them.
  exec("DELETE FROM audit_nodes");
  auto r = verify();
  EXPECT_TRUE(r.ok) << problems(r);
  ASSERT_FALSE(r.notes.empty());
  EXPECT_NE(r.notes[0].find("4 of the log's 4 Merkle nodes are not stored yet"), std::string::npos)
      << r.notes[0];
  const auto leaves = reference_leaves();
  ASSERT_NO_FATAL_FAILURE(expect_proof_as_reference(600, leaves, 1000));
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM audit_nodes"), nodes);
  for (int seq : {1, 256, 257, 512, 513, 999, 1000}) {
    ASSERT_NO_FATAL_FAILURE(expect_proof_as_reference(seq, leaves, 1000));
  }
  r = verify();
  EXPECT_TRUE(r.ok) << problems(r);
  EXPECT_EQ(r.notes.size(), 0u);

  // One node missing, inside a transaction the proof does not own: computed from the leaves,
  // nothing written.
  exec("DELETE FROM audit_nodes WHERE level = 9");
  {
    store::Transaction tx(*store_);
    ASSERT_NO_FATAL_FAILURE(expect_proof_as_reference(900, leaves, 1000));
    EXPECT_EQ(scalar("SELECT COUNT(*) FROM audit_nodes"), nodes - 1);
  }
  // Appending goes on from the frontier, whatever nodes are stored.
  append_batch(100);
  log_->sign_head(key_);
  const auto more = reference_leaves();
  ASSERT_NO_FATAL_FAILURE(expect_proof_as_reference(1050, more, 1100));
  ASSERT_NO_FATAL_FAILURE(expect_proof_as_reference(3, more, 1100));
  // 256 × 4, 512 × 2, 1024 × 1, but the first 512 is still missing: neither proof needed it.
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM audit_nodes"), 4 + 1 + 1);
  ASSERT_NO_FATAL_FAILURE(expect_proof_as_reference(600, more, 1100));
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM audit_nodes"), 4 + 2 + 1);
  r = verify();
  EXPECT_TRUE(r.ok) << problems(r);
}

TEST_F(AuditLogTest, ATamperedNodeIsNamedAndDoesNotSpoilProofs) {
  append_batch(600);
  log_->sign_head(key_);
  const std::string other(64, 'a');
  std::string original;
  {
    auto q = store_->query("SELECT hash FROM audit_nodes WHERE level = 8 AND idx = 1");
    ASSERT_TRUE(q.next());
    original = q.text(0);
  }
  store_->query("UPDATE audit_nodes SET hash = ? WHERE level = 8 AND idx = 1").bind(other).run();
  auto r = verify();
  EXPECT_FALSE(r.ok);
  ASSERT_EQ(r.problems.size(), 1u) << problems(r);
  EXPECT_NE(r.problems[0].find("Merkle node level 8 index 1 (entries 257–512)"), std::string::npos)
      << r.problems[0];
  // The proof that needs it still verifies: a path that misses the signed root is recomputed
  // from the leaves.
  const auto leaves = reference_leaves();
  ASSERT_NO_FATAL_FAILURE(expect_proof_as_reference(10, leaves, 600));
  ASSERT_NO_FATAL_FAILURE(expect_proof_as_reference(300, leaves, 600));

  // A node that no complete subtree of the log has.
  exec("INSERT INTO audit_nodes (level, idx, hash) VALUES (8, 7, '" + other + "')");
  r = verify();
  ASSERT_EQ(r.problems.size(), 2u) << problems(r);
  EXPECT_NE(r.problems[1].find("level 8 index 7"), std::string::npos) << r.problems[1];

  // An altered entry is named as the entry, not again as the nodes above it.
  exec("DELETE FROM audit_nodes WHERE idx = 7");
  store_->query("UPDATE audit_nodes SET hash = ? WHERE level = 8 AND idx = 1").bind(original).run();
  r = verify();
  EXPECT_TRUE(r.ok) << problems(r);
  exec("UPDATE audit_entries SET entry = replace(entry, 'e3', 'e9') WHERE seq = 4");
  r = verify();
  EXPECT_FALSE(r.ok);
  std::string all = problems(r);
  EXPECT_NE(all.find("entry 4:"), std::string::npos) << all;
  EXPECT_EQ(all.find("index 0"), std::string::npos) << all;
}

// The search index of migration 12 (which blocks of 256 entries hold a subject or a type): a row
// missing from it hides entries from the auditors' search, so verify checks it against the
// entries and names the block, the subject and the entry.
TEST_F(AuditLogTest, TheSearchIndexIsCheckedAgainstTheEntries) {
  {
    store::Transaction tx(*store_);
    const char* subjects[] = {"s-A", "s-B", "s-C", ""};
    for (int i = 0; i < 600; ++i) {
      log_->append(
          {i % 7 == 0 ? audit::entry_type::kIdentityLinked : audit::entry_type::kEventStored,
           "system:test",
           subjects[i % 4],
           {{"event_id", "e" + std::to_string(i)}}});
    }
    tx.commit();
  }
  log_->sign_head(key_);
  auto r = verify();
  ASSERT_TRUE(r.ok) << problems(r);

  // A row of a complete block deleted: entry 258 is the first of block 1 about s-B.
  exec("DELETE FROM audit_subject_blocks WHERE subject = 's-B' AND block = 1");
  ASSERT_TRUE(
      only_problem("audit_subject_blocks (the auditors' search by subject), block 1 "
                   "(entries 257–512): no row for subject s-B of entry 258"));
  exec("INSERT INTO audit_subject_blocks (subject, block) VALUES ('s-B', 1)");

  // A row no entry needs, in a complete block.
  exec("INSERT INTO audit_subject_blocks (subject, block) VALUES ('s-Z', 0)");
  ASSERT_TRUE(only_problem(
      "block 0 (entries 1–256): 1 rows name a subject that no entry of the block has"));
  exec("DELETE FROM audit_subject_blocks WHERE subject = 's-Z'");

  // The last block, still filling (entries 513–600): the rows its entries need are looked up.
  exec("DELETE FROM audit_subject_blocks WHERE subject = 's-C' AND block = 2");
  ASSERT_TRUE(only_problem("block 2 (entries 513–768): no row for subject s-C of entry 515"));
  exec("INSERT INTO audit_subject_blocks (subject, block) VALUES ('s-C', 2)");

  // The index by type, and a row with a block that cannot be.
  exec("DELETE FROM audit_type_blocks WHERE type = 'identity.linked' AND block = 0");
  exec("INSERT INTO audit_type_blocks (type, block) VALUES ('event.stored', -1)");
  r = verify();
  ASSERT_EQ(r.problems.size(), 2u) << problems(r);
  EXPECT_NE(r.problems[0].find("audit_type_blocks: 1 rows name a negative block"),
            std::string::npos)
      << r.problems[0];
  EXPECT_NE(r.problems[1].find("audit_type_blocks (the auditors' search by type), block 0 "
                               "(entries 1–256): no row for type identity.linked of entry 1"),
            std::string::npos)
      << r.problems[1];
  exec("INSERT INTO audit_type_blocks (type, block) VALUES ('identity.linked', 0)");
  exec("DELETE FROM audit_type_blocks WHERE block = -1");

  // Rows past the log's last block are a live hub's next entries, not reported.
  exec("INSERT INTO audit_subject_blocks (subject, block) VALUES ('s-A', 3)");
  r = verify();
  EXPECT_TRUE(r.ok) << problems(r);

  // The subject column the search matches on, changed for one entry: named, with both values.
  exec("UPDATE audit_entries SET subject = 's-Q' WHERE seq = 10");
  r = verify();
  ASSERT_FALSE(r.problems.empty());
  EXPECT_NE(r.problems[0].find("entry 10: its subject or type column (s-Q, event.stored) differs "
                               "from the entry's own (s-B, event.stored)"),
            std::string::npos)
      << problems(r);
}

TEST_F(AuditLogTest, AProofNeedsASignedHead) {
  append(3);
  EXPECT_THROW(audit::prove(*log_, 1), std::runtime_error);
  log_->sign_head(key_);
  append(1);
  EXPECT_THROW(audit::prove(*log_, 4), std::runtime_error);
  EXPECT_NO_THROW(audit::prove(*log_, 3));
}

TEST_F(AuditLogTest, SigningSkipsAnUnchangedLog) {
  append(2);
  EXPECT_TRUE(log_->sign_head(key_).has_value());
  EXPECT_FALSE(log_->sign_head(key_).has_value());
  EXPECT_TRUE(log_->sign_head(key_, true).has_value());
  EXPECT_EQ(log_->heads().size(), 2u);
}

TEST_F(AuditLogTest, SubjectHistory) {
  append(2, "a");
  append(1, "b");
  append(1, "a");
  const auto entries = log_->entries_of_subject("a");
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[2].seq, 4);
}

}  // namespace
