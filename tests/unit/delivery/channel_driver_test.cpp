// The driver over the loader's test channel plugin (tests/plugins/echo_channel.hpp).
#include "delivery/channel_driver.hpp"

#include <gtest/gtest.h>

namespace {

using tsunagu::ChannelDelivery;
using tsunagu::ChannelResult;
using tsunagu::delivery::ChannelDriver;
using tsunagu::plugin::PluginError;
using tsunagu::plugin::PluginRegistry;

class ChannelDriverTest : public ::testing::Test {
 protected:
  void SetUp() override { registry_.load_directory(TSUNAGU_TEST_PLUGIN_DIR); }
  static ChannelDelivery delivery(const std::string& id) {
    ChannelDelivery d;
    d.delivery_id = id;
    d.notice_id = "n-1";
    d.attempt = 2;
    return d;
  }
  PluginRegistry registry_;
};

TEST_F(ChannelDriverTest, DeliversThroughTheNamedChannel) {
  ChannelDriver driver(
      registry_, {{"ok", "echo_channel", {}}, {"busy", "echo_channel", {{"outcome", "retry"}}}});
  EXPECT_EQ(driver.names(), (std::vector<std::string>{"busy", "ok"}));
  const auto ok = driver.deliver("ok", delivery("n-1.r-7.ok"));
  EXPECT_EQ(ok.outcome, ChannelResult::Outcome::delivered);
  EXPECT_EQ(ok.detail, "echo n-1.r-7.ok attempt 2");
  EXPECT_EQ(driver.deliver("busy", delivery("n-1.r-7.busy")).outcome,
            ChannelResult::Outcome::retry);
}

TEST_F(ChannelDriverTest, UnknownChannelAndBadDeliveryIdAreDead) {
  ChannelDriver driver(registry_, {{"ok", "echo_channel", {}}});
  const auto unknown = driver.deliver("fax", delivery("d1"));
  EXPECT_EQ(unknown.outcome, ChannelResult::Outcome::dead);
  EXPECT_EQ(unknown.detail, "no delivery channel named 'fax'");
  for (const std::string& id :
       std::vector<std::string>{"", ".hidden", "a/b", "../x", std::string(129, 'a')}) {
    EXPECT_EQ(driver.deliver("ok", delivery(id)).outcome, ChannelResult::Outcome::dead) << id;
  }
  EXPECT_EQ(driver.deliver("ok", delivery(std::string(128, 'a'))).outcome,
            ChannelResult::Outcome::delivered);
}

TEST_F(ChannelDriverTest, AnOutcomeOutOfRangeBecomesRetry) {
  ChannelDriver driver(registry_, {{"broken", "echo_channel", {{"outcome", "bogus"}}}});
  const auto r = driver.deliver("broken", delivery("d1"));
  EXPECT_EQ(r.outcome, ChannelResult::Outcome::retry);
  EXPECT_NE(r.detail.find("returned outcome 99"), std::string::npos) << r.detail;
}

TEST_F(ChannelDriverTest, ConfigurationErrorsNameTheChannel) {
  auto what = [&](const std::vector<tsunagu::delivery::ChannelConfig>& channels) {
    try {
      ChannelDriver driver(registry_, channels);
    } catch (const PluginError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(what({{"mail", "smtp_missing", {}}})
                .find("delivery channel 'mail': no channel plugin named 'smtp_missing'"),
            std::string::npos);
  EXPECT_NE(what({{"x", "echo_channel", {{"colour", "red"}}}})
                .find("delivery channel 'x': channel plugin 'echo_channel'"),
            std::string::npos);
  EXPECT_NE(what({{"inbox", "echo_channel", {}}}).find("is the hub's own inbox"),
            std::string::npos);
  EXPECT_NE(what({{"a", "echo_channel", {}}, {"a", "echo_channel", {}}}).find("configured twice"),
            std::string::npos);
}

}  // namespace
