#include "store/store.hpp"
#include "store/prepared.hpp"

#include <atomic>
#include <chrono>
#include <regex>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "support/temp_dir.hpp"
#include "support/test_store.hpp"

namespace {

using namespace tsunagu;

CaseEvent sample_event(const std::string& ref, std::int64_t version) {
  CaseEvent e;
  e.source = "public_assistance";
  e.source_ref = ref;
  e.source_version = version;
  e.kind = "welfare.household_opened";
  e.occurred_at = "2019-06-05T00:00:00+09:00";
  e.subject = {"0012345678", "山田　花子", "ヤマダ　ハナコ", "2017-11-30",
               "F",          "札幌市東区", "01103"};
  e.household = {"12345678", "子"};
  e.attributes = {{"caseworker", "CW0312"}, {"remarks", "備考, \"引用\""}};
  e.sensitivity = Sensitivity::special_care;
  return e;
}

class StoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<store::Store> open() {
    auto s = tsunagu_test::open_test_store(dir_ / "store.db", store::SqliteOptions{});
    s->set_keyring(keyring_);
    return s;
  }
  // Two connections of this process to one SQLite file; the second waits at most `second_wait_ms`.
  std::pair<std::unique_ptr<store::Store>, std::unique_ptr<store::Store>> two_connections(
      const char* file, int second_wait_ms) {
    store::SqliteOptions hurried;
    hurried.busy_timeout_ms = second_wait_ms;
    return {store::Store::open_sqlite(dir_ / file, {}),
            store::Store::open_sqlite(dir_ / file, hurried)};
  }

  tsunagu_test::TempDir dir_;
  std::shared_ptr<const security::Keyring> keyring_ =
      std::make_shared<const security::Keyring>(security::DataKey::generate());
};

TEST_F(StoreTest, MigratesToTheKnownVersionAndReopens) {
  EXPECT_EQ(open()->schema_version(), store::Store::known_schema_version());
  EXPECT_EQ(open()->schema_version(), store::Store::known_schema_version());
}

TEST_F(StoreTest, RefusesAStoreFromANewerVersion) {
  {
    auto s = open();
    s->query("INSERT INTO schema_migrations VALUES (999, 'future', 'now')").run();
  }
  try {
    open();
    FAIL() << "expected StoreError";
  } catch (const store::StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("schema version 999"), std::string::npos) << e.what();
  }
}

TEST_F(StoreTest, UsesWalJournal) {
  if (tsunagu_test::store_on_postgres()) GTEST_SKIP() << "SQLite's journal mode";
  auto s = open();
  auto q = s->query("PRAGMA journal_mode");
  ASSERT_TRUE(q.next());
  EXPECT_EQ(q.text(0), "wal");
}

TEST_F(StoreTest, SizesItsPageCacheAndCheckpointsFromTheOptions) {
  if (tsunagu_test::store_on_postgres()) GTEST_SKIP() << "SQLite's page cache and checkpoints";
  store::SqliteOptions options;
  options.cache_mb = 16;
  options.checkpoint_mb = 8;
  auto s = store::Store::open_sqlite(dir_ / "sized.db", options);
  auto pragma = [&](const char* name) {
    auto q = s->query(std::string("PRAGMA ") + name);
    EXPECT_TRUE(q.next()) << name;
    return q.integer(0);
  };
  EXPECT_EQ(pragma("cache_size"), -16 * 1024);  // negative: KiB
  // SQLite's automatic checkpoint is off: the checkpointer's thread does it (the test below).
  EXPECT_EQ(pragma("wal_autocheckpoint"), 0);
  // The log's file is cut back to twice its size, the most it grows to (checkpointer.hpp).
  EXPECT_EQ(pragma("journal_size_limit"), 16 * 1024 * 1024);
  // Without the thread, SQLite's commits checkpoint at that size.
  options.checkpoint_in_background = false;
  auto c = store::Store::open_sqlite(dir_ / "by-commit.db", options);
  auto q_commit = c->query("PRAGMA wal_autocheckpoint");
  ASSERT_TRUE(q_commit.next());
  EXPECT_EQ(q_commit.integer(0), 8 * 1024 * 1024 / pragma("page_size"));
  auto q_limit = c->query("PRAGMA journal_size_limit");
  ASSERT_TRUE(q_limit.next());
  EXPECT_EQ(q_limit.integer(0), 8 * 1024 * 1024);
  // The defaults are what the configuration's defaults say.
  auto d = store::Store::open_sqlite(dir_ / "default.db", store::SqliteOptions{});
  auto q = d->query("PRAGMA cache_size");
  ASSERT_TRUE(q.next());
  EXPECT_EQ(q.integer(0), -64 * 1024);
}

// An ingest commits batch after batch and takes SQLite's write lock again within microseconds;
// another connection of the same process (a page acknowledging a notice, the outbox) must still
// get its turn rather than wait out its busy timeout.
TEST_F(StoreTest, AWriterGetsItsTurnBetweenAnotherConnectionsBackToBackTransactions) {
  if (tsunagu_test::store_on_postgres()) GTEST_SKIP() << "SQLite's write lock";
  // Without a queue the other connection waited through hundreds of the ingest's transactions
  // (once ~2 s) or out its busy timeout.
  auto [ingest, other] = two_connections("turns.db", 500);
  ingest->query("CREATE TABLE t (n INTEGER)").run();
  std::atomic<bool> other_done{false};
  std::atomic<int> batches{0};
  std::thread busy([&] {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!other_done && std::chrono::steady_clock::now() < until) {
      store::Transaction tx(*ingest);
      for (int i = 0; i < 50; ++i) ingest->query("INSERT INTO t (n) VALUES (1)").run();
      tx.commit();
      ++batches;
    }
  });
  while (batches < 5) std::this_thread::yield();
  std::string error;
  int waited_for = -1;  // the ingest's transactions committed while the other one waited
  try {
    const int before = batches;
    store::Transaction tx(*other);
    waited_for = batches - before;
    other->query("INSERT INTO t (n) VALUES (2)").run();
    tx.commit();
  } catch (const store::StoreError& e) {
    error = e.what();
  }
  other_done = true;
  busy.join();
  EXPECT_EQ(error, "");
  // In turn: the one in progress when it asked, and at most the next, whose counter may lag.
  EXPECT_LE(waited_for, 2);
  auto q = other->query("SELECT COUNT(*) FROM t WHERE n = 2");
  ASSERT_TRUE(q.next());
  EXPECT_EQ(q.integer(0), 1);
}

TEST_F(StoreTest, AWriterWaitsNoLongerThanItsBusyTimeoutAndNamesTheStore) {
  if (tsunagu_test::store_on_postgres()) GTEST_SKIP() << "SQLite's write lock";
  auto [holder, waiter] = two_connections("wait.db", 100);
  {
    store::Transaction held(*holder);
    try {
      store::Transaction tx(*waiter);
      ADD_FAILURE() << "began while another connection held the write lock";
    } catch (const store::StoreError& e) {
      EXPECT_NE(std::string(e.what()).find("database is locked"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("wait.db"), std::string::npos) << e.what();
    }
    held.commit();
  }
  // Once the holder is done, nothing is left queued: the waiter begins at once.
  store::Transaction tx(*waiter);
  tx.commit();
  // A store closed in the middle of a transaction gives its turn back too.
  {
    auto dropped = store::Store::open_sqlite(dir_ / "wait.db", {});
    dropped->begin(store::Store::Lock::writer);
  }
  store::Transaction again(*waiter);
  again.commit();
}

TEST(Uuid, TimeOrderedIdsAreVersion7AndSortByTheirMillisecond) {
  const std::regex form("[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  const auto ms_now = [] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  const auto before = ms_now();
  const std::string first = store::time_ordered_uuid();
  const auto after = ms_now();
  EXPECT_TRUE(std::regex_match(first, form)) << first;
  // The first 48 bits are the Unix time in milliseconds.
  const auto stamped = std::stoll(first.substr(0, 8) + first.substr(9, 4), nullptr, 16);
  EXPECT_GE(stamped, before);
  EXPECT_LE(stamped, after);
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  const std::string later = store::time_ordered_uuid();
  EXPECT_LT(first, later);  // as text, which is how the indexes compare them
  // The random part differs within one millisecond too.
  std::set<std::string> many;
  for (int i = 0; i < 1000; ++i) many.insert(store::time_ordered_uuid());
  EXPECT_EQ(many.size(), 1000u);
  EXPECT_EQ(store::random_uuid()[14], '4');
}

TEST_F(StoreTest, ReportsItsEngine) {
  EXPECT_EQ(open()->backend(), tsunagu_test::store_on_postgres() ? store::Store::Backend::postgresql
                                                                 : store::Store::Backend::sqlite);
}

TEST_F(StoreTest, BytesRoundTripExactly) {
  // Every byte value, through a blob column and back (PostgreSQL returns bytea as hex text).
  auto s = open();
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  s->query(
       "INSERT INTO subjects (id, source, lookup, wrapped_key, created_at) VALUES ('s', 'x', "
       "'l', ?, 't')")
      .bind_blob(all)
      .run();
  auto q = s->query("SELECT wrapped_key FROM subjects");
  ASSERT_TRUE(q.next());
  EXPECT_EQ(q.blob(0), all);
}

TEST_F(StoreTest, ALostPostgresConnectionIsTakenUpAgain) {
  if (!tsunagu_test::store_on_postgres()) GTEST_SKIP() << "PostgreSQL's connections";
  auto s = open();
  std::int64_t pid = 0;
  {
    auto q = s->query("SELECT pg_backend_pid()");
    ASSERT_TRUE(q.next());
    pid = q.integer(0);
  }
  {
    // What a server restart or a fail-over does to every connection.
    auto other = open();
    auto q = other->query("SELECT pg_terminate_backend(CAST(? AS INTEGER))");
    q.bind(pid);
    ASSERT_TRUE(q.next());
  }
  // The first statement finds the connection gone and fails (whatever it was doing is lost with
  // the connection, and its caller retries as after any store failure); the next one reconnects.
  EXPECT_THROW(s->count_events(), store::StoreError);
  const auto input = s->open_input("public_assistance", "PA.csv", "abc", 10);
  {
    store::Transaction tx(*s);
    auto e = sample_event("PA1", 1);
    EXPECT_TRUE(s->insert_event(e, input, 1, "raw"));
    tx.commit();
  }
  EXPECT_EQ(s->count_events(), 1);
  // Lost again between transactions: begin() itself reconnects, since nothing was done yet.
  {
    auto q = s->query("SELECT pg_backend_pid()");
    ASSERT_TRUE(q.next());
    pid = q.integer(0);
  }
  {
    auto other = open();
    auto q = other->query("SELECT pg_terminate_backend(CAST(? AS INTEGER))");
    q.bind(pid);
    ASSERT_TRUE(q.next());
  }
  {
    store::Transaction tx(*s);
    auto e = sample_event("PA2", 1);
    EXPECT_TRUE(s->insert_event(e, input, 2, "raw"));
    tx.commit();
  }
  EXPECT_EQ(s->count_events(), 2);
}

TEST_F(StoreTest, ASubjectPurgedByAnotherProcessIsNotSealedUnderAgain) {
  // This store has the subject's key cached; the CLI (or another instance) purges the subject.
  auto s = open();
  const auto input = s->open_input("public_assistance", "PA.csv", "abc", 10);
  auto first = sample_event("PA1", 1);
  std::string old_subject;
  ASSERT_TRUE(s->insert_event(first, input, 1, "raw", &old_subject));
  ASSERT_TRUE(open()->purge_subject(old_subject));
  auto later = sample_event("PA1", 2);
  std::string new_subject;
  ASSERT_TRUE(s->insert_event(later, input, 2, "raw2", &new_subject));
  EXPECT_NE(new_subject, old_subject);
  EXPECT_TRUE(s->event(later.id)->readable) << "a record received after the purge stays readable";
  EXPECT_EQ(s->event_raw(later.id), "raw2");
  // The same for a quarantined record of an input whose subject was purged.
  store::QuarantineEntry q;
  q.system = "public_assistance";
  q.origin = "PA.csv";
  q.input_sha256 = "abc";
  q.record_no = 1;
  q.reason = "x";
  q.raw = "bad";
  std::string quarantine_subject;
  ASSERT_TRUE(s->insert_quarantine(q, &quarantine_subject));
  ASSERT_TRUE(open()->purge_subject(quarantine_subject));
  q.record_no = 2;
  std::string again;
  ASSERT_TRUE(s->insert_quarantine(q, &again));
  EXPECT_NE(again, quarantine_subject);
  EXPECT_TRUE(s->quarantine_of_input("public_assistance", "abc").back().readable);
}

TEST_F(StoreTest, ASecondWriterWaitsForTheFirst) {
  // Writers take turns on both engines (SQLite's write lock, PostgreSQL's advisory lock): the
  // second begin() returns only once the first transaction has committed.
  auto a = open();
  auto b = open();
  a->begin();
  std::atomic<bool> b_began{false};
  std::thread other([&] {
    b->begin();
    b_began = true;
    b->commit();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_FALSE(b_began.load()) << "the second writer began while the first was open";
  a->commit();
  other.join();
  EXPECT_TRUE(b_began.load());
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

TEST_F(StoreTest, PersonalDataIsSealedAtRest) {
  auto s = open();
  const auto input = s->open_input("public_assistance", "PA.csv", "abc", 10);
  auto e = sample_event("PA1", 1);
  s->insert_event(e, input, 1, "PA1,1,01,山田　花子");
  std::string payload, raw;
  {
    auto q = s->query("SELECT payload, raw FROM events");
    ASSERT_TRUE(q.next());
    payload = q.blob(0);
    raw = q.blob(1);
  }
  EXPECT_GT(payload.size(), 16u);
  EXPECT_EQ(payload.find("山田"), std::string::npos);
  EXPECT_EQ(payload.find("0012345678"), std::string::npos);
  EXPECT_EQ(raw.find("山田"), std::string::npos);
  EXPECT_EQ(s->event_raw(e.id), "PA1,1,01,山田　花子");

  // Another master key reads nothing.
  auto other = tsunagu_test::open_test_store(dir_ / "store.db", store::SqliteOptions{});
  other->set_keyring(std::make_shared<const security::Keyring>(security::DataKey::generate()));
  const auto unreadable = other->event(e.id);
  ASSERT_TRUE(unreadable.has_value());
  EXPECT_FALSE(unreadable->readable);
  EXPECT_TRUE(unreadable->event.subject.name.empty());
}

TEST_F(StoreTest, EventsOfOneSourceSubjectShareASubjectAndPurgeMakesThemUnreadable) {
  auto s = open();
  const auto input = s->open_input("public_assistance", "PA.csv", "abc", 10);
  auto a = sample_event("PA1", 1);
  auto b = sample_event("PA2", 1);
  auto c = sample_event("PA3", 1);
  c.subject.resident_id = "0099999999";
  std::string sa, sb, sc;
  s->insert_event(a, input, 1, "a", &sa);
  s->insert_event(b, input, 2, "b", &sb);
  s->insert_event(c, input, 3, "c", &sc);
  EXPECT_EQ(sa, sb);
  EXPECT_NE(sa, sc);
  EXPECT_TRUE(s->purge_subject(sa));
  EXPECT_FALSE(s->purge_subject(sa));
  EXPECT_TRUE(s->subject_purged(sa));
  auto reopened = open();  // no cached keys
  const auto purged = reopened->event(a.id);
  ASSERT_TRUE(purged.has_value());
  EXPECT_FALSE(purged->readable);
  EXPECT_TRUE(purged->event.subject.name.empty());
  EXPECT_EQ(purged->event.kind, a.kind);  // metadata stays
  EXPECT_FALSE(reopened->event_raw(a.id).has_value());
  EXPECT_TRUE(reopened->event(c.id)->readable);
  // A later record about the same person gets a fresh subject and key.
  auto d = sample_event("PA4", 1);
  std::string sd;
  reopened->insert_event(d, input, 4, "d", &sd);
  EXPECT_NE(sd, sa);
  EXPECT_TRUE(reopened->event(d.id)->readable);
}

TEST_F(StoreTest, ASubjectCreatedInARolledBackTransactionIsForgotten) {
  auto s = open();
  const auto input = s->open_input("public_assistance", "PA.csv", "abc", 10);
  std::string first, second;
  {
    store::Transaction tx(*s);
    auto e = sample_event("PA1", 1);
    s->insert_event(e, input, 1, "", &first);
  }
  auto e = sample_event("PA1", 1);
  s->insert_event(e, input, 1, "", &second);
  auto q = s->query("SELECT COUNT(*) FROM subjects WHERE id = ?");
  q.bind(second);
  ASSERT_TRUE(q.next());
  EXPECT_EQ(q.integer(0), 1)
      << "the event's subject must exist, not a cached one that was rolled back";
  EXPECT_TRUE(s->event(e.id)->readable);
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
