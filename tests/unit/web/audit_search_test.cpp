// The auditor's search: each filter, paging, and bad filters.
#include <gtest/gtest.h>

#include "audit/audit_log.hpp"
#include "store/prepared.hpp"
#include "store/store.hpp"
#include "support/temp_dir.hpp"
#include "support/test_store.hpp"
#include "web/audit_search.hpp"

namespace {

using namespace tsunagu;
using namespace tsunagu::web;

class AuditSearch : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = tsunagu_test::open_test_store(dir_ / "store.db", {});
    audit::AuditLog log(*store_);
    log.append_now(
        {"input.received", "system:public_assistance", "", {{"system", "public_assistance"}}});
    log.append_now({"event.stored", "hub", "subject-1", {{"system", "public_assistance"}}});
    log.append_now({"event.stored", "hub", "subject-2", {{"system", "health_centre"}}});
    log.append_now({"user.login", "user:alice", "", {{"login", "alice"}}});
    log.append_now({"user.login_failed", "anonymous", "", {{"login", "alice"}}});
    log.append_now({"user.logout", "user:bob", "", {{"login", "bob"}}});
    log.append_now({"notice.routed", "hub", "subject-1", {{"recipient", "officer-7"}}});
  }

  std::vector<std::int64_t> seqs(const std::map<std::string, std::string>& params) {
    std::vector<std::int64_t> out;
    for (const auto& r : search_audit(*store_, audit_filter_from(params))) out.push_back(r.seq);
    return out;
  }

  tsunagu_test::TempDir dir_;
  std::unique_ptr<store::Store> store_;
};

using Seqs = std::vector<std::int64_t>;

TEST_F(AuditSearch, NewestFirstWithMetadata) {
  const auto rows = search_audit(*store_, {});
  ASSERT_EQ(rows.size(), 7U);
  EXPECT_EQ(rows[0].seq, 7);
  EXPECT_EQ(rows[0].type, "notice.routed");
  EXPECT_EQ(rows[0].actor, "hub");
  EXPECT_EQ(rows[0].subject, "subject-1");
  ASSERT_EQ(rows[0].details.size(), 1U);
  EXPECT_EQ(rows[0].details[0], std::make_pair(std::string("recipient"), std::string("officer-7")));
  EXPECT_FALSE(rows[0].time.empty());
}

TEST_F(AuditSearch, EachFilter) {
  EXPECT_EQ(seqs({{"subject", "subject-1"}}), (Seqs{7, 2}));
  EXPECT_EQ(seqs({{"system", "public_assistance"}}), (Seqs{2, 1}));
  EXPECT_EQ(seqs({{"type", "event.stored"}}), (Seqs{3, 2}));
  EXPECT_EQ(seqs({{"type", "user."}}), (Seqs{6, 5, 4}));
  EXPECT_EQ(seqs({{"actor", "alice"}}), (Seqs{5, 4}));
  EXPECT_EQ(seqs({{"actor", "system:public_assistance"}}), (Seqs{1}));
  EXPECT_EQ(seqs({{"recipient", "officer-7"}}), (Seqs{7}));
  EXPECT_EQ(seqs({{"subject", "subject-1"}, {"type", "event.stored"}}), (Seqs{2}));
  EXPECT_EQ(seqs({{"subject", " subject-1 "}}), (Seqs{7, 2}));  // blanks around are trimmed
  EXPECT_EQ(seqs({{"type", "user"}}), Seqs{});                  // no prefix without the dot
}

TEST_F(AuditSearch, RoutingStepsByNoticeAndByRecipient) {
  audit::AuditLog log(*store_);
  // An account tied to a roster officer; its actions are found by that officer id.
  store_
      ->query(
          "INSERT INTO accounts (login, role, officer_id, ward_code, password_hash, created_at, "
          "updated_at) VALUES ('sato', 'liaison', 'k_17', '01103', 'x', 't', 't')")
      .run();
  log.append_now({"routing.routed",
                  "hub",
                  "subject-1",
                  {{"notice_id", "n1"}, {"recipients", "k_17,k_18"}, {"legal_basis", "L"}}});  // 8
  log.append_now({"notice.opened", "user:sato", "subject-1", {{"notice_id", "n1"}}});          // 9
  log.append_now({"notice.acknowledged", "user:sato", "subject-1", {{"notice_id", "n1"}}});    // 10
  log.append_now({"routing.withheld", "hub", "subject-2", {{"recipient", "liaison@01103"}}});  // 11
  log.append_now(
      {"routing.routed", "hub", "subject-2", {{"notice_id", "n2"}, {"recipients", "kx17"}}});  // 12
  EXPECT_EQ(seqs({{"notice", "n1"}}), (Seqs{10, 9, 8}));
  EXPECT_EQ(seqs({{"recipient", "k_17"}}), (Seqs{10, 9, 8})) << "'_' is no wildcard";
  EXPECT_EQ(seqs({{"recipient", "k_18"}}), (Seqs{8}));
  EXPECT_EQ(seqs({{"recipient", "sato"}, {"type", "notice.acknowledged"}}), (Seqs{10}));
  EXPECT_EQ(seqs({{"recipient", "liaison@01103"}}), (Seqs{11}));
  EXPECT_EQ(seqs({{"recipient", "k_1"}}), Seqs{}) << "whole ids only";
}

TEST_F(AuditSearch, TimeRangeIsInclusiveAndADateIsTheWholeDay) {
  const std::string today = search_audit(*store_, {})[0].time.substr(0, 10);
  EXPECT_EQ(seqs({{"from", today}, {"to", today}}).size(), 7U);
  EXPECT_EQ(seqs({{"to", "2019-06-05"}}), Seqs{});
  EXPECT_EQ(seqs({{"from", "2999-01-01T00:00"}}), Seqs{});
  EXPECT_EQ(seqs({{"from", "2000-01-01T00:00:00"}, {"to", "2999-12-31T23:59"}}).size(), 7U);
}

TEST_F(AuditSearch, PagesWithBefore) {
  EXPECT_EQ(seqs({{"limit", "3"}}), (Seqs{7, 6, 5}));
  EXPECT_EQ(seqs({{"limit", "3"}, {"before", "5"}}), (Seqs{4, 3, 2}));
  EXPECT_EQ(seqs({{"limit", "3"}, {"before", "2"}}), (Seqs{1}));
}

TEST_F(AuditSearch, BadFiltersNameTheParameter) {
  for (const auto& [name, value] :
       std::vector<std::pair<std::string, std::string>>{{"from", "yesterday"},
                                                        {"to", "2019-6-5"},
                                                        {"limit", "0"},
                                                        {"limit", "501"},
                                                        {"limit", "10x"},
                                                        {"before", "-1"},
                                                        {"subject", std::string(201, 'x')}}) {
    try {
      audit_filter_from({{name, value}});
      ADD_FAILURE() << name << "=" << value << " accepted";
    } catch (const FilterError& e) {
      EXPECT_EQ(std::string(e.what()).rfind(name, 0), 0U) << e.what();
    }
  }
}

TEST_F(AuditSearch, FilterValuesAreBoundNotSpliced) {
  EXPECT_EQ(seqs({{"subject", "x' OR '1'='1"}}), Seqs{});
  EXPECT_EQ(seqs({{"type", "') OR 1=1 --"}}), Seqs{});
}

// Subjects and types are found through the blocks of 256 entries that hold them (migration
// 12): across many blocks, transactions that end mid-block and one rolled back, every page of a
// search and every subject's entries are exactly what reading the whole log finds.
TEST(AuditSearchBlocks, EverySubjectAndTypeAcrossBlocksAndTransactions) {
  tsunagu_test::TempDir dir;
  auto store = tsunagu_test::open_test_store(dir / "store.db", {});
  audit::AuditLog log(*store);
  const std::vector<std::string> subjects{"", "subject-a", "subject-b", "subject-c", "subject-d"};
  const std::vector<std::string> types{"event.stored", "identity.linked", "routing.routed",
                                       "delivery.attempted"};
  // Only in the rolled-back batch and the first entries of the one after it.
  const std::string late_subject = "subject-e", late_type = "notice.opened";
  std::uint64_t n = 0;
  auto draft = [&](std::uint64_t i) {
    // Runs of a few entries about one subject, as a record's entries come.
    return audit::EntryDraft{types[(i * 7 / 3) % types.size()],
                             "hub",
                             subjects[(i / 3) % subjects.size()],
                             {{"outcome", i % 5 == 0 ? "retry" : "delivered"}}};
  };
  for (int batch = 0; batch < 9; ++batch) {
    // Batch 4 is rolled back: its block rows go with it, and batch 5, which appends the same
    // entries to the same block, must write them again.
    const int size = batch == 4 ? 10 : 97 + batch * 13;
    store::Transaction tx(*store);
    for (int k = 0; k < size; ++k) {
      audit::EntryDraft d = draft(n++);
      if ((batch == 4 || batch == 5) && k < 10) d.subject = late_subject, d.type = late_type;
      log.append(d);
    }
    if (batch == 4) {
      n -= static_cast<std::uint64_t>(size);
      continue;
    }
    tx.commit();
  }
  ASSERT_GT(log.size(), 3 * 256U);
  {
    // The transaction that appends finds its own entries (its block rows are written first).
    store::Transaction tx(*store);
    const auto seq = log.append({"notice.closed", "hub", "subject-z", {}});
    const auto own = log.entries_of_subject("subject-z");
    ASSERT_EQ(own.size(), 1U);
    EXPECT_EQ(own[0].seq, seq);
    tx.commit();
  }
  auto all = [&](const std::string& column, const std::string& value) {
    Seqs out;
    auto q =
        store->query("SELECT seq FROM audit_entries WHERE " + column + " = ? ORDER BY seq DESC");
    q.bind(value);
    while (q.next()) out.push_back(q.integer(0));
    return out;
  };
  auto paged = [&](std::map<std::string, std::string> params) {
    Seqs out;
    params["limit"] = "37";
    for (;;) {
      const auto rows = search_audit(*store, audit_filter_from(params));
      for (const auto& r : rows) out.push_back(r.seq);
      if (rows.size() < 37) return out;
      params["before"] = std::to_string(rows.back().seq);
    }
  };
  for (const auto& subject : {subjects[1], subjects[2], subjects[3], subjects[4], late_subject}) {
    const Seqs expected = all("subject", subject);
    ASSERT_FALSE(expected.empty());
    EXPECT_EQ(paged({{"subject", subject}}), expected) << subject;
    Seqs ascending;
    for (const auto& e : log.entries_of_subject(subject))
      ascending.insert(ascending.begin(), e.seq);
    EXPECT_EQ(ascending, expected) << subject;
  }
  for (const auto& type : {types[0], types[1], types[2], types[3], late_type}) {
    const Seqs expected = all("type", type);
    ASSERT_FALSE(expected.empty());
    EXPECT_EQ(paged({{"type", type}}), expected) << type;
    Seqs both;
    for (const auto seq : all("subject", "subject-b")) {
      auto q = store->query("SELECT type FROM audit_entries WHERE seq = ?");
      q.bind(seq);
      if (q.next() && q.text(0) == type) both.push_back(seq);
    }
    EXPECT_EQ(paged({{"type", type}, {"subject", "subject-b"}}), both) << type;
  }
}

TEST(AuditTypeLabels, LoginEntriesHaveJapaneseLabels) {
  EXPECT_STREQ(audit_type_label("user.login"), "ログイン");
  EXPECT_STREQ(audit_type_label("user.login_failed"), "ログイン失敗");
  EXPECT_STREQ(audit_type_label("no.such"), "");
}

}  // namespace
