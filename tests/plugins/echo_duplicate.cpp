// Registers the name "echo" a second time: the loader must refuse it.
#include "echo_adapter.hpp"
TSUNAGU_ADAPTER_PLUGIN("echo", "9.9.9", tsunagu_test::create_echo)
