// The outbox over a real store, with the real webhook and spool channel plugins and a real HTTPS
// receiver on loopback; time is a ManualClock. A routed notice's deliveries are written with it;
// each is delivered once with its idempotency key; 5xx and a receiver that is down are retried
// with exponential back-off and jitter; a 4xx is a dead letter at once; the attempt limit makes a
// dead letter; a dead letter retried is delivered; a lease left by a crashed worker runs out and
// the attempt is repeated with the same key.
#include "delivery/outbox.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include <Poco/Net/NetSSL.h>

#include "channels/channel_test_support.hpp"
#include "channels/webhook_receiver.hpp"
#include "identity/person_master.hpp"
#include "routing/calendar.hpp"
#include "routing/notice_store.hpp"
#include "routing/router.hpp"
#include "store/prepared.hpp"
#include "support/temp_dir.hpp"
#include "support/test_store.hpp"

namespace {

using namespace tsunagu;
using namespace tsunagu_test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

std::shared_ptr<const routing::RoutingConfig> config_with_channels() {
  auto c = std::make_shared<routing::RoutingConfig>();
  c->roster.wards = {{"01103", "東区"}};
  c->roster.roles = {"liaison"};
  for (const char* id : {"liaison-1", "liaison-2"}) {
    routing::Officer o;
    o.id = id;
    o.name = "担当者";
    o.role = "liaison";
    o.ward = "01103";
    o.email = std::string(id) + "@example.invalid";
    c->roster.officers.push_back(o);
  }
  routing::Policy p;
  p.id = "p";
  p.legal_basis = {"児童福祉法25条の3", "児童福祉法第25条の3"};
  p.sources = {"health_centre"};
  p.kinds = {"infant_checkup.missed"};
  p.roles = {"liaison"};
  p.fields = {"kind", "subject.name"};
  c->policies = {p};
  routing::Route r;
  r.id = "r";
  r.title = "乳幼児健診未受診";
  r.policy = "p";
  r.match.kinds = {"infant_checkup.missed"};
  r.recipients = {{"liaison", "", {"inbox", "hook", "files"}}};
  r.fields = {"kind", "subject.name"};
  r.reason = "未受診です。";
  c->routes = {r};
  return c;
}

class OutboxTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    Poco::Net::initializeSSL();
    certificates_ = new TempDir;
    make_test_certificates(certificates_->path() / "tls", {"tsunagu_hub"});
  }
  static void TearDownTestSuite() {
    delete certificates_;
    certificates_ = nullptr;
    Poco::Net::uninitializeSSL();
  }
  static fs::path tls() { return certificates_->path() / "tls"; }

  void SetUp() override {
    store_ = tsunagu_test::open_test_store(dir_ / "store.db", {});
    store_->set_keyring(std::make_shared<const security::Keyring>(security::DataKey::generate()));
    audit_ = std::make_unique<audit::AuditLog>(*store_);
    load_channel_plugin(registry_, "webhook");
    load_channel_plugin(registry_, "spool");
    receiver_ = std::make_unique<Receiver>(tls());
    port_ = receiver_->port();
    fs::create_directories(dir_ / "outgoing");
    driver_ = std::make_unique<delivery::ChannelDriver>(
        registry_, std::vector<delivery::ChannelConfig>{
                       {"hook",
                        "webhook",
                        {{"url", receiver_->url()},
                         {"certificate", (tls() / "clients" / "tsunagu_hub.crt").string()},
                         {"private_key", (tls() / "clients" / "tsunagu_hub.key").string()},
                         {"ca", (tls() / "ca.crt").string()},
                         {"timeout_ms", "2000"}}},
                       {"files", "spool", {{"directory", (dir_ / "outgoing").string()}}}});
    settings_.initial_backoff = 1000ms;
    settings_.max_backoff = 60000ms;
    settings_.max_attempts = 5;
  }

  delivery::Outbox outbox() {
    return delivery::Outbox(*store_, *audit_, driver_.get(), config_, settings_, clock_,
                            [] { return 1.0; });  // no jitter: the full delay
  }

  // Routes one missed check-up: a notice to both liaisons by inbox, webhook and spool.
  std::string route_one() {
    const std::string id = route_event("HC-1");
    EXPECT_EQ(routing::NoticeStore(*store_, *audit_, clock_).list({}).size(), 1u);
    return id;
  }

  // Routes a missed check-up reported as `ref` (HC-1, HC-2, …: each another child, born on
  // that day of March 2017) in `ward`; returns its notice id.
  std::string route_event(const std::string& ref, const std::string& ward = "01103") {
    CaseEvent e;
    e.source = "health_centre";
    e.source_ref = ref;
    e.source_version = 1;
    e.kind = "infant_checkup.missed";
    e.occurred_at = "2019-06-05T10:00:00+09:00";
    e.subject.name = "山田　ことり";
    e.subject.birth_date = "2017-03-" + std::string(ref.size() < 5 ? "0" : "") + ref.substr(3);
    e.subject.ward_code = ward;
    store::Transaction tx(*store_);
    const auto input = store_->open_input("health_centre", "t", "digest-" + ref, 0);
    std::string subject;
    EXPECT_TRUE(store_->insert_event(e, input, 1, "raw", &subject));
    identity::PersonMaster master(*store_, *audit_);
    auto link = master.link(e, subject, "test");
    routing::Router(config_, *store_, *audit_, clock_).on_event(e, subject, link);
    tx.commit();
    routing::NoticeFilter f;
    f.event = e.id;
    auto list = routing::NoticeStore(*store_, *audit_, clock_).list(f);
    return list.size() == 1 ? list[0].id : std::string();
  }

  std::vector<delivery::OutboxRow> rows(const std::string& channel) {
    std::vector<delivery::OutboxRow> out;
    for (auto& r : outbox().list("", 100)) {
      if (r.channel == channel) out.push_back(std::move(r));
    }
    return out;
  }

  std::int64_t audit_count(const std::string& type) {
    auto q = store_->query("SELECT COUNT(*) FROM audit_entries WHERE type = ?");
    q.bind(type);
    q.next();
    return q.integer(0);
  }

  static TempDir* certificates_;
  TempDir dir_;
  ManualClock clock_{routing::parse_iso("2019-06-05T10:00:00+09:00")};
  std::shared_ptr<const routing::RoutingConfig> config_ = config_with_channels();
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<audit::AuditLog> audit_;
  plugin::PluginRegistry registry_;
  std::unique_ptr<Receiver> receiver_;
  std::uint16_t port_ = 0;
  std::unique_ptr<delivery::ChannelDriver> driver_;
  delivery::OutboxSettings settings_;
};
TempDir* OutboxTest::certificates_ = nullptr;

TEST_F(OutboxTest, TheNoticesDeliveriesAreWrittenWithItAndEachIsDeliveredOnceWithItsKey) {
  const std::string notice = route_one();
  ASSERT_EQ(rows("hook").size(), 2u);  // one per liaison
  ASSERT_EQ(rows("files").size(), 2u);
  EXPECT_EQ(rows("hook")[0].id, routing::delivery_id(notice, "hook", rows("hook")[0].recipient));
  EXPECT_EQ(outbox().run_due(), 4u);
  EXPECT_EQ(outbox().run_due(), 0u);
  for (const auto& r : outbox().list("", 100)) EXPECT_EQ(r.status, "delivered") << r.id;
  const auto got = receiver_->received();
  ASSERT_EQ(got.size(), 2u);
  std::set<std::string> keys{got[0].idempotency_key, got[1].idempotency_key};
  EXPECT_EQ(keys, (std::set<std::string>{rows("hook")[0].id, rows("hook")[1].id}));
  EXPECT_NE(got[0].body.find("山田"), std::string::npos);  // the policy's fields, to the system
  // The spool: one XML file per delivery, named by its id.
  std::size_t files = 0;
  for (const auto& f : fs::directory_iterator(dir_ / "outgoing")) files += f.is_regular_file();
  EXPECT_EQ(files, 2u);
  EXPECT_EQ(audit_count("delivery.attempted"), 4);
  auto n = routing::NoticeStore(*store_, *audit_, clock_).get(notice, true);
  std::size_t delivered = 0;
  for (const auto& h : n->history) delivered += h.action == "delivered" ? 1 : 0;
  EXPECT_EQ(delivered, 5u);  // the inbox, then four channel deliveries
}

// The summary a channel gets with each delivery: the recipient's own unread open notices and the
// earliest deadline among them, counted in the store (from notice_recipients) when it is sent.
TEST_F(OutboxTest, EachDeliveryCarriesItsRecipientsUnreadCountAndEarliestDeadline) {
  const fs::path echo = fs::path(TSUNAGU_TEST_PLUGIN_DIR) / "tsunagu-channel-echo_channel.so";
  ASSERT_TRUE(registry_.load_file(echo)) << echo;
  driver_ = std::make_unique<delivery::ChannelDriver>(
      registry_, std::vector<delivery::ChannelConfig>{{"echo", "echo_channel", {}}});
  auto c = std::make_shared<routing::RoutingConfig>(*config_);
  c->roster.wards.push_back({"01102", "北区"});
  routing::Officer kita = c->roster.officers[0];
  kita.id = "liaison-kita";
  kita.ward = "01102";
  c->roster.officers.push_back(kita);
  c->routes[0].recipients = {{"liaison", "", {"inbox", "echo"}}};
  c->routes[0].deadline.hours = 24;
  config_ = c;
  // Three notices to 東区's two liaisons, one to 北区's; one of 東区's has been opened.
  std::vector<std::string> ids;
  for (const char* ref : {"HC-1", "HC-2", "HC-3"}) ids.push_back(route_event(ref));
  ids.push_back(route_event("HC-4", "01102"));
  for (const auto& id : ids) ASSERT_FALSE(id.empty());
  ASSERT_TRUE(routing::NoticeStore(*store_, *audit_, clock_).mark_opened(ids[1], "user:l1"));
  EXPECT_EQ(outbox().run_due(), 7u);
  std::map<std::string, std::set<std::string>> details;  // recipient → what the channel saw
  for (const auto& r : rows("echo")) {
    const auto at = r.last_detail.find(" unread ");
    ASSERT_NE(at, std::string::npos) << r.last_detail;
    details[r.recipient].insert(r.last_detail.substr(at));
  }
  const std::string due = " earliest 2019-06-06T10:00:00+09:00";  // created + 24 h
  EXPECT_EQ(details["liaison-1"], std::set<std::string>{" unread 2" + due});
  EXPECT_EQ(details["liaison-2"], std::set<std::string>{" unread 2" + due});
  EXPECT_EQ(details["liaison-kita"], std::set<std::string>{" unread 1" + due});
}

TEST_F(OutboxTest, ServerErrorsAreRetriedWithExponentialBackOffAndTheSameKey) {
  receiver_->behave({Behaviour::Kind::answer, 503, 0});
  route_one();
  EXPECT_EQ(outbox().run_due(), 4u);  // both files delivered, both posts refused
  auto hook = rows("hook");
  ASSERT_EQ(hook[0].status, "pending");
  EXPECT_EQ(hook[0].attempts, 1);
  const auto t0 = clock_.now();
  EXPECT_EQ(TimePoint(std::chrono::milliseconds(hook[0].next_attempt_at)), t0 + 1000ms);
  clock_.advance(999ms);
  EXPECT_EQ(outbox().run_due(), 0u);
  clock_.advance(1ms);
  EXPECT_EQ(outbox().run_due(), 2u);
  EXPECT_EQ(TimePoint(std::chrono::milliseconds(rows("hook")[0].next_attempt_at)),
            t0 + 1000ms + 2000ms);  // doubled
  receiver_->behave({Behaviour::Kind::answer, 200, 0});
  clock_.advance(2000ms);
  EXPECT_EQ(outbox().run_due(), 2u);
  for (const auto& r : rows("hook")) EXPECT_EQ(r.status, "delivered");
  const auto got = receiver_->received();
  ASSERT_EQ(got.size(), 6u);
  std::map<std::string, int> per_key;
  for (const auto& g : got) ++per_key[g.idempotency_key];
  for (const auto& [key, count] : per_key) EXPECT_EQ(count, 3) << key;  // same key every time
}

TEST_F(OutboxTest, JitterKeepsTheDelayBetweenHalfAndAll) {
  auto o = outbox();
  EXPECT_EQ(o.backoff(1, 0.0), 500ms);
  EXPECT_EQ(o.backoff(1, 1.0), 1000ms);
  EXPECT_EQ(o.backoff(3, 0.5), 3000ms);    // 4000 · 0.75
  EXPECT_EQ(o.backoff(20, 1.0), 60000ms);  // capped
}

TEST_F(OutboxTest, AClientErrorIsADeadLetterAtOnceAndARetriedDeadLetterIsDelivered) {
  receiver_->behave({Behaviour::Kind::answer, 400, 0});
  route_one();
  outbox().run_due();
  auto hook = rows("hook");
  EXPECT_EQ(hook[0].status, "dead");
  EXPECT_EQ(hook[0].attempts, 1);
  EXPECT_EQ(outbox().count("dead"), 2);
  receiver_->behave({Behaviour::Kind::answer, 201, 0});
  for (const auto& r : hook) outbox().retry(r.id, "cli:test");
  EXPECT_THROW(outbox().retry(hook[0].id, "cli:test"), std::invalid_argument);  // not dead now
  EXPECT_EQ(outbox().run_due(), 2u);
  EXPECT_EQ(outbox().count("dead"), 0);
  EXPECT_EQ(audit_count("delivery.retried"), 2);
}

TEST_F(OutboxTest, APeerThatIsDownForAWhileGetsItWhenItComesBack) {
  receiver_.reset();  // down: the connection is refused
  route_one();
  outbox().run_due();
  for (int i = 0; i < 2; ++i) {
    clock_.advance(10s);
    outbox().run_due();
  }
  EXPECT_EQ(rows("hook")[0].attempts, 3);
  EXPECT_EQ(rows("hook")[0].status, "pending");
  receiver_ = std::make_unique<Receiver>(tls(), port_);  // back, on the same port
  clock_.advance(10s);
  EXPECT_EQ(outbox().run_due(), 2u);
  for (const auto& r : rows("hook")) EXPECT_EQ(r.status, "delivered");
  EXPECT_EQ(receiver_->received().size(), 2u);
}

TEST_F(OutboxTest, TheAttemptLimitMakesADeadLetter) {
  settings_.max_attempts_by_channel["hook"] = 2;
  receiver_->behave({Behaviour::Kind::answer, 500, 0});
  route_one();
  outbox().run_due();
  clock_.advance(1h);
  outbox().run_due();
  for (const auto& r : rows("hook")) {
    EXPECT_EQ(r.status, "dead");
    EXPECT_EQ(r.attempts, 2);
  }
  clock_.advance(1h);
  EXPECT_EQ(outbox().run_due(), 0u);
}

TEST_F(OutboxTest, ALeaseLeftByACrashedWorkerRunsOutAndTheAttemptIsRepeatedWithTheSameKey) {
  settings_.lease = 60000ms;
  route_one();
  // A worker claimed every row and died before recording anything.
  store_->query("UPDATE outbox SET claimed_until = ?")
      .bind(static_cast<std::int64_t>(
          std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now().time_since_epoch())
              .count() +
          60000))
      .run();
  EXPECT_EQ(outbox().run_due(), 0u);
  clock_.advance(61s);
  EXPECT_EQ(outbox().run_due(), 4u);
  EXPECT_EQ(outbox().count("delivered"), 4);
}

}  // namespace
