// Small helpers shared by the CLI's command files.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "cli/commands.hpp"

namespace tsunagu::cli {

// "--name value" pairs and positional arguments. Unknown names are usage errors. Names listed in
// `flags` take no value.
struct ParsedArgs {
  std::map<std::string, std::string> named;                  // the last value of each option given
  std::map<std::string, std::vector<std::string>> repeated;  // every value, in order
  std::vector<std::string> positional;

  bool has(const std::string& name) const { return named.count(name) != 0; }
  std::string get(const std::string& name) const {
    auto it = named.find(name);
    return it == named.end() ? std::string() : it->second;
  }
  std::vector<std::string> get_all(const std::string& name) const {
    auto it = repeated.find(name);
    return it == repeated.end() ? std::vector<std::string>() : it->second;
  }
};

ParsedArgs parse(const Args& args, const std::vector<std::string>& allowed,
                 const std::vector<std::string>& flags = {});

// The CLI prints its own results; library logging would only interleave with them.
void quiet_logging();

// Who runs the command, for audit entries: "cli:<login>".
std::string cli_actor();

}  // namespace tsunagu::cli
