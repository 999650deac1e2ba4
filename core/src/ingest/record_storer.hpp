// The one place where decoded native records become stored events or quarantined records,
// shared by every transport (spool files, HTTPS pushes).
//
// It is the RecordSink an adapter writes into: each record is mapped, then stored (idempotently)
// or quarantined with the field and reason, and every `batch_size` records are committed as one
// transaction. It never throws into the plugin: a store failure rolls back the open batch, is kept
// in failure(), and stops the adapter. If the store is already in a transaction when a record
// arrives, the records join it and the caller commits or rolls back (group commit of pushes).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <tsunagu/adapter.hpp>

#include "audit/audit_log.hpp"
#include "identity/person_master.hpp"
#include "mapping/mapping.hpp"
#include "store/store.hpp"

namespace tsunagu::ingest {

// What turns one system's native records into events.
// Called for every newly stored and linked event, inside the transaction that stores it (the
// router: an event is never stored without its routing decisions). It runs on the ingesting
// thread with that thread's store.
using StoredEventHook =
    std::function<void(store::Store& store, audit::AuditLog& audit, const CaseEvent& event,
                       const std::string& subject_id, const identity::LinkResult& link)>;

struct SystemPipeline {
  std::string system;
  std::shared_ptr<Adapter> adapter;
  std::shared_ptr<const mapping::Mapping> mapping;
  StoredEventHook on_stored;  // empty: nothing after storing (routing off)
};

// Where a received input came from; the record digests and quarantine rows refer to it.
struct InputRef {
  std::string system;
  std::string origin;  // file name or push id
  std::string sha256;  // of the input's raw bytes
  std::int64_t input_id = 0;
};

struct RecordRejection {
  std::uint64_t record_no = 0;
  std::uint64_t line = 0;
  std::string field;   // native field of the first error; may be empty
  std::string reason;  // every error of the record, "field: reason; field: reason"
};

class RecordStorer final : public RecordSink {
 public:
  // Every stored event and quarantined record gets its audit entry in the same transaction.
  RecordStorer(store::Store& store, audit::AuditLog& audit, const SystemPipeline& pipeline,
               InputRef input, std::size_t batch_size, const std::atomic<bool>& stop);
  ~RecordStorer() override;

  bool accept(NativeRecord&& record) noexcept override;

  // Commits the open batch. Throws on a store error.
  void flush();

  const std::optional<std::string>& failure() const { return failure_; }
  std::int64_t stored() const { return stored_; }          // events inserted by this run
  std::int64_t duplicates() const { return duplicates_; }  // events that were already stored
  // Rejections seen by this run (the store has them too; this is for an immediate answer).
  const std::vector<RecordRejection>& rejections() const { return rejections_; }

 private:
  void handle(const NativeRecord& record);
  void quarantine(const NativeRecord& record, const std::string& field, const std::string& reason);

  store::Store& store_;
  audit::AuditLog& audit_;
  const SystemPipeline& pipeline_;
  InputRef input_;
  std::size_t batch_size_;
  const std::atomic<bool>& stop_;
  std::unique_ptr<store::Transaction> tx_;
  std::optional<identity::PersonMaster> person_master_;  // made with the first stored event
  std::size_t in_batch_ = 0;
  std::int64_t stored_ = 0;
  std::int64_t duplicates_ = 0;
  std::vector<RecordRejection> rejections_;
  std::optional<std::string> failure_;
};

// The audit entry of a stored event (metadata and digests only).
audit::EntryDraft event_stored_entry(const CaseEvent& event, const std::string& actor,
                                     const std::string& subject, const std::string& raw,
                                     const std::string& input_sha256, std::int64_t record_no);

// "field: reason; field: reason"
std::string join_errors(const std::vector<mapping::FieldError>& errors);

}  // namespace tsunagu::ingest
