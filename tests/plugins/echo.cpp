#include "echo_adapter.hpp"
TSUNAGU_ADAPTER_PLUGIN("echo", "0.1.0", tsunagu_test::create_echo)
