#include "ingest/record_storer.hpp"

namespace tsunagu::ingest {

std::string join_errors(const std::vector<mapping::FieldError>& errors) {
  std::string out;
  for (const auto& e : errors) {
    if (!out.empty()) out += "; ";
    out += mapping::to_string(e);
  }
  return out;
}

audit::EntryDraft event_stored_entry(const CaseEvent& e, const std::string& actor,
                                     const std::string& subject, const std::string& raw,
                                     const std::string& input_sha256, std::int64_t record_no) {
  return {audit::entry_type::kEventStored, actor, subject,
          {{"event_id", e.id},
           {"system", e.source},
           {"source_ref", e.source_ref},
           {"source_version", std::to_string(e.source_version)},
           {"kind", e.kind},
           {"sensitivity", std::string(to_string(e.sensitivity))},
           {"record_sha256", audit::to_hex(audit::sha256(raw))},
           {"input_sha256", input_sha256},
           {"record_no", std::to_string(record_no)}}};
}

RecordStorer::RecordStorer(store::Store& store, audit::AuditLog& audit,
                           const SystemPipeline& pipeline, InputRef input, std::size_t batch_size,
                           const std::atomic<bool>& stop)
    : store_(store), audit_(audit), pipeline_(pipeline), input_(std::move(input)), batch_size_(batch_size),
      stop_(stop) {}

RecordStorer::~RecordStorer() = default;

bool RecordStorer::accept(NativeRecord&& record) noexcept {
  if (failure_) return false;
  try {
    // A caller that already holds a transaction (a group commit of pushes) commits it itself.
    if (!tx_ && !store_.in_transaction()) tx_ = std::make_unique<store::Transaction>(store_);
    handle(record);
    if (++in_batch_ >= batch_size_) flush();
    return !stop_.load(std::memory_order_relaxed);
  } catch (const std::exception& e) {
    failure_ = "store error at record " + std::to_string(record.number) + ": " + e.what();
  } catch (...) {
    failure_ = "unknown error at record " + std::to_string(record.number);
  }
  tx_.reset();  // rolls back the open batch; the caller retries the whole input later
  return false;
}

void RecordStorer::flush() {
  if (tx_) {
    tx_->commit();
    tx_.reset();
  }
  in_batch_ = 0;
}

void RecordStorer::handle(const NativeRecord& record) {
  if (!record.error.empty()) {
    quarantine(record, record.error_field,
               record.error_field.empty() ? record.error : record.error_field + ": " + record.error);
    return;
  }
  mapping::MapResult mapped = pipeline_.mapping->map(record.fields);
  if (!mapped.ok()) {
    quarantine(record, mapped.errors.front().field, join_errors(mapped.errors));
    return;
  }
  mapped.event.source = pipeline_.system;
  std::string subject;
  if (!store_.insert_event(mapped.event, input_.input_id, static_cast<std::int64_t>(record.number),
                           record.raw, &subject)) {
    ++duplicates_;
    return;
  }
  ++stored_;
  if (!person_master_) person_master_.emplace(store_, audit_);
  const std::string actor = "system:" + input_.system;
  const identity::LinkResult link = person_master_->link(mapped.event, subject, actor);
  audit_.append(event_stored_entry(mapped.event, actor, subject, record.raw, input_.sha256,
                                   static_cast<std::int64_t>(record.number)));
  if (pipeline_.on_stored) pipeline_.on_stored(store_, audit_, mapped.event, subject, link);
}

void RecordStorer::quarantine(const NativeRecord& record, const std::string& field,
                              const std::string& reason) {
  store::QuarantineEntry q;
  q.system = input_.system;
  q.origin = input_.origin;
  q.input_sha256 = input_.sha256;
  q.record_no = static_cast<std::int64_t>(record.number);
  q.line = static_cast<std::int64_t>(record.line);
  q.field = field;
  q.reason = reason;
  q.raw = record.raw;
  std::string subject;
  if (store_.insert_quarantine(q, &subject)) {
    // The reason may quote a value (a date, a code): the entry names only the field.
    audit_.append({audit::entry_type::kRecordQuarantined, "system:" + input_.system, subject,
                   {{"system", input_.system},
                    {"origin", input_.origin},
                    {"input_sha256", input_.sha256},
                    {"record_no", std::to_string(record.number)},
                    {"field", field},
                    {"record_sha256", audit::to_hex(audit::sha256(record.raw))}}});
  }
  rejections_.push_back({record.number, record.line, field, reason});
}

}  // namespace tsunagu::ingest
