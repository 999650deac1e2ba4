// The smtp channel plugin, loaded through the registry, sending to a real SMTP server on
// loopback: tests/channels/smtp_peer.py (aiosmtpd) with STARTTLS required, AUTH, and replies a
// test can force (451, 550, …). The peer decodes every message with Python's email package, so
// the Japanese subject and body are checked as a mail reader sees them.
#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/NetSSL.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Process.h>

#include "channels/channel_test_support.hpp"
#include "support/temp_dir.hpp"

namespace {

using namespace tsunagu_test;
using tsunagu::ChannelResult;
namespace fs = std::filesystem;

constexpr const char* kUser = "tsunagu-hub";
constexpr const char* kPassword = "correct horse battery";

// One running smtp_peer.py, stopped (SIGTERM) and waited for when destroyed.
class SmtpPeer {
 public:
  SmtpPeer(const fs::path& dir, const fs::path& tls, std::vector<std::string> extra = {})
      : dir_(dir) {
    fs::create_directories(dir_);
    std::vector<std::string> args{TSUNAGU_SMTP_PEER,
                                  "--dir",
                                  dir_.string(),
                                  "--cert",
                                  (tls / "server.crt").string(),
                                  "--key",
                                  (tls / "server.key").string()};
    args.insert(args.end(), extra.begin(), extra.end());
    handle_ =
        std::make_unique<Poco::ProcessHandle>(Poco::Process::launch(TSUNAGU_TEST_PYTHON3, args));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!fs::exists(dir_ / "port")) {
      if (!Poco::Process::isRunning(*handle_)) {
        throw std::runtime_error(std::string("smtp_peer.py exited before listening: is "
                                             "python3-aiosmtpd installed for ") +
                                 TSUNAGU_TEST_PYTHON3 + "? (scripts/test.sh installs it)");
      }
      if (std::chrono::steady_clock::now() > deadline) {
        throw std::runtime_error("smtp_peer.py did not listen within 30 s");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    port_ = std::stoi(read_file(dir_ / "port"));
  }
  ~SmtpPeer() {
    try {
      Poco::Process::requestTermination(handle_->id());
      handle_->wait();
    } catch (...) {
    }
  }
  SmtpPeer(const SmtpPeer&) = delete;
  SmtpPeer& operator=(const SmtpPeer&) = delete;

  int port() const { return port_; }
  // While set, `stage` (mail, rcpt or data) answers `reply`.
  void force(const std::string& stage, const std::string& reply) const {
    std::ofstream(dir_ / ("reply-" + stage), std::ios::binary) << reply;
  }
  void accept(const std::string& stage) const { fs::remove(dir_ / ("reply-" + stage)); }

  std::vector<Poco::JSON::Object::Ptr> messages() const {
    std::vector<Poco::JSON::Object::Ptr> out;
    for (int n = 1; fs::exists(dir_ / "messages" / (std::to_string(n) + ".json")); ++n) {
      Poco::JSON::Parser parser;
      out.push_back(parser.parse(read_file(dir_ / "messages" / (std::to_string(n) + ".json")))
                        .extract<Poco::JSON::Object::Ptr>());
    }
    return out;
  }

 private:
  fs::path dir_;
  std::unique_ptr<Poco::ProcessHandle> handle_;
  int port_ = 0;
};

class SmtpChannel : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    Poco::Net::initializeSSL();
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

  void SetUp() override { load_channel_plugin(registry_, "smtp"); }

  std::unique_ptr<SmtpPeer> peer(const fs::path& certificates = tls(), bool with_auth = true,
                                 std::vector<std::string> extra = {}) {
    if (with_auth) {
      extra.insert(extra.end(), {"--user", kUser, "--password", kPassword});
    }
    return std::make_unique<SmtpPeer>(dir_ / ("peer" + std::to_string(++peers_)), certificates,
                                      extra);
  }
  tsunagu::PluginSettings settings(int port) {
    const fs::path password_file = dir_.write("smtp.password", std::string(kPassword) + "\n");
    fs::permissions(password_file, fs::perms::owner_read | fs::perms::owner_write);
    return {{"host", "localhost"},
            {"port", std::to_string(port)},
            {"ca", (tls() / "ca.crt").string()},
            {"user", kUser},
            {"password_file", password_file.string()},
            {"from", "tsunagu@city.sapporo.example"},
            {"inbox_url", "https://tsunagu.city.sapporo.example/inbox"},
            {"helo", "hub.city.sapporo.example"},
            {"timeout_ms", "5000"}};
  }
  std::shared_ptr<tsunagu::Channel> channel(int port) {
    return registry_.create_channel("smtp", settings(port));
  }
  std::string refusal(const tsunagu::PluginSettings& s) {
    try {
      registry_.create_channel("smtp", s);
    } catch (const tsunagu::plugin::PluginError& e) {
      return e.what();
    }
    return "accepted";
  }

  static TempDir* certificates_;
  tsunagu::plugin::PluginRegistry registry_;
  TempDir dir_;
  int peers_ = 0;
};
TempDir* SmtpChannel::certificates_ = nullptr;

void expect_no_personal_data(const std::string& text) {
  const auto d = sample_delivery();
  std::vector<std::string> secrets{d.recipient_name, d.reason, d.title};
  for (const auto& [name, value] : d.fields) secrets.push_back(value);
  for (const auto& secret : secrets) {
    EXPECT_EQ(text.find(secret), std::string::npos) << "leaked: " << secret;
  }
}

TEST_F(SmtpChannel, SendsAJapaneseSummaryWithoutPersonalDataOverStartTlsWithAuth) {
  auto relay = peer();
  auto smtp = channel(relay->port());
  EXPECT_STREQ(smtp->name(), "smtp");
  const auto result = smtp->deliver(sample_delivery("n-42.r-7.mail"));
  ASSERT_EQ(result.outcome, ChannelResult::Outcome::delivered) << result.detail;
  EXPECT_EQ(result.detail, "smtp localhost:" + std::to_string(relay->port()) +
                               " accepted the message (250 2.0.0)");

  const auto messages = relay->messages();
  ASSERT_EQ(messages.size(), 1u);
  const auto& m = messages[0];
  EXPECT_TRUE(m->getValue<bool>("tls"));
  EXPECT_EQ(m->getValue<std::string>("auth_mechanism"), "PLAIN");
  EXPECT_EQ(m->getValue<std::string>("auth_login"), kUser);
  EXPECT_EQ(m->getValue<std::string>("mail_from"), "tsunagu@city.sapporo.example");
  EXPECT_EQ(m->getArray("rcpt_tos")->getElement<std::string>(0), "liaison07@city.sapporo.example");
  EXPECT_EQ(m->getArray("defects")->size(), 0u);

  EXPECT_EQ(m->getValue<std::string>("subject"), "【つなぐ】新しい通知が3件あります");
  const std::string body = m->getValue<std::string>("body");
  EXPECT_NE(body.find("新しい通知が3件あります。最も早い期限は2019年6月6日(木) 12:30です。"),
            std::string::npos)
      << body;
  EXPECT_NE(body.find("今回の通知: 乳幼児健診未受診（期限 2019年6月7日(金) 17:00）"),
            std::string::npos)
      << body;
  EXPECT_NE(body.find("https://tsunagu.city.sapporo.example/inbox"), std::string::npos) << body;

  auto headers = m->getObject("headers");
  EXPECT_EQ(headers->getValue<std::string>("Message-ID"),
            "<n-42.r-7.mail.tsunagu@city.sapporo.example>");
  EXPECT_EQ(headers->getValue<std::string>("From"), "つなぐ <tsunagu@city.sapporo.example>");
  EXPECT_EQ(headers->getValue<std::string>("Content-Type"), "text/plain; charset=\"UTF-8\"");
  EXPECT_EQ(headers->getValue<std::string>("MIME-Version"), "1.0");

  // Neither the mail as sent (raw, encoded) nor as read (decoded) holds any personal data.
  const std::string raw = m->getValue<std::string>("raw");
  EXPECT_NE(raw.find("\r\nSubject: =?UTF-8?B?"), std::string::npos)
      << "the subject is MIME-encoded";
  expect_no_personal_data(raw);
  expect_no_personal_data(body);
  expect_no_personal_data(m->getValue<std::string>("subject"));
  expect_no_personal_data(result.detail);
}

TEST_F(SmtpChannel, AuthLoginWorksToo) {
  auto relay = peer();
  auto s = settings(relay->port());
  s["auth"] = "login";
  s.erase("password_file");
  s["password"] = kPassword;
  auto smtp = registry_.create_channel("smtp", s);
  const auto r = smtp->deliver(sample_delivery());
  ASSERT_EQ(r.outcome, ChannelResult::Outcome::delivered) << r.detail;
  EXPECT_EQ(relay->messages().at(0)->getValue<std::string>("auth_mechanism"), "LOGIN");
}

TEST_F(SmtpChannel, A4xxReplyIsRetriedAndTheRetryGoesThroughOnceTheRelayAccepts) {
  auto relay = peer();
  auto smtp = channel(relay->port());
  auto d = sample_delivery("n-42.r-7.mail");
  relay->force("data", "451 4.3.0 Try again later");
  auto r = smtp->deliver(d);
  EXPECT_EQ(r.outcome, ChannelResult::Outcome::retry) << r.detail;
  EXPECT_NE(r.detail.find("end of DATA answered 451 4.3.0: try again later"), std::string::npos)
      << r.detail;
  relay->accept("data");
  relay->force("mail", "421 4.7.0 Too busy");
  ++d.attempt;
  r = smtp->deliver(d);
  EXPECT_EQ(r.outcome, ChannelResult::Outcome::retry) << r.detail;
  EXPECT_NE(r.detail.find("MAIL FROM answered 421 4.7.0"), std::string::npos) << r.detail;
  relay->accept("mail");
  ++d.attempt;
  r = smtp->deliver(d);
  EXPECT_EQ(r.outcome, ChannelResult::Outcome::delivered) << r.detail;
  const auto messages = relay->messages();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0]->getObject("headers")->getValue<std::string>("Message-ID"),
            "<n-42.r-7.mail.tsunagu@city.sapporo.example>");
}

TEST_F(SmtpChannel, AnUnknownMailboxIsDeadWithoutQuotingTheAddress) {
  auto relay = peer();
  auto smtp = channel(relay->port());
  relay->force("rcpt", "550 5.1.1 <liaison07@city.sapporo.example>: No such mailbox");
  const auto r = smtp->deliver(sample_delivery());
  EXPECT_EQ(r.outcome, ChannelResult::Outcome::dead) << r.detail;
  EXPECT_NE(r.detail.find("RCPT TO answered 550 5.1.1: refused for good"), std::string::npos)
      << r.detail;
  EXPECT_EQ(r.detail.find("liaison07"), std::string::npos) << r.detail;
  EXPECT_TRUE(relay->messages().empty());
}

TEST_F(SmtpChannel, WrongCredentialsAreDead) {
  auto relay = peer();
  auto s = settings(relay->port());
  s.erase("password_file");
  s["password"] = "wrong";
  const auto r = registry_.create_channel("smtp", s)->deliver(sample_delivery());
  EXPECT_EQ(r.outcome, ChannelResult::Outcome::dead) << r.detail;
  EXPECT_NE(r.detail.find("AUTH answered 535"), std::string::npos) << r.detail;
  EXPECT_EQ(r.detail.find("wrong"), std::string::npos);
}

TEST_F(SmtpChannel, ARelayWithoutStartTlsGetsNothingUnlessStartTlsIsOff) {
  auto relay = peer(tls(), false, {"--no-tls"});
  auto s = settings(relay->port());
  s.erase("user");
  s.erase("password_file");
  auto r = registry_.create_channel("smtp", s)->deliver(sample_delivery());
  EXPECT_EQ(r.outcome, ChannelResult::Outcome::retry) << r.detail;
  EXPECT_NE(r.detail.find("does not offer STARTTLS, which is required"), std::string::npos)
      << r.detail;
  EXPECT_TRUE(relay->messages().empty());

  s.erase("ca");
  s["starttls"] = "off";
  r = registry_.create_channel("smtp", s)->deliver(sample_delivery());
  EXPECT_EQ(r.outcome, ChannelResult::Outcome::delivered) << r.detail;
  ASSERT_EQ(relay->messages().size(), 1u);
  EXPECT_FALSE(relay->messages()[0]->getValue<bool>("tls"));
}

TEST_F(SmtpChannel, ARelayWhoseCertificateTheCaDidNotIssueGetsNothing) {
  auto relay = peer(other_ca());
  const auto r = channel(relay->port())->deliver(sample_delivery());
  EXPECT_EQ(r.outcome, ChannelResult::Outcome::retry) << r.detail;
  EXPECT_NE(r.detail.find("TLS failed (TLS handshake)"), std::string::npos) << r.detail;
  EXPECT_TRUE(relay->messages().empty());
}

TEST_F(SmtpChannel, NoRelayListeningIsRetried) {
  int port = 0;
  {
    auto gone = peer();
    port = gone->port();
  }
  const auto r = channel(port)->deliver(sample_delivery());
  EXPECT_EQ(r.outcome, ChannelResult::Outcome::retry) << r.detail;
  EXPECT_NE(r.detail.find("connect failed"), std::string::npos) << r.detail;
}

TEST_F(SmtpChannel, ARelayThatNeverAnswersTimesOutAndIsRetried) {
  // The kernel completes the TCP handshake for the backlog; nobody ever says 220.
  Poco::Net::ServerSocket silent(Poco::Net::SocketAddress("127.0.0.1", 0), 4);
  auto s = settings(silent.address().port());
  s["timeout_ms"] = "300";
  const auto started = std::chrono::steady_clock::now();
  const auto r = registry_.create_channel("smtp", s)->deliver(sample_delivery());
  EXPECT_EQ(r.outcome, ChannelResult::Outcome::retry) << r.detail;
  EXPECT_NE(r.detail.find("timed out after 300 ms (greeting)"), std::string::npos) << r.detail;
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
}

TEST_F(SmtpChannel, ARecipientWithoutAUsableAddressIsDead) {
  auto relay = peer();
  auto smtp = channel(relay->port());
  for (const std::string address : {"", "no-at-sign", "a@b@c", "x@y>\r\nRCPT TO:<z@w"}) {
    auto d = sample_delivery();
    d.recipient_email = address;
    const auto r = smtp->deliver(d);
    EXPECT_EQ(r.outcome, ChannelResult::Outcome::dead) << address;
    EXPECT_EQ(r.detail, "smtp: recipient officer-07 has no usable e-mail address");
  }
  EXPECT_TRUE(relay->messages().empty());
}

TEST_F(SmtpChannel, FactoryRefusesBadSettings) {
  auto s = settings(25);
  s["colour"] = "red";
  EXPECT_NE(refusal(s).find("unknown setting 'colour'"), std::string::npos);
  s = settings(25);
  fs::permissions(s["password_file"], fs::perms::group_read, fs::perm_options::add);
  EXPECT_NE(refusal(s).find("is readable by group or others"), std::string::npos) << refusal(s);
  s = settings(25);
  s["starttls"] = "off";
  s.erase("ca");
  EXPECT_NE(refusal(s).find("would send the password in clear"), std::string::npos);
  s = settings(25);
  s["password"] = "x";
  EXPECT_NE(refusal(s).find("either setting 'password' or 'password_file'"), std::string::npos);
  s = settings(25);
  s["inbox_url"] = "inbox";
  EXPECT_NE(refusal(s).find("setting 'inbox_url' is 'inbox'"), std::string::npos);
  s = settings(25);
  s["from"] = "Tsunagu <t@x>";
  EXPECT_NE(refusal(s).find("setting 'from'"), std::string::npos);
  s = settings(25);
  s.erase("host");
  EXPECT_NE(refusal(s).find("setting 'host' is required"), std::string::npos);
  s = settings(25);
  s["auth"] = "cram-md5";
  EXPECT_NE(refusal(s).find("setting 'auth' is 'cram-md5'"), std::string::npos);
}

}  // namespace
