// tsunagud: a thin ServerApplication over the hub. It parses options, loads the configuration,
// wires the hub and waits for SIGTERM/SIGINT; everything else lives in tsunagu_core.
#include <csignal>
#include <iostream>

#include <Poco/Util/HelpFormatter.h>
#include <Poco/Util/Option.h>
#include <Poco/Util/OptionSet.h>
#include <Poco/Util/ServerApplication.h>

#include "hub/hub.hpp"
#include "runtime/process.hpp"

namespace {

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
      tsunagu::Hub hub(config);
      hub.start();
      std::cout << "tsunagud ready: instance " << config.instance_name << ", data directory "
                << config.data_dir.string() << ", spool " << (config.data_dir / "spool").string()
                << std::endl;
      if (hub.https_port() != 0) {
        std::cout << "tsunagud HTTPS: " << hub.https_url() << " (port " << hub.https_port()
                  << ", also in " << hub.https_port_file().string() << ")" << std::endl;
      }
      waitForTerminationRequest();
      hub.stop();
    } catch (const std::exception& e) {
      std::cerr << "tsunagud: " << e.what() << std::endl;
      return EXIT_CONFIG;
    }
    return EXIT_OK;
  }

 private:
  bool help_ = false;
  tsunagu::runtime::CommonOptions options_;
};

}  // namespace

int main(int argc, char** argv) {
  // Block the termination signals before any thread exists, so every thread inherits the mask and
  // only waitForTerminationRequest() (sigwait) ever sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  tsunagu::runtime::ProcessSetup process(argv[0]);
  TsunaguDaemon app;
  return app.run(argc, argv);
}
