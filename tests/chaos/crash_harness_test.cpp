// The crash-safety harness: the real tsunagud, the real plugins, the shipped routing config with
// two delivery channels added (a spool directory and an HTTPS webhook receiver in this process),
// a large batch across all four systems — and kill -9 at seeded random moments, many times,
// restarting after each. At the end it checks, against a reference run of the same batch that
// nobody killed:
//   - every input record is an event or in quarantine (per input: records = events + duplicates
//     + quarantined), and the events and quarantine per system equal the reference's;
//   - every event was routed once: the notices (type, rule, role, ward, source record) equal the
//     reference's, with no duplicates;
//   - every notice was delivered once per channel: every outbox row delivered, one spool file per
//     spool delivery, the receiver saw exactly the webhook deliveries' keys (each at least once,
//     no other key), and no outbox row is orphaned or left pending;
//   - `tsunagu audit verify` passes.
//
// TSUNAGU_CHAOS_KILLS (default 20) and TSUNAGU_CHAOS_SEED (default 20190605) change the run;
// TSUNAGU_CHAOS_CHILDREN (default 400) its size. scripts/chaos.sh runs a longer one.
#include <gtest/gtest.h>

#include <Poco/Net/NetSSL.h>

#include "chaos/chaos_support.hpp"

namespace {

using namespace tsunagu_test;
using namespace tsunagu_test::chaos;

TEST(CrashHarness, KilledAtRandomNothingIsLostRoutedTwiceOrDeliveredTwice) {
  Poco::Net::initializeSSL();
  const int kills = env_int("TSUNAGU_CHAOS_KILLS", 20);
  const auto seed = static_cast<unsigned>(env_int("TSUNAGU_CHAOS_SEED", 20190605));
  const int children = env_int("TSUNAGU_CHAOS_CHILDREN", 400);
  TempDir certs;
  make_test_certificates(certs / "tls", {"tsunagu_hub"});
  const Batch batch = make_batch(children);

  Instance reference(certs / "tls");
  run(reference, batch, 0, seed);
  Instance chaos(certs / "tls");
  run(chaos, batch, kills, seed);
  std::cerr << "chaos run: " << kills << " kills, seed " << seed << ", " << children
            << " children\n";

  auto got = chaos.store();
  auto expected = reference.store();
  expect_same_end_state(*got, *expected, chaos.outgoing(), keys_of(chaos.receiver().received()));
  expect_audit_verifies(chaos);
  Poco::Net::uninitializeSSL();
}

}  // namespace
