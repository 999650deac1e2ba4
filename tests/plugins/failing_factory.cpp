// Loads fine, but its factory refuses its settings (unless told otherwise).
#include "echo_adapter.hpp"
namespace {
tsunagu::Adapter* create(const tsunagu::PluginSettings& settings, std::string& error) noexcept {
  if (settings.count("accept") != 0) return tsunagu_test::create_echo(settings, error);
  error = "setting 'accept' is required";
  return nullptr;
}
}  // namespace
TSUNAGU_ADAPTER_PLUGIN("failing_factory", "0.1.0", create)
