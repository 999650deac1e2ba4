// tsunagu-bench: the whole-pipeline benchmark drivers. Each subcommand prints its figures as
// "RESULT <id> <key> <value>" lines (collected by bench/run.sh) and a readable account on stderr.
#include <algorithm>
#include <fstream>
#include <iostream>
#include <map>

#include "drivers.hpp"
#include "runtime/process.hpp"

namespace tsunagu::bench {
namespace fs = std::filesystem;

const Layout& layout() {
  static const Layout l = [] {
    Layout out;
    out.bin_dir = fs::canonical("/proc/self/exe").parent_path();
    out.plugin_dir = out.bin_dir.parent_path() / "plugins";
    out.source_dir = TSUNAGU_BENCH_SOURCE_DIR;
    return out;
  }();
  return l;
}

namespace {
// `checkpoint_mb` empty: the store's default.
std::string sqlite_store_element(const std::string& checkpoint,
                                 const std::string& checkpoint_mb = "") {
  return "<store><backend>sqlite</backend><sqlite><file>store.db</file><synchronous>full"
         "</synchronous><checkpoint>" +
         checkpoint + "</checkpoint>" +
         (checkpoint_mb.empty() ? "" : "<checkpoint-mb>" + checkpoint_mb + "</checkpoint-mb>") +
         "</sqlite></store>";
}
}  // namespace

fs::path write_instance_config(const fs::path& work, const std::vector<std::string>& systems,
                               int batch_size, const std::string& http_xml,
                               const std::string& store_xml, const std::string& name) {
  fs::create_directories(work / "data");
  std::string xml =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<tsunagu>\n"
      "  <instance><name>" +
      name +
      "</name></instance>\n"
      "  <data-dir>data</data-dir>\n"
      "  <plugins><directory>" +
      layout().plugin_dir.string() +
      "</directory></plugins>\n"
      "  <mappings><directory>" +
      layout().mapping_dir().string() + "</directory></mappings>\n  " +
      (store_xml.empty() ? sqlite_store_element("background") : store_xml) + "\n" +
      "  <spool><poll-interval-ms>50</poll-interval-ms><batch-size>" + std::to_string(batch_size) +
      "</batch-size></spool>\n  <systems>\n";
  // Every system is configured, as in a deployed hub (the routing files name all four); only
  // `systems` are the ones a driver feeds.
  std::vector<std::string> all = systems;
  for (const char* s : {"public_assistance", "health_centre", "child_guidance", "education"}) {
    if (std::find(all.begin(), all.end(), s) == all.end()) all.emplace_back(s);
  }
  for (const auto& s : all) {
    xml +=
        "    <" + s + "><adapter>" + s + "</adapter><mapping>" + s + ".xml</mapping></" + s + ">\n";
  }
  const fs::path c = layout().config_dir();
  xml +=
      "  </systems>\n  <logging><level>notice</level></logging>\n  <routing><enabled>true</enabled>"
      "<policies>" +
      (c / "policies.xml").string() + "</policies><roster>" + (c / "roster.xml").string() +
      "</roster><holidays>" + (c / "holidays.xml").string() + "</holidays><routes>" +
      (c / "routes.xml").string() + "</routes></routing>\n" + http_xml + "</tsunagu>\n";
  const fs::path file = work / "tsunagu.xml";
  std::ofstream(file) << xml;
  return file;
}

std::string sqlite_store_xml(const Args& args) {
  return sqlite_store_element(option(args, "--checkpoint", "background"),
                              option(args, "--checkpoint-mb", ""));
}

config::HubConfig load_instance_config(const fs::path& config_file) {
  runtime::CommonOptions options;
  options.config_file = config_file;
  auto config = runtime::load_config(options);
  config::prepare_data_dir(config);
  return config;
}

std::string option(const Args& args, const std::string& name, const std::string& fallback) {
  for (std::size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == name) return args[i + 1];
  }
  return fallback;
}

std::uint64_t option_number(const Args& args, const std::string& name, std::uint64_t fallback) {
  const std::string v = option(args, name, "");
  return v.empty() ? fallback : std::stoull(v);
}

}  // namespace tsunagu::bench

int main(int argc, char** argv) {
  using namespace tsunagu::bench;
  tsunagu::runtime::ProcessSetup process(argv[0]);
  const std::map<std::string, int (*)(const Args&)> commands{
      {"ceiling", ceiling_main},     {"spool", spool_main}, {"hc", hc_main},
      {"hc-decode", hc_decode_main}, {"audit", audit_main}, {"identity", identity_main},
      {"https", https_main},         {"pg", pg_main},       {"report", report_main}};
  if (argc < 2 || !commands.count(argv[1])) {
    std::cerr << "usage: tsunagu-bench <command> [args], command one of:";
    for (const auto& entry : commands) std::cerr << " " << entry.first;
    std::cerr << " (bench/run.sh shows how each is called)\n";
    return 2;
  }
  const Args args(argv + 2, argv + argc);
  try {
    return commands.at(argv[1])(args);
  } catch (const std::exception& e) {
    std::cerr << "tsunagu-bench " << argv[1] << ": " << e.what() << "\n";
    return 1;
  }
}
