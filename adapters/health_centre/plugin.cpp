// The health_centre adapter plugin: its descriptor and factory. The decoding itself is in
// hc_export_decoder.cpp.
#include <exception>
#include <string>

#include <tsunagu/adapter.hpp>

#include "health_centre/hc_export_decoder.hpp"

namespace {

// Nothing may be thrown across the plugin boundary: every failure becomes `error` and a null.
tsunagu::Adapter* create_health_centre_adapter(const tsunagu::PluginSettings& settings,
                                               std::string& error) {
  return tsunagu::create_guarded<tsunagu::Adapter>(
      "health_centre adapter", error, [&]() -> tsunagu::Adapter* {
        tsunagu::health_centre::HcDecoderOptions options;
        if (!tsunagu::health_centre::options_from_settings(settings, options, error))
          return nullptr;
        return new tsunagu::health_centre::HcExportDecoder(options);
      });
}

}  // namespace

TSUNAGU_ADAPTER_PLUGIN("health_centre", "1.0.0", create_health_centre_adapter)
