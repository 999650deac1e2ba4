#include "store/store.hpp"

#include <Poco/Data/Session.h>
#include <gtest/gtest.h>

#include "support/temp_dir.hpp"

namespace {

using namespace tsunagu;
using namespace Poco::Data::Keywords;

CaseEvent sample_event(const std::string& ref, std::int64_t version) {
  CaseEvent e;
  e.source = "public_assistance";
  e.source_ref = ref;
  e.source_version = version;
  e.kind = "welfare.household_opened";
  e.occurred_at = "2019-06-05T00:00:00+09:00";
  e.subject = {"0012345678", "山田　花子", "ヤマダ　ハナコ", "2017-11-30", "F", "札幌市東区", "01103"};
  e.household = {"12345678", "子"};
  e.attributes = {{"caseworker", "CW0312"}, {"remarks", "備考, \"引用\""}};
  e.sensitivity = Sensitivity::special_care;
  return e;
}

class StoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<store::Store> open() {
    return store::Store::open_sqlite(dir_ / "store.db", store::SqliteOptions{});
  }
  tsunagu_test::TempDir dir_;
};

TEST_F(StoreTest, MigratesToTheKnownVersionAndReopens) {
  EXPECT_EQ(open()->schema_version(), store::Store::known_schema_version());
  EXPECT_EQ(open()->schema_version(), store::Store::known_schema_version());
}

TEST_F(StoreTest, RefusesAStoreFromANewerVersion) {
  {
    auto s = open();
    s->session() << "INSERT INTO schema_migrations VALUES (999, 'future', 'now')", now;
  }
  try {
    open();
    FAIL() << "expected StoreError";
  } catch (const store::StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("schema version 999"), std::string::npos) << e.what();
  }
}

TEST_F(StoreTest, UsesWalJournal) {
  auto s = open();
  std::string mode;
  s->session() << "PRAGMA journal_mode", into(mode), now;
  EXPECT_EQ(mode, "wal");
}

TEST_F(StoreTest, EventRoundTripsAndIsIdempotentOnItsKey) {
  auto s = open();
  const auto input = s->open_input("public_assistance", "PA.csv", "abc", 10);
  auto e = sample_event("PA1", 1);
  EXPECT_TRUE(s->insert_event(e, input, 1, "raw,bytes"));
  EXPECT_FALSE(e.id.empty());
  auto again = sample_event("PA1", 1);
  EXPECT_FALSE(s->insert_event(again, input, 1, "raw,bytes"));
  EXPECT_TRUE(again.id.empty());
  auto v2 = sample_event("PA1", 2);
  EXPECT_TRUE(s->insert_event(v2, input, 2, "raw"));
  EXPECT_EQ(s->count_events(), 2);
  EXPECT_EQ(s->count_events_of_input(input), 2);

  const auto loaded = s->event(e.id);
  ASSERT_TRUE(loaded.has_value());
  EXPECT_EQ(loaded->event, e);
  EXPECT_EQ(loaded->record_no, 1);
}

TEST_F(StoreTest, QueriesFilterBySourceAndKind) {
  auto s = open();
  const auto input = s->open_input("public_assistance", "PA.csv", "abc", 10);
  for (int i = 0; i < 5; ++i) {
    auto e = sample_event("PA" + std::to_string(i), 1);
    if (i % 2 == 0) e.kind = "welfare.address_changed";
    s->insert_event(e, input, i + 1, "");
  }
  EXPECT_EQ(s->events({"", "welfare.address_changed", 100, 0}).size(), 3u);
  EXPECT_EQ(s->events({"public_assistance", "", 2, 0}).size(), 2u);
  EXPECT_EQ(s->events({"education", "", 100, 0}).size(), 0u);
}

TEST_F(StoreTest, QuarantineIsIdempotentPerInputRecord) {
  auto s = open();
  store::QuarantineEntry q;
  q.system = "public_assistance";
  q.origin = "PA.csv";
  q.input_sha256 = "abc";
  q.record_no = 7;
  q.line = 9;
  q.field = "区コード";
  q.reason = "区コード: unknown ward code '01199'";
  q.raw = std::string("\x82\xa0,\xff", 4);
  EXPECT_TRUE(s->insert_quarantine(q));
  EXPECT_FALSE(s->insert_quarantine(q));
  const auto listed = s->quarantine("public_assistance", 10);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].raw, q.raw);
  EXPECT_EQ(listed[0].reason, q.reason);
  EXPECT_EQ(s->quarantine_of_input("public_assistance", "abc").size(), 1u);
  EXPECT_EQ(s->count_quarantine(), 1);
}

TEST_F(StoreTest, AnInterruptedInputIsResumedNotDuplicated) {
  auto s = open();
  const auto first = s->open_input("public_assistance", "PA.csv", "abc", 10);
  EXPECT_EQ(s->open_input("public_assistance", "PA.csv", "abc", 10), first);
  store::InputRecord done;
  done.id = first;
  done.status = "done";
  s->close_input(done);
  EXPECT_NE(s->open_input("public_assistance", "PA.csv", "abc", 10), first);
}

TEST_F(StoreTest, RolledBackTransactionLeavesNothing) {
  auto s = open();
  const auto input = s->open_input("public_assistance", "PA.csv", "abc", 10);
  {
    store::Transaction tx(*s);
    auto e = sample_event("PA9", 1);
    s->insert_event(e, input, 1, "");
  }
  EXPECT_EQ(s->count_events(), 0);
}

}  // namespace
