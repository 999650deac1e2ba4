// The education adapter plugin: its descriptor and factory. The decoding itself is in
// ed_record_decoder.cpp; the record layout comes from the settings (mappings/education.xml).
#include <exception>
#include <string>
#include <utility>

#include <tsunagu/adapter.hpp>

#include "education/ed_record_decoder.hpp"

namespace {

// Nothing may be thrown across the plugin boundary: every failure becomes `error` and a null.
tsunagu::Adapter* create_education_adapter(const tsunagu::PluginSettings& settings,
                                           std::string& error) {
  return tsunagu::create_guarded<tsunagu::Adapter>(
      "education adapter", error, [&]() -> tsunagu::Adapter* {
        tsunagu::education::RecordLayout layout;
        if (!tsunagu::education::layout_from_settings(settings, layout, error)) return nullptr;
        return new tsunagu::education::EdRecordDecoder(std::move(layout));
      });
}

}  // namespace

TSUNAGU_ADAPTER_PLUGIN("education", "1.0.0", create_education_adapter)
