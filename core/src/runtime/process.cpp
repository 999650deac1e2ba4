#include "runtime/process.hpp"

#include <libxml/parser.h>

#include <Poco/AutoPtr.h>
#include <Poco/ConsoleChannel.h>
#include <Poco/FormattingChannel.h>
#include <Poco/Logger.h>
#include <Poco/Message.h>
#include <Poco/PatternFormatter.h>
#include <Poco/JSON/Object.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/DateTimeFormat.h>

namespace tsunagu::runtime {
namespace fs = std::filesystem;
namespace {

fs::path g_executable_dir;

// One JSON object per line. Messages never carry personal data (only ids, digests and counts),
// so they can go to the journal as they are.
class JsonLineFormatter final : public Poco::Formatter {
 public:
  explicit JsonLineFormatter(std::string program) : program_(std::move(program)) {}
  void format(const Poco::Message& msg, std::string& text) override {
    Poco::JSON::Object line;
    line.set("time", Poco::DateTimeFormatter::format(msg.getTime(),
                                                     Poco::DateTimeFormat::ISO8601_FRAC_FORMAT));
    line.set("level", level_name(msg.getPriority()));
    line.set("program", program_);
    line.set("module", msg.getSource());
    line.set("message", msg.getText());
    std::ostringstream out;
    line.stringify(out);
    text = out.str();
  }

 private:
  static const char* level_name(Poco::Message::Priority p) {
    switch (p) {
      case Poco::Message::PRIO_FATAL: return "fatal";
      case Poco::Message::PRIO_CRITICAL: return "critical";
      case Poco::Message::PRIO_ERROR: return "error";
      case Poco::Message::PRIO_WARNING: return "warning";
      case Poco::Message::PRIO_NOTICE: return "notice";
      case Poco::Message::PRIO_INFORMATION: return "information";
      case Poco::Message::PRIO_DEBUG: return "debug";
      case Poco::Message::PRIO_TRACE: return "trace";
    }
    return "information";
  }
  std::string program_;
};

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
}

}  // namespace tsunagu::runtime
