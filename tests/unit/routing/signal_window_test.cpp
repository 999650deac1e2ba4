#include "routing/signal_window.hpp"

#include <algorithm>
#include <random>

#include <gtest/gtest.h>

namespace {

using tsunagu::routing::best_window;
using tsunagu::routing::SignalWindow;
using tsunagu::routing::WindowSignal;

// The rule as the router first wrote it: every window scanned again, the first with the most
// covered signals kept.
SignalWindow scanned(const std::vector<WindowSignal>& signals, std::int64_t t,
                     std::int64_t length) {
  SignalWindow best;
  for (const WindowSignal& start : signals) {
    if (start.at > t || start.at + length < t) continue;
    SignalWindow w;
    bool first = true;
    for (std::size_t i = 0; i < signals.size(); ++i) {
      if (signals[i].at < start.at || signals[i].at > start.at + length) continue;
      if (first) w.begin = i, first = false;
      w.end = i + 1;
      w.covered += signals[i].covered ? 1 : 0;
    }
    if (w.covered > best.covered) best = w;
  }
  return best;
}

std::vector<WindowSignal> at(std::initializer_list<std::pair<std::int64_t, bool>> list) {
  std::vector<WindowSignal> out;
  for (const auto& [when, covered] : list) out.push_back({when, covered});
  return out;
}

TEST(SignalWindowTest, TakesTheWindowWithTheMostCoveredSignalsThatHoldsTheEvent) {
  // Length 10, event at 20. Windows holding 20 start at 10..20: [10,20] holds 10, 15, 20 (two
  // covered); [15,25] holds 15, 20, 25 (three covered).
  const auto s = at({{0, true}, {10, false}, {15, true}, {20, true}, {25, true}, {40, true}});
  const SignalWindow w = best_window(s, 20, 10);
  EXPECT_EQ(w.begin, 2u);
  EXPECT_EQ(w.end, 5u);
  EXPECT_EQ(w.covered, 3u);
}

TEST(SignalWindowTest, OfEqualWindowsTheEarliestAndSignalsOfOneMomentTogether) {
  // [5,15] and [10,20] both hold two covered signals: the earlier wins. The two signals at 5
  // start one window, which holds both.
  const auto s = at({{5, true}, {5, false}, {10, true}, {20, true}});
  const SignalWindow w = best_window(s, 12, 10);
  EXPECT_EQ(w.begin, 0u);
  EXPECT_EQ(w.end, 3u);
  EXPECT_EQ(w.covered, 2u);
}

TEST(SignalWindowTest, NoWindowWithoutACoveredSignalOrOneHoldingTheEvent) {
  EXPECT_EQ(best_window(at({{1, false}, {2, false}}), 2, 10).end, 0u);
  EXPECT_EQ(best_window(at({{1, true}}), 30, 10).end, 0u);   // the event is after every window
  EXPECT_EQ(best_window(at({{31, true}}), 30, 10).end, 0u);  // and before this one
  EXPECT_EQ(best_window({}, 30, 10).end, 0u);
}

TEST(SignalWindowTest, AgreesWithScanningEveryWindow) {
  std::mt19937 random(20191206);
  for (int round = 0; round < 2000; ++round) {
    std::uniform_int_distribution<int> count(0, 30);
    std::uniform_int_distribution<std::int64_t> when(0, 60);
    std::vector<WindowSignal> s(static_cast<std::size_t>(count(random)));
    for (auto& x : s) x = {when(random), random() % 3 != 0};
    std::sort(s.begin(), s.end(),
              [](const WindowSignal& a, const WindowSignal& b) { return a.at < b.at; });
    const std::int64_t t = when(random);
    const std::int64_t length = std::uniform_int_distribution<std::int64_t>(0, 20)(random);
    const SignalWindow want = scanned(s, t, length);
    const SignalWindow got = best_window(s, t, length);
    ASSERT_EQ(got.covered, want.covered) << "round " << round;
    if (want.covered == 0) continue;
    ASSERT_EQ(got.begin, want.begin) << "round " << round;
    ASSERT_EQ(got.end, want.end) << "round " << round;
  }
}

}  // namespace
