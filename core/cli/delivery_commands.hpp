// tsunagu deadletter list|show|retry: deliveries that ran out of attempts or were refused.
#pragma once

#include "cli/commands.hpp"

namespace tsunagu::cli {

int deadletter_list(const runtime::CommonOptions& options, const Args& args);
int deadletter_show(const runtime::CommonOptions& options, const Args& args);
int deadletter_retry(const runtime::CommonOptions& options, const Args& args);

}  // namespace tsunagu::cli
