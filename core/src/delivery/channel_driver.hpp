// The configured delivery channels, by name, and one attempt through one of them.
//
// The outbox owns when and how often to try (back-off, jitter, dead letters); the driver owns how:
// it finds the channel, checks what it is given, calls the plugin, turns anything odd the plugin
// returns into a result the outbox can act on, and writes one log line per attempt — ids, channel,
// attempt, outcome, time and the plugin's detail, never personal data.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <tsunagu/channel.hpp>

#include "plugin/plugin_registry.hpp"

namespace tsunagu::delivery {

// One configured channel: `name` is what routes refer to ("mail", "cg-system"); `plugin` the
// channel plugin that serves it ("smtp"); `settings` go to the plugin's factory.
struct ChannelConfig {
  std::string name;
  std::string plugin;
  PluginSettings settings;
};

// "inbox" is the hub's own channel (the notice is in the store; the inbox pages show it), so no
// plugin channel may take that name.
inline constexpr const char* kInboxChannel = "inbox";

// True when `id` is usable as a delivery id: 1–128 of [A-Za-z0-9._-], not starting with '.'.
// Channels may use it in file names and headers as it is.
bool valid_delivery_id(const std::string& id) noexcept;

class ChannelDriver {
 public:
  // Creates every channel through its plugin (which validates its settings now). Throws
  // plugin::PluginError naming the channel and the reason: an unknown plugin, settings the plugin
  // refuses, a duplicate or reserved channel name.
  ChannelDriver(const plugin::PluginRegistry& registry, const std::vector<ChannelConfig>& channels);

  std::vector<std::string> names() const;
  bool has(const std::string& name) const { return channels_.count(name) != 0; }

  // One attempt through `channel`. Never throws; safe from several threads at once (channels are
  // thread-safe by contract). An unknown channel or an unusable delivery id is `dead`; an outcome
  // the plugin should never return is `retry`, with a detail that says so.
  ChannelResult deliver(const std::string& channel, const ChannelDelivery& delivery) const noexcept;

 private:
  struct Entry {
    std::string plugin;
    std::shared_ptr<Channel> channel;
  };
  std::map<std::string, Entry> channels_;
};

}  // namespace tsunagu::delivery
