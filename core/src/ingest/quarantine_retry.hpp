// tsunagu quarantine retry: after a mapping (or an adapter) is fixed, quarantined records are
// decoded again from their raw bytes and, if they now map, stored as events and resolved.
// Idempotent: a resolved record is never retried, and storing an event twice stores it once.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "audit/audit_log.hpp"
#include "ingest/record_storer.hpp"
#include "store/store.hpp"

namespace tsunagu::ingest {

struct RetryOutcome {
  std::int64_t quarantine_id = 0;
  std::string system;
  std::string origin;
  std::int64_t record_no = 0;
  std::string outcome;  // stored | duplicate | still_rejected | unreadable | no_pipeline
  std::string detail;   // the event id, or why it is still rejected
};

// Retries the open quarantined records of `system` (all systems if empty), or only `id`.
std::vector<RetryOutcome> retry_quarantine(store::Store& store, audit::AuditLog& audit,
                                           const std::vector<SystemPipeline>& pipelines,
                                           const std::string& system,
                                           std::optional<std::int64_t> id,
                                           const std::string& actor);

}  // namespace tsunagu::ingest
