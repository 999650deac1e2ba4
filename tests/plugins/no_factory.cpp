// An adapter descriptor without the adapter factory.
#include <tsunagu/adapter.hpp>
TSUNAGU_PLUGIN_DESCRIPTOR(::tsunagu::PluginKind::adapter, "no_factory", "0.1.0")
