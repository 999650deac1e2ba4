// Operating an instance: reload a running daemon, back up and restore.
#pragma once

#include "cli/commands.hpp"

namespace tsunagu::cli {

int reload(const runtime::CommonOptions& options, const Args& args);
int backup(const runtime::CommonOptions& options, const Args& args);
int restore(const runtime::CommonOptions& options, const Args& args);

}  // namespace tsunagu::cli
