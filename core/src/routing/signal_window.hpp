// Which window of a correlation rule's length an event falls into: the signals of one person,
// and the window that holds the most of those the rule's policy covers.
//
// A correlation rule fires when, within `window-days`, a person's signals reach the rule's kinds
// and systems. Among the windows that hold the new event, the router takes the one with the most
// covered signals: a window starts at a signal and reaches `length` seconds after it (both ends
// included). Signals of the same moment fall in the same windows. Done by scanning each window
// again, this was quadratic in a person's signals, and a child's reports pile up (bench B4: the
// correlation took 6-11% of the push committer's time, growing with the run); with prefix counts
// it is O(n log n).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace tsunagu::routing {

struct WindowSignal {
  std::int64_t at = 0;   // Unix seconds
  bool covered = false;  // the rule's policy covers its system and kind
};

struct SignalWindow {
  // [begin, end) of the signals given; begin == end when no window holds a covered signal.
  std::size_t begin = 0;
  std::size_t end = 0;
  std::size_t covered = 0;  // covered signals inside
};

// `signals` sorted by `at`. Of the windows [s.at, s.at + length] that start at a signal and
// hold `t`, the first (earliest start) with the most covered signals; none if no window holds a
// covered one.
SignalWindow best_window(const std::vector<WindowSignal>& signals, std::int64_t t,
                         std::int64_t length);

}  // namespace tsunagu::routing
