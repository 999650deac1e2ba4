#include "echo_channel.hpp"
TSUNAGU_CHANNEL_PLUGIN("echo_channel", "0.1.0", tsunagu_test::create_echo_channel)
