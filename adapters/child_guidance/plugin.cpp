// The child_guidance adapter plugin: its descriptor and factory. The decoding itself is in
// cg_events_decoder.cpp (framing: NDJSON lines or one JSON object) and cg_event_parser.cpp (one
// event object → native fields).
#include <exception>
#include <string>

#include <tsunagu/adapter.hpp>

#include "child_guidance/cg_events_decoder.hpp"

namespace {

// Nothing may be thrown across the plugin boundary: every failure becomes `error` and a null.
tsunagu::Adapter* create_child_guidance_adapter(const tsunagu::PluginSettings& settings,
                                                std::string& error) {
  return tsunagu::create_guarded<tsunagu::Adapter>(
      "child_guidance adapter", error, [&]() -> tsunagu::Adapter* {
        tsunagu::child_guidance::CgEventsDecoderOptions options;
        if (!tsunagu::child_guidance::options_from_settings(settings, options, error)) {
          return nullptr;
        }
        return new tsunagu::child_guidance::CgEventsDecoder(options);
      });
}

}  // namespace

TSUNAGU_ADAPTER_PLUGIN("child_guidance", "1.0.0", create_child_guidance_adapter)
