// The public_assistance adapter plugin: its descriptor and factory. The decoding itself is in
// pa_events_decoder.cpp.
#include <exception>
#include <string>

#include <tsunagu/adapter.hpp>

#include "public_assistance/pa_events_decoder.hpp"

namespace {

// Nothing may be thrown across the plugin boundary: every failure becomes `error` and a null.
tsunagu::Adapter* create_public_assistance_adapter(const tsunagu::PluginSettings& settings,
                                                   std::string& error) {
  try {
    tsunagu::public_assistance::PaEventsDecoderOptions options;
    if (!tsunagu::public_assistance::options_from_settings(settings, options, error)) {
      return nullptr;
    }
    return new tsunagu::public_assistance::PaEventsDecoder(options);
  } catch (const std::exception& e) {
    try {
      error = std::string("public_assistance adapter: cannot be created: ") + e.what();
    } catch (...) {
    }
  } catch (...) {
    try {
      error = "public_assistance adapter: cannot be created: unknown exception";
    } catch (...) {
    }
  }
  return nullptr;
}

}  // namespace

TSUNAGU_ADAPTER_PLUGIN("public_assistance", "1.0.0", create_public_assistance_adapter)
