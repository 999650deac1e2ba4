// The plugin ABI shared by the hub and every Boost.DLL plugin (adapters and channels).
//
// A plugin exports two symbols through BOOST_DLL_ALIAS:
//   tsunagu_plugin_descriptor — a PluginDescriptor, read by the loader before anything else;
//   tsunagu_create_<kind>     — the factory for the plugin's object (see adapter.hpp).
// Use TSUNAGU_ADAPTER_PLUGIN (adapter.hpp) rather than writing the aliases by hand.
#pragma once

#include <cstdint>
#include <exception>
#include <map>
#include <string>

#include <boost/config.hpp>
#include <boost/dll/alias.hpp>

namespace tsunagu {

// Bumped whenever any type that crosses the plugin boundary changes layout or meaning. The loader
// refuses a plugin built against another version instead of guessing (a struct copied with the
// host's sizeof is how plugin hosts corrupt memory).
inline constexpr std::uint32_t kPluginApiVersion = 1;

enum class PluginKind : std::uint32_t { adapter = 1, channel = 2 };

// Plain data only: api_version must stay the first member so that a loader of any version can
// read it before it trusts the rest of the layout.
struct PluginDescriptor {
  std::uint32_t api_version;
  std::uint32_t kind;   // a PluginKind value
  const char* name;     // registered name, e.g. "public_assistance"; unique among loaded plugins
  const char* version;  // the plugin's own version, e.g. "1.0.0"
};

// Settings given to a plugin's factory: the attributes of its <plugin> element in the config.
using PluginSettings = std::map<std::string, std::string>;

// Runs the body of a plugin's factory so that nothing is thrown across the plugin boundary: an
// exception becomes `error` ("<what>: cannot be created: <reason>") and a null result. `make`
// returns the new object, or null with `error` set itself.
template <typename T, typename Make>
T* create_guarded(const char* what, std::string& error, Make&& make) noexcept {
  try {
    return make();
  } catch (const std::exception& e) {
    try {
      error = std::string(what) + ": cannot be created: " + e.what();
    } catch (...) {
    }
  } catch (...) {
    try {
      error = std::string(what) + ": cannot be created: unknown exception";
    } catch (...) {
    }
  }
  return nullptr;
}

inline const char* to_string(PluginKind kind) noexcept {
  switch (kind) {
    case PluginKind::adapter:
      return "adapter";
    case PluginKind::channel:
      return "channel";
  }
  return "unknown";
}

}  // namespace tsunagu

// Exports the descriptor. name and version must be string literals.
#define TSUNAGU_PLUGIN_DESCRIPTOR(kind_, name_, version_)                                \
  namespace tsunagu_plugin_export {                                                      \
  extern "C" const ::tsunagu::PluginDescriptor tsunagu_plugin_descriptor_value{          \
      ::tsunagu::kPluginApiVersion, static_cast<std::uint32_t>(kind_), name_, version_}; \
  }                                                                                      \
  BOOST_DLL_ALIAS(tsunagu_plugin_export::tsunagu_plugin_descriptor_value, tsunagu_plugin_descriptor)
