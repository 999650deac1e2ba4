// tsunagud: a thin ServerApplication over the hub. It parses options, loads the configuration,
// wires the hub and waits for signals — SIGTERM/SIGINT/SIGQUIT stop it, SIGHUP reloads the routing
// files and mappings; everything else lives in tsunagu_core.
#include <csignal>
#include <iostream>

#include <Poco/Logger.h>
#include <Poco/Util/HelpFormatter.h>
#include <Poco/Util/Option.h>
#include <Poco/Util/OptionSet.h>
#include <Poco/Util/ServerApplication.h>

#include "hub/hub.hpp"
#include "runtime/daemon_files.hpp"
#include "runtime/process.hpp"

namespace {

// The signals tsunagud waits for; blocked in every thread (main() blocks them before any thread
// exists) so that only the sigwait() below sees them.
sigset_t handled_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  for (const int s : {SIGINT, SIGTERM, SIGQUIT, SIGHUP}) sigaddset(&signals, s);
  return signals;
}

using Poco::Util::Option;
using Poco::Util::OptionSet;

class TsunaguDaemon final : public Poco::Util::ServerApplication {
 protected:
  void defineOptions(OptionSet& options) override {
    ServerApplication::defineOptions(options);
    options.addOption(Option("help", "h", "show this help and exit").required(false).repeatable(false));
    options.addOption(Option("config", "c", "configuration file (default: config/tsunagu.xml)")
                          .required(false).repeatable(false).argument("FILE"));
    options.addOption(Option("data-dir", "d", "data directory: store, spool, keys, logs")
                          .required(false).repeatable(false).argument("DIR"));
  }

  void handleOption(const std::string& name, const std::string& value) override {
    ServerApplication::handleOption(name, value);
    if (name == "help") {
      help_ = true;
      stopOptionsProcessing();
    } else if (name == "config") {
      options_.config_file = value;
    } else if (name == "data-dir") {
      options_.data_dir = value;
    }
  }

  int main(const std::vector<std::string>& args) override {
    if (help_) {
      Poco::Util::HelpFormatter help(options());
      help.setCommand(commandName());
      help.setUsage("[--config FILE] [--data-dir DIR]");
      help.setHeader("Tsunagu つなぐ — 子ども支援連携ハブ (integration hub daemon)");
      help.format(std::cout);
      return EXIT_OK;
    }
    if (!args.empty()) {
      std::cerr << "tsunagud: unexpected argument '" << args.front() << "'\n";
      return EXIT_USAGE;
    }
    tsunagu::config::HubConfig config;
    try {
      config = tsunagu::runtime::load_config(options_);
      tsunagu::runtime::configure_logging(config, "tsunagud");
      std::error_code ignored;  // a result left by an earlier run would look like an answer
      std::filesystem::remove(tsunagu::runtime::reload_result_file(config), ignored);
      tsunagu::Hub hub(config);
      hub.start();
      std::cout << "tsunagud ready: instance " << config.instance_name << ", data directory "
                << config.data_dir.string() << ", spool " << (config.data_dir / "spool").string()
                << std::endl;
      if (hub.https_port() != 0) {
        std::cout << "tsunagud HTTPS: " << hub.https_url() << " (port " << hub.https_port()
                  << ", also in " << hub.https_port_file().string() << ")" << std::endl;
      }
      tsunagu::runtime::write_pid_file(config);
      wait_and_reload(hub, config);
      hub.stop();
      tsunagu::runtime::remove_pid_file(config);
    } catch (const std::exception& e) {
      std::cerr << "tsunagud: " << e.what() << std::endl;
      return EXIT_CONFIG;
    }
    return EXIT_OK;
  }

 private:
  // Until SIGTERM, SIGINT or SIGQUIT; each SIGHUP reloads (not waitForTerminationRequest(), which
  // waits for the termination signals only).
  static void wait_and_reload(tsunagu::Hub& hub, const tsunagu::config::HubConfig& config) {
    const sigset_t signals = handled_signals();
    std::uint64_t reloads = 0;
    for (;;) {
      int signal = 0;
      if (sigwait(&signals, &signal) != 0) continue;
      if (signal != SIGHUP) return;
      auto outcome = hub.reload();
      tsunagu::runtime::ReloadResult result{++reloads, outcome.reloaded,
                                            std::move(outcome.problems)};
      try {
        tsunagu::runtime::write_reload_result(config, result);
      } catch (const std::exception& e) {
        Poco::Logger::get("tsunagu.hub")
            .error("could not write the reload result: %s", std::string(e.what()));
      }
    }
  }

  bool help_ = false;
  tsunagu::runtime::CommonOptions options_;
};

}  // namespace

int main(int argc, char** argv) {
  // Block the termination signals before any thread exists, so every thread inherits the mask and
  // only waitForTerminationRequest() (sigwait) ever sees them.
  const sigset_t signals = handled_signals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  tsunagu::runtime::ProcessSetup process(argv[0]);
  TsunaguDaemon app;
  return app.run(argc, argv);
}
