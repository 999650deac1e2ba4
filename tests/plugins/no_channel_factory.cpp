// A channel descriptor without the channel factory (it exports an adapter factory instead).
#include "echo_adapter.hpp"
TSUNAGU_PLUGIN_DESCRIPTOR(::tsunagu::PluginKind::channel, "no_channel_factory", "0.1.0")
BOOST_DLL_ALIAS(tsunagu_test::create_echo, tsunagu_create_adapter)
