#include "delivery/outbox.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>

#include "routing/calendar.hpp"
#include "routing/notice_store.hpp"
#include "routing/router.hpp"
#include "store/prepared.hpp"

namespace tsunagu::delivery {

namespace {

constexpr const char* kColumns =
    "id, notice_id, channel, recipient, status, attempts, next_attempt_at, last_outcome, "
    "last_detail, created_at, delivered_at";

OutboxRow read_row(store::Query& q) {
  OutboxRow r;
  r.id = q.text(0);
  r.notice_id = q.text(1);
  r.channel = q.text(2);
  r.recipient = q.text(3);
  r.status = q.text(4);
  r.attempts = static_cast<int>(q.integer(5));
  r.next_attempt_at = q.integer(6);
  r.last_outcome = q.text(7);
  r.last_detail = q.text(8);
  r.created_at = q.text(9);
  r.delivered_at = q.text(10);
  return r;
}

double random_jitter() {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(engine);
}

}  // namespace

int OutboxSettings::attempts_for(const std::string& channel) const {
  auto it = max_attempts_by_channel.find(channel);
  return it == max_attempts_by_channel.end() ? max_attempts : it->second;
}

Outbox::Outbox(store::Store& store, audit::AuditLog& audit, const ChannelDriver* driver,
               std::shared_ptr<const routing::RoutingConfig> routing, OutboxSettings settings,
               const Clock& clock, std::function<double()> jitter)
    : store_(store),
      audit_(audit),
      driver_(driver),
      routing_(std::move(routing)),
      settings_(std::move(settings)),
      clock_(clock),
      jitter_(jitter ? std::move(jitter) : std::function<double()>(random_jitter)) {}

std::int64_t Outbox::now_ms() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now().time_since_epoch())
      .count();
}

std::chrono::milliseconds Outbox::backoff(int failed_attempts, double jitter) const {
  const double base = static_cast<double>(settings_.initial_backoff.count()) *
                      std::pow(2.0, std::max(0, failed_attempts - 1));
  const double capped = std::min(base, static_cast<double>(settings_.max_backoff.count()));
  const double scaled = capped * (0.5 + 0.5 * std::clamp(jitter, 0.0, 1.0));
  return std::chrono::milliseconds(static_cast<std::int64_t>(scaled));
}

std::optional<OutboxRow> Outbox::claim() {
  // The claim writes only its lease, so it does not wait for the writers (ingest, routing): on
  // PostgreSQL it locks the one row it takes and passes over rows another instance's worker is
  // claiming at the same moment (row_lock_sql); on SQLite it holds the write lock.
  store::Transaction tx(store_, store::Store::Lock::rows);
  const std::int64_t now = now_ms();
  std::optional<OutboxRow> row;
  {
    auto q = store_.query(std::string("SELECT ") + kColumns +
                          " FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? AND "
                          "claimed_until <= ? ORDER BY next_attempt_at, id LIMIT 1" +
                          store_.row_lock_sql());
    q.bind(now).bind(now);
    if (q.next()) row = read_row(q);
  }
  if (!row) return std::nullopt;
  // The lease: until it runs out no other worker, of this instance or another, takes the row; if
  // this one dies, the row is taken again after it (an instance that was killed half-way).
  const std::int64_t leased =
      store_.query("UPDATE outbox SET claimed_until = ? WHERE id = ? AND claimed_until <= ?")
          .bind(now + settings_.lease.count())
          .bind(row->id)
          .bind(now)
          .run();
  tx.commit();
  if (leased == 0) return std::nullopt;  // taken meanwhile (not possible under the locks above)
  return row;
}

ChannelDelivery Outbox::delivery_of(const OutboxRow& row, bool& readable) {
  ChannelDelivery d;
  d.delivery_id = row.id;
  d.notice_id = row.notice_id;
  d.attempt = row.attempts + 1;
  d.recipient_id = row.recipient;
  routing::NoticeStore notices(store_, audit_, clock_);
  auto n = notices.get(row.notice_id, true);
  readable = n && n->fields_readable;
  if (!n) return d;
  if (routing_) {
    if (const auto* o = routing_->roster.officer(row.recipient)) {
      d.recipient_name = o->name;
      d.recipient_email = o->email;
    }
  }
  d.recipient_role = n->recipient_role;
  d.ward_code = n->recipient_ward;
  auto kind = n->fields.find("kind");
  d.kind = kind == n->fields.end() ? n->rule_id : kind->second;
  d.kind_label = routing_ ? routing_->kind_label(d.kind) : d.kind;
  d.title = n->title;
  d.reason = n->reason;
  d.legal_basis = n->legal_basis;
  d.policy = n->policy_id;
  d.due_at = n->due_at > 0 ? routing::format_jst(routing::from_unix(n->due_at)) : "";
  d.created_at = n->created_at;
  d.fields = n->fields;
  // For a summary mail: how many of the officer's notices are still unread, the earliest due
  // (counted in the store, not through a list that a limit would cut short; read as
  // NoticeStore::list reads an inbox).
  static const std::string unread =
      std::string("SELECT COUNT(*), MIN(CASE WHEN due_at > 0 THEN due_at END)") +
      routing::kOfficersNotices + " AND status = 'open' AND opened_at = ''";
  auto q = store_.query(unread);
  q.bind(row.recipient);
  if (q.next()) {
    d.unread_for_recipient = static_cast<int>(q.integer(0));
    if (!q.is_null(1)) {
      d.earliest_due_for_recipient = routing::format_jst(routing::from_unix(q.integer(1)));
    }
  }
  return d;
}

void Outbox::record(const OutboxRow& row, const ChannelResult& result) {
  store::Transaction tx(store_);
  const std::int64_t now = now_ms();
  const int attempt = row.attempts + 1;
  std::string status = "pending";
  std::int64_t next = 0;
  const char* outcome = to_string(result.outcome);
  if (result.outcome == ChannelResult::Outcome::delivered) {
    status = "delivered";
  } else if (result.outcome == ChannelResult::Outcome::dead ||
             attempt >= settings_.attempts_for(row.channel)) {
    status = "dead";
  } else {
    next = now + backoff(attempt, jitter_()).count();
  }
  const std::string at = routing::format_jst(clock_.now());
  store_
      .query(
          "UPDATE outbox SET status = ?, attempts = ?, next_attempt_at = CASE WHEN ? > 0 THEN ? "
          "ELSE next_attempt_at END, claimed_until = 0, last_outcome = ?, last_detail = ?, "
          "delivered_at = CASE WHEN ? = 'delivered' THEN ? ELSE delivered_at END WHERE id = ?")
      .bind(status)
      .bind(attempt)
      .bind(next)
      .bind(next)
      .bind(outcome)
      .bind(result.detail)
      .bind(status)
      .bind(at)
      .bind(row.id)
      .run();
  std::string subject;
  {
    auto q = store_.query("SELECT subject_id FROM notices WHERE id = ?");
    q.bind(row.notice_id);
    if (q.next()) subject = q.text(0);
  }
  routing::NoticeStore notices(store_, audit_, clock_);
  const std::string detail = row.channel + " → " + row.recipient + ", attempt " +
                             std::to_string(attempt) + ": " + outcome +
                             (result.detail.empty() ? "" : " (" + result.detail + ")");
  if (status == "delivered") {
    notices.add_history(row.notice_id, "delivered", "hub", detail);
  } else if (status == "dead") {
    notices.add_history(row.notice_id, "dead_letter", "hub", detail);
  } else {
    notices.add_history(
        row.notice_id, "delivery_failed", "hub",
        detail + ", next " + routing::format_jst(TimePoint(std::chrono::milliseconds(next))));
  }
  audit_.append({audit::entry_type::kDeliveryAttempted,
                 "hub",
                 subject,
                 {{"delivery_id", row.id},
                  {"notice_id", row.notice_id},
                  {"channel", row.channel},
                  {"recipient", row.recipient},
                  {"attempt", std::to_string(attempt)},
                  {"outcome", outcome},
                  {"status", status},
                  {"detail", result.detail}}});
  tx.commit();
}

bool Outbox::run_one() {
  auto row = claim();
  if (!row) return false;
  bool readable = false;
  ChannelDelivery d = delivery_of(*row, readable);
  ChannelResult result;
  if (!readable) {
    result.outcome = ChannelResult::Outcome::dead;
    result.detail = "the notice's fields cannot be read (purged, or no key)";
  } else if (driver_ == nullptr) {
    result.outcome = ChannelResult::Outcome::dead;
    result.detail = "no delivery channels are configured";
  } else {
    result = driver_->deliver(row->channel, d);
  }
  record(*row, result);
  return true;
}

std::size_t Outbox::run_due() {
  std::size_t n = 0;
  while (run_one()) ++n;
  return n;
}

std::vector<OutboxRow> Outbox::list(const std::string& status, std::size_t limit) {
  auto q = store_.query(std::string("SELECT ") + kColumns +
                        " FROM outbox WHERE (? = '' OR status = ?) ORDER BY created_at, id "
                        "LIMIT " +
                        std::to_string(limit));
  q.bind(status).bind(status);
  std::vector<OutboxRow> out;
  while (q.next()) out.push_back(read_row(q));
  return out;
}

std::optional<OutboxRow> Outbox::get(const std::string& id) {
  auto q = store_.query(std::string("SELECT ") + kColumns + " FROM outbox WHERE id = ?");
  q.bind(id);
  if (!q.next()) return std::nullopt;
  return read_row(q);
}

std::int64_t Outbox::count(const std::string& status) {
  auto q = store_.query("SELECT COUNT(*) FROM outbox WHERE status = ?");
  q.bind(status);
  q.next();
  return q.integer(0);
}

void Outbox::retry(const std::string& id, const std::string& actor) {
  store::Transaction tx(store_);
  auto row = get(id);
  if (!row) throw std::invalid_argument("no delivery " + id);
  if (row->status != "dead") {
    throw std::invalid_argument("delivery " + id + " is " + row->status + ", not a dead letter");
  }
  store_
      .query(
          "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ?, "
          "claimed_until = 0 WHERE id = ?")
      .bind(now_ms())
      .bind(id)
      .run();
  std::string subject;
  {
    auto q = store_.query("SELECT subject_id FROM notices WHERE id = ?");
    q.bind(row->notice_id);
    if (q.next()) subject = q.text(0);
  }
  routing::NoticeStore(store_, audit_, clock_)
      .add_history(row->notice_id, "delivery_retried", actor,
                   row->channel + " → " + row->recipient);
  audit_.append({audit::entry_type::kDeliveryRetried,
                 actor,
                 subject,
                 {{"delivery_id", id},
                  {"notice_id", row->notice_id},
                  {"channel", row->channel},
                  {"recipient", row->recipient},
                  {"attempts_before", std::to_string(row->attempts)}}});
  tx.commit();
}

}  // namespace tsunagu::delivery
