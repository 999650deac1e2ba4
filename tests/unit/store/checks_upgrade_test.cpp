// Migration 10 writes the CHECKs that listed more than two values (inputs, identity_reviews,
// notices, routing_timers, outbox) as comparisons joined by OR, because SQLite evaluated each IN
// list by building a temporary B-tree every time a row was written. On SQLite the five tables
// are rebuilt: a store made at schema version 9 keeps every row, id and AUTOINCREMENT mark,
// its indexes and its foreign keys. On both engines the CHECKs refuse exactly what they refused.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <memory>

#include "store/prepared.hpp"
#include "store/store.hpp"
#include "support/old_store.hpp"
#include "support/temp_dir.hpp"
#include "support/test_store.hpp"

namespace {

using namespace tsunagu;

using tsunagu_test::exec;

// One row of each table, `value` in the checked column(s).
std::string input_row(const std::string& status) {
  return "INSERT INTO inputs (system, origin, sha256, size, status, received_at) VALUES "
         "('public_assistance', 'PA.csv', 'digest', 10, '" +
         status + "', '2019-04-01')";
}
std::string review_row(const std::string& candidate, const std::string& status) {
  return "INSERT INTO identity_reviews (subject_id, candidate_person, reason, status, "
         "created_at) VALUES ('subject-1', '" +
         candidate + "', 'kana and birth date', '" + status + "', '2019-04-01')";
}
std::string notice_row(const std::string& id, const std::string& type, const std::string& status) {
  return "INSERT INTO notices (id, dedupe_key, type, rule_id, policy_id, legal_basis, person_id, "
         "event_id, subject_id, recipient_role, recipient_ward, recipients, channels, title, "
         "reason, created_at, updated_at, status) VALUES ('" +
         id + "', 'key-" + id + "', '" + type +
         "', 'r', 'p', 'l', 'person-1', 'event-1', 'subject-1', 'liaison', '01103', "
         "',o,', 'inbox', 't', 'r', 'n', 'n', '" +
         status + "')";
}
std::string timer_row(const std::string& id, const std::string& status) {
  return "INSERT INTO routing_timers (id, rule_id, start_key, person_id, event_id, subject_id, "
         "ward_code, started_at, due_at, status) VALUES ('" +
         id + "', 'safety_48h', '" + id +
         "', 'person-1', 'event-1', 'subject-1', '01103', 'n', 0, '" + status + "')";
}
std::string outbox_row(const std::string& id, const std::string& status) {
  return "INSERT INTO outbox (id, notice_id, channel, recipient, status, next_attempt_at, "
         "created_at) VALUES ('" +
         id + "', 'notice-1', 'smtp', 'officer-1', '" + status + "', 0, 'n')";
}

class ChecksUpgrade : public ::testing::Test {
 protected:
  void SetUp() override {
    if (tsunagu_test::store_on_postgres()) {
      GTEST_SKIP() << "the SQLite table rebuild of migration 10; PostgreSQL alters in place";
    }
    const tsunagu_test::RawSqlite db = tsunagu_test::store_at_version(file_, 9);
    // Two inputs and two reviews, the second of each since removed: AUTOINCREMENT has handed
    // out id 2 already.
    for (const char* status : {"done", "failed"}) ASSERT_EQ(exec(db.get(), input_row(status)), "");
    ASSERT_EQ(exec(db.get(), "DELETE FROM inputs WHERE id = 2"), "");
    ASSERT_EQ(exec(db.get(),
                   "INSERT INTO events (id, source, source_ref, source_version, kind, "
                   "occurred_at, sensitivity, ward_code, payload, input_id, record_no, stored_at) "
                   "VALUES ('event-1', 'public_assistance', 'PA-1', 1, 'welfare.member_added', "
                   "'2019-04-01', 'special_care', '01103', x'00', 1, 1, '2019-04-01')"),
              "");
    ASSERT_EQ(exec(db.get(), review_row("person-1", "linked")), "");
    ASSERT_EQ(exec(db.get(), review_row("person-2", "open")), "");
    ASSERT_EQ(exec(db.get(), "DELETE FROM identity_reviews WHERE id = 2"), "");
    ASSERT_EQ(exec(db.get(), notice_row("notice-1", "escalation", "acknowledged")), "");
    ASSERT_EQ(exec(db.get(), timer_row("timer-1", "fired")), "");
    ASSERT_EQ(exec(db.get(), outbox_row("delivery-1", "dead")), "");
  }

  std::int64_t count(const std::string& from) {
    auto q = store_->query("SELECT COUNT(*) FROM " + from);
    return q.next() ? q.integer(0) : -1;
  }
  std::string text(const std::string& sql) {
    auto q = store_->query(sql);
    return q.next() ? q.text(0) : "";
  }
  void run(const std::string& sql) { store_->query(sql).run(); }

  tsunagu_test::TempDir dir_;
  std::filesystem::path file_ = dir_ / "store.db";
  std::unique_ptr<store::Store> store_;
};

TEST_F(ChecksUpgrade, AVersion9StoreKeepsItsRowsIdsIndexesAndForeignKeys) {
  store_ = store::Store::open_sqlite(file_, {});
  EXPECT_EQ(store_->schema_version(), store::Store::known_schema_version());
  EXPECT_EQ(text("SELECT status FROM inputs WHERE id = 1"), "done");
  EXPECT_EQ(text("SELECT status FROM identity_reviews WHERE id = 1"), "linked");
  EXPECT_EQ(text("SELECT type || ' ' || status FROM notices WHERE id = 'notice-1'"),
            "escalation acknowledged");
  EXPECT_EQ(text("SELECT status FROM routing_timers WHERE id = 'timer-1'"), "fired");
  EXPECT_EQ(text("SELECT status FROM outbox WHERE id = 'delivery-1'"), "dead");

  // No CHECK lists values any more (what made every write build a temporary B-tree).
  // Left: quarantine's two values (SQLite compares lists of two), and accounts' roles, written
  // only by administrators.
  EXPECT_EQ(text("SELECT group_concat(name, ' ') FROM (SELECT name FROM sqlite_master WHERE sql "
                 "LIKE '%CHECK%IN (%' ORDER BY name)"),
            "accounts quarantine");
  EXPECT_EQ(count("sqlite_master WHERE name LIKE '%\\_v10' ESCAPE '\\'"), 0) << "no table left";

  // Ids go on after the highest ever handed out.
  run(input_row("processing"));
  EXPECT_EQ(text("SELECT MAX(id) FROM inputs"), "3");
  run(review_row("person-3", "open"));
  EXPECT_EQ(text("SELECT MAX(id) FROM identity_reviews"), "3");

  // The indexes came back, on the rebuilt tables.
  for (const char* index : {"inputs_by_digest", "notices_by_escalation", "notices_by_person",
                            "notices_by_recipient", "notices_by_event", "routing_timers_due",
                            "routing_timers_by_person", "outbox_due", "outbox_by_notice"}) {
    EXPECT_EQ(count("sqlite_master WHERE type = 'index' AND name = '" + std::string(index) + "'"),
              1)
        << index;
  }
  EXPECT_EQ(count("sqlite_master WHERE type = 'index' AND tbl_name = 'notices' AND name LIKE "
                  "'sqlite_autoindex%'"),
            2)
      << "id and dedupe_key are still unique";
  EXPECT_THROW(run(notice_row("notice-1", "route", "open")), store::StoreError);

  // Events still refer to their input, and that is enforced.
  EXPECT_EQ(count("pragma_foreign_key_check"), 0);
  EXPECT_THROW(run("DELETE FROM inputs WHERE id = 1"), store::StoreError);
}

// Fresh stores on both engines: each CHECK takes every value it names and refuses another.
class Checks : public ::testing::Test {
 protected:
  void SetUp() override { store_ = tsunagu_test::open_test_store(dir_ / "store.db", {}); }
  bool takes(const std::string& sql) {
    try {
      store_->query(sql).run();
      return true;
    } catch (const store::StoreError&) {
      return false;
    }
  }
  tsunagu_test::TempDir dir_;
  std::unique_ptr<store::Store> store_;
};

TEST_F(Checks, TakeEveryValueTheyNameAndRefuseAnother) {
  for (const char* s : {"processing", "done", "failed"}) EXPECT_TRUE(takes(input_row(s))) << s;
  EXPECT_FALSE(takes(input_row("Done")));
  int n = 0;
  for (const char* s : {"open", "linked", "separated"}) {
    EXPECT_TRUE(takes(review_row("person-" + std::to_string(++n), s))) << s;
  }
  EXPECT_FALSE(takes(review_row("person-9", "closed")));
  for (const char* t : {"route", "combined", "timer", "escalation", "handover"}) {
    for (const char* s : {"open", "acknowledged", "closed"}) {
      EXPECT_TRUE(takes(notice_row(std::string(t) + "-" + s, t, s))) << t << ' ' << s;
    }
  }
  EXPECT_FALSE(takes(notice_row("n-1", "reminder", "open")));
  EXPECT_FALSE(takes(notice_row("n-2", "route", "pending")));
  for (const char* s : {"running", "stopped", "fired"}) EXPECT_TRUE(takes(timer_row(s, s))) << s;
  EXPECT_FALSE(takes(timer_row("t-1", "done")));
  for (const char* s : {"pending", "delivered", "dead"}) EXPECT_TRUE(takes(outbox_row(s, s))) << s;
  EXPECT_FALSE(takes(outbox_row("d-1", "open")));
  EXPECT_FALSE(takes("UPDATE outbox SET status = 'gone' WHERE id = 'dead'"));
}

}  // namespace
