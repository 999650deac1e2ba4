// A minimal channel for loader and outbox tests: "delivers" by describing the delivery in its
// result's detail (id, attempt, and the unread summary the hub counted), and answers with the
// outcome named by its setting `outcome` (delivered by default).
#pragma once

#include <mutex>
#include <new>
#include <string>

#include <tsunagu/channel.hpp>

namespace tsunagu_test {

class EchoChannel final : public tsunagu::Channel {
 public:
  explicit EchoChannel(tsunagu::ChannelResult::Outcome outcome) : outcome_(outcome) {}
  const char* name() const noexcept override { return "echo_channel"; }
  tsunagu::ChannelResult deliver(const tsunagu::ChannelDelivery& delivery) noexcept override {
    tsunagu::ChannelResult result;
    result.outcome = outcome_;
    try {
      const std::lock_guard<std::mutex> lock(mutex_);
      result.detail =
          "echo " + delivery.delivery_id + " attempt " + std::to_string(delivery.attempt);
      // What the hub counted for a summary (the outbox tests read it back from last_detail).
      if (delivery.unread_for_recipient > 0) {
        result.detail += " unread " + std::to_string(delivery.unread_for_recipient) + " earliest " +
                         delivery.earliest_due_for_recipient;
      }
    } catch (...) {
    }
    return result;
  }

 private:
  tsunagu::ChannelResult::Outcome outcome_;
  std::mutex mutex_;
};

inline tsunagu::Channel* create_echo_channel(const tsunagu::PluginSettings& settings,
                                             std::string& error) noexcept {
  auto outcome = tsunagu::ChannelResult::Outcome::delivered;
  for (const auto& [key, value] : settings) {
    if (key != "outcome") {
      error = "echo_channel: unknown setting '" + key + "'";
      return nullptr;
    }
    if (value == "retry") {
      outcome = tsunagu::ChannelResult::Outcome::retry;
    } else if (value == "dead") {
      outcome = tsunagu::ChannelResult::Outcome::dead;
    } else if (value == "bogus") {  // an out-of-range value, as a broken plugin might return
      outcome = static_cast<tsunagu::ChannelResult::Outcome>(99);
    } else if (value != "delivered") {
      error = "echo_channel: setting outcome is '" + value + "'";
      return nullptr;
    }
  }
  return new (std::nothrow) EchoChannel(outcome);
}

}  // namespace tsunagu_test
