// Several instances on one PostgreSQL database (issue 9's acceptance test): three real tsunagud,
// each with its own data-dir, spool and HTTPS port (any free one, loopback), all with the same
// keys (the first creates them; they are copied to the others before those start, as
// docs/postgresql.md says), the crash harness's routing and delivery channels (a spool
// directory the three share, and a webhook receiver each) with a short delivery lease. The
// crash harness's batch is split across their spools; one instance is killed with SIGKILL
// part-way through its share while it holds claimed webhook deliveries, and stays down until the
// other two have delivered everything there is — its claimed rows included, after the lease.
// Restarted, it finishes its own spool files (nobody else can: they are in its data-dir, by
// design). At the end, against a reference run of the same batch on one undisturbed instance,
// the crash harness's checks (chaos_support.hpp: nothing lost, routed twice or delivered twice)
// and `tsunagu audit verify` on the shared database, and that the work was really shared: every
// instance ingested its files, the survivors delivered, and a delivery the killed instance had
// claimed was delivered by another.
//
// To see which instance held a delivery when it was killed, the killed instance's receiver stops
// answering just before: its workers' webhook deliveries then hang (longer than the channel's
// timeout). A request it saw with attempt N that another instance's receiver also saw with
// attempt N was never recorded by the killed one — its lease ran out and another took the row.
//
// Needs TSUNAGU_TEST_PG (scripts/test.sh starts the server); fails without it.
// TSUNAGU_CHAOS_CHILDREN (default 400) changes the batch's size.
#include <array>
#include <iostream>

#include <gtest/gtest.h>

#include <Poco/Net/NetSSL.h>

#include "chaos/chaos_support.hpp"
#include "support/test_store.hpp"

namespace {

using namespace tsunagu_test;
using namespace tsunagu_test::chaos;

constexpr std::size_t kInstances = 3;
constexpr std::size_t kVictim = 2;
// The files every instance must share (HubConfig: keys_dir(), audit_private_key(), …).
constexpr std::array<const char*, 3> kKeyFiles = {"master.key", "audit-ed25519.pem",
                                                  "audit-ed25519.pub.pem"};

void copy_keys(const fs::path& from_data, const fs::path& to_data) {
  fs::create_directories(to_data / "keys");
  fs::permissions(to_data / "keys", fs::perms::owner_all, fs::perm_options::replace);
  for (const char* f : kKeyFiles) {
    fs::copy_file(from_data / "keys" / f, to_data / "keys" / f,
                  fs::copy_options::overwrite_existing);
    fs::permissions(to_data / "keys" / f, fs::perms::owner_read | fs::perms::owner_write,
                    fs::perm_options::replace);
  }
}

// Polls `done` every 2 ms: for a moment that lasts only a few transactions.
bool wait_closely(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return done();
}

TEST(MultiInstance, ThreeOnOnePostgresOneKilledNothingLostRoutedTwiceOrDeliveredTwice) {
  const char* pg = std::getenv("TSUNAGU_TEST_PG");
  // Not a skip: a run without the server would pass while proving nothing (test.sh starts it).
  ASSERT_TRUE(pg != nullptr && *pg != '\0')
      << "TSUNAGU_TEST_PG is not set (scripts/test.sh starts a PostgreSQL for it)";
  Poco::Net::initializeSSL();
  const int children = env_int("TSUNAGU_CHAOS_CHILDREN", 400);
  TempDir certs;
  make_test_certificates(certs / "tls", {"tsunagu_hub"});
  const Batch batch = make_batch(children);

  Instance reference(certs / "tls");
  run(reference, batch, 0, 0);

  std::random_device rd;
  const std::string conninfo =
      test_postgres_database("chaos_multi_" + std::to_string(rd()) + std::to_string(rd()));
  TempDir shared;  // the spool channel's directory: one share that every instance writes to
  std::vector<std::unique_ptr<Instance>> hubs;
  std::vector<std::unique_ptr<Daemon>> daemons;
  for (std::size_t i = 0; i < kInstances; ++i) {
    InstanceOptions o;
    o.name = "multi-" + std::to_string(i + 1);
    o.postgres = conninfo;
    o.outgoing = shared / "outgoing";
    o.batch_size = 10;  // more transactions per file: a wider moment to kill one part-way
    o.lease_ms = 2000;
    o.https = true;
    hubs.push_back(std::make_unique<Instance>(certs / "tls", o));
    daemons.push_back(std::make_unique<Daemon>(hubs[i]->config(), hubs[i]->data()));
  }
  Instance& victim = *hubs[kVictim];

  // The first instance makes the keys; the others get copies before they start.
  daemons[0]->start();
  ASSERT_TRUE(daemons[0]->wait_ready());
  ASSERT_TRUE(daemons[0]->running()) << "the first instance did not start";
  for (const char* f : kKeyFiles) {
    ASSERT_TRUE(fs::exists(hubs[0]->data() / "keys" / f)) << f;
  }
  for (std::size_t i = 1; i < kInstances; ++i) {
    copy_keys(hubs[0]->data(), hubs[i]->data());
    daemons[i]->start();
  }
  std::set<std::string> ports;
  for (std::size_t i = 0; i < kInstances; ++i) {
    ASSERT_TRUE(daemons[i]->wait_ready());
    ASSERT_TRUE(daemons[i]->running()) << "instance " << i + 1 << " did not start";
    ASSERT_TRUE(wait_until([&] { return fs::exists(hubs[i]->data() / "run" / "https.port"); }));
    ports.insert(read_file(hubs[i]->data() / "run" / "https.port"));
  }
  EXPECT_EQ(ports.size(), kInstances) << "each instance listens on a port of its own";
  auto db = hubs[0]->store();

  // Who ingests what: each instance its own spool.
  std::vector<Files> share(kInstances);
  auto drop = [&](std::size_t i, const std::pair<std::string, std::string>& f) {
    drop_into_spool(hubs[i]->data() / "spool" / f.first, f.second, batch.bytes.at(f.second));
    share[i].push_back(f);
  };
  auto done = [&](std::size_t i, const Files& files) {
    for (const auto& [system, name] : files) {
      if (!hubs[i]->file_done(system, name)) return false;
    }
    return true;
  };
  auto all_done = [&] {
    for (std::size_t i = 0; i < kInstances; ++i) {
      if (!done(i, share[i])) return false;
    }
    return true;
  };

  // Phase 1 (public assistance: the welfare facts the rest is routed by) across all three.
  for (std::size_t k = 0; k < batch.phase1.size(); ++k) drop(k % kInstances, batch.phase1[k]);
  ASSERT_TRUE(wait_until(all_done, std::chrono::minutes(10))) << "phase 1 never finished";

  // Phase 2: the killed instance gets one file now (its input that is done before the kill) and
  // the schools' file later (the one it is killed in the middle of).
  std::pair<std::string, std::string> last;
  Files rest;
  for (const auto& f : batch.phase2) {
    if (f.first == "education") {
      last = f;
    } else {
      rest.push_back(f);
    }
  }
  ASSERT_EQ(last.first, "education");
  // From now on the killed instance's webhook deliveries hang: longer than the channel's timeout
  // (5 s), so it never hears that one succeeded; not so long that the receiver's four threads
  // are all taken by hung requests.
  const std::size_t before_hang = victim.receiver().received().size();
  victim.receiver().behave({Behaviour::Kind::late, 201, 6500});
  for (std::size_t k = 0; k < rest.size(); ++k) drop(k % kInstances, rest[k]);
  ASSERT_FALSE(share[kVictim].empty());
  ASSERT_TRUE(wait_until([&] { return done(kVictim, share[kVictim]); }, std::chrono::minutes(5)))
      << "the instance to be killed never finished its first file";
  ASSERT_TRUE(wait_until([&] { return victim.receiver().received().size() > before_hang; },
                         std::chrono::minutes(2)))
      << "the instance to be killed never took a webhook delivery";
  drop(kVictim, last);
  const std::string events_of_last =
      "SELECT COUNT(*) FROM events e JOIN inputs i ON i.id = e.input_id WHERE i.origin = '" +
      last.second + "'";
  ASSERT_TRUE(
      wait_closely([&] { return scalar(*db, events_of_last) > 0; }, std::chrono::minutes(2)))
      << "the instance to be killed never stored an event of " << last.second;
  daemons[kVictim]->kill9();
  const std::int64_t stored_before_kill = scalar(*db, events_of_last);
  const bool last_done_before_kill = victim.file_done(last.first, last.second);
  std::cerr << "killed instance " << kVictim + 1 << " with " << stored_before_kill << " events of "
            << last.second << " stored\n";
  EXPECT_FALSE(last_done_before_kill)
      << "the killed instance had finished " << last.second << " already (too fast to catch)";

  // It stays down until the others have done everything they can: its claimed deliveries too,
  // once their lease has run out.
  ASSERT_TRUE(wait_until(
      [&] {
        for (std::size_t i = 0; i < kInstances; ++i) {
          if (i != kVictim && !done(i, share[i])) return false;
        }
        return quiet(*db);
      },
      std::chrono::minutes(5)))
      << "the surviving instances never finished their files or settled the outbox";
  EXPECT_FALSE(victim.file_done(last.first, last.second))
      << "only the killed instance can finish its spool files";
  std::vector<Received> hung = victim.receiver().received();
  hung.erase(hung.begin(), hung.begin() + static_cast<std::ptrdiff_t>(before_hang));
  std::set<std::pair<std::string, std::string>> by_survivors;
  for (std::size_t i = 0; i < kInstances; ++i) {
    if (i == kVictim) continue;
    for (const auto& r : hubs[i]->receiver().received()) {
      by_survivors.emplace(r.idempotency_key, r.attempt);
    }
  }
  std::set<std::string> taken_over;
  for (const auto& r : hung) {
    if (by_survivors.count({r.idempotency_key, r.attempt})) taken_over.insert(r.idempotency_key);
  }
  std::cerr << hung.size() << " webhook requests hung at the killed instance's receiver; "
            << taken_over.size() << " deliveries it held when killed were taken over\n";
  EXPECT_FALSE(taken_over.empty())
      << "no delivery the killed instance had claimed was delivered by another instance";
  for (const auto& key : taken_over) {
    auto q = db->query("SELECT status FROM outbox WHERE id = ?");
    q.bind(key);
    ASSERT_TRUE(q.next()) << key;
    EXPECT_EQ(q.text(0), "delivered") << key;
  }

  // Restarted, it finishes its file; then everything settles and all three stop cleanly.
  victim.receiver().behave({});
  daemons[kVictim] = std::make_unique<Daemon>(victim.config(), victim.data());
  daemons[kVictim]->start();
  ASSERT_TRUE(wait_until(all_done, std::chrono::minutes(5))) << "phase 2 never finished";
  ASSERT_TRUE(wait_until([&] { return quiet(*db); }, std::chrono::minutes(5)))
      << "deliveries or timers never settled";
  for (auto& d : daemons) {
    ASSERT_TRUE(d->wait_ready());
    EXPECT_EQ(d->terminate(), 0);
  }

  // Every instance ingested its own share, and the survivors delivered.
  for (std::size_t i = 0; i < kInstances; ++i) {
    EXPECT_FALSE(share[i].empty()) << "instance " << i + 1;
    for (const auto& [system, name] : share[i]) {
      EXPECT_TRUE(fs::exists(hubs[i]->data() / "spool" / system / "done" / name))
          << "instance " << i + 1 << ": " << name;
    }
    if (i != kVictim) {
      EXPECT_FALSE(hubs[i]->receiver().received().empty()) << "instance " << i + 1;
    }
  }
  std::set<std::string> received;
  for (const auto& h : hubs) {
    for (const auto& key : keys_of(h->receiver().received())) received.insert(key);
  }
  auto expected = reference.store();
  expect_same_end_state(*db, *expected, shared / "outgoing", received);
  for (const auto& h : hubs) expect_audit_verifies(*h);  // each instance's keys, one database
  Poco::Net::uninitializeSSL();
}

}  // namespace
