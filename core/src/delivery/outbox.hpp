// The delivery outbox: a notice's deliveries through channels other than the inbox, one row per
// (notice, channel, officer), written by the router in the notice's own transaction.
//
// Workers claim a due row with a lease, make one attempt through the ChannelDriver outside any
// transaction, and record the outcome — with its audit entry and the notice's history row — in
// one transaction:
//   delivered  the row is done;
//   retry      tried again after an exponential back-off with jitter, until the channel's
//              attempt limit, then a dead letter;
//   dead       a dead letter at once (a 4xx from a webhook, a 550 from a mail relay).
// A worker that dies mid-attempt leaves its lease to run out; the row is then claimed again and
// the attempt repeated with the same delivery id (the idempotency key), so a receiver that honours
// the key sees each notice once. Dead letters wait for `tsunagu deadletter retry`.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "audit/audit_log.hpp"
#include "common/clock.hpp"
#include "delivery/channel_driver.hpp"
#include "routing/routing_config.hpp"
#include "store/store.hpp"

namespace tsunagu::delivery {

struct OutboxSettings {
  int max_attempts = 8;                                    // per channel unless overridden
  std::map<std::string, int> max_attempts_by_channel;
  std::chrono::milliseconds initial_backoff{5000};         // after the first failed attempt
  std::chrono::milliseconds max_backoff{std::chrono::hours(1)};
  std::chrono::milliseconds lease{std::chrono::minutes(5)};  // longer than any attempt can take
  int attempts_for(const std::string& channel) const;
};

struct OutboxRow {
  std::string id;  // the delivery id
  std::string notice_id;
  std::string channel;
  std::string recipient;
  std::string status;  // pending | delivered | dead
  int attempts = 0;
  std::int64_t next_attempt_at = 0;  // Unix milliseconds
  std::string last_outcome;
  std::string last_detail;
  std::string created_at;
  std::string delivered_at;
};

class Outbox {
 public:
  // `driver` may be null (no channels configured: every row is a dead letter when tried).
  // `jitter` returns a number in [0, 1) (tests pass a fixed one).
  Outbox(store::Store& store, audit::AuditLog& audit, const ChannelDriver* driver,
         std::shared_ptr<const routing::RoutingConfig> routing, OutboxSettings settings,
         const Clock& clock, std::function<double()> jitter = {});

  // Claims one due row and makes one attempt. False when nothing is due.
  bool run_one();
  // Runs due rows until none is left (tests; the CLI). Returns how many attempts were made.
  std::size_t run_due();

  // The delay after the n-th failed attempt: min(max, initial · 2^(n−1)) scaled into
  // [½, 1] of itself by the jitter.
  std::chrono::milliseconds backoff(int failed_attempts, double jitter) const;

  std::vector<OutboxRow> list(const std::string& status, std::size_t limit);
  std::optional<OutboxRow> get(const std::string& id);
  // A dead letter back to pending, due now, its attempts counted afresh. Throws
  // std::invalid_argument if the row does not exist or is not dead.
  void retry(const std::string& id, const std::string& actor);
  std::int64_t count(const std::string& status);

 private:
  std::optional<OutboxRow> claim();
  ChannelDelivery delivery_of(const OutboxRow& row, bool& readable);
  void record(const OutboxRow& row, const ChannelResult& result);
  std::int64_t now_ms() const;

  store::Store& store_;
  audit::AuditLog& audit_;
  const ChannelDriver* driver_;
  std::shared_ptr<const routing::RoutingConfig> routing_;
  OutboxSettings settings_;
  const Clock& clock_;
  std::function<double()> jitter_;
};

}  // namespace tsunagu::delivery
