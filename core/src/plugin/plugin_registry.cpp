#include "plugin/plugin_registry.hpp"

#include <algorithm>

#include <boost/dll/shared_library.hpp>
#include <Poco/Logger.h>

namespace tsunagu::plugin {
namespace fs = std::filesystem;
namespace {

constexpr const char* kDescriptorSymbol = "tsunagu_plugin_descriptor";

const char* factory_symbol(PluginKind kind) {
  return kind == PluginKind::adapter ? "tsunagu_create_adapter" : "tsunagu_create_channel";
}

Poco::Logger& log() { return Poco::Logger::get("tsunagu.plugin"); }

}  // namespace

PluginRegistry::PluginRegistry() = default;
PluginRegistry::~PluginRegistry() = default;

void PluginRegistry::refuse(const fs::path& file, const std::string& reason) {
  log().error("plugin refused: %s: %s", file.string(), reason);
  refusals_.push_back({file, reason});
}

void PluginRegistry::load_directory(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    throw PluginError(dir.string() + ": plugin directory does not exist");
  }
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.is_regular_file() && entry.path().extension() == ".so") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) load_file(f);
}

bool PluginRegistry::load_file(const fs::path& file) {
  auto library = std::make_shared<boost::dll::shared_library>();
  boost::system::error_code ec;
  // rtld_now: an unresolved symbol refuses the plugin here, not at its first call.
  library->load(boost::dll::fs::path(file.string()),
                boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local, ec);
  if (ec) {
    refuse(file, "cannot be loaded: " + ec.message());
    return false;
  }
  if (!library->has(kDescriptorSymbol)) {
    refuse(file, "not a Tsunagu plugin: it exports no tsunagu_plugin_descriptor");
    return false;
  }
  // The alias is a pointer to the descriptor. Only api_version is trusted until it matches.
  const auto& descriptor = library->get_alias<const PluginDescriptor>(kDescriptorSymbol);
  if (descriptor.api_version != kPluginApiVersion) {
    refuse(file, "built for plugin api version " + std::to_string(descriptor.api_version) +
                     ", this hub speaks version " + std::to_string(kPluginApiVersion));
    return false;
  }
  if (descriptor.kind != static_cast<std::uint32_t>(PluginKind::adapter) &&
      descriptor.kind != static_cast<std::uint32_t>(PluginKind::channel)) {
    refuse(file, "unknown plugin kind " + std::to_string(descriptor.kind) +
                     " (known: 1 adapter, 2 channel)");
    return false;
  }
  const auto kind = static_cast<PluginKind>(descriptor.kind);
  const std::string name = descriptor.name != nullptr ? descriptor.name : "";
  const std::string version = descriptor.version != nullptr ? descriptor.version : "";
  if (name.empty()) {
    refuse(file, "the descriptor has an empty name");
    return false;
  }
  if (const LoadedPlugin* other = find(kind, name)) {
    refuse(file, std::string("duplicate ") + to_string(kind) + " name '" + name +
                     "': already registered by " + other->path.string());
    return false;
  }
  if (!library->has(factory_symbol(kind))) {
    refuse(file, std::string(to_string(kind)) + " plugin '" + name + "' exports no " +
                     factory_symbol(kind) + " factory");
    return false;
  }
  plugins_.push_back({file, kind, name, version, descriptor.api_version, library});
  log().information("plugin loaded: %s %s %s (api %u) from %s", std::string(to_string(kind)),
                    name, version, static_cast<unsigned>(descriptor.api_version), file.string());
  return true;
}

const LoadedPlugin* PluginRegistry::find(PluginKind kind, const std::string& name) const {
  for (const auto& p : plugins_) {
    if (p.kind == kind && p.name == name) return &p;
  }
  return nullptr;
}

std::shared_ptr<Adapter> PluginRegistry::create_adapter(const std::string& name,
                                                        const PluginSettings& settings) const {
  const LoadedPlugin* plugin = find(PluginKind::adapter, name);
  if (plugin == nullptr) {
    throw PluginError("no adapter plugin named '" + name + "' is loaded");
  }
  auto& factory = plugin->library->get_alias<AdapterFactory>(factory_symbol(PluginKind::adapter));
  std::string error;
  Adapter* adapter = factory(settings, error);
  if (adapter == nullptr) {
    throw PluginError("adapter plugin '" + name + "' (" + plugin->path.string() +
                      ") refused its settings: " + (error.empty() ? "no reason given" : error));
  }
  // The deleter owns a reference to the library: the code that destroys the adapter lives there.
  std::shared_ptr<boost::dll::shared_library> library = plugin->library;
  return std::shared_ptr<Adapter>(adapter, [library](Adapter* a) { delete a; });
}

std::shared_ptr<Channel> PluginRegistry::create_channel(const std::string& name,
                                                        const PluginSettings& settings) const {
  const LoadedPlugin* plugin = find(PluginKind::channel, name);
  if (plugin == nullptr) {
    throw PluginError("no channel plugin named '" + name + "' is loaded");
  }
  auto& factory = plugin->library->get_alias<ChannelFactory>(factory_symbol(PluginKind::channel));
  std::string error;
  Channel* channel = factory(settings, error);
  if (channel == nullptr) {
    throw PluginError("channel plugin '" + name + "' (" + plugin->path.string() +
                      ") refused its settings: " + (error.empty() ? "no reason given" : error));
  }
  std::shared_ptr<boost::dll::shared_library> library = plugin->library;
  return std::shared_ptr<Channel>(channel, [library](Channel* c) { delete c; });
}

}  // namespace tsunagu::plugin
