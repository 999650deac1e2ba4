#include "ingest/quarantine_retry.hpp"

#include "identity/person_master.hpp"

namespace tsunagu::ingest {
namespace {

// Keeps the one record an adapter hands back from decode_record().
class SingleRecord final : public RecordSink {
 public:
  bool accept(NativeRecord&& record) noexcept override {
    if (!record_) record_ = std::move(record);
    return false;
  }
  std::optional<NativeRecord> record_;
};

}  // namespace

std::vector<RetryOutcome> retry_quarantine(store::Store& store, audit::AuditLog& audit,
                                           const std::vector<SystemPipeline>& pipelines,
                                           const std::string& system,
                                           std::optional<std::int64_t> id,
                                           const std::string& actor) {
  std::vector<store::QuarantineEntry> entries;
  if (id) {
    if (auto q = store.quarantine_entry(*id); q && q->status == "open") entries.push_back(*q);
  } else {
    entries = store.quarantine(system, 1000000, true);
  }
  std::vector<RetryOutcome> outcomes;
  for (const auto& q : entries) {
    RetryOutcome o{q.id, q.system, q.origin, q.record_no, "", ""};
    const SystemPipeline* pipeline = nullptr;
    for (const auto& p : pipelines) {
      if (p.system == q.system) pipeline = &p;
    }
    if (pipeline == nullptr) {
      o.outcome = "no_pipeline";
      o.detail = "system '" + q.system + "' is not configured or not enabled";
    } else if (!q.readable) {
      o.outcome = "unreadable";
      o.detail = "the raw record is sealed (no master key here) or was purged by retention";
    }
    if (!o.outcome.empty()) {
      outcomes.push_back(o);
      continue;
    }

    SingleRecord single;
    const DecodeResult decoded = pipeline->adapter->decode_record(q.raw, single);
    std::string field, reason;
    std::optional<CaseEvent> event;
    if (!single.record_) {
      reason = decoded.ok ? "the adapter produced no record" : decoded.message;
    } else if (!single.record_->error.empty()) {
      field = single.record_->error_field;
      reason = field.empty() ? single.record_->error : field + ": " + single.record_->error;
    } else {
      auto mapped = pipeline->mapping->map(single.record_->fields);
      if (mapped.ok()) {
        mapped.event.source = q.system;
        event = std::move(mapped.event);
      } else {
        field = mapped.errors.front().field;
        reason = join_errors(mapped.errors);
      }
    }

    store::Transaction tx(store);
    std::map<std::string, std::string> details{{"quarantine_id", std::to_string(q.id)},
                                               {"system", q.system},
                                               {"input_sha256", q.input_sha256},
                                               {"record_no", std::to_string(q.record_no)}};
    std::string subject = q.subject_id;
    if (event) {
      const auto input = store.input_by_digest(q.system, q.input_sha256);
      const bool inserted = store.insert_event(*event, input.value_or(0), q.record_no, q.raw, &subject);
      store.resolve_quarantine(q.id);
      o.outcome = inserted ? "stored" : "duplicate";
      o.detail = event->id;
      details["event_id"] = event->id;
      if (inserted) {
        audit.append(event_stored_entry(*event, actor, subject, q.raw, q.input_sha256, q.record_no));
        identity::PersonMaster(store, audit).link(*event, subject, actor);
      }
    } else {
      store.update_quarantine_reason(q.id, field, reason);
      o.outcome = "still_rejected";
      o.detail = reason;
      details["field"] = field;
    }
    details["outcome"] = o.outcome;
    audit.append({audit::entry_type::kQuarantineRetried, actor, subject, details});
    tx.commit();
    outcomes.push_back(o);
  }
  return outcomes;
}

}  // namespace tsunagu::ingest
