#include "store/store.hpp"

#include <mutex>

#include <Poco/Data/LOB.h>
#include <Poco/Data/RecordSet.h>
#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>
#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/Exception.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Timestamp.h>
#include <Poco/UUIDGenerator.h>

#include "store/migrations.hpp"

namespace tsunagu::store {
namespace fs = std::filesystem;
using Poco::Data::BLOB;
using Poco::Data::Session;
using Poco::Data::Statement;
using namespace Poco::Data::Keywords;

namespace {

std::string subject_payload(const CaseEvent& e) {
  Poco::JSON::Object subject;
  subject.set("resident_id", e.subject.resident_id);
  subject.set("name", e.subject.name);
  subject.set("name_kana", e.subject.name_kana);
  subject.set("birth_date", e.subject.birth_date);
  subject.set("sex", e.subject.sex);
  subject.set("address", e.subject.address);
  Poco::JSON::Object household;
  household.set("household_id", e.household.household_id);
  household.set("role", e.household.role);
  Poco::JSON::Object attributes;
  for (const auto& [k, v] : e.attributes) attributes.set(k, v);
  Poco::JSON::Object root;
  root.set("subject", subject);
  root.set("household", household);
  root.set("attributes", attributes);
  std::ostringstream out;
  root.stringify(out);
  return out.str();
}

void read_payload(const std::string& json, CaseEvent& e) {
  Poco::JSON::Parser parser;
  auto root = parser.parse(json).extract<Poco::JSON::Object::Ptr>();
  auto subject = root->getObject("subject");
  e.subject.resident_id = subject->optValue<std::string>("resident_id", "");
  e.subject.name = subject->optValue<std::string>("name", "");
  e.subject.name_kana = subject->optValue<std::string>("name_kana", "");
  e.subject.birth_date = subject->optValue<std::string>("birth_date", "");
  e.subject.sex = subject->optValue<std::string>("sex", "");
  e.subject.address = subject->optValue<std::string>("address", "");
  auto household = root->getObject("household");
  e.household.household_id = household->optValue<std::string>("household_id", "");
  e.household.role = household->optValue<std::string>("role", "");
  auto attributes = root->getObject("attributes");
  for (const auto& [k, v] : *attributes) e.attributes[k] = v.toString();
}

BLOB to_blob(const std::string& s) {
  return BLOB(reinterpret_cast<const unsigned char*>(s.data()), s.size());
}

std::string from_blob(const BLOB& b) {
  return std::string(reinterpret_cast<const char*>(b.rawContent()), b.size());
}

}  // namespace

std::string utc_now() {
  return Poco::DateTimeFormatter::format(Poco::Timestamp(), Poco::DateTimeFormat::ISO8601_FRAC_FORMAT,
                                         0);
}

struct Store::Impl {
  explicit Impl(Session s) : session(std::move(s)) {}
  Session session;
  fs::path file;
  bool in_tx = false;
};

std::unique_ptr<Store> Store::open_sqlite(const fs::path& file, const SqliteOptions& options) {
  static std::once_flag registered;
  std::call_once(registered, [] { Poco::Data::SQLite::Connector::registerConnector(); });
  try {
    if (file.has_parent_path()) fs::create_directories(file.parent_path());
    auto impl = std::make_unique<Impl>(Session("SQLite", file.string()));
    impl->file = file;
    Session& s = impl->session;
    s << "PRAGMA busy_timeout = " + std::to_string(options.busy_timeout_ms), now;
    s << "PRAGMA journal_mode = WAL", now;
    s << std::string("PRAGMA synchronous = ") + (options.synchronous_full ? "FULL" : "NORMAL"), now;
    s << "PRAGMA foreign_keys = ON", now;
    std::unique_ptr<Store> store(new Store(std::move(impl)));
    store->migrate();
    return store;
  } catch (const StoreError&) {
    throw;
  } catch (const Poco::Exception& e) {
    throw StoreError(file.string() + ": cannot open the store: " + e.displayText());
  } catch (const fs::filesystem_error& e) {
    throw StoreError(file.string() + ": cannot open the store: " + e.code().message());
  }
}

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::~Store() = default;

Session& Store::session() { return impl_->session; }

int Store::known_schema_version() { return sqlite_migrations().back().version; }

int Store::schema_version() {
  int version = 0;
  impl_->session << "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", into(version), now;
  return version;
}

void Store::migrate() {
  Session& s = impl_->session;
  s << R"(CREATE TABLE IF NOT EXISTS schema_migrations (
            version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL))",
      now;
  const int current = schema_version();
  const int known = known_schema_version();
  if (current > known) {
    throw StoreError(impl_->file.string() + ": the store has schema version " +
                     std::to_string(current) + " but this build of Tsunagu knows only up to " +
                     std::to_string(known) +
                     "; run a newer Tsunagu or restore a backup made by this version");
  }
  for (const auto& m : sqlite_migrations()) {
    if (m.version <= current) continue;
    Transaction tx(*this);
    // Another process (a second instance, the CLI) may have applied it while we waited for the
    // write lock.
    if (schema_version() >= m.version) continue;
    try {
      for (const auto& sql : m.statements) s << sql, now;
      std::string description = m.description;
      std::string applied = utc_now();
      int version = m.version;
      s << "INSERT INTO schema_migrations (version, description, applied_at) VALUES (?, ?, ?)",
          use(version), use(description), use(applied), now;
    } catch (const Poco::Exception& e) {
      throw StoreError(impl_->file.string() + ": migration " + std::to_string(m.version) + " (" +
                       m.description + ") failed: " + e.displayText());
    }
    tx.commit();
  }
}

void Store::begin() {
  // IMMEDIATE takes the write lock now, so two writers wait on busy_timeout instead of failing
  // to upgrade a read lock half-way through a batch.
  impl_->session << "BEGIN IMMEDIATE", now;
  impl_->in_tx = true;
}

void Store::commit() {
  impl_->session << "COMMIT", now;
  impl_->in_tx = false;
}

void Store::rollback() {
  impl_->in_tx = false;
  impl_->session << "ROLLBACK", now;
}

bool Store::in_transaction() const { return impl_->in_tx; }

std::int64_t Store::open_input(const std::string& system, const std::string& origin,
                               const std::string& sha256, std::int64_t size) {
  Session& s = impl_->session;
  std::string sys = system, org = origin, digest = sha256;
  std::vector<Poco::Int64> existing;
  s << "SELECT id FROM inputs WHERE system = ? AND origin = ? AND sha256 = ? AND status = "
       "'processing' ORDER BY id DESC LIMIT 1",
      use(sys), use(org), use(digest), into(existing), now;
  if (!existing.empty()) return existing.front();
  std::string received = utc_now();
  Poco::Int64 sz = size;
  s << "INSERT INTO inputs (system, origin, sha256, size, status, received_at) "
       "VALUES (?, ?, ?, ?, 'processing', ?)",
      use(sys), use(org), use(digest), use(sz), use(received), now;
  Poco::Int64 id = 0;
  s << "SELECT last_insert_rowid()", into(id), now;
  return id;
}

void Store::close_input(const InputRecord& o) {
  std::string status = o.status, message = o.message, completed = utc_now();
  Poco::Int64 records = o.records, events = o.events, duplicates = o.duplicates,
              quarantined = o.quarantined, id = o.id;
  impl_->session << "UPDATE inputs SET status = ?, completed_at = ?, records = ?, events = ?, "
                    "duplicates = ?, quarantined = ?, message = ? WHERE id = ?",
      use(status), use(completed), use(records), use(events), use(duplicates), use(quarantined),
      use(message), use(id), now;
}

std::vector<InputRecord> Store::inputs(std::size_t limit) {
  std::vector<InputRecord> out;
  Statement select(impl_->session);
  select << "SELECT id, system, origin, sha256, size, status, received_at, "
            "COALESCE(completed_at, ''), records, events, duplicates, quarantined, message "
            "FROM inputs ORDER BY id DESC LIMIT " + std::to_string(limit);
  select.execute();
  Poco::Data::RecordSet rs(select);
  for (bool more = rs.moveFirst(); more; more = rs.moveNext()) {
    InputRecord r;
    r.id = rs[0].convert<Poco::Int64>();
    r.system = rs[1].convert<std::string>();
    r.origin = rs[2].convert<std::string>();
    r.sha256 = rs[3].convert<std::string>();
    r.size = rs[4].convert<Poco::Int64>();
    r.status = rs[5].convert<std::string>();
    r.received_at = rs[6].convert<std::string>();
    r.completed_at = rs[7].convert<std::string>();
    r.records = rs[8].convert<Poco::Int64>();
    r.events = rs[9].convert<Poco::Int64>();
    r.duplicates = rs[10].convert<Poco::Int64>();
    r.quarantined = rs[11].convert<Poco::Int64>();
    r.message = rs[12].convert<std::string>();
    out.push_back(std::move(r));
  }
  return out;
}

bool Store::insert_event(CaseEvent& event, std::int64_t input_id, std::int64_t record_no,
                         const std::string& raw) {
  std::string id = Poco::UUIDGenerator::defaultGenerator().createRandom().toString();
  std::string sensitivity(to_string(event.sensitivity));
  std::string payload = subject_payload(event);
  BLOB raw_blob = to_blob(raw);
  std::string stored = utc_now();
  Poco::Int64 version = event.source_version, input = input_id, record = record_no;
  Statement insert(impl_->session);
  insert << "INSERT INTO events (id, source, source_ref, source_version, kind, "
                         "occurred_at, sensitivity, ward_code, payload, raw, input_id, record_no, "
                         "stored_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                         "ON CONFLICT (source, source_ref, source_version) DO NOTHING",
       use(id), bind(event.source), bind(event.source_ref), use(version), bind(event.kind),
       bind(event.occurred_at), use(sensitivity), bind(event.subject.ward_code), use(payload),
      use(raw_blob), use(input), use(record), use(stored);
  if (insert.execute() == 0) return false;
  event.id = id;
  return true;
}

namespace {

StoredEvent read_event(Poco::Data::RecordSet& rs) {
  StoredEvent se;
  CaseEvent& e = se.event;
  e.id = rs[0].convert<std::string>();
  e.source = rs[1].convert<std::string>();
  e.source_ref = rs[2].convert<std::string>();
  e.source_version = rs[3].convert<Poco::Int64>();
  e.kind = rs[4].convert<std::string>();
  e.occurred_at = rs[5].convert<std::string>();
  e.sensitivity = sensitivity_from_string(rs[6].convert<std::string>());
  e.subject.ward_code = rs[7].convert<std::string>();
  read_payload(rs[8].convert<std::string>(), e);
  se.input_id = rs[9].convert<Poco::Int64>();
  se.record_no = rs[10].convert<Poco::Int64>();
  se.stored_at = rs[11].convert<std::string>();
  return se;
}

constexpr const char* kEventColumns =
    "SELECT id, source, source_ref, source_version, kind, occurred_at, sensitivity, ward_code, "
    "payload, input_id, record_no, stored_at FROM events ";

}  // namespace

std::vector<StoredEvent> Store::events(const EventQuery& q) {
  std::string source = q.source, kind = q.kind;
  Statement select(impl_->session);
  select << std::string(kEventColumns) +
                "WHERE (? = '' OR source = ?) AND (? = '' OR kind = ?) "
                "ORDER BY stored_at, source, source_ref, source_version LIMIT " +
                std::to_string(q.limit) + " OFFSET " + std::to_string(q.offset),
      use(source), use(source), use(kind), use(kind);
  select.execute();
  Poco::Data::RecordSet rs(select);
  std::vector<StoredEvent> out;
  for (bool more = rs.moveFirst(); more; more = rs.moveNext()) out.push_back(read_event(rs));
  return out;
}

std::optional<StoredEvent> Store::event(const std::string& id) {
  std::string key = id;
  Statement select(impl_->session);
  select << std::string(kEventColumns) + "WHERE id = ?", use(key);
  select.execute();
  Poco::Data::RecordSet rs(select);
  if (!rs.moveFirst()) return std::nullopt;
  return read_event(rs);
}

std::int64_t Store::count_events(const std::string& source) {
  std::string src = source;
  Poco::Int64 n = 0;
  impl_->session << "SELECT COUNT(*) FROM events WHERE ? = '' OR source = ?", use(src), use(src),
      into(n), now;
  return n;
}

std::int64_t Store::count_events_of_input(std::int64_t input_id) {
  Poco::Int64 id = input_id, n = 0;
  impl_->session << "SELECT COUNT(*) FROM events WHERE input_id = ?", use(id), into(n), now;
  return n;
}

bool Store::insert_quarantine(const QuarantineEntry& q) {
  BLOB raw = to_blob(q.raw);
  std::string created = utc_now();
  Poco::Int64 record = q.record_no, line = q.line;
  Statement insert(impl_->session);
  insert << "INSERT INTO quarantine (system, origin, input_sha256, record_no, line, "
                         "field, reason, raw, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                         "ON CONFLICT (system, input_sha256, record_no) DO NOTHING",
       bind(q.system), bind(q.origin), bind(q.input_sha256), use(record), use(line),
      bind(q.field), bind(q.reason), use(raw), use(created);
  return insert.execute() > 0;
}

namespace {

QuarantineEntry read_quarantine(Poco::Data::RecordSet& rs) {
  QuarantineEntry q;
  q.id = rs[0].convert<Poco::Int64>();
  q.system = rs[1].convert<std::string>();
  q.origin = rs[2].convert<std::string>();
  q.input_sha256 = rs[3].convert<std::string>();
  q.record_no = rs[4].convert<Poco::Int64>();
  q.line = rs[5].convert<Poco::Int64>();
  q.field = rs[6].convert<std::string>();
  q.reason = rs[7].convert<std::string>();
  if (!rs[8].isEmpty()) q.raw = from_blob(rs[8].extract<BLOB>());
  q.status = rs[9].convert<std::string>();
  q.created_at = rs[10].convert<std::string>();
  return q;
}

constexpr const char* kQuarantineColumns =
    "SELECT id, system, origin, input_sha256, record_no, line, field, reason, raw, status, "
    "created_at FROM quarantine ";

}  // namespace

std::vector<QuarantineEntry> Store::quarantine(const std::string& system, std::size_t limit,
                                               bool open_only) {
  std::string sys = system;
  int only_open = open_only ? 1 : 0;
  Statement select(impl_->session);
  select << std::string(kQuarantineColumns) +
                "WHERE (? = '' OR system = ?) AND (? = 0 OR status = 'open') ORDER BY id LIMIT " +
                std::to_string(limit),
      use(sys), use(sys), use(only_open);
  select.execute();
  Poco::Data::RecordSet rs(select);
  std::vector<QuarantineEntry> out;
  for (bool more = rs.moveFirst(); more; more = rs.moveNext()) out.push_back(read_quarantine(rs));
  return out;
}

std::optional<QuarantineEntry> Store::quarantine_entry(std::int64_t id) {
  Poco::Int64 key = id;
  Statement select(impl_->session);
  select << std::string(kQuarantineColumns) + "WHERE id = ?", use(key);
  select.execute();
  Poco::Data::RecordSet rs(select);
  if (!rs.moveFirst()) return std::nullopt;
  return read_quarantine(rs);
}

std::vector<QuarantineEntry> Store::quarantine_of_input(const std::string& system,
                                                        const std::string& input_sha256) {
  std::string sys = system, digest = input_sha256;
  Statement select(impl_->session);
  select << std::string(kQuarantineColumns) +
                "WHERE system = ? AND input_sha256 = ? ORDER BY record_no",
      use(sys), use(digest);
  select.execute();
  Poco::Data::RecordSet rs(select);
  std::vector<QuarantineEntry> out;
  for (bool more = rs.moveFirst(); more; more = rs.moveNext()) out.push_back(read_quarantine(rs));
  return out;
}

std::int64_t Store::count_quarantine(const std::string& system) {
  std::string sys = system;
  Poco::Int64 n = 0;
  impl_->session << "SELECT COUNT(*) FROM quarantine WHERE status = 'open' AND (? = '' OR system = ?)",
      use(sys), use(sys), into(n), now;
  return n;
}

}  // namespace tsunagu::store
