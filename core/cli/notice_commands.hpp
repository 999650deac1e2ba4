// tsunagu notices list|show|ack|action|close and tsunagu explain: notices and routing decisions
// from the command line (the inbox pages show the same to officers).
#pragma once

#include "cli/commands.hpp"

namespace tsunagu::cli {

int notices_list(const runtime::CommonOptions& options, const Args& args);
int notices_show(const runtime::CommonOptions& options, const Args& args);
int notices_ack(const runtime::CommonOptions& options, const Args& args);
int notices_action(const runtime::CommonOptions& options, const Args& args);
int notices_close(const runtime::CommonOptions& options, const Args& args);
int routing_tick(const runtime::CommonOptions& options, const Args& args);
int explain(const runtime::CommonOptions& options, const Args& args);

}  // namespace tsunagu::cli
