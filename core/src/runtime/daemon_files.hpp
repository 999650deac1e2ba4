// The files by which the CLI finds and talks to a running tsunagud on the same data directory:
//   DATA/run/tsunagud.pid      the daemon's process id, written at start, removed at a clean exit
//   DATA/run/reload.result     the outcome of the latest reload (SIGHUP), for `tsunagu reload`
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "config/hub_config.hpp"

namespace tsunagu::runtime {

std::filesystem::path pid_file(const config::HubConfig& config);
std::filesystem::path reload_result_file(const config::HubConfig& config);

// Writes this process's id (through a rename, so a reader never sees half a number).
void write_pid_file(const config::HubConfig& config);
// Removes the pid file if it still names this process.
void remove_pid_file(const config::HubConfig& config);

// The pid in DATA/run/tsunagud.pid if that process is alive and is a tsunagud; nullopt when there
// is no file or it is stale (a daemon killed with SIGKILL leaves one behind).
std::optional<pid_t> running_daemon(const config::HubConfig& config);

// The latest reload: its number (counting from 1 since the daemon started), whether it took
// effect, and why not.
struct ReloadResult {
  std::uint64_t number = 0;
  bool reloaded = false;
  std::vector<std::string> problems;
};
void write_reload_result(const config::HubConfig& config, const ReloadResult& result);
std::optional<ReloadResult> read_reload_result(const config::HubConfig& config);

}  // namespace tsunagu::runtime
