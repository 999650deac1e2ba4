#include "ingest/spool_ingestor.hpp"

#include <fcntl.h>
#include <unistd.h>
#include <cerrno>
#include <cstdio>
#include <fstream>

#include <openssl/evp.h>

#include <Poco/Logger.h>

#include "common/log_fields.hpp"

namespace tsunagu::ingest {
namespace fs = std::filesystem;
namespace {

Poco::Logger& log() {
  return Poco::Logger::get("tsunagu.ingest");
}

// done/<name>, or done/<stem>.<input id><ext> when a file of that name was processed before.
fs::path free_name(const fs::path& dir, const fs::path& name, std::int64_t input_id) {
  fs::path target = dir / name;
  std::error_code ec;
  if (!fs::exists(target, ec)) return target;
  return dir / (name.stem().string() + "." + std::to_string(input_id) + name.extension().string());
}

void write_error_report(const fs::path& report, const std::string& header,
                        const std::vector<store::QuarantineEntry>& rejected) {
  const fs::path tmp = report.parent_path() / ("." + report.filename().string() + ".tmp");
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << header << "\n";
    for (const auto& q : rejected) {
      out << q.origin << ": record " << q.record_no;
      if (q.line > 0) out << " (line " << q.line << ")";
      out << ": " << q.reason << "\n";
    }
  }
  fs::rename(tmp, report);
}

}  // namespace

bool claim_file(const fs::path& src, const fs::path& dst) {
  if (::renameat2(AT_FDCWD, src.c_str(), AT_FDCWD, dst.c_str(), RENAME_NOREPLACE) == 0) return true;
  if (errno != EINVAL && errno != ENOSYS) return false;  // EEXIST: wait; ENOENT: claimed by another
  // File systems without RENAME_NOREPLACE: link fails if dst exists, which is just as atomic.
  if (::link(src.c_str(), dst.c_str()) != 0) return false;
  ::unlink(src.c_str());
  return true;
}

std::string file_sha256(const fs::path& file, std::int64_t& size) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error(file.string() + ": cannot open for reading");
  // OpenSSL's SHA-256 (SHA-NI where the CPU has it): Poco's portable C implementation read a
  // large export at a fraction of the disk's speed.
  const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(),
                                                                    &EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("SHA-256 is not available");
  }
  std::vector<char> buf(1 << 16);
  size = 0;
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const auto n = in.gcount();
    if (n > 0) {
      EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<std::size_t>(n));
      size += n;
    }
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &length);
  static const char* digits = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * length);
  for (unsigned int i = 0; i < length; ++i) {
    hex += digits[digest[i] >> 4];
    hex += digits[digest[i] & 0xF];
  }
  return hex;
}

SpoolIngestor::SpoolIngestor(const config::HubConfig& config, store::Store& store,
                             audit::AuditLog& audit, std::vector<SystemPipeline> pipelines,
                             const std::atomic<bool>& stop)
    : config_(config),
      store_(store),
      audit_(audit),
      pipelines_(std::move(pipelines)),
      stop_(stop) {}

std::vector<SystemPipeline> SpoolIngestor::pipelines() const {
  std::lock_guard<std::mutex> lock(pipelines_mutex_);
  return pipelines_;
}

void SpoolIngestor::replace_pipelines(std::vector<SystemPipeline> pipelines) {
  std::lock_guard<std::mutex> lock(pipelines_mutex_);
  pipelines_.swap(pipelines);
}

std::size_t SpoolIngestor::poll_once() {
  std::size_t processed = 0;
  const std::vector<SystemPipeline> pass = pipelines();  // a reload takes effect on the next pass
  for (const auto& p : pass) {
    const fs::path spool = config_.spool_dir(p.system);
    for (const char* stage : {"work", ""}) {
      const fs::path dir = *stage ? spool / stage : spool;
      std::error_code ec;
      std::vector<fs::path> files;
      for (const auto& entry : fs::directory_iterator(dir, ec)) {
        const std::string name = entry.path().filename().string();
        if (name.empty() || name[0] == '.') continue;
        if (!entry.is_regular_file(ec)) continue;
        files.push_back(entry.path());
      }
      std::sort(files.begin(), files.end());
      for (const auto& f : files) {
        if (stop_) return processed;
        const FileOutcome o = *stage ? ingest_claimed_file(p, f) : ingest_new_file(p, f);
        if (o.input_id != 0 && !o.retry_later) ++processed;
      }
    }
  }
  return processed;
}

FileOutcome SpoolIngestor::ingest_new_file(const SystemPipeline& pipeline, const fs::path& file) {
  const fs::path claimed = config_.spool_dir(pipeline.system) / "work" / file.filename();
  if (!claim_file(file, claimed)) {
    FileOutcome o;
    o.final_path = file;
    o.message = "not claimed (a file of that name is still in work/, or another instance took it)";
    return o;
  }
  return ingest_claimed_file(pipeline, claimed);
}

FileOutcome SpoolIngestor::ingest_claimed_file(const SystemPipeline& pipeline,
                                               const fs::path& claimed) {
  FileOutcome o;
  o.final_path = claimed;
  const std::string origin = claimed.filename().string();
  std::int64_t size = 0;
  std::string sha256;
  try {
    sha256 = file_sha256(claimed, size);
  } catch (const std::exception& e) {
    o.message = e.what();
    log().error("%s", o.message);
    return o;
  }
  {
    store::Transaction tx(store_);
    bool created = false;
    o.input_id = store_.open_input(pipeline.system, origin, sha256, size, &created);
    if (created) {  // a resumed input was recorded as received the first time
      audit_.append({audit::entry_type::kInputReceived,
                     "system:" + pipeline.system,
                     "",
                     {{"system", pipeline.system},
                      {"origin", origin},
                      {"transport", "spool"},
                      {"input_id", std::to_string(o.input_id)},
                      {"sha256", sha256},
                      {"size", std::to_string(size)}}});
    }
    tx.commit();
  }
  const std::string input_id = std::to_string(o.input_id);
  log_fields::log(log(), Poco::Message::PRIO_INFORMATION,
                  "ingesting " + pipeline.system + "/" + origin + " (input " + input_id + ", " +
                      std::to_string(size) + " bytes, sha256 " + sha256 + ")",
                  {{log_fields::kSystem, pipeline.system}, {log_fields::kInputId, input_id}});

  std::ifstream in(claimed, std::ios::binary);
  RecordStorer sink(store_, audit_, pipeline, InputRef{pipeline.system, origin, sha256, o.input_id},
                    config_.batch_size, stop_);
  DecodeResult decoded;
  if (!in) {
    decoded.ok = false;
    decoded.message = claimed.string() + ": cannot open for reading";
  } else {
    decoded = pipeline.adapter->decode(in, origin, sink);
  }
  if (sink.failure()) {
    o.message = *sink.failure();
    o.retry_later = true;
    log().error("%s/%s: %s; the file stays in work/ and is retried on a later pass",
                pipeline.system, origin, o.message);
    return o;
  }
  sink.flush();
  o.records = static_cast<std::int64_t>(decoded.records);
  if (decoded.stopped || stop_) {
    o.interrupted = true;
    log().information("%s/%s: stopped after %s records; resumes on next start", pipeline.system,
                      origin, std::to_string(o.records));
    return o;
  }

  const fs::path spool = config_.spool_dir(pipeline.system);
  const std::vector<store::QuarantineEntry> rejected =
      store_.quarantine_of_input(pipeline.system, sha256);
  store::InputRecord outcome;
  outcome.id = o.input_id;
  outcome.records = o.records;
  outcome.events = store_.count_events_of_input(o.input_id);
  outcome.quarantined = static_cast<std::int64_t>(rejected.size());
  outcome.duplicates = std::max<std::int64_t>(0, o.records - outcome.events - outcome.quarantined);
  o.failed = !decoded.ok;
  o.message = decoded.message;
  outcome.status = o.failed ? "failed" : "done";
  outcome.message = o.message;

  const fs::path target_dir = spool / (o.failed ? "failed" : "done");
  const fs::path target = free_name(target_dir, claimed.filename(), o.input_id);
  if (o.failed || !rejected.empty()) {
    std::string header = origin + ": " + std::to_string(o.records) + " records, " +
                         std::to_string(outcome.events) + " stored, " +
                         std::to_string(outcome.duplicates) + " already stored, " +
                         std::to_string(rejected.size()) + " rejected";
    if (o.failed) {
      // Records before the point where reading stopped were processed as usual (the summary
      // says how many); the file goes to failed/ so that its sender can send it again.
      header = o.message + "\n" + origin +
               ": reading stopped there; before it: " + header.substr(origin.size() + 2);
    }
    write_error_report(target.string() + ".errors", header, rejected);
  }
  {
    store::Transaction tx(store_);
    store_.close_input(outcome);
    audit_.append({audit::entry_type::kInputCompleted,
                   "hub",
                   "",
                   {{"system", pipeline.system},
                    {"input_id", std::to_string(o.input_id)},
                    {"sha256", sha256},
                    {"status", outcome.status},
                    {"records", std::to_string(outcome.records)},
                    {"events", std::to_string(outcome.events)},
                    {"duplicates", std::to_string(outcome.duplicates)},
                    {"quarantined", std::to_string(outcome.quarantined)}}});
    tx.commit();
  }
  fs::rename(claimed, target);
  o.final_path = target;
  o.events = outcome.events;
  o.duplicates = outcome.duplicates;
  o.quarantined = outcome.quarantined;
  if (o.failed) {
    log().error("%s/%s could not be read to the end: %s (moved to %s)", pipeline.system, origin,
                o.message, target.string());
  } else {
    log_fields::log(log(), Poco::Message::PRIO_INFORMATION,
                    pipeline.system + "/" + origin + ": " + std::to_string(o.records) +
                        " records, " + std::to_string(o.events) + " stored, " +
                        std::to_string(o.duplicates) + " already stored, " +
                        std::to_string(o.quarantined) + " quarantined",
                    {{log_fields::kSystem, pipeline.system}, {log_fields::kInputId, input_id}});
  }
  return o;
}

}  // namespace tsunagu::ingest
