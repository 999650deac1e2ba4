// Push ingest: a body a system sent over HTTPS becomes events or quarantined records, durably,
// before the sender gets its answer.
//
// A push is an input like a spool file: its SHA-256 is taken and it is registered with an
// `input.received` entry (transport "https", the client certificate's fingerprint), decoded by the
// system's adapter and stored through the same RecordStorer as spool files. Unlike a file, a push
// has no place to wait in: its receipt, its records and the close of the input
// (`input.completed`) are stored in ONE transaction, so the sender's 2xx means everything is on
// disk and anything else means nothing of its records is — the sender simply sends again. The
// origin of a push is derived from its digest ("https-<first 16 hex digits>"), so the same body
// sent again is recognised (its events are duplicates).
//
// The work is split for group commit (GroupCommitter): decode_push() runs on the request thread
// and holds no lock; PushIngestor::store() writes one decoded push inside a transaction the
// caller owns, which may hold other pushes too.
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

// A push decoded on its request thread, ready to be stored: everything the store step needs and
// nothing that needs the store.
struct DecodedPush {
  SystemPipeline pipeline;  // its own copy: a reload may swap the endpoint's meanwhile
  std::string sha256;
  std::string origin;
  std::int64_t size = 0;
  std::string client_sha256;
  std::string remote;
  std::vector<NativeRecord> records;  // in input order
  DecodeResult decoded;
  // Not empty: store none of its records, only the receipt and this as the input's failure
  // (the decode was stopped by shutdown, or the hub stopped before the push's turn).
  std::string failure;
};

// Digest, origin and the adapter's records of `pushed`. `stop` is polled between records
// (shutdown after the grace period): a push stopped part-way gets `failure` set. Never throws.
DecodedPush decode_push(const SystemPipeline& pipeline, const PushedBody& pushed,
                        const std::atomic<bool>& stop);

class PushIngestor {
 public:
  PushIngestor(store::Store& store, audit::AuditLog& audit) : store_(store), audit_(audit) {}

  // Writes `push` inside the caller's open writer transaction: the input row and its
  // `input.received`, its records (none if the body is unusable or `failure` is set) with their
  // routing, and `input.completed`. Throws on a store error (or a routing error); the caller
  // must then roll back, and nothing of the push is stored. The outcome holds only after the
  // caller's COMMIT.
  PushOutcome store(const DecodedPush& push);

  // After the transaction that held `push` was rolled back: its receipt and the input closed as
  // failed, in a transaction of their own. Best effort (the store may be what failed): logs and
  // returns false if even that fails.
  bool record_failure(const DecodedPush& push, const std::string& message) noexcept;

  // One push alone: decode_push() then store() in a transaction of its own, record_failure()
  // if that fails. Never throws; a store failure is reported as store_failed.
  PushOutcome ingest(const SystemPipeline& pipeline, const PushedBody& pushed,
                     const std::atomic<bool>& stop);

  // Appends an `ingest.refused` entry in its own transaction.
  void record_refusal(const PushRefusal& refusal);

 private:
  // Registers the input and appends its `input.received`; sets input_id, origin and sha256.
  void open_input(const DecodedPush& push, PushOutcome& outcome);
  void close_input(const SystemPipeline& pipeline, const PushOutcome& outcome,
                   const std::string& status);

  store::Store& store_;
  audit::AuditLog& audit_;
};

// Hex SHA-256 of bytes in memory.
std::string bytes_sha256(const std::string& bytes);

}  // namespace tsunagu::ingest
