#include "routing/signal_window.hpp"

#include <algorithm>
#include <cstddef>

namespace tsunagu::routing {

SignalWindow best_window(const std::vector<WindowSignal>& signals, std::int64_t t,
                         std::int64_t length) {
  // covered_before[i]: covered signals among the first i.
  std::vector<std::size_t> covered_before(signals.size() + 1, 0);
  for (std::size_t i = 0; i < signals.size(); ++i) {
    covered_before[i + 1] = covered_before[i] + (signals[i].covered ? 1 : 0);
  }
  const auto at_by = [](std::int64_t at, const WindowSignal& s) { return at < s.at; };
  SignalWindow best;
  for (std::size_t i = 0; i < signals.size(); ++i) {
    const std::int64_t start = signals[i].at;
    if (start > t || start + length < t) continue;
    // A signal of the same moment as the one before starts the same window.
    if (i > 0 && signals[i - 1].at == start) continue;
    const auto last = std::upper_bound(signals.begin() + static_cast<std::ptrdiff_t>(i),
                                       signals.end(), start + length, at_by);
    const auto e = static_cast<std::size_t>(last - signals.begin());
    const std::size_t covered = covered_before[e] - covered_before[i];
    if (covered > best.covered) best = {i, e, covered};
  }
  return best;
}

}  // namespace tsunagu::routing
