// Loads Boost.DLL plugins from a directory and hands out the objects they create.
//
// Each library's descriptor is read before anything else in it is touched. A plugin is refused —
// logged with one line naming the file and the reason, and listed in refusals() — when it has no
// descriptor, a different api version, an unknown kind, a name already registered, or no factory
// for its kind. Objects created by a plugin hold a reference to its library, so the library stays
// loaded while any of them lives, even after the registry is gone.
#pragma once

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <tsunagu/adapter.hpp>
#include <tsunagu/channel.hpp>
#include <tsunagu/plugin.hpp>

namespace boost::dll {
class shared_library;
}

namespace tsunagu::plugin {

class PluginError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct LoadedPlugin {
  std::filesystem::path path;
  PluginKind kind = PluginKind::adapter;
  std::string name;
  std::string version;
  std::uint32_t api_version = 0;
  std::shared_ptr<boost::dll::shared_library> library;
};

struct PluginRefusal {
  std::filesystem::path path;
  std::string reason;
};

class PluginRegistry {
 public:
  PluginRegistry();
  ~PluginRegistry();
  PluginRegistry(const PluginRegistry&) = delete;
  PluginRegistry& operator=(const PluginRegistry&) = delete;

  // Loads every *.so in `dir`, in file-name order. A missing directory is a PluginError.
  void load_directory(const std::filesystem::path& dir);
  // Loads one library; returns false (and records the refusal) if it is refused.
  bool load_file(const std::filesystem::path& file);

  const std::vector<LoadedPlugin>& plugins() const { return plugins_; }
  const std::vector<PluginRefusal>& refusals() const { return refusals_; }
  const LoadedPlugin* find(PluginKind kind, const std::string& name) const;

  // Creates an adapter through the named plugin's factory. Throws PluginError if there is no such
  // adapter or its factory fails (with the factory's message).
  std::shared_ptr<Adapter> create_adapter(const std::string& name,
                                          const PluginSettings& settings) const;
  // Creates a channel through the named plugin's factory, likewise. The channel validates its
  // settings here, once; every delivery afterwards uses the same object.
  std::shared_ptr<Channel> create_channel(const std::string& name,
                                          const PluginSettings& settings) const;

 private:
  void refuse(const std::filesystem::path& file, const std::string& reason);

  std::vector<LoadedPlugin> plugins_;
  std::vector<PluginRefusal> refusals_;
};

}  // namespace tsunagu::plugin
