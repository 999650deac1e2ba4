// The webhook channel plugin, loaded through the registry, POSTing to a real HTTPS receiver on
// loopback: a Poco HTTPServer that requires a client certificate from the test CA, records every
// request, and can be told to fail (500, 400, 408, 429), to answer too late, to drop the
// connection, and to come back.
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/NetSSL.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/X509Certificate.h>
#include <Poco/StreamCopier.h>

#include "channels/channel_test_support.hpp"
#include "channels/webhook_receiver.hpp"
#include "support/temp_dir.hpp"

namespace {

using namespace tsunagu_test;
using tsunagu::ChannelResult;
namespace fs = std::filesystem;

class WebhookChannel : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    Poco::Net::initializeSSL();  // the hub does this in main; plugins never do
    certificates_ = new TempDir;
    make_test_certificates(certificates_->path() / "tls", {"tsunagu_hub"});
    make_test_certificates(certificates_->path() / "other-ca", {"tsunagu_hub"});
  }
  static void TearDownTestSuite() {
    delete certificates_;
    certificates_ = nullptr;
    Poco::Net::uninitializeSSL();
  }
  static fs::path tls() { return certificates_->path() / "tls"; }
  static fs::path other_ca() { return certificates_->path() / "other-ca"; }

  void SetUp() override { load_channel_plugin(registry_, "webhook"); }

  tsunagu::PluginSettings settings(const std::string& url, const fs::path& client_dir = tls()) {
    return {{"url", url},
            {"certificate", (client_dir / "clients" / "tsunagu_hub.crt").string()},
            {"private_key", (client_dir / "clients" / "tsunagu_hub.key").string()},
            {"ca", (tls() / "ca.crt").string()},
            {"timeout_ms", "2000"}};
  }
  std::shared_ptr<tsunagu::Channel> channel(const std::string& url) {
    return registry_.create_channel("webhook", settings(url));
  }
  std::string refusal(const tsunagu::PluginSettings& s) {
    try {
      registry_.create_channel("webhook", s);
    } catch (const tsunagu::plugin::PluginError& e) {
      return e.what();
    }
    return "accepted";
  }

  static TempDir* certificates_;
  tsunagu::plugin::PluginRegistry registry_;
};
TempDir* WebhookChannel::certificates_ = nullptr;

void expect_no_personal_data(const ChannelResult& r) {
  for (const char* value : {kChildName, kChildKana, kAddress, kReason}) {
    EXPECT_EQ(r.detail.find(value), std::string::npos) << r.detail;
  }
}

TEST_F(WebhookChannel, PostsTheNoticeAsJsonWithItsIdempotencyKeyOverMutualTls) {
  Receiver receiver(tls());
  auto webhook = channel(receiver.url());
  EXPECT_STREQ(webhook->name(), "webhook");
  const auto result = webhook->deliver(sample_delivery("n-42.r-7.hook"));
  ASSERT_EQ(result.outcome, ChannelResult::Outcome::delivered) << result.detail;
  EXPECT_EQ(result.detail,
            "webhook localhost:" + std::to_string(receiver.port()) + " answered 201");
  expect_no_personal_data(result);  // the receiver echoed the notice back

  const auto got = receiver.received();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].idempotency_key, "n-42.r-7.hook");
  EXPECT_EQ(got[0].attempt, "1");
  EXPECT_EQ(got[0].content_type, "application/json; charset=utf-8");
  EXPECT_EQ(got[0].client_cn, "tsunagu_hub");

  Poco::JSON::Parser parser;
  auto json = parser.parse(got[0].body).extract<Poco::JSON::Object::Ptr>();
  EXPECT_EQ(json->getValue<std::string>("delivery_id"), "n-42.r-7.hook");
  EXPECT_EQ(json->getValue<std::string>("notice_id"), "n-42");
  EXPECT_EQ(json->getValue<std::string>("kind_label"), "乳幼児健診未受診");
  EXPECT_EQ(json->getValue<std::string>("legal_basis"), "児童福祉法第25条の3");
  EXPECT_EQ(json->getValue<std::string>("due_at"), "2019-06-07T17:00:00+09:00");
  EXPECT_EQ(json->getObject("recipient")->getValue<std::string>("id"), "officer-07");
  auto fields = json->getObject("fields");
  EXPECT_EQ(fields->getValue<std::string>("氏名"), kChildName);
  EXPECT_EQ(fields->getValue<std::string>("備考"), "<注意> & \"引継ぎ\"");
  EXPECT_EQ(fields->size(), 5u);
  // Only what the notice is for: not the officer's name or address.
  EXPECT_EQ(got[0].body.find("liaison07@"), std::string::npos);
  EXPECT_EQ(got[0].body.find("佐藤"), std::string::npos);
}

TEST_F(WebhookChannel, ServerErrorsAreRetriedWithTheSameKeyAndBodyUntilTheReceiverIsBack) {
  Receiver receiver(tls());
  auto webhook = channel(receiver.url());
  auto d = sample_delivery("n-42.r-7.hook");
  for (const int status : {500, 503, 408, 429}) {
    receiver.behave({Behaviour::Kind::answer, status, 0});
    const auto r = webhook->deliver(d);
    EXPECT_EQ(r.outcome, ChannelResult::Outcome::retry) << status << ": " << r.detail;
    EXPECT_NE(r.detail.find("answered " + std::to_string(status)), std::string::npos) << r.detail;
    expect_no_personal_data(r);
    ++d.attempt;
  }
  receiver.behave({});  // back to 201
  const auto r = webhook->deliver(d);
  EXPECT_EQ(r.outcome, ChannelResult::Outcome::delivered) << r.detail;

  const auto got = receiver.received();
  ASSERT_EQ(got.size(), 5u);
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].idempotency_key, "n-42.r-7.hook");
    EXPECT_EQ(got[i].attempt, std::to_string(i + 1));
    EXPECT_EQ(got[i].body, got[0].body) << "a retry sends the same body";
  }
}

TEST_F(WebhookChannel, ClientErrorsAreDeadAtOnce) {
  Receiver receiver(tls());
  auto webhook = channel(receiver.url());
  for (const int status : {400, 403, 404, 422}) {
    receiver.behave({Behaviour::Kind::answer, status, 0});
    const auto r = webhook->deliver(sample_delivery());
    EXPECT_EQ(r.outcome, ChannelResult::Outcome::dead) << status << ": " << r.detail;
    EXPECT_NE(r.detail.find("answered " + std::to_string(status) + ": the receiver refuses"),
              std::string::npos)
        << r.detail;
  }
  receiver.behave({Behaviour::Kind::answer, 302, 0});
  EXPECT_EQ(webhook->deliver(sample_delivery()).outcome, ChannelResult::Outcome::dead);
}

TEST_F(WebhookChannel, AnAnswerPastTheTimeoutIsRetriedAndTheRetryCarriesTheSameKey) {
  Receiver receiver(tls());
  auto s = settings(receiver.url());
  s["timeout_ms"] = "300";
  auto webhook = registry_.create_channel("webhook", s);
  receiver.behave({Behaviour::Kind::late, 201, 5000});
  auto d = sample_delivery("late-1");
  const auto started = std::chrono::steady_clock::now();
  const auto r = webhook->deliver(d);
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(r.outcome, ChannelResult::Outcome::retry) << r.detail;
  EXPECT_NE(r.detail.find("timed out after 300 ms (receive the response)"), std::string::npos)
      << r.detail;
  EXPECT_LT(took, std::chrono::seconds(4)) << "the channel must not wait for the late answer";

  // The receiver did get it; the retry tells it that this is the same delivery.
  receiver.behave({});
  d.attempt = 2;
  EXPECT_EQ(webhook->deliver(d).outcome, ChannelResult::Outcome::delivered);
  const auto got = receiver.received();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].idempotency_key, got[1].idempotency_key);
}

TEST_F(WebhookChannel, ADroppedConnectionIsRetried) {
  Receiver receiver(tls());
  auto webhook = channel(receiver.url());
  receiver.behave({Behaviour::Kind::drop, 0, 0});
  const auto r = webhook->deliver(sample_delivery("drop-1"));
  EXPECT_EQ(r.outcome, ChannelResult::Outcome::retry) << r.detail;
  receiver.behave({});
  EXPECT_EQ(webhook->deliver(sample_delivery("drop-1")).outcome, ChannelResult::Outcome::delivered);
}

TEST_F(WebhookChannel, OneChannelServesSeveralThreadsAtOnce) {
  Receiver receiver(tls());
  auto webhook = channel(receiver.url());
  std::vector<std::thread> threads;
  threads.reserve(4);
  std::atomic<int> delivered{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5; ++i) {
        const auto id = "t" + std::to_string(t) + "-" + std::to_string(i);
        if (webhook->deliver(sample_delivery(id)).outcome == ChannelResult::Outcome::delivered) {
          ++delivered;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(delivered.load(), 20);
  std::set<std::string> keys;
  for (const auto& r : receiver.received()) keys.insert(r.idempotency_key);
  EXPECT_EQ(keys.size(), 20u);
}

TEST_F(WebhookChannel, ANonListeningPortIsRetried) {
  std::string url;
  {
    Receiver gone(tls());
    url = gone.url();
  }
  auto webhook = channel(url);
  const auto r = webhook->deliver(sample_delivery());
  EXPECT_EQ(r.outcome, ChannelResult::Outcome::retry) << r.detail;
  EXPECT_NE(r.detail.find("cannot connect and send the request: Connection refused"),
            std::string::npos)
      << r.detail;
}

TEST_F(WebhookChannel, AReceiverWhoseCertificateTheCaDidNotIssueGetsNothing) {
  Receiver impostor(other_ca());  // a server certificate from another CA
  auto webhook = channel(impostor.url());
  const auto r = webhook->deliver(sample_delivery());
  EXPECT_EQ(r.outcome, ChannelResult::Outcome::retry) << r.detail;
  EXPECT_NE(r.detail.find("TLS failed"), std::string::npos) << r.detail;
  EXPECT_TRUE(impostor.received().empty()) << "no byte of the notice may reach it";
}

TEST_F(WebhookChannel, TheReceiverRefusesAClientCertificateFromAnotherCa) {
  Receiver receiver(tls());
  auto s = settings(receiver.url(), other_ca());
  auto webhook = registry_.create_channel("webhook", s);
  const auto r = webhook->deliver(sample_delivery());
  EXPECT_EQ(r.outcome, ChannelResult::Outcome::retry) << r.detail;
  EXPECT_TRUE(receiver.received().empty());
}

TEST_F(WebhookChannel, TheHostNameMustMatchTheCertificate) {
  Receiver receiver(tls());
  // The certificate is for localhost, 127.0.0.1 and ::1; 127.0.0.2 is loopback too, but not in it.
  auto webhook =
      channel("https://127.0.0.2:" + std::to_string(receiver.port()) + "/tsunagu/notices");
  const auto r = webhook->deliver(sample_delivery());
  EXPECT_EQ(r.outcome, ChannelResult::Outcome::retry) << r.detail;
  EXPECT_TRUE(receiver.received().empty());
}

TEST_F(WebhookChannel, TextThatIsNotUtf8IsDeadAndNamesTheField) {
  Receiver receiver(tls());
  auto webhook = channel(receiver.url());
  auto d = sample_delivery();
  d.fields["住所"] = "北区\xC3";
  const auto r = webhook->deliver(d);
  EXPECT_EQ(r.outcome, ChannelResult::Outcome::dead);
  EXPECT_NE(r.detail.find("field '住所' contains invalid UTF-8 at byte offset 6"),
            std::string::npos)
      << r.detail;
  EXPECT_TRUE(receiver.received().empty());
}

TEST_F(WebhookChannel, FactoryRefusesBadSettings) {
  auto s = settings("http://localhost:1/x");
  EXPECT_NE(refusal(s).find("setting 'url' is 'http://localhost:1/x', expected https://"),
            std::string::npos)
      << refusal(s);
  s = settings("https://localhost:1/x");
  s["timeout_ms"] = "0";
  EXPECT_NE(refusal(s).find("setting 'timeout_ms' is '0'"), std::string::npos);
  s = settings("https://localhost:1/x");
  s["certificate"] = (tls() / "missing.crt").string();
  EXPECT_NE(refusal(s).find("cannot set up TLS with certificate"), std::string::npos) << refusal(s);
  s = settings("https://localhost:1/x");
  s.erase("private_key");
  EXPECT_NE(refusal(s).find("setting 'private_key' is required"), std::string::npos);
  s = settings("https://localhost:1/x");
  s["verify"] = "off";
  EXPECT_NE(refusal(s).find("unknown setting 'verify'"), std::string::npos);
}

}  // namespace
