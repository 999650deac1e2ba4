#include "runtime/process.hpp"

#include <libxml/parser.h>

#include <algorithm>

#include <Poco/AutoPtr.h>
#include <Poco/ConsoleChannel.h>
#include <Poco/FormattingChannel.h>
#include <Poco/Logger.h>
#include <Poco/Message.h>
#include <Poco/PatternFormatter.h>

#include "runtime/json_log_formatter.hpp"

namespace tsunagu::runtime {
namespace fs = std::filesystem;
namespace {

fs::path g_executable_dir;

}  // namespace

ProcessSetup::ProcessSetup(const char* argv0) {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) exe = fs::absolute(argv0);
  g_executable_dir = exe.parent_path();
  xmlInitParser();
}

ProcessSetup::~ProcessSetup() { xmlCleanupParser(); }

const fs::path& ProcessSetup::executable_dir() { return g_executable_dir; }

config::HubConfig load_config(const CommonOptions& options) {
  const fs::path file = options.config_file
                            ? *options.config_file
                            : config::default_config_file(ProcessSetup::executable_dir());
  config::LoadOptions load;
  load.data_dir = options.data_dir;
  load.executable_dir = ProcessSetup::executable_dir();
  return config::load(file, load);
}

void configure_logging(const config::HubConfig& config, const std::string& program) {
  Poco::AutoPtr<Poco::Formatter> formatter;
  if (config.log_format == "json") {
    formatter = new JsonLineFormatter(program);
  } else {
    formatter = new Poco::PatternFormatter("%Y-%m-%dT%H:%M:%S.%i %p %s: %t");
  }
  Poco::AutoPtr<Poco::Channel> console(new Poco::ConsoleChannel);
  Poco::AutoPtr<Poco::Channel> channel(new Poco::FormattingChannel(formatter, console));
  Poco::Logger::root().setChannel(channel);
  Poco::Logger::root().setLevel(config.log_level);
  // Loggers created before this call (static ones) keep their channel unless reset.
  Poco::Logger::setChannel("", channel);
  Poco::Logger::setLevel("", Poco::Logger::parseLevel(config.log_level));
  apply_module_levels(config);
}

void apply_module_levels(const config::HubConfig& config) {
  // Parents before children ("tsunagu" before "tsunagu.ingest"), so the more specific one wins.
  auto levels = config.log_module_levels;
  std::stable_sort(levels.begin(), levels.end(),
                   [](const auto& a, const auto& b) { return a.name.size() < b.name.size(); });
  for (const auto& m : levels) {
    // Created now, so that loggers made later below it (tsunagu.ingest.x) inherit its level;
    // setLevel(name) alone changes only loggers that already exist.
    Poco::Logger::get(m.name);
    Poco::Logger::setLevel(m.name, Poco::Logger::parseLevel(m.level));
  }
}

}  // namespace tsunagu::runtime
