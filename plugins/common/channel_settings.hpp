// The settings table every channel plugin checks its settings against (key, whether required,
// default, meaning): an unknown key or a missing required one refuses the plugin's factory, so a
// typo in the config stops start-up instead of being ignored. Header-only; each plugin includes it
// (this folder has no CMakeLists.txt, so it is not a plugin itself).
#pragma once

#include <charconv>
#include <span>
#include <string>

#include <tsunagu/plugin.hpp>

namespace tsunagu::channels {

struct SettingSpec {
  const char* key;
  bool required;
  const char* fallback;  // the default when not required and not given; nullptr: none
  const char* meaning;
};

// Fills `resolved` with `given` plus the defaults of `table`. Returns false with `error` naming
// the plugin and the setting when a key is unknown or a required one is missing or empty.
inline bool resolve_settings(const std::string& plugin, std::span<const SettingSpec> table,
                             const PluginSettings& given, PluginSettings& resolved,
                             std::string& error) {
  const std::string* unknown = nullptr;
  for (const auto& [key, value] : given) {
    bool known = false;
    for (const auto& spec : table) known = known || key == spec.key;
    if (!known) {
      unknown = &key;
      break;
    }
  }
  if (unknown != nullptr) {
    std::string keys;
    for (const auto& spec : table) {
      if (!keys.empty()) keys += ", ";
      keys += spec.key;
    }
    error = plugin + " channel: unknown setting '" + *unknown + "' (known: " + keys + ")";
    return false;
  }
  resolved.clear();
  for (const auto& spec : table) {
    const auto found = given.find(spec.key);
    if (found != given.end()) {
      if (spec.required && found->second.empty()) {
        error = plugin + " channel: setting '" + spec.key + "' is empty; it is " + spec.meaning;
        return false;
      }
      resolved[spec.key] = found->second;
    } else if (spec.required) {
      error = plugin + " channel: setting '" + spec.key + "' is required: " + spec.meaning;
      return false;
    } else if (spec.fallback != nullptr) {
      resolved[spec.key] = spec.fallback;
    }
  }
  return true;
}

// Parses a whole number from `minimum` to `maximum`; false with `error` naming the setting.
inline bool parse_number(const std::string& plugin, const std::string& key,
                         const std::string& value, long minimum, long maximum, long& out,
                         std::string& error) {
  long number = 0;
  const auto [end, status] = std::from_chars(value.data(), value.data() + value.size(), number);
  if (value.empty() || status != std::errc() || end != value.data() + value.size() ||
      number < minimum || number > maximum) {
    error = plugin + " channel: setting '" + key + "' is '" + value +
            "', expected a whole number " + "from " + std::to_string(minimum) + " to " +
            std::to_string(maximum);
    return false;
  }
  out = number;
  return true;
}

}  // namespace tsunagu::channels
