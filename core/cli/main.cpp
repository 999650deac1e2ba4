// tsunagu: the administration tool. Works on the instance named by --config / --data-dir, the
// same way tsunagud does, so both see the same store and spool.
#include <iostream>

#include "cli/commands.hpp"

namespace {

void usage(std::ostream& out) {
  out << "使い方 (usage): tsunagu [--config FILE] [--data-dir DIR] <command> [args]\n\ncommands:\n";
  for (const auto& c : tsunagu::cli::commands()) {
    out << "  " << c.usage << "\n      " << c.summary << "\n";
  }
}

}  // namespace

int main(int argc, char** argv) {
  tsunagu::runtime::ProcessSetup process(argv[0]);
  tsunagu::runtime::CommonOptions options;
  std::vector<std::string> rest;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&](const std::string& name) -> std::optional<std::string> {
      if (arg == name) {
        if (i + 1 >= argc) return std::nullopt;
        return std::string(argv[++i]);
      }
      return std::string(arg.substr(name.size() + 1));
    };
    if (rest.empty() && (arg == "--config" || arg.rfind("--config=", 0) == 0)) {
      auto v = value("--config");
      if (!v) {
        std::cerr << "tsunagu: --config needs a file\n";
        return tsunagu::cli::kExitUsage;
      }
      options.config_file = *v;
    } else if (rest.empty() && (arg == "--data-dir" || arg.rfind("--data-dir=", 0) == 0)) {
      auto v = value("--data-dir");
      if (!v) {
        std::cerr << "tsunagu: --data-dir needs a directory\n";
        return tsunagu::cli::kExitUsage;
      }
      options.data_dir = *v;
    } else if (rest.empty() && (arg == "--help" || arg == "-h" || arg == "help")) {
      usage(std::cout);
      return tsunagu::cli::kExitOk;
    } else {
      rest.push_back(arg);
    }
  }
  if (rest.empty()) {
    usage(std::cerr);
    return tsunagu::cli::kExitUsage;
  }
  for (const auto& c : tsunagu::cli::commands()) {
    const std::string action = c.action;
    if (rest[0] != c.group) continue;
    if (!action.empty() && (rest.size() < 2 || rest[1] != action)) continue;
    const std::size_t consumed = action.empty() ? 1 : 2;
    tsunagu::cli::Args args(rest.begin() + static_cast<std::ptrdiff_t>(consumed), rest.end());
    try {
      return c.run(options, args);
    } catch (const std::exception& e) {
      std::cerr << "tsunagu " << c.group << (action.empty() ? "" : " " + action) << ": " << e.what()
                << "\n";
      return tsunagu::cli::kExitConfig;
    }
  }
  std::cerr << "tsunagu: unknown command '" << rest[0] << (rest.size() > 1 ? " " + rest[1] : "")
            << "'\n\n";
  usage(std::cerr);
  return tsunagu::cli::kExitUsage;
}
