// Push ingest: a body a system sent over HTTPS becomes events or quarantined records, durably,
// before the sender gets its answer.
//
// A push is an input like a spool file: its SHA-256 is taken and it is registered with an
// `input.received` entry (transport "https", the client certificate's fingerprint), decoded by the
// system's adapter and stored through the same RecordStorer as spool files. Unlike a file, a push
// has no place to wait in: its records are stored in ONE transaction that also closes the input
// (`input.completed`), so the sender's 2xx means everything is on disk and anything else means
// nothing of its records is — the sender simply sends again. The origin of a push is derived from
// its digest ("https-<first 16 hex digits>"), so a push interrupted by a crash is continued by the
// same body sent again, just as a spool file left in work/ is.
//
// Not thread-safe: one PushIngestor per thread, over that thread's Store session. The pipeline's
// adapter and mapping are shared; both are safe to call from several threads.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "audit/audit_log.hpp"
#include "ingest/record_storer.hpp"
#include "store/store.hpp"

namespace tsunagu::ingest {

struct PushedBody {
  std::string body;           // the raw bytes as received
  std::string client_sha256;  // fingerprint of the verified client certificate
  std::string remote;         // peer address
};

struct PushOutcome {
  enum class Status {
    stored,       // every record stored, or already stored
    partial,      // some records were rejected (quarantined); the others are stored
    unusable,     // the body as a whole could not be decoded; nothing of it is stored
    store_failed  // the store failed; nothing of it is stored
  };
  Status status = Status::stored;
  std::int64_t input_id = 0;
  std::string origin;
  std::string sha256;
  std::uint64_t records = 0;    // records the adapter produced
  std::int64_t accepted = 0;    // events stored by this push
  std::int64_t duplicates = 0;  // records whose event was already stored
  std::vector<RecordRejection> rejected;
  std::string message;  // why, for unusable and store_failed
};

struct PushRefusal {
  std::string system;         // the system the push was addressed to
  int status = 0;             // the HTTP status it was answered with
  std::string reason_code;    // stable: no_certificate, unknown_certificate, …
  std::string reason;         // a sentence
  std::string client_sha256;  // empty without a certificate
  std::string client_cn;
  std::string remote;
};

class PushIngestor {
 public:
  PushIngestor(store::Store& store, audit::AuditLog& audit) : store_(store), audit_(audit) {}

  // Decodes and stores `pushed` with `pipeline`. `stop` is polled between records (shutdown
  // after the grace period): a push stopped part-way stores nothing and reports store_failed.
  // Throws only if the store fails before the records are decoded (registering the input).
  PushOutcome ingest(const SystemPipeline& pipeline, const PushedBody& pushed,
                     const std::atomic<bool>& stop);

  // Appends an `ingest.refused` entry in its own transaction.
  void record_refusal(const PushRefusal& refusal);

 private:
  void close_input(const SystemPipeline& pipeline, const PushOutcome& outcome,
                   const std::string& status);

  store::Store& store_;
  audit::AuditLog& audit_;
};

// Hex SHA-256 of bytes in memory.
std::string bytes_sha256(const std::string& bytes);

}  // namespace tsunagu::ingest
