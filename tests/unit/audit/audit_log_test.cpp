// The exchange log over a real store: appending, signing, proofs, and verify catching every kind
// of tampering with the place named.
#include "audit/audit_log.hpp"

#include <gtest/gtest.h>

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
      log_->append_now({audit::entry_type::kEventStored, "system:test", subject,
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

  void exec(const std::string& sql) { store_->query(sql).run(); }

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
            std::string::npos) << problems(r);
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
            std::string::npos) << problems(r);
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
            std::string::npos) << problems(r);
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
  for (int i = 0; i < 5; ++i) forged.append_now({audit::entry_type::kEventStored, "system:test", "", {}});
  const auto forger = security::SigningKey::generate();
  forged.sign_head(forger);
  const auto r = verify();
  EXPECT_FALSE(r.ok);
  EXPECT_NE(problems(r).find("signature does not verify with the trusted public key"),
            std::string::npos) << problems(r);
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
      EXPECT_TRUE(audit::check_proof(copy, key_.verifying_key(), why)) << size << "/" << seq << ": " << why;
      auto tampered = copy;
      tampered.entry[tampered.entry.size() / 2] ^= 1;
      EXPECT_FALSE(audit::check_proof(tampered, key_.verifying_key(), why));
      EXPECT_FALSE(audit::check_proof(copy, security::SigningKey::generate().verifying_key(), why));
      EXPECT_NE(why.find("signature"), std::string::npos);
    }
  }
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
