// Registers "echo" as a channel: names are unique per kind, so this loads beside the echo adapter.
#include "echo_channel.hpp"
TSUNAGU_CHANNEL_PLUGIN("echo", "0.1.0", tsunagu_test::create_echo_channel)
