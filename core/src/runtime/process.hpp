// What both programs (tsunagud, tsunagu) do before the hub exists: process-wide library set-up,
// finding the configuration, and logging.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "config/hub_config.hpp"

namespace tsunagu::runtime {

// Process-wide set-up owned by the core, done in the main thread before any worker starts
// (libxml2's parser globals). Plugins never call global clean-up functions; this does, last.
class ProcessSetup {
 public:
  explicit ProcessSetup(const char* argv0);
  ~ProcessSetup();
  ProcessSetup(const ProcessSetup&) = delete;
  ProcessSetup& operator=(const ProcessSetup&) = delete;

  static const std::filesystem::path& executable_dir();
};

struct CommonOptions {
  std::optional<std::filesystem::path> config_file;
  std::optional<std::filesystem::path> data_dir;
};

// Loads the configuration named by the options (or the default one).
config::HubConfig load_config(const CommonOptions& options);

// Console logging (standard error: under systemd, the journal) at the configured level, with
// the levels of <logging><module>; `text` or `json` lines (runtime/json_log_formatter.hpp).
void configure_logging(const config::HubConfig& config, const std::string& program);

// The levels of <logging><module> (part of configure_logging).
void apply_module_levels(const config::HubConfig& config);

}  // namespace tsunagu::runtime
