// POST /api/v1/ingest/{system} without a socket: the endpoint over a real SQLite store, the real
// public_assistance mapping and a small in-test adapter, so each outcome (refusals, 200, 207, 400,
// 503) and what it leaves in the store and the audit log can be checked exactly.
#include <atomic>
#include <sstream>

#include <gtest/gtest.h>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "http/ingest_endpoint.hpp"
#include "mapping/mapping.hpp"
#include "security/keyring.hpp"
#include "store/prepared.hpp"
#include "support/pa_fields.hpp"
#include "support/temp_dir.hpp"
#include "support/test_store.hpp"

namespace {

using namespace tsunagu;
using http::Request;
using http::Response;
namespace fs = std::filesystem;

const std::string kSha(64, 'a');
const std::string kOtherSha(64, 'b');

// One record per line, "<ref>,<ward code>", filled out to a valid public_assistance row. A line
// "!" makes the whole input unusable (like a wrong header). After `stop_after` records it sets
// `*abort`, as the server does when shutdown's grace period ends.
class LinesAdapter final : public Adapter {
 public:
  std::atomic<bool>* abort = nullptr;
  std::uint64_t stop_after = 0;

  const char* system() const noexcept override { return "public_assistance"; }
  DecodeResult decode(std::istream& in, const std::string&, RecordSink& sink) noexcept override {
    DecodeResult result;
    std::string line;
    while (std::getline(in, line)) {
      if (line == "!") {
        result.ok = false;
        result.message = "line " + std::to_string(result.records + 1) + " is not a record";
        return result;
      }
      NativeRecord r;
      r.number = ++result.records;
      r.line = r.number;
      r.raw = line;
      const auto comma = line.find(',');
      r.fields = tsunagu_test::pa_native_fields(line.substr(0, comma), line.substr(comma + 1));
      if (abort != nullptr && result.records == stop_after) *abort = true;
      if (!sink.accept(std::move(r))) {
        result.stopped = true;
        break;
      }
    }
    return result;
  }
};

// A body handed over in memory, like Poco's request stream.
class StringBody final : public http::BodyReader {
 public:
  explicit StringBody(std::string body) : body_(std::move(body)) {}
  std::optional<std::string> read(std::size_t max) override {
    ++reads;
    if (body_.size() > max) return std::nullopt;
    return body_;
  }
  int reads = 0;

 private:
  std::string body_;
};

class IngestEndpointTest : public ::testing::Test {
 protected:
  IngestEndpointTest() {
    keyring_ = security::Keyring::open(dir_ / "keys", true);
    adapter_ = std::make_shared<LinesAdapter>();
    ingest::SystemPipeline p;
    p.system = "public_assistance";
    p.adapter = adapter_;
    p.mapping = std::make_shared<const mapping::Mapping>(mapping::Mapping::load_file(
        fs::path(TSUNAGU_SOURCE_DIR) / "mappings" / "public_assistance.xml",
        fs::path(TSUNAGU_SOURCE_DIR) / "mappings" / "mapping.xsd"));
    pipelines_.push_back(p);
    config::HttpClientConfig pa;
    pa.system = "public_assistance";
    pa.certificate_sha256 = {kSha};
    pa.content_types = {"text/csv"};
    config::HttpClientConfig cg;
    cg.system = "child_guidance";  // has a certificate but no pipeline (not enabled)
    cg.certificate_sha256 = {kOtherSha};
    cg.content_types = {"application/json"};
    clients_ = std::make_unique<http::ClientDirectory>(std::vector{pa, cg});
    endpoint_ =
        std::make_unique<http::IngestEndpoint>(*clients_, pipelines_, 1000, opener(), abort_);
  }

  http::StoreOpener opener() {
    return [this] {
      auto store = tsunagu_test::open_test_store(dir_ / "store.db", {});
      store->set_keyring(keyring_);
      return store;
    };
  }

  Response push(const std::string& body, std::optional<std::string> sha = kSha,
                const std::string& content_type = "text/csv; charset=Shift_JIS",
                const std::string& system = "public_assistance") {
    StringBody reader(body);
    Request r;
    r.method = "POST";
    r.path = "/api/v1/ingest/" + system;
    r.params["system"] = system;
    r.content_type = content_type;
    r.content_length = static_cast<std::int64_t>(body.size());
    r.remote = "127.0.0.1:5555";
    if (sha) r.client = http::ClientCertificate{*sha, "cn", "CN=cn"};
    r.body = &reader;
    Response out = endpoint_->handle(r);
    last_reads_ = reader.reads;
    return out;
  }

  std::int64_t count(const std::string& sql) {
    auto store = opener()();
    auto q = store->query(sql);
    return q.next() ? q.integer(0) : 0;
  }
  std::int64_t events() { return count("SELECT COUNT(*) FROM events"); }
  std::int64_t quarantined() { return count("SELECT COUNT(*) FROM quarantine"); }
  std::vector<std::string> entries(const std::string& type) {
    auto store = opener()();
    std::vector<std::string> out;
    auto q = store->query("SELECT entry FROM audit_entries WHERE type = ? ORDER BY seq");
    q.bind(type);
    while (q.next()) out.push_back(q.text(0));
    return out;
  }

  static Poco::JSON::Object::Ptr json(const Response& r) {
    Poco::JSON::Parser parser;
    return parser.parse(r.body).extract<Poco::JSON::Object::Ptr>();
  }

  tsunagu_test::TempDir dir_;
  std::shared_ptr<const security::Keyring> keyring_;
  std::shared_ptr<LinesAdapter> adapter_;
  std::vector<ingest::SystemPipeline> pipelines_;
  std::unique_ptr<http::ClientDirectory> clients_;
  std::atomic<bool> abort_{false};
  std::unique_ptr<http::IngestEndpoint> endpoint_;
  int last_reads_ = 0;
};

TEST_F(IngestEndpointTest, AGoodBodyIsStoredBeforeThe200AndAgainIsAllDuplicates) {
  const Response first = push("PA1,01102\nPA2,01103\n");
  ASSERT_EQ(first.status, 200) << first.body;
  auto o = json(first);
  EXPECT_EQ(o->getValue<int>("records"), 2);
  EXPECT_EQ(o->getValue<int>("accepted"), 2);
  EXPECT_EQ(o->getValue<int>("duplicates"), 0);
  EXPECT_EQ(o->getArray("rejected")->size(), 0u);
  EXPECT_EQ(events(), 2);  // on disk already: the reply came after the commit

  const Response again = push("PA1,01102\nPA2,01103\n");
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(json(again)->getValue<int>("accepted"), 0);
  EXPECT_EQ(json(again)->getValue<int>("duplicates"), 2);
  EXPECT_EQ(events(), 2);

  const auto received = entries("input.received");
  ASSERT_EQ(received.size(), 2u);
  EXPECT_NE(received[0].find(R"("transport":"https")"), std::string::npos) << received[0];
  EXPECT_NE(received[0].find(R"("client_sha256":")" + kSha + "\""), std::string::npos);
  const auto completed = entries("input.completed");
  ASSERT_EQ(completed.size(), 2u);
  EXPECT_NE(completed[0].find(R"("events":"2")"), std::string::npos) << completed[0];
  EXPECT_EQ(count("SELECT COUNT(*) FROM inputs WHERE status = 'done'"), 2);
}

TEST_F(IngestEndpointTest, RejectedRecordsGiveA207NamingRecordAndFieldAndTheGoodOnesAreStored) {
  const Response out = push("PA1,01102\nPA2,01199\nPA3,01103\n");
  ASSERT_EQ(out.status, 207) << out.body;
  auto o = json(out);
  EXPECT_EQ(o->getValue<int>("accepted"), 2);
  auto rejected = o->getArray("rejected");
  ASSERT_EQ(rejected->size(), 1u);
  auto r = rejected->getObject(0);
  EXPECT_EQ(r->getValue<int>("record"), 2);
  EXPECT_EQ(r->getValue<std::string>("field"), "区コード");
  EXPECT_NE(r->getValue<std::string>("reason").find("01199"), std::string::npos);
  EXPECT_EQ(events(), 2);
  EXPECT_EQ(quarantined(), 1);
}

TEST_F(IngestEndpointTest, AnUnusableBodyIs400AndStoresNothingOfIt) {
  const Response out = push("PA1,01102\nPA2,01103\n!\n");
  ASSERT_EQ(out.status, 400) << out.body;
  EXPECT_EQ(json(out)->getValue<std::string>("error"), "unusable_body");
  EXPECT_NE(out.body.find("line 3 is not a record"), std::string::npos) << out.body;
  EXPECT_EQ(events(), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM inputs WHERE status = 'failed'"), 1);
}

TEST_F(IngestEndpointTest, AStopPartWayRollsBackEveryRecordAndAnswers503) {
  adapter_->abort = &abort_;
  adapter_->stop_after = 2;
  const Response out = push("PA1,01102\nPA2,01103\nPA3,01104\n");
  ASSERT_EQ(out.status, 503) << out.body;
  EXPECT_EQ(json(out)->getValue<std::string>("error"), "store_unavailable");
  ASSERT_EQ(out.headers.size(), 1u);
  EXPECT_EQ(out.headers[0].first, "Retry-After");
  EXPECT_EQ(events(), 0);  // the two records handed over before the stop were rolled back
  EXPECT_EQ(entries("event.stored").size(), 0u);
}

TEST_F(IngestEndpointTest, AStoreThatCannotBeOpenedIs503) {
  http::IngestEndpoint broken(
      *clients_, pipelines_, 1000,
      []() -> std::unique_ptr<store::Store> { throw store::StoreError("disk gone"); }, abort_);
  StringBody body("PA1,01102\n");
  Request r;
  r.method = "POST";
  r.params["system"] = "public_assistance";
  r.content_type = "text/csv";
  r.content_length = 10;
  r.client = http::ClientCertificate{kSha, "cn", "CN=cn"};
  r.body = &body;
  const Response out = broken.handle(r);
  EXPECT_EQ(out.status, 503);
  EXPECT_EQ(out.body.find("disk gone"), std::string::npos) << out.body;
}

TEST_F(IngestEndpointTest, RefusalsReadNoBodyStoreNothingAndAreAudited) {
  struct Case {
    std::optional<std::string> sha;
    std::string content_type;
    std::string system;
    int status;
    std::string code;
  };
  const std::vector<Case> cases{
      {std::nullopt, "text/csv", "public_assistance", 401, "no_certificate"},
      {std::string(64, 'f'), "text/csv", "public_assistance", 403, "unknown_certificate"},
      {kOtherSha, "text/csv", "public_assistance", 403, "other_system"},
      {kSha, "application/json", "public_assistance", 415, "unsupported_media_type"},
      {kSha, "", "public_assistance", 415, "unsupported_media_type"},
      {kOtherSha, "application/json", "child_guidance", 404, "system_not_enabled"},
  };
  for (const auto& c : cases) {
    const Response out = push("PA1,01102\n", c.sha, c.content_type, c.system);
    EXPECT_EQ(out.status, c.status) << out.body;
    EXPECT_EQ(json(out)->getValue<std::string>("error"), c.code);
    EXPECT_EQ(last_reads_, 0) << c.code;
  }
  EXPECT_EQ(events(), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM inputs"), 0);
  const auto refused = entries("ingest.refused");
  ASSERT_EQ(refused.size(), cases.size());
  EXPECT_NE(refused[0].find(R"("reason":"no_certificate")"), std::string::npos) << refused[0];
  EXPECT_NE(refused[0].find(R"("status":"401")"), std::string::npos) << refused[0];
  EXPECT_NE(refused[1].find(R"("client_sha256":")" + std::string(64, 'f')), std::string::npos);
  for (const auto& e : refused) {
    EXPECT_EQ(e.find("PA1"), std::string::npos) << "a refusal holds no payload: " << e;
  }
}

TEST_F(IngestEndpointTest, ABodyOverTheLimitIs413WhetherTheLengthIsKnownOrNot) {
  const std::string big(1001, 'x');
  const Response declared = push(big);
  EXPECT_EQ(declared.status, 413);
  EXPECT_EQ(last_reads_, 0);  // Content-Length said so: not read at all

  StringBody reader(big);
  Request chunked;
  chunked.method = "POST";
  chunked.params["system"] = "public_assistance";
  chunked.content_type = "text/csv";
  chunked.chunked = true;
  chunked.client = http::ClientCertificate{kSha, "cn", "CN=cn"};
  chunked.body = &reader;
  const Response out = endpoint_->handle(chunked);
  EXPECT_EQ(out.status, 413) << out.body;
  EXPECT_EQ(json(out)->getValue<std::string>("error"), "body_too_large");

  Request no_length = chunked;
  no_length.chunked = false;
  EXPECT_EQ(endpoint_->handle(no_length).status, 411);
  EXPECT_EQ(entries("ingest.refused").size(), 3u);
}

}  // namespace
