// The tsunagu command-line tool's subcommands. Each takes its own arguments (after the global
// --config/--data-dir) and returns the process exit code.
#pragma once

#include <string>
#include <vector>

#include "runtime/process.hpp"

namespace tsunagu::cli {

using Args = std::vector<std::string>;

struct Command {
  const char* group;    // "plugins", "config", …
  const char* action;   // "list", "check", … (empty: the group alone)
  const char* usage;
  const char* summary;
  int (*run)(const runtime::CommonOptions& options, const Args& args);
};

const std::vector<Command>& commands();

// Exit codes (sysexits-like, as tsunagud uses).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;   // the command ran and found problems
inline constexpr int kExitUsage = 64;
inline constexpr int kExitConfig = 78;

}  // namespace tsunagu::cli
