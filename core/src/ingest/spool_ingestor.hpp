// Spool ingest: files dropped into DATA/spool/<system>/ become events or quarantined records.
//
// A file is claimed by an atomic rename into work/ (a name that already sits in work/ waits), its
// digest is taken, and it is decoded record by record by the system's adapter plugin and mapped by
// its mapping. Good records are stored as events, bad ones quarantined with file, record number,
// field and reason, batch by batch, each batch one transaction. Storing is idempotent — an event
// is unique on (source, source_ref, source_version) and a quarantined record on (input digest,
// record number) — so a file interrupted by a crash is simply processed again from work/ on the
// next start, and a file dropped twice stores nothing twice. A finished file moves to done/
// (with a .errors report beside it if records were rejected); a file that cannot be read as a
// whole (wrong header, unreadable) moves to failed/ with its .errors report.
//
// Senders should write a file under a name starting with '.' and rename it when complete:
// dot-files are never claimed.
#pragma once

#include <atomic>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <tsunagu/adapter.hpp>

#include "config/hub_config.hpp"
#include "ingest/record_storer.hpp"
#include "mapping/mapping.hpp"
#include "store/store.hpp"

namespace tsunagu::ingest {

struct FileOutcome {
  // Where the file ended up: done/, failed/, or work/ if stopped.
  std::filesystem::path final_path;
  std::int64_t input_id = 0;
  std::int64_t records = 0;      // records the adapter produced
  std::int64_t events = 0;       // events stored from this input (across resumed runs)
  std::int64_t duplicates = 0;   // records whose event was already stored
  std::int64_t quarantined = 0;  // records of this input in quarantine
  bool failed = false;           // the file as a whole could not be decoded
  bool interrupted = false;      // stop was requested; the file stays in work/ for the next run
  // A store error (full disk, a failing routing step): the file stays in work/ and is tried
  // again on a later pass, not at once.
  bool retry_later = false;
  std::string message;
};

class SpoolIngestor {
 public:
  // `stop` is polled between records; when it becomes true the current batch is committed and
  // the file is left in work/ to be resumed.
  SpoolIngestor(const config::HubConfig& config, store::Store& store, audit::AuditLog& audit,
                std::vector<SystemPipeline> pipelines, const std::atomic<bool>& stop);

  // One pass over every system's spool: first files left in work/ by an interrupted run, then
  // new files in name order. Returns the number of files processed (not counting those left
  // to retry after a store error, so the caller waits its poll interval before trying them
  // again rather than spinning on a full disk).
  std::size_t poll_once();

  // Claims `file` (in the system's spool directory) and ingests it.
  FileOutcome ingest_new_file(const SystemPipeline& pipeline, const std::filesystem::path& file);
  // Ingests a file already claimed into work/.
  FileOutcome ingest_claimed_file(const SystemPipeline& pipeline,
                                  const std::filesystem::path& claimed);

  std::vector<SystemPipeline> pipelines() const;
  // A reload's new pipelines (mappings, adapters). Any thread; the next pass uses them, a file
  // being ingested finishes with the pipeline it started with.
  void replace_pipelines(std::vector<SystemPipeline> pipelines);

 private:
  const config::HubConfig& config_;
  store::Store& store_;
  audit::AuditLog& audit_;
  mutable std::mutex pipelines_mutex_;
  std::vector<SystemPipeline> pipelines_;
  const std::atomic<bool>& stop_;
};

// Renames src to dst unless dst exists; true if this call moved it (atomic between processes).
bool claim_file(const std::filesystem::path& src, const std::filesystem::path& dst);

// Hex SHA-256 of a file's bytes, read in chunks.
std::string file_sha256(const std::filesystem::path& file, std::int64_t& size);

}  // namespace tsunagu::ingest
