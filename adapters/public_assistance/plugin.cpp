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
  return tsunagu::create_guarded<tsunagu::Adapter>(
      "public_assistance adapter", error, [&]() -> tsunagu::Adapter* {
        tsunagu::public_assistance::PaEventsDecoderOptions options;
        if (!tsunagu::public_assistance::options_from_settings(settings, options, error)) {
          return nullptr;
        }
        return new tsunagu::public_assistance::PaEventsDecoder(options);
      });
}

}  // namespace

TSUNAGU_ADAPTER_PLUGIN("public_assistance", "1.0.0", create_public_assistance_adapter)
