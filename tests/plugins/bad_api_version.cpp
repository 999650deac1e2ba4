// Claims an api version the hub does not speak.
#include "echo_adapter.hpp"
namespace bad_api {
extern "C" const tsunagu::PluginDescriptor descriptor{tsunagu::kPluginApiVersion + 41,
                                                      static_cast<std::uint32_t>(tsunagu::PluginKind::adapter),
                                                      "bad_api_version", "0.1.0"};
}
BOOST_DLL_ALIAS(bad_api::descriptor, tsunagu_plugin_descriptor)
BOOST_DLL_ALIAS(tsunagu_test::create_echo, tsunagu_create_adapter)
