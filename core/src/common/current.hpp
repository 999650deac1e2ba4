// The current version of a piece of configuration that a reload may replace while other threads
// use it (the routing configuration, under SIGHUP).
//
// A reader takes a snapshot (a shared_ptr) and works on it to the end of what it is doing: an
// event being routed when the configuration is swapped finishes on the version it started with,
// and that version lives until its last reader lets go. A mutex rather than
// std::atomic<std::shared_ptr>: the swap is rare, a read is one lock and one reference count, and
// the behaviour is the same on every standard library the project builds with.
#pragma once

#include <memory>
#include <mutex>
#include <utility>

namespace tsunagu {

template <typename T>
class Current {
 public:
  explicit Current(std::shared_ptr<const T> value) : value_(std::move(value)) {}

  std::shared_ptr<const T> get() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return value_;
  }

  // Replaces the value for every later get(); readers holding the old one keep it.
  void set(std::shared_ptr<const T> value) {
    std::lock_guard<std::mutex> lock(mutex_);
    value_.swap(value);
    // `value` (the old one) is released after the lock, outside the critical section.
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const T> value_;
};

}  // namespace tsunagu
