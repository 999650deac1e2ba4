// The whole-pipeline benchmark drivers of tsunagu-bench (one subcommand each) and what they share.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "config/hub_config.hpp"

namespace tsunagu::bench {

using Args = std::vector<std::string>;

// Where this build's programs and plugins are (bin/ and plugins/ side by side) and the checkout.
struct Layout {
  std::filesystem::path bin_dir;     // tsunagud, tsunagu, tsunagu-bench-gen, tsunagu-bench
  std::filesystem::path plugin_dir;  // bin/../plugins
  std::filesystem::path source_dir;  // the checkout: mappings/, bench/xslt/
  std::filesystem::path mapping_dir() const { return source_dir / "mappings"; }
  std::filesystem::path config_dir() const { return source_dir / "config"; }
  std::filesystem::path self() const { return bin_dir / "tsunagu-bench"; }
};
const Layout& layout();

// Writes <work>/tsunagu.xml for an instance with its data directory in <work>/data, the given
// systems enabled (and the other three, as a deployed hub has them), this build's plugins and the
// checkout's mappings, no HTTPS unless `http_xml` (a complete <http> element) is given, the store
// in <work>/data/store.db (SQLite, synchronous FULL) unless `store_xml` (a complete <store>
// element) is given. The instance routes with the checkout's bundled routing files
// (config/{policies,roster,holidays,routes}.xml), as the deployed default does: routing is part of
// the pipeline measured. Returns the config file.
std::filesystem::path write_instance_config(const std::filesystem::path& work,
                                            const std::vector<std::string>& systems,
                                            int batch_size = 500, const std::string& http_xml = "",
                                            const std::string& store_xml = "",
                                            const std::string& name = "bench");
// A <store> element for write_instance_config: SQLite as its default, with
// `store/sqlite/checkpoint` from the driver's `--checkpoint background|commit` (commit: SQLite's
// own checkpoint, in the commit that fills the log; default background).
std::string sqlite_store_xml(const Args& args);
// Loads it as the programs do (and prepares the data directory).
config::HubConfig load_instance_config(const std::filesystem::path& config_file);

// Value of "--name V" in args, or the default.
std::string option(const Args& args, const std::string& name, const std::string& fallback);
std::uint64_t option_number(const Args& args, const std::string& name, std::uint64_t fallback);

int ceiling_main(const Args& args);    // B1 reference: raw SQLite bulk insert of the CSV rows
int spool_main(const Args& args);      // B1/B2: the real tsunagud on a spool
int hc_main(const Args& args);         // B3: decode + map vs xsltproc vs xmllint --stream
int hc_decode_main(const Args& args);  // B3: the measured child process
int audit_main(const Args& args);      // B5
int identity_main(const Args& args);   // B6
int https_main(const Args& args);      // B4
int pg_main(const Args& args);         // B7: PostgreSQL, one vs two tsunagud
int report_main(const Args& args);     // RESULTS.md

}  // namespace tsunagu::bench
