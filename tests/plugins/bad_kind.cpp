// A kind the hub does not know.
#include "echo_adapter.hpp"
TSUNAGU_PLUGIN_DESCRIPTOR(7, "bad_kind", "0.1.0")
BOOST_DLL_ALIAS(tsunagu_test::create_echo, tsunagu_create_adapter)
