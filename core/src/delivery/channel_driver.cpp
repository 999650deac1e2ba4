#include "delivery/channel_driver.hpp"

#include <chrono>
#include <exception>

#include <Poco/Logger.h>

namespace tsunagu::delivery {
namespace {

Poco::Logger& log() {
  return Poco::Logger::get("tsunagu.delivery");
}

bool known(ChannelResult::Outcome outcome) {
  return outcome == ChannelResult::Outcome::delivered || outcome == ChannelResult::Outcome::retry ||
         outcome == ChannelResult::Outcome::dead;
}

ChannelResult result(ChannelResult::Outcome outcome, std::string detail) {
  ChannelResult r;
  r.outcome = outcome;
  r.detail = std::move(detail);
  return r;
}

}  // namespace

bool valid_delivery_id(const std::string& id) noexcept {
  if (id.empty() || id.size() > 128 || id.front() == '.') return false;
  for (const char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

ChannelDriver::ChannelDriver(const plugin::PluginRegistry& registry,
                             const std::vector<ChannelConfig>& channels) {
  for (const auto& config : channels) {
    if (config.name.empty()) {
      throw plugin::PluginError("a delivery channel has no name (plugin '" + config.plugin + "')");
    }
    if (config.name == kInboxChannel) {
      throw plugin::PluginError(std::string("delivery channel '") + kInboxChannel +
                                "' is the hub's own inbox; give the " + config.plugin +
                                " channel another name");
    }
    if (channels_.count(config.name) != 0) {
      throw plugin::PluginError("delivery channel '" + config.name + "' is configured twice");
    }
    try {
      channels_[config.name] = {config.plugin,
                                registry.create_channel(config.plugin, config.settings)};
    } catch (const plugin::PluginError& e) {
      throw plugin::PluginError("delivery channel '" + config.name + "': " + e.what());
    }
  }
}

std::vector<std::string> ChannelDriver::names() const {
  std::vector<std::string> names;
  names.reserve(channels_.size());
  for (const auto& [name, entry] : channels_) names.push_back(name);
  return names;
}

ChannelResult ChannelDriver::deliver(const std::string& channel,
                                     const ChannelDelivery& delivery) const noexcept {
  try {
    ChannelResult r;
    const auto started = std::chrono::steady_clock::now();
    const auto found = channels_.find(channel);
    if (found == channels_.end()) {
      r = result(ChannelResult::Outcome::dead, "no delivery channel named '" + channel + "'");
    } else if (!valid_delivery_id(delivery.delivery_id)) {
      // The id is the hub's own, so it is not personal data; a bad one is a bug upstream.
      r = result(ChannelResult::Outcome::dead,
                 "delivery id '" + delivery.delivery_id +
                     "' is not 1-128 of A-Z a-z 0-9 . _ - (not starting with '.')");
    } else {
      r = found->second.channel->deliver(delivery);
      if (!known(r.outcome)) {
        r = result(ChannelResult::Outcome::retry,
                   "channel plugin '" + found->second.plugin + "' returned outcome " +
                       std::to_string(static_cast<std::uint32_t>(r.outcome)) +
                       ", which is none of delivered, retry, dead");
      } else if (r.detail.empty()) {
        r.detail = std::string(to_string(r.outcome)) + " (the plugin gave no detail)";
      }
    }
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - started)
                        .count();
    const std::string line = "delivery " + delivery.delivery_id + " notice " + delivery.notice_id +
                             " channel " + channel + " attempt " +
                             std::to_string(delivery.attempt) + ": " + to_string(r.outcome) +
                             " in " + std::to_string(ms) + " ms: " + r.detail;
    switch (r.outcome) {
      case ChannelResult::Outcome::delivered:
        log().information(line);
        break;
      case ChannelResult::Outcome::retry:
        log().warning(line);
        break;
      case ChannelResult::Outcome::dead:
        log().error(line);
        break;
    }
    return r;
  } catch (const std::exception& e) {
    // Only allocation or logging can get here; the outbox will try again.
    ChannelResult r;
    r.outcome = ChannelResult::Outcome::retry;
    try {
      r.detail = std::string("delivery driver failed: ") + e.what();
    } catch (...) {
    }
    return r;
  } catch (...) {
    return {};
  }
}

}  // namespace tsunagu::delivery
