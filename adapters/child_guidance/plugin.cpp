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
  try {
    tsunagu::child_guidance::CgEventsDecoderOptions options;
    if (!tsunagu::child_guidance::options_from_settings(settings, options, error)) {
      return nullptr;
    }
    return new tsunagu::child_guidance::CgEventsDecoder(options);
  } catch (const std::exception& e) {
    try {
      error = std::string("child_guidance adapter: cannot be created: ") + e.what();
    } catch (...) {
    }
  } catch (...) {
    try {
      error = "child_guidance adapter: cannot be created: unknown exception";
    } catch (...) {
    }
  }
  return nullptr;
}

}  // namespace

TSUNAGU_ADAPTER_PLUGIN("child_guidance", "1.0.0", create_child_guidance_adapter)
