// B3: the health_centre export decoded and mapped by the real adapter plugin (loaded from this
// build's plugins/ by the hub's PluginRegistry) and mappings/health_centre.xml, in a process of
// its own so that its peak RSS is its own, next to the two peers run on the same file in the same
// run: xsltproc with bench/xslt/health_centre.xsl (the same fields and conversions as one XSLT)
// and xmllint --stream --noout (a bare libxml2 streaming parse). Ratios compare whole-process wall
// times, start-up included on both sides (and, as extra figures, CPU times); peak RSS is each
// process's own (/usr/bin/time).
#include <fstream>
#include <iostream>

#include "bench_util.hpp"
#include "drivers.hpp"
#include "mapping/mapping.hpp"
#include "plugin/plugin_registry.hpp"

namespace tsunagu::bench {
namespace fs = std::filesystem;

namespace {

class MappingSink final : public RecordSink {
 public:
  explicit MappingSink(const mapping::Mapping& m) : mapping_(m) {}
  bool accept(NativeRecord&& record) noexcept override {
    ++records;
    if (!record.error.empty()) {
      ++decode_errors;
      return true;
    }
    const auto mapped = mapping_.map(record.fields);
    if (mapped.ok()) {
      ++events;
      checksum += mapped.event.kind.size() + mapped.event.occurred_at.size();
    } else {
      ++map_errors;
    }
    return true;
  }
  std::uint64_t records = 0, events = 0, decode_errors = 0, map_errors = 0, checksum = 0;

 private:
  const mapping::Mapping& mapping_;
};

std::uint64_t count_lines(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::uint64_t n = 0;
  std::string line;
  while (std::getline(in, line)) ++n;
  return n;
}

}  // namespace

// tsunagu-bench hc-decode <file>: decode + map only; RESULT lines for the parent.
int hc_decode_main(const Args& args) {
  if (args.empty()) throw std::invalid_argument("usage: hc-decode <HC_….xml>");
  const auto started = std::chrono::steady_clock::now();
  plugin::PluginRegistry plugins;
  plugins.load_directory(layout().plugin_dir);
  const auto m = mapping::Mapping::load_file(layout().mapping_dir() / "health_centre.xml",
                                             layout().mapping_dir() / "mapping.xsd");
  const auto adapter = plugins.create_adapter("health_centre", m.adapter_settings());
  const double setup = seconds_since(started);
  std::ifstream in(args[0], std::ios::binary);
  MappingSink sink(m);
  const auto decoding = std::chrono::steady_clock::now();
  const DecodeResult r = adapter->decode(in, fs::path(args[0]).filename().string(), sink);
  const double seconds = seconds_since(decoding);
  if (!r.ok) throw std::runtime_error("the export was rejected: " + r.message);
  result("B3", "docs", static_cast<double>(sink.records));
  result("B3", "events", static_cast<double>(sink.events));
  result("B3", "errors", static_cast<double>(sink.decode_errors + sink.map_errors));
  result("B3", "decode_map_s", seconds);
  result("B3", "setup_s", setup);
  std::cerr << "hc-decode: " << sink.records << " documents, " << sink.events << " events, "
            << sink.decode_errors << " decode errors, " << sink.map_errors << " mapping errors in "
            << seconds << " s (+ " << setup << " s loading plugins and mapping), checksum "
            << sink.checksum << "\n";
  return 0;
}

// tsunagu-bench hc <HC_….xml> <work dir>
int hc_main(const Args& args) {
  if (args.size() < 2) throw std::invalid_argument("usage: hc <HC_….xml> <work dir>");
  const fs::path file = fs::absolute(args[0]), work = fs::absolute(args[1]);
  fs::create_directories(work);
  const ChildUsage ours = run_child({layout().self().string(), "hc-decode", file.string()},
                                    work / "decode.out", work / "decode.err");
  std::cerr << read_file(work / "decode.err");
  if (ours.exit_code != 0) throw std::runtime_error("hc-decode failed");
  double docs = 0;
  for (const auto& f : read_results(work / "decode.out")) {
    result_text(f.id, f.key, f.value);
    if (f.key == "docs") docs = std::stod(f.value);
  }
  const ChildUsage xslt = run_child(
      {"xsltproc", "--output", (work / "xslt.out").string(),
       (layout().source_dir / "bench" / "xslt" / "health_centre.xsl").string(), file.string()},
      "", work / "xsltproc.err");
  const std::uint64_t xslt_lines = count_lines(work / "xslt.out");
  fs::remove(work / "xslt.out");
  const ChildUsage lint =
      run_child({"xmllint", "--stream", "--noout", file.string()}, "", work / "xmllint.err");
  std::cerr << "B3: decode+map process " << ours.wall_s << " s, peak RSS "
            << ours.max_rss_kb / 1024.0 << " MB; xsltproc " << xslt.wall_s << " s (exit "
            << xslt.exit_code << ", " << xslt_lines << " lines), peak RSS "
            << xslt.max_rss_kb / 1024.0 << " MB; xmllint --stream " << lint.wall_s << " s (exit "
            << lint.exit_code << "), peak RSS " << lint.max_rss_kb / 1024.0 << " MB\n";
  if (xslt.exit_code != 0 || xslt_lines != static_cast<std::uint64_t>(docs)) {
    std::cerr << read_file(work / "xsltproc.err");
    throw std::runtime_error("xsltproc did not transform every document");
  }
  if (lint.exit_code != 0)
    throw std::runtime_error("xmllint failed: " + read_file(work / "xmllint.err"));
  result("B3", "process_s", ours.wall_s);
  result("B3", "docs_per_s", docs / ours.wall_s);
  result("B3", "peak_rss_mb", ours.max_rss_kb / 1024.0);
  result("B3", "xsltproc_s", xslt.wall_s);
  result("B3", "xsltproc_peak_rss_mb", xslt.max_rss_kb / 1024.0);
  result("B3", "xmllint_s", lint.wall_s);
  result("B3", "xmllint_peak_rss_mb", lint.max_rss_kb / 1024.0);
  result("B3", "vs_xsltproc", xslt.wall_s / ours.wall_s);
  result("B3", "vs_xmllint", lint.wall_s / ours.wall_s);
  result("B3", "input_mb", static_cast<double>(fs::file_size(file)) / 1048576.0);
  // CPU time (user + system) of each whole process as well: on a machine shared with other work
  // the wall-time ratios move with the load, the CPU-time ones much less.
  const auto cpu = [](const ChildUsage& usage) { return usage.user_s + usage.sys_s; };
  result("B3", "process_cpu_s", cpu(ours));
  result("B3", "xsltproc_cpu_s", cpu(xslt));
  result("B3", "xmllint_cpu_s", cpu(lint));
  result("B3", "vs_xsltproc_cpu", cpu(xslt) / cpu(ours));
  result("B3", "vs_xmllint_cpu", cpu(lint) / cpu(ours));
  std::cerr << "B3: CPU time decode+map " << cpu(ours) << " s, xsltproc " << cpu(xslt)
            << " s, xmllint " << cpu(lint) << " s\n";
  return 0;
}

}  // namespace tsunagu::bench
