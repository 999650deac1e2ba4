// Login throttling: free failures, exponential lock-out, per account and per address, forgetting,
// and bounded memory — on a manual clock, nothing sleeps.
#include <gtest/gtest.h>

#include "web/login_throttle.hpp"

namespace {

using namespace tsunagu::web;
using std::chrono::seconds;

class Throttle : public ::testing::Test {
 protected:
  tsunagu::ManualClock clock{tsunagu::TimePoint(std::chrono::hours(24 * 365 * 50))};
  ThrottlePolicy account{3, seconds(2), seconds(60), seconds(3600), 100};
  ThrottlePolicy address{10, seconds(2), seconds(60), seconds(3600), 100};
  LoginThrottle throttle{clock, account, address};

  void fail(int n, const std::string& login = "alice", const std::string& from = "192.0.2.1") {
    for (int i = 0; i < n; ++i) throttle.record_failure(login, from);
  }
};

TEST_F(Throttle, TheFirstFailuresAreFree) {
  fail(2);
  EXPECT_EQ(throttle.wait_before("alice", "192.0.2.1"), seconds(0));
}

TEST_F(Throttle, ThenTheAccountIsLockedForLongerEachTime) {
  fail(3);
  EXPECT_EQ(throttle.wait_before("alice", "192.0.2.9"), seconds(2));  // any address
  clock.advance(seconds(2));
  EXPECT_EQ(throttle.wait_before("alice", "192.0.2.9"), seconds(0));
  fail(1);
  EXPECT_EQ(throttle.wait_before("alice", "192.0.2.9"), seconds(4));
  clock.advance(seconds(4));
  fail(1);
  EXPECT_EQ(throttle.wait_before("alice", "192.0.2.9"), seconds(8));
  for (int i = 0; i < 10; ++i) {
    clock.advance(seconds(60));
    fail(1);
  }
  EXPECT_EQ(throttle.wait_before("alice", "192.0.2.9"), seconds(60));  // the ceiling
  EXPECT_EQ(throttle.wait_before("bob", "192.0.2.9"), seconds(0));     // others unaffected
}

TEST_F(Throttle, LoginNamesAreThrottledWhateverTheirCase) {
  fail(3, "Alice");
  EXPECT_GT(throttle.wait_before("alice", "198.51.100.1"), seconds(0));
}

TEST_F(Throttle, AnAddressGuessingManyAccountsIsLocked) {
  for (int i = 0; i < 10; ++i) fail(1, "user" + std::to_string(i));
  EXPECT_EQ(throttle.wait_before("someone-else", "192.0.2.1"), seconds(2));
  EXPECT_EQ(throttle.wait_before("someone-else", "192.0.2.2"), seconds(0));
}

TEST_F(Throttle, SuccessClearsTheAccountButNotTheAddress) {
  for (int i = 0; i < 10; ++i) fail(1, "user" + std::to_string(i));
  fail(3, "alice", "198.51.100.1");
  throttle.record_success("alice");
  EXPECT_EQ(throttle.wait_before("alice", "198.51.100.1"), seconds(0));
  EXPECT_GT(throttle.wait_before("alice", "192.0.2.1"), seconds(0));
}

TEST_F(Throttle, OldFailuresAreForgotten) {
  fail(2);
  clock.advance(seconds(3600));
  fail(1);  // counts from one again
  EXPECT_EQ(throttle.wait_before("alice", "192.0.2.1"), seconds(0));
}

TEST_F(Throttle, MemoryIsBounded) {
  // 150 addresses with one failure each; the table keeps at most 100 and still works.
  for (int i = 0; i < 150; ++i) fail(1, "alice" + std::to_string(i), "10.0.0." + std::to_string(i));
  fail(3, "mallory", "10.9.9.9");
  EXPECT_GT(throttle.wait_before("mallory", "10.9.9.9"), seconds(0));
}

TEST(AddressWithoutPort, StripsThePortOfIpv4AndIpv6) {
  EXPECT_EQ(address_without_port("192.0.2.1:51234"), "192.0.2.1");
  EXPECT_EQ(address_without_port("[::1]:443"), "::1");
  EXPECT_EQ(address_without_port("::1"), "::1");
  EXPECT_EQ(address_without_port("192.0.2.1"), "192.0.2.1");
}

}  // namespace
