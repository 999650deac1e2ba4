// The real tsunagud on port 0 with TLS: systems push over HTTPS with client certificates from a
// test CA (scripts/make-certs.sh into a temp dir; nothing touches the network), and what the hub
// answers matches what it stored.
#include <openssl/ssl.h>

#include <atomic>
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/NetSSL.h>
#include <Poco/Net/SSLException.h>
#include <Poco/StreamCopier.h>

#include "store/prepared.hpp"
#include "store/store.hpp"
#include "support/daemon.hpp"

namespace {

using namespace tsunagu_test;
namespace fs = std::filesystem;
using Poco::Net::Context;

const fs::path kSample = kSourceDir / "tests/data/public_assistance/PA_EVENTS_20190605.csv";
const fs::path kBadSample = kSourceDir / "tests/data/public_assistance/PA_EVENTS_20190606_bad.csv";
const fs::path kCgSample = kSourceDir / "tests/data/child_guidance/CG_20190605.ndjson";
const fs::path kCgBadSample = kSourceDir / "tests/data/child_guidance/CG_20190606_bad.ndjson";
const fs::path kCgObject = kSourceDir / "tests/data/child_guidance/report_received.json";

struct Reply {
  int status = 0;
  std::string body;
  std::string hsts;
  Poco::JSON::Object::Ptr json() const {
    Poco::JSON::Parser parser;
    return parser.parse(body).extract<Poco::JSON::Object::Ptr>();
  }
};

// Certificates for the whole suite: the hub's CA with a server certificate and client
// certificates, and a second CA whose public_assistance certificate the hub must not trust.
class Certificates {
 public:
  Certificates() {
    make(dir_ / "tls", {"public_assistance", "child_guidance", "education"});
    make(dir_ / "other-ca", {"public_assistance"});
  }
  fs::path tls() const { return dir_ / "tls"; }
  fs::path other_ca() const { return dir_ / "other-ca"; }
  std::string sha256(const std::string& system) const {
    std::string s = read_file(tls() / "clients" / (system + ".sha256"));
    return s.substr(0, 64);
  }

 private:
  static void make(const fs::path& dir, const std::vector<std::string>& systems) {
    std::vector<std::string> args{dir.string()};
    args.insert(args.end(), systems.begin(), systems.end());
    std::string out;
    Poco::Pipe pipe;
    auto handle = Poco::Process::launch((kSourceDir / "scripts" / "make-certs.sh").string(), args,
                                        nullptr, &pipe, &pipe);
    Poco::PipeInputStream in(pipe);
    out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (handle.wait() != 0) throw std::runtime_error("make-certs.sh failed: " + out);
  }
  TempDir dir_;
};

class HttpsIngest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    Poco::Net::initializeSSL();
    certificates_ = new Certificates;
  }
  static void TearDownTestSuite() {
    delete certificates_;
    certificates_ = nullptr;
    Poco::Net::uninitializeSSL();
  }

  void SetUp() override {
    // child_guidance pushes by design; its tests run when its adapter is built.
    have_child_guidance_ = fs::exists(kPluginDir / "tsunagu-adapter-child_guidance.so");
    const std::string cg_system = R"(<child_guidance><adapter>child_guidance</adapter>
      <mapping>child_guidance.xml</mapping></child_guidance>)";
    const std::string cg_client = R"(<child_guidance>
        <certificate-sha256>)" + certificates_->sha256("child_guidance") +
                                  R"(</certificate-sha256>
        <content-types>application/json, application/x-ndjson</content-types>
      </child_guidance>)";
    // The hub's TLS files come from the config here; by default they would be DATA/tls.
    const fs::path tls = certificates_->tls();
    const std::string http = "<http><port>0</port><threads>" + std::to_string(threads_) +
                             "</threads><max-queued>16</max-queued><timeout-ms>20000</timeout-ms>"
                             "<keep-alive-timeout-ms>" +
                             std::to_string(keep_alive_ms_) + "</keep-alive-timeout-ms>" +
                             extra_http_ + R"(<shutdown-grace-ms>2000</shutdown-grace-ms>
      <max-body-bytes>1048576</max-body-bytes>
      <tls><certificate>)" + (tls / "server.crt").string() +
                             "</certificate><private-key>" + (tls / "server.key").string() +
                             "</private-key><ca>" + (tls / "ca.crt").string() + R"(</ca></tls>
      <clients><public_assistance>
        <certificate-sha256>)" +
                             certificates_->sha256("public_assistance") +
                             R"(</certificate-sha256>
        <content-types>text/csv</content-types>
      </public_assistance>)" +
                             (have_child_guidance_ ? cg_client : "") + R"(</clients>
    </http>)";
    config_ = write_test_config(dir_, 50, have_child_guidance_ ? cg_system : "", http);
    daemon_ = std::make_unique<Daemon>(config_, data());
    daemon_->start();
    const fs::path port_file = data() / "run" / "https.port";
    ASSERT_TRUE(wait_until([&] { return fs::exists(port_file) || !daemon_->running(); }));
    ASSERT_TRUE(daemon_->running()) << "tsunagud did not start";
    port_ = static_cast<Poco::UInt16>(std::stoi(read_file(port_file)));
  }

  void TearDown() override {
    if (daemon_ && daemon_->running()) {
      EXPECT_EQ(daemon_->terminate(), 0);
    }
  }

  fs::path data() const { return dir_ / "data"; }

  // A client context that verifies the hub's certificate against the test CA and presents
  // `client` (a file stem under clients/ of `ca_dir`), or no certificate if empty.
  static Context::Ptr client_context(const std::string& client, const fs::path& ca_dir,
                                     Context::Usage usage = Context::TLS_CLIENT_USE) {
    Context::Params p;
    p.caLocation = (certificates_->tls() / "ca.crt").string();
    p.verificationMode = Context::VERIFY_STRICT;
    p.loadDefaultCAs = false;
    if (!client.empty()) {
      p.certificateFile = (ca_dir / "clients" / (client + ".crt")).string();
      p.privateKeyFile = (ca_dir / "clients" / (client + ".key")).string();
    }
    return new Context(usage, p);
  }
  static Context::Ptr client_context(const std::string& client) {
    return client_context(client, certificates_->tls());
  }

  Reply request(const Context::Ptr& context, const std::string& method, const std::string& path,
                const std::string& content_type = "", const std::string& body = "") const {
    Poco::Net::HTTPSClientSession session("localhost", port_, context);
    session.setTimeout(Poco::Timespan(60, 0));
    Poco::Net::HTTPRequest req(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
    if (!content_type.empty()) req.setContentType(content_type);
    if (method == "POST") req.setContentLength(static_cast<std::streamsize>(body.size()));
    session.sendRequest(req) << body;
    Poco::Net::HTTPResponse response;
    std::istream& in = session.receiveResponse(response);
    Reply r;
    r.status = response.getStatus();
    Poco::StreamCopier::copyToString(in, r.body);
    r.hsts = response.get("Strict-Transport-Security", "");
    return r;
  }

  Reply push(const Context::Ptr& context, const std::string& body,
             const std::string& content_type = "text/csv") const {
    return request(context, "POST", "/api/v1/ingest/public_assistance", content_type, body);
  }

  // Read straight from the store file, as an auditor's tool would: no keyring needed for counts.
  std::int64_t count(const std::string& sql) const {
    auto store = tsunagu::store::Store::open_sqlite(data() / "store.db", {});
    auto q = store->query(sql);
    return q.next() ? q.integer(0) : 0;
  }
  std::int64_t events() const { return count("SELECT COUNT(*) FROM events"); }
  std::vector<std::string> entries(const std::string& type) const {
    auto store = tsunagu::store::Store::open_sqlite(data() / "store.db", {});
    std::vector<std::string> out;
    auto q = store->query("SELECT entry FROM audit_entries WHERE type = ? ORDER BY seq");
    q.bind(type);
    while (q.next()) out.push_back(q.text(0));
    return out;
  }

  static Certificates* certificates_;
  // The listener's threads and keep-alive, for fixtures that test them.
  int threads_ = 4;
  int keep_alive_ms_ = 1000;
  std::string extra_http_;
  bool have_child_guidance_ = false;
  TempDir dir_;
  fs::path config_;
  std::unique_ptr<Daemon> daemon_;
  Poco::UInt16 port_ = 0;
};

Certificates* HttpsIngest::certificates_ = nullptr;

TEST_F(HttpsIngest, AGoodBatchIs200AndItsEventsAreStoredWhenTheReplyArrives) {
  const Reply r = push(client_context("public_assistance"), read_file(kSample));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.hsts, "max-age=31536000; includeSubDomains");
  const auto o = r.json();
  const int records = o->getValue<int>("records");
  EXPECT_GT(records, 30);
  EXPECT_EQ(o->getValue<int>("accepted"), records);
  EXPECT_EQ(o->getArray("rejected")->size(), 0u);
  // No waiting: a 2xx means committed.
  EXPECT_EQ(events(), records);

  const auto received = entries("input.received");
  ASSERT_EQ(received.size(), 1u);
  EXPECT_NE(received[0].find(R"("transport":"https")"), std::string::npos) << received[0];
  EXPECT_NE(received[0].find(certificates_->sha256("public_assistance")), std::string::npos);

  const Reply again = push(client_context("public_assistance"), read_file(kSample));
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.json()->getValue<int>("duplicates"), records);
  EXPECT_EQ(events(), records);
}

TEST_F(HttpsIngest, BadRecordsGive207NamingRecordAndFieldAndTheGoodOnesAreStored) {
  const Reply r = push(client_context("public_assistance"), read_file(kBadSample));
  ASSERT_EQ(r.status, 207) << r.body;
  const auto o = r.json();
  const int accepted = o->getValue<int>("accepted");
  EXPECT_GT(accepted, 0);
  EXPECT_EQ(events(), accepted);
  const auto rejected = o->getArray("rejected");
  ASSERT_GT(rejected->size(), 0u);
  bool ward = false;
  for (std::size_t i = 0; i < rejected->size(); ++i) {
    const auto item = rejected->getObject(static_cast<unsigned>(i));
    EXPECT_GT(item->getValue<int>("record"), 0);
    if (item->getValue<std::string>("field") == "区コード") {
      ward = true;
      EXPECT_NE(item->getValue<std::string>("reason").find("01199"), std::string::npos);
    }
  }
  EXPECT_TRUE(ward) << r.body;
  EXPECT_EQ(count("SELECT COUNT(*) FROM quarantine"), static_cast<std::int64_t>(rejected->size()));
}

TEST_F(HttpsIngest, NoClientCertificateIs401AndNothingIsStored) {
  const Reply r = push(client_context(""), read_file(kSample));
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_EQ(r.json()->getValue<std::string>("error"), "no_certificate");
  EXPECT_EQ(events(), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM inputs"), 0);
  const auto refused = entries("ingest.refused");
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_NE(refused[0].find(R"("reason":"no_certificate")"), std::string::npos) << refused[0];
}

TEST_F(HttpsIngest, ACertificateOfTheCaButOfNoConfiguredClientIs403AndAudited) {
  const Reply r = push(client_context("education"), read_file(kSample));
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(r.json()->getValue<std::string>("error"), "unknown_certificate");
  EXPECT_EQ(events(), 0);
  const auto refused = entries("ingest.refused");
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_NE(refused[0].find(certificates_->sha256("education")), std::string::npos) << refused[0];
}

TEST_F(HttpsIngest, ACertificateOfAnotherCaIsRefusedInTheHandshake) {
  // Same subject (CN=public_assistance), different issuer: the hub does not trust that CA.
  const auto context = client_context("public_assistance", certificates_->other_ca());
  EXPECT_THROW(push(context, read_file(kSample)), Poco::Exception);
  EXPECT_EQ(events(), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM inputs"), 0);
  // Still serving the others.
  EXPECT_EQ(request(client_context(""), "GET", "/healthz").status, 200);
}

TEST_F(HttpsIngest, AContentTypeTheSystemDoesNotPushIs415) {
  const Reply r = push(client_context("public_assistance"), "{}", "application/json");
  EXPECT_EQ(r.status, 415) << r.body;
  EXPECT_NE(r.body.find("text/csv"), std::string::npos) << r.body;
  EXPECT_EQ(count("SELECT COUNT(*) FROM inputs"), 0);
}

TEST_F(HttpsIngest, ATls11ClientIsRefusedByTheServer) {
  Context::Ptr context = client_context("public_assistance");
  // Make the client offer TLS 1.1 and nothing else (OpenSSL's default security level would not
  // even try), so that the refusal seen is the hub's.
  SSL_CTX* ctx = context->sslContext();
  SSL_CTX_set_security_level(ctx, 0);
  ASSERT_EQ(SSL_CTX_set_min_proto_version(ctx, TLS1_1_VERSION), 1);
  ASSERT_EQ(SSL_CTX_set_max_proto_version(ctx, TLS1_1_VERSION), 1);
  ASSERT_EQ(SSL_CTX_set_cipher_list(ctx, "DEFAULT@SECLEVEL=0"), 1);
  try {
    request(context, "GET", "/healthz");
    FAIL() << "a TLS 1.1 handshake succeeded";
  } catch (const Poco::Exception& e) {
    EXPECT_NE(e.displayText().find("protocol version"), std::string::npos) << e.displayText();
  }
}

TEST_F(HttpsIngest, HealthAndMetricsAnswerAndEverythingElseIsJson404Or405) {
  const auto context = client_context("");
  const Reply health = request(context, "GET", "/healthz");
  ASSERT_EQ(health.status, 200) << health.body;
  EXPECT_EQ(health.json()->getValue<std::string>("status"), "ok");
  EXPECT_EQ(health.hsts, "max-age=31536000; includeSubDomains");

  ASSERT_EQ(push(client_context("public_assistance"), read_file(kSample)).status, 200);
  const Reply metrics = request(context, "GET", "/metrics");
  ASSERT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("tsunagu_events_stored{system=\"public_assistance\"} " +
                              std::to_string(events())),
            std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find("tsunagu_inputs{status=\"done\"} 1"), std::string::npos);
  EXPECT_NE(metrics.body.find("tsunagu_audit_entries "), std::string::npos);
  EXPECT_NE(metrics.body.find("tsunagu_http_responses_total{code=\"200\"}"), std::string::npos);
  EXPECT_NE(metrics.body.find("tsunagu_http_connections_refused_total 0"), std::string::npos);

  const Reply missing = request(context, "GET", "/api/v1/no-such-resource");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.json()->getValue<std::string>("error"), "not_found");
  EXPECT_EQ(missing.hsts, "max-age=31536000; includeSubDomains");
  EXPECT_EQ(request(context, "GET", "/api/v1/ingest/public_assistance").status, 405);
}

TEST_F(HttpsIngest, ChildGuidancePushesNdjsonAndSingleObjects) {
  if (!have_child_guidance_) GTEST_SKIP() << "the child_guidance adapter is not built";
  const auto context = client_context("child_guidance");
  const Reply lines = request(context, "POST", "/api/v1/ingest/child_guidance",
                              "application/x-ndjson", read_file(kCgSample));
  ASSERT_EQ(lines.status, 200) << lines.body;
  const int records = lines.json()->getValue<int>("accepted");
  EXPECT_GT(records, 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM events WHERE source = 'child_guidance'"), records);

  const Reply object = request(context, "POST", "/api/v1/ingest/child_guidance",
                               "application/json; charset=utf-8", read_file(kCgObject));
  ASSERT_EQ(object.status, 200) << object.body;
  EXPECT_EQ(object.json()->getValue<int>("records"), 1);
}

TEST_F(HttpsIngest, ChildGuidanceBadLinesGive207AndTheGoodOnesAreStored) {
  if (!have_child_guidance_) GTEST_SKIP() << "the child_guidance adapter is not built";
  const Reply r = request(client_context("child_guidance"), "POST", "/api/v1/ingest/child_guidance",
                          "application/x-ndjson", read_file(kCgBadSample));
  ASSERT_EQ(r.status, 207) << r.body;
  const auto o = r.json();
  EXPECT_GT(o->getValue<int>("accepted"), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM events WHERE source = 'child_guidance'"),
            o->getValue<int>("accepted"));
  bool ward = false;
  const auto rejected = o->getArray("rejected");
  for (std::size_t i = 0; i < rejected->size(); ++i) {
    const auto item = rejected->getObject(static_cast<unsigned>(i));
    if (item->getValue<std::string>("field") == "ward_code") ward = true;
  }
  EXPECT_TRUE(ward) << r.body;
}

TEST_F(HttpsIngest, ACertificateOfAnotherSystemIs403) {
  if (!have_child_guidance_) GTEST_SKIP() << "the child_guidance adapter is not built";
  const Reply r =
      request(client_context("public_assistance"), "POST", "/api/v1/ingest/child_guidance",
              "application/json", read_file(kCgObject));
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(r.json()->getValue<std::string>("error"), "other_system");
  EXPECT_EQ(count("SELECT COUNT(*) FROM inputs"), 0);
}

// Group commit: concurrent pushes share transactions, yet each answer stands for its own push
// alone — every good one stored exactly once, the unusable ones refused alone.
TEST_F(HttpsIngest, ConcurrentPushesAreEachStoredOnceAndABadOneAmongThemFailsAlone) {
  // One record per push: the sample's header and its first record under a new 処理番号 each.
  const std::string sample = read_file(kSample);
  const std::size_t header_end = sample.find('\n') + 1;
  const std::size_t record_end = sample.find('\n', header_end) + 1;
  const std::string header = sample.substr(0, header_end);
  const std::string rest =
      sample.substr(sample.find(',', header_end), record_end - sample.find(',', header_end));
  std::vector<std::string> good;
  for (int i = 0; i < 40; ++i) {
    const std::string number = std::to_string(100000 + i);
    good.push_back(header + "PA20190605" + number + rest);
  }
  const std::string bad = "not,the,header\r\n1,2,3\r\n";  // unusable as a whole
  constexpr std::size_t kThreads = 8;
  std::vector<std::vector<int>> statuses(kThreads);
  std::vector<int> bad_statuses(kThreads, 0);
  std::vector<std::thread> threads;
  const auto context = client_context("public_assistance");
  for (std::size_t t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (std::size_t i = t; i < good.size(); i += kThreads) {
        try {
          statuses[t].push_back(push(context, good[i]).status);
        } catch (const std::exception&) {
          statuses[t].push_back(-1);
        }
        if (i == t && t % 2 == 0) {  // half the threads send one bad push among their good ones
          try {
            bad_statuses[t] = push(context, bad).status;
          } catch (const std::exception&) {
            bad_statuses[t] = -1;
          }
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  std::size_t bad_sent = 0;
  for (std::size_t t = 0; t < kThreads; ++t) {
    for (const int status : statuses[t]) EXPECT_EQ(status, 200) << "thread " << t;
    if (t % 2 == 0) {
      EXPECT_EQ(bad_statuses[t], 400) << "thread " << t;
      ++bad_sent;
    }
  }
  const auto total = static_cast<std::int64_t>(good.size() + bad_sent);
  EXPECT_EQ(events(), static_cast<std::int64_t>(good.size()));
  EXPECT_EQ(count("SELECT COUNT(DISTINCT source_ref) FROM events"),
            static_cast<std::int64_t>(good.size()));
  EXPECT_EQ(count("SELECT COUNT(*) FROM inputs WHERE status = 'done'"),
            static_cast<std::int64_t>(good.size()));
  EXPECT_EQ(count("SELECT COUNT(*) FROM inputs WHERE status = 'failed'"),
            static_cast<std::int64_t>(bad_sent));
  EXPECT_EQ(static_cast<std::int64_t>(entries("input.received").size()), total);
  EXPECT_EQ(static_cast<std::int64_t>(entries("input.completed").size()), total);
  EXPECT_EQ(static_cast<std::int64_t>(entries("event.stored").size()),
            static_cast<std::int64_t>(good.size()));

  // The same bodies again: all duplicates, nothing stored twice.
  EXPECT_EQ(push(context, good[0]).status, 200);
  EXPECT_EQ(events(), static_cast<std::int64_t>(good.size()));

  EXPECT_EQ(daemon_->terminate(), 0);
  std::string out;
  EXPECT_EQ(run_cli({"--config", config_.string(), "audit", "verify"}, out), 0) << out;
}

// GET /healthz over `session` (kept alive between calls): whether the answer keeps it open.
bool healthz_keeps_alive(Poco::Net::HTTPSClientSession& session) {
  Poco::Net::HTTPRequest req("GET", "/healthz", Poco::Net::HTTPMessage::HTTP_1_1);
  session.sendRequest(req);
  Poco::Net::HTTPResponse response;
  std::string body;
  Poco::StreamCopier::copyToString(session.receiveResponse(response), body);
  EXPECT_EQ(response.getStatus(), 200) << body;
  return response.getKeepAlive();
}

class HttpsKeepAliveCap : public HttpsIngest {
 protected:
  HttpsKeepAliveCap() { extra_http_ = "<max-keep-alive-requests>3</max-keep-alive-requests>"; }
};

TEST_F(HttpsKeepAliveCap, AConnectionIsClosedAfterMaxKeepAliveRequests) {
  Poco::Net::HTTPSClientSession session("localhost", port_, client_context(""));
  session.setTimeout(Poco::Timespan(30, 0));
  session.setKeepAlive(true);
  EXPECT_TRUE(healthz_keeps_alive(session));
  EXPECT_TRUE(healthz_keeps_alive(session));
  EXPECT_FALSE(healthz_keeps_alive(session)) << "the third of three closes the connection";
}

// One request thread, kept by a connection for up to a minute of idleness and 1,000 requests.
class HttpsOneThread : public HttpsIngest {
 protected:
  HttpsOneThread() {
    threads_ = 1;
    keep_alive_ms_ = 60000;
  }
};

// Without the turn-taking, the second connection would wait until the first went idle.
TEST_F(HttpsOneThread, WhileAConnectionWaitsForTheThreadTheBusyOneIsClosedAfterItsAnswer) {
  Poco::Net::HTTPSClientSession busy("localhost", port_, client_context(""));
  busy.setTimeout(Poco::Timespan(30, 0));
  busy.setKeepAlive(true);
  ASSERT_TRUE(healthz_keeps_alive(busy));  // holds the one thread now
  std::atomic<int> waiting_status{0};
  std::thread waiting([&] {
    try {
      waiting_status = request(client_context(""), "GET", "/healthz").status;
    } catch (const std::exception&) {
      waiting_status = -1;
    }
  });
  // Kept alive until the other connection is queued for the thread (at most 400 requests here,
  // under the cap); then the next answer closes it.
  bool closed = false;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!closed && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    closed = !healthz_keeps_alive(busy);
  }
  EXPECT_TRUE(closed) << "the busy connection was never closed for the waiting one";
  const bool answered =
      wait_until([&] { return waiting_status.load() != 0; }, std::chrono::seconds(20));
  busy.reset();  // whatever happened, the waiting one gets through now
  waiting.join();
  EXPECT_TRUE(answered) << "the waiting connection was not served while the other was open";
  EXPECT_EQ(waiting_status.load(), 200);
}

TEST_F(HttpsIngest, SigtermStopsTheListenerAndRemovesThePortFile) {
  EXPECT_EQ(daemon_->terminate(), 0);
  EXPECT_FALSE(fs::exists(data() / "run" / "https.port"));
  EXPECT_EQ(entries("hub.stopped").size(), 1u);
}

}  // namespace
