#include "store/store.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstring>
#include <ctime>
#include <functional>
#include <map>
#include <mutex>

#include <pthread.h>

#include <libpq-fe.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <sqlite3.h>

#include <Poco/Data/PostgreSQL/Connector.h>
#include <Poco/Data/PostgreSQL/SessionImpl.h>
#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/SQLite/Utility.h>
#include <Poco/Data/Session.h>
#include <Poco/Exception.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "common/json_string.hpp"
#include "security/aead.hpp"
#include "store/checkpointer.hpp"
#include "store/dialect.hpp"
#include "store/migrations.hpp"
#include "store/page_cache.hpp"
#include "store/postgres_statement.hpp"
#include "store/prepared.hpp"
#include "store/wal_vfs.hpp"
#include "store/writer_queue.hpp"

namespace tsunagu::store {
namespace fs = std::filesystem;
using Poco::Data::Session;

namespace {

void append_member(std::string& out, std::string_view key, std::string_view value,
                   bool first = false) {
  if (!first) out += ',';
  append_json_string(out, key);
  out += ':';
  append_json_string(out, value);
}

// The sealed payload: {"attributes":{…},"household":{…},"subject":{…}}, read back by
// read_payload(). Written directly rather than through Poco::JSON::Object, which built a tree of
// Dynamic::Var for every record.
std::string subject_payload(const CaseEvent& e) {
  std::string out;
  out.reserve(256);
  out += "{\"attributes\":{";
  append_json_members(out, e.attributes);
  out += "},\"household\":{";
  append_member(out, "household_id", e.household.household_id, true);
  append_member(out, "role", e.household.role);
  out += "},\"subject\":{";
  append_member(out, "address", e.subject.address, true);
  append_member(out, "birth_date", e.subject.birth_date);
  append_member(out, "name", e.subject.name);
  append_member(out, "name_kana", e.subject.name_kana);
  append_member(out, "resident_id", e.subject.resident_id);
  append_member(out, "sex", e.subject.sex);
  out += "}}";
  return out;
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

}  // namespace

std::string utc_now() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  std::tm tm{};
  gmtime_r(&ts.tv_sec, &tm);
  // Written digit by digit: this runs several times per stored record.
  std::string out = "0000-00-00T00:00:00.000000+00:00";
  auto put = [&out](std::size_t at, unsigned value, int digits) {
    for (int i = digits - 1; i >= 0; --i, value /= 10)
      out[at + static_cast<std::size_t>(i)] = static_cast<char>('0' + value % 10);
  };
  put(0, static_cast<unsigned>(tm.tm_year + 1900), 4);
  put(5, static_cast<unsigned>(tm.tm_mon + 1), 2);
  put(8, static_cast<unsigned>(tm.tm_mday), 2);
  put(11, static_cast<unsigned>(tm.tm_hour), 2);
  put(14, static_cast<unsigned>(tm.tm_min), 2);
  put(17, static_cast<unsigned>(tm.tm_sec), 2);
  put(20, static_cast<unsigned>(ts.tv_nsec / 1000), 6);
  return out;
}

namespace {
// 16 bytes from OpenSSL's CSPRNG (Poco's UUIDGenerator opened /dev/urandom and took a lock per
// id), drawn 4 KiB at a time per thread: a RAND_bytes call costs as much as many UUIDs.
// A forked child must not hand out its parent's remaining bytes: a fork empties the pool.
std::array<unsigned char, 16> random_16() {
  static std::atomic<unsigned> forks{0};
  static std::once_flag registered;
  std::call_once(registered, [] { pthread_atfork(nullptr, nullptr, [] { ++forks; }); });
  thread_local std::array<unsigned char, 4096> pool{};
  thread_local std::size_t used = pool.size();
  thread_local unsigned pool_forks = 0;
  if (used + 16 > pool.size() || pool_forks != forks.load(std::memory_order_relaxed)) {
    pool_forks = forks.load(std::memory_order_relaxed);
    if (RAND_bytes(pool.data(), static_cast<int>(pool.size())) != 1) {
      throw StoreError("no random bytes for a UUID");
    }
    used = 0;
  }
  std::array<unsigned char, 16> b{};
  std::memcpy(b.data(), pool.data() + used, b.size());
  OPENSSL_cleanse(pool.data() + used, b.size());
  used += b.size();
  return b;
}

std::string uuid_text(std::array<unsigned char, 16> b, unsigned version) {
  b[6] = static_cast<unsigned char>((b[6] & 0x0F) | (version << 4));
  b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);  // RFC 9562 variant
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (std::size_t i = 0; i < b.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += digits[b[i] >> 4];
    out += digits[b[i] & 0xF];
  }
  return out;
}
}  // namespace

std::string random_uuid() {
  return uuid_text(random_16(), 4);
}

std::string time_ordered_uuid() {
  auto b = random_16();
  const auto ms =
      static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
  for (int i = 0; i < 6; ++i)
    b[static_cast<std::size_t>(i)] = static_cast<unsigned char>(ms >> (40 - 8 * i));
  return uuid_text(b, 7);
}

struct Store::SubjectKey {
  std::string id;
  security::DataKey key;
};

struct Store::Impl {
  Impl(Backend b, Session s) : backend(b), session(std::move(s)) {
    if (backend == Backend::sqlite) {
      db = Poco::Data::SQLite::Utility::dbHandle(session);
    } else {
      auto* impl = dynamic_cast<Poco::Data::PostgreSQL::SessionImpl*>(session.impl());
      if (impl == nullptr) throw StoreError("not a PostgreSQL session");
      pg = static_cast<PGconn*>(impl->handle());
    }
  }
  Backend backend;
  Session session;
  sqlite3* db = nullptr;
  PGconn* pg = nullptr;
  // Compiled statements (Store::query), finalised before the session closes the connection
  // (members are destroyed in reverse order).
  std::map<std::string, std::unique_ptr<Prepared>, std::less<>> statements;
  std::vector<std::pair<std::string, std::unique_ptr<Store::Extension>>> extensions;
  fs::path file;                  // SQLite: the database file
  bool synchronous_full = false;  // SQLite: as opened (defer_log_sync turns it off)
  std::string location;           // for messages: the file, or "PostgreSQL database <name>"
  bool in_tx = false;
  std::uint64_t generation = 0;
  std::shared_ptr<const security::Keyring> keyring;
  // Unwrapped data keys by lookup token and by subject id. Bounded: cleared when it grows large.
  std::map<std::string, SubjectKey> by_lookup;
  std::map<std::string, security::DataKey> by_id;
  // Subjects created by the open transaction: forgotten again if it rolls back.
  std::vector<std::string> created_lookups;
  // SQLite: this process's queue of writers to the file, and whether this connection is in it.
  std::shared_ptr<WriterQueue> writers;
  bool holds_turn = false;
  std::chrono::milliseconds busy_timeout{10000};
  // SQLite: the thread that checkpoints the file, if the options ask for one.
  std::shared_ptr<Checkpointer> checkpointer;
  void leave_queue() {
    if (holds_turn) writers->leave();
    holds_turn = false;
  }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  ~Impl() {
    leave_queue();  // a store dropped mid-transaction must not block the others
    if (checkpointer) Checkpointer::detach(db);
  }

  // PostgreSQL: if the connection is lost and no statement is in use, connects again with the same
  // parameters and session settings; the prepared statements went with the old connection.
  // Returns false if there was nothing to do or it cannot be done now.
  bool reconnect() {
    if (backend != Backend::postgresql || PQstatus(pg) == CONNECTION_OK) return false;
    for (const auto& [sql, statement] : statements) {
      if (statement->in_use()) return false;
    }
    statements.clear();
    PQreset(pg);
    if (PQstatus(pg) != CONNECTION_OK) return false;
    session_settings();
    return true;
  }

  void session_settings() {
    // Notices ("relation … already exists, skipping") are not errors; libpq would print them.
    PQsetNoticeProcessor(
        pg, [](void*, const char*) {}, nullptr);
    // Text in and out is UTF-8 whatever the server's default for this client; times are stored
    // as text, never converted.
    exec("SET client_encoding = 'UTF8'");
    exec("SET synchronous_commit = on");
  }

  // A statement without parameters or results: BEGIN, COMMIT, PRAGMA, DDL.
  void exec(const std::string& sql) {
    if (backend == Backend::postgresql) {
      postgres_exec(pg, sql);
      return;
    }
    char* error = nullptr;
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
      std::string message = error != nullptr ? error : sqlite3_errmsg(db);
      sqlite3_free(error);
      throw StoreError(message + " (in '" + sql + "')");
    }
  }
};

namespace {
constexpr std::size_t kKeyCacheLimit = 100000;

// Turns the connection's foreign key enforcement back on when it goes out of scope (Store::migrate
// turns it off around the migrations).
class ForeignKeysBackOn {
 public:
  explicit ForeignKeysBackOn(std::function<void(const std::string&)> exec)
      : exec_(std::move(exec)) {}
  ForeignKeysBackOn(const ForeignKeysBackOn&) = delete;
  ForeignKeysBackOn& operator=(const ForeignKeysBackOn&) = delete;
  ~ForeignKeysBackOn() {
    try {
      exec_("PRAGMA foreign_keys = ON");
    } catch (...) {  // NOLINT(bugprone-empty-catch): destructor must not throw
    }
  }

 private:
  std::function<void(const std::string&)> exec_;
};

std::string quarantine_ad(const std::string& system, const std::string& sha256,
                          std::int64_t record) {
  return "quarantine:" + system + ":" + sha256 + ":" + std::to_string(record);
}
}  // namespace

std::unique_ptr<Store> Store::open_sqlite(const fs::path& file, const SqliteOptions& options) {
  static std::once_flag registered;
  std::call_once(registered, [] {
    install_page_cache();  // before SQLite's first use, or not at all (store/page_cache.hpp)
    Poco::Data::SQLite::Connector::registerConnector();
  });
  try {
    if (file.has_parent_path()) fs::create_directories(file.parent_path());
    // Each WAL frame is written with one system call instead of two (store/wal_vfs.hpp).
    auto impl =
        std::make_unique<Impl>(Backend::sqlite, Session("SQLite", wal_frame_uri(file.string())));
    {
      // A SQLite built without URI filenames would have opened a file named by the URI.
      char* vfs = nullptr;
      sqlite3_file_control(impl->db, "main", SQLITE_FCNTL_VFSNAME, &vfs);
      const bool through =
          vfs != nullptr && std::strncmp(vfs, wal_frame_vfs(), std::strlen(wal_frame_vfs())) == 0;
      sqlite3_free(vfs);
      if (!through) {
        throw StoreError(file.string() +
                         ": SQLite did not open the store through the tsunagu-wal VFS (is it "
                         "built without URI filenames?)");
      }
    }
    impl->file = file;
    impl->location = file.string();
    impl->writers = WriterQueue::for_file(file);
    impl->busy_timeout = std::chrono::milliseconds(options.busy_timeout_ms);
    impl->exec("PRAGMA busy_timeout = " + std::to_string(options.busy_timeout_ms));
    impl->exec("PRAGMA journal_mode = WAL");
    impl->exec(std::string("PRAGMA synchronous = ") +
               (options.synchronous_full ? "FULL" : "NORMAL"));
    impl->synchronous_full = options.synchronous_full;
    impl->exec("PRAGMA foreign_keys = ON");
    impl->exec("PRAGMA cache_size = -" + std::to_string(options.cache_mb * 1024));  // KiB
    std::unique_ptr<Store> store(new Store(std::move(impl)));
    {
      std::int64_t page_size = 4096;
      if (auto q = store->query("PRAGMA page_size"); q.next()) page_size = q.integer(0);
      const std::int64_t bytes = std::int64_t{options.checkpoint_mb} * 1024 * 1024;
      store->impl_->exec("PRAGMA wal_autocheckpoint = " + std::to_string(bytes / page_size));
      // When the log starts again, its file is cut back to this size. With the checkpointer the
      // log passes its size by what is written while the thread copies it (up to twice its size),
      // and cutting the file each time made the restarting commit wait for the filesystem to free
      // the blocks, and the next round's commits for it to allocate them again.
      store->impl_->exec("PRAGMA journal_size_limit = " +
                         std::to_string(options.checkpoint_in_background ? 2 * bytes : bytes));
      if (options.checkpoint_in_background) {
        Checkpointer::Options background;
        background.start_pages = bytes / page_size;
        background.synchronous_full = options.synchronous_full;
        background.turn_timeout = std::chrono::milliseconds(options.busy_timeout_ms);
        store->impl_->checkpointer = Checkpointer::for_file(file, background);
        store->impl_->checkpointer->attach(store->impl_->db);
      }
    }
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

Session& Store::session() {
  return impl_->session;
}

void Store::read_once_in_order() {
  if (impl_->backend == Backend::sqlite) impl_->exec("PRAGMA cache_size = -2000");
}

Store::Backend Store::backend() const {
  return impl_->backend;
}

const std::string& Store::location() const {
  return impl_->location;
}

std::shared_ptr<const Checkpointer> Store::checkpointer() const {
  return impl_->checkpointer;
}

std::string Store::json_text_sql(std::string_view column, std::string_view path) const {
  if (impl_->backend == Backend::sqlite) {
    return "json_extract(" + std::string(column) + ", '$." + std::string(path) + "')";
  }
  std::string keys(path);
  for (char& c : keys) {
    if (c == '.') c = ',';
  }
  return "(CAST(" + std::string(column) + " AS jsonb) #>> '{" + keys + "}')";
}

namespace {
// The database a libpq connection string names, for messages (never its password).
std::string database_of(PGconn* conn) {
  const char* name = PQdb(conn);
  return std::string("PostgreSQL database ") + (name != nullptr ? name : "?");
}
}  // namespace

std::unique_ptr<Store> Store::open_postgres(const std::string& conninfo) {
  static std::once_flag registered;
  std::call_once(registered, [] { Poco::Data::PostgreSQL::Connector::registerConnector(); });
  std::unique_ptr<Impl> impl;
  try {
    impl = std::make_unique<Impl>(Backend::postgresql, Session("PostgreSQL", conninfo));
  } catch (const StoreError&) {
    throw;
  } catch (const Poco::Exception& e) {
    throw StoreError("PostgreSQL: cannot connect: " + e.displayText());
  }
  impl->location = database_of(impl->pg);
  impl->session_settings();
  std::unique_ptr<Store> store(new Store(std::move(impl)));
  store->migrate();
  return store;
}

Query Store::query(std::string_view sql) {
  // Outside a transaction a lost connection is taken up again (inside one, the transaction is
  // lost with it and fails; the next begin() reconnects).
  if (!impl_->in_tx) impl_->reconnect();
  auto it = impl_->statements.find(sql);
  if (it == impl_->statements.end()) {
    std::unique_ptr<Prepared> compiled;
    if (impl_->backend == Backend::sqlite) {
      compiled = std::make_unique<SqlitePrepared>(impl_->db, std::string(sql));
    } else {
      compiled = std::make_unique<PostgresPrepared>(
          impl_->pg, std::string(sql), "tsunagu_" + std::to_string(impl_->statements.size()));
    }
    it = impl_->statements.emplace(std::string(sql), std::move(compiled)).first;
  }
  return Query(*it->second);
}

Query Store::insert_query(std::string_view sql) {
  if (impl_->backend == Backend::sqlite) return query(sql);
  return query(std::string(sql) + " RETURNING id");
}

Store::Extension& Store::extension(std::string_view key,
                                   const std::function<std::unique_ptr<Extension>()>& make) {
  for (auto& [k, e] : impl_->extensions) {
    if (k == key) return *e;
  }
  impl_->extensions.emplace_back(std::string(key), make());
  return *impl_->extensions.back().second;
}

int Store::known_schema_version() {
  return migrations().back().version;
}

int Store::schema_version() {
  auto q = query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
  return q.next() ? static_cast<int>(q.integer(0)) : 0;
}

void Store::migrate() {
  Impl& d = *impl_;
  const bool postgres = d.backend == Backend::postgresql;
  const std::string create_versions =
      "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
      "description TEXT NOT NULL, applied_at TEXT NOT NULL)";
  const int known = known_schema_version();
  auto too_new = [&](int current) {
    return StoreError(d.location + ": the store has schema version " + std::to_string(current) +
                      " but this build of Tsunagu knows only up to " + std::to_string(known) +
                      "; run a newer Tsunagu or restore a backup made by this version");
  };
  auto apply = [&](const Migration& m) {
    try {
      if (postgres && !m.postgres.empty()) {
        for (const auto& sql : m.postgres) d.exec(sql);
      } else {
        for (const auto& sql : m.statements) d.exec(postgres ? dialect::postgres_ddl(sql) : sql);
      }
      if (!postgres) {
        std::vector<std::string> broken;
        auto q = query("SELECT \"table\" || ' → ' || parent FROM pragma_foreign_key_check LIMIT 5");
        while (q.next()) broken.push_back(q.text(0));
        if (!broken.empty()) {
          std::string list;
          for (const auto& item : broken) list += (list.empty() ? "" : ", ") + item;
          throw StoreError("it would leave rows without their parent: " + list);
        }
      }
      const std::string applied = utc_now();
      query("INSERT INTO schema_migrations (version, description, applied_at) VALUES (?, ?, ?)")
          .bind(m.version)
          .bind(m.description)
          .bind(applied)
          .run();
    } catch (const StoreError& e) {
      throw StoreError(d.location + ": migration " + std::to_string(m.version) + " (" +
                       m.description + ") failed: " + e.what());
    }
  };

  if (postgres) {
    // One transaction under the writer lock (begin()): instances starting together wait for the
    // first to migrate, then find nothing left to do. PostgreSQL's DDL is transactional, so a
    // failed migration leaves the schema as it was.
    Transaction tx(*this);
    d.exec(dialect::postgres_ddl(create_versions));
    const int current = schema_version();
    if (current > known) throw too_new(current);
    for (const auto& m : migrations()) {
      if (m.version > current) apply(m);
    }
    tx.commit();
    return;
  }

  d.exec(create_versions);
  const int current = schema_version();
  if (current > known) throw too_new(current);
  if (current == known) return;
  // Migrations run with foreign key enforcement off, as SQLite's procedure for changing a table's
  // definition asks: with it on, dropping a table that others refer to (migration 7 rebuilds
  // accounts) deletes its rows first and fails on the first child row that refers to one. It is a
  // connection setting that cannot change inside a transaction, so it is set around them; instead
  // every migration must leave foreign_key_check empty before it commits.
  d.exec("PRAGMA foreign_keys = OFF");
  const ForeignKeysBackOn back_on([&d](const std::string& sql) { d.exec(sql); });
  for (const auto& m : migrations()) {
    if (m.version <= current) continue;
    Transaction tx(*this);
    // Another process (a second instance, the CLI) may have applied it while we waited for the
    // write lock.
    if (schema_version() >= m.version) continue;
    apply(m);
    tx.commit();
  }
}

namespace {
// The key of PostgreSQL's transaction-scoped advisory lock that makes writers take turns: "tsun".
constexpr const char* kWriterLock = "SELECT pg_advisory_xact_lock(1953723758)";
}  // namespace

std::optional<fs::path> Store::defer_log_sync() {
  if (impl_->backend != Backend::sqlite || !impl_->synchronous_full) return std::nullopt;
  impl_->exec("PRAGMA synchronous = NORMAL");
  impl_->synchronous_full = false;
  return fs::path(impl_->file.string() + "-wal");
}

const char* Store::row_lock_sql() const {
  return impl_->backend == Backend::postgresql ? " FOR UPDATE SKIP LOCKED" : "";
}

void Store::begin(Lock lock) {
  if (impl_->backend == Backend::sqlite) {
    // This process's writers take turns in arrival order (WriterQueue), then IMMEDIATE takes
    // the write lock now, so two writers wait on busy_timeout instead of failing to upgrade a
    // read lock half-way through a batch.
    const bool queued = !impl_->holds_turn;  // a second BEGIN fails below and keeps the turn
    if (queued) {
      if (!impl_->writers->enter(impl_->busy_timeout)) {
        throw StoreError(impl_->location + ": database is locked: another writer of this process " +
                         "held it for longer than the busy timeout (" +
                         std::to_string(impl_->busy_timeout.count()) + " ms)");
      }
      impl_->holds_turn = true;
    }
    try {
      impl_->exec("BEGIN IMMEDIATE");
    } catch (...) {
      if (queued) impl_->leave_queue();
      throw;
    }
  } else {
    // The same on PostgreSQL, for every instance sharing the database: one writing transaction
    // at a time (core/DESIGN.md, "Several instances"). The audit log's Merkle frontier, identity
    // linking and routing then see exactly what the previous writer committed.
    try {
      impl_->exec("BEGIN");
    } catch (const StoreError&) {
      // A server restart or a fail-over to the standby ends every connection: the next
      // transaction reconnects (nothing was done in this one yet) rather than failing forever.
      if (!impl_->reconnect()) throw;
      impl_->exec("BEGIN");
    }
    try {
      if (lock == Lock::writer) impl_->exec(kWriterLock);
    } catch (...) {
      try {
        impl_->exec("ROLLBACK");
      } catch (...) {  // NOLINT(bugprone-empty-catch): the first error is the one to report
      }
      throw;
    }
  }
  impl_->in_tx = true;
  ++impl_->generation;
  impl_->created_lookups.clear();
}

void Store::commit() {
  for (auto& [key, e] : impl_->extensions) e->before_commit(*this);
  impl_->exec("COMMIT");
  impl_->in_tx = false;
  impl_->leave_queue();
}

void Store::rollback() {
  impl_->in_tx = false;
  for (const auto& lookup : impl_->created_lookups) {
    auto it = impl_->by_lookup.find(lookup);
    if (it != impl_->by_lookup.end()) {
      impl_->by_id.erase(it->second.id);
      impl_->by_lookup.erase(it);
    }
  }
  impl_->created_lookups.clear();
  ++impl_->generation;
  struct Leave {
    Impl& impl;
    ~Leave() { impl.leave_queue(); }
  } leave{*impl_};
  impl_->exec("ROLLBACK");
}

bool Store::in_transaction() const {
  return impl_->in_tx;
}

std::uint64_t Store::transaction_generation() const {
  return impl_->generation;
}

void Store::set_keyring(std::shared_ptr<const security::Keyring> keyring) {
  impl_->keyring = std::move(keyring);
  impl_->by_lookup.clear();
  impl_->by_id.clear();
}

bool Store::has_keyring() const {
  return impl_->keyring != nullptr;
}

const security::Keyring* Store::keyring() const {
  return impl_->keyring.get();
}

Store::SubjectKey Store::subject_for(const std::string& source, const std::string& identity) {
  if (!impl_->keyring) throw StoreError("no keyring: personal data cannot be sealed");
  std::string lookup = impl_->keyring->lookup_token(source + '\x1f' + identity);
  if (auto it = impl_->by_lookup.find(lookup); it != impl_->by_lookup.end()) return it->second;
  if (impl_->by_lookup.size() > kKeyCacheLimit) {
    impl_->by_lookup.clear();
    impl_->by_id.clear();
  }
  std::optional<std::pair<std::string, std::string>> found;  // id, wrapped key
  {
    auto q = query("SELECT id, wrapped_key FROM subjects WHERE lookup = ?");
    q.bind(lookup);
    if (q.next()) found.emplace(q.text(0), q.blob(1));
  }
  // A fresh data key only for a new subject (unwrapping the stored one otherwise).
  auto make = [&]() -> SubjectKey {
    if (found) {
      auto key = security::unwrap_key(impl_->keyring->master(), found->second, found->first);
      if (!key) {
        throw StoreError("subject " + found->first +
                         ": its data key does not unwrap with this master key (wrong master key?)");
      }
      return {found->first, std::move(*key)};
    }
    SubjectKey created{time_ordered_uuid(), security::DataKey::generate()};
    const std::string wrapped =
        security::wrap_key(impl_->keyring->master(), created.key, created.id);
    const std::string now_text = utc_now();
    query(
        "INSERT INTO subjects (id, source, lookup, wrapped_key, created_at) VALUES (?, ?, ?, ?, ?)")
        .bind(created.id)
        .bind(source)
        .bind(lookup)
        .bind_blob(wrapped)
        .bind(now_text)
        .run();
    impl_->created_lookups.push_back(lookup);
    return created;
  };
  SubjectKey subject = make();
  impl_->by_id.insert_or_assign(subject.id, subject.key);
  impl_->by_lookup.insert_or_assign(lookup, subject);
  return subject;
}

std::string Store::seal_for(const std::string& subject_id, std::string_view plaintext,
                            std::string_view associated_data) {
  auto key = key_of(subject_id);
  if (!key) throw StoreError("no data key for subject " + subject_id + " (purged, or no keyring)");
  return security::seal(*key, plaintext, associated_data);
}

std::optional<std::string> Store::open_for(const std::string& subject_id, std::string_view sealed,
                                           std::string_view associated_data) {
  auto key = key_of(subject_id);
  if (!key) return std::nullopt;
  return security::open(*key, sealed, associated_data);
}

std::optional<security::DataKey> Store::key_of(const std::string& subject_id) {
  if (!impl_->keyring || subject_id.empty()) return std::nullopt;
  if (auto it = impl_->by_id.find(subject_id); it != impl_->by_id.end()) return it->second;
  std::string wrapped;
  {
    auto q = query("SELECT wrapped_key FROM subjects WHERE id = ? AND wrapped_key IS NOT NULL");
    q.bind(subject_id);
    if (!q.next()) return std::nullopt;
    wrapped = q.blob(0);
  }
  auto key = security::unwrap_key(impl_->keyring->master(), wrapped, subject_id);
  if (key) impl_->by_id.insert_or_assign(subject_id, *key);
  return key;
}

std::vector<SubjectActivity> Store::subject_activity() {
  std::vector<SubjectActivity> out;
  auto q = query(
      "SELECT e.subject_id, e.source, e.kind, MAX(e.stored_at) FROM events e "
      "JOIN subjects s ON s.id = e.subject_id WHERE s.purged_at IS NULL "
      "GROUP BY e.subject_id, e.source, e.kind "
      "UNION ALL "
      "SELECT q.subject_id, q.system, '', MAX(q.created_at) FROM quarantine q "
      "JOIN subjects s ON s.id = q.subject_id WHERE s.purged_at IS NULL "
      "GROUP BY q.subject_id, q.system");
  while (q.next()) out.push_back({q.text(0), q.text(1), q.text(2), q.text(3)});
  return out;
}

bool Store::purge_subject(const std::string& subject_id) {
  const std::string purged = utc_now();
  // The lookup token is freed too: later records about the same person get a new subject and key.
  const bool changed =
      query(
          "UPDATE subjects SET wrapped_key = NULL, purged_at = ?, lookup = 'purged:' || id "
          "WHERE id = ? AND purged_at IS NULL")
          .bind(purged)
          .bind(subject_id)
          .run() > 0;
  forget_subject(subject_id);
  return changed;
}

bool Store::subject_purged(const std::string& subject_id) {
  auto q = query("SELECT COUNT(*) FROM subjects WHERE id = ? AND purged_at IS NOT NULL");
  q.bind(subject_id);
  return q.next() && q.integer(0) > 0;
}

std::int64_t Store::open_input(const std::string& system, const std::string& origin,
                               const std::string& sha256, std::int64_t size, bool* created) {
  if (created != nullptr) *created = false;
  {
    auto q = query(
        "SELECT id FROM inputs WHERE system = ? AND origin = ? AND sha256 = ? AND status = "
        "'processing' ORDER BY id DESC LIMIT 1");
    q.bind(system).bind(origin).bind(sha256);
    if (q.next()) return q.integer(0);
  }
  const std::string received = utc_now();
  auto q = insert_query(
      "INSERT INTO inputs (system, origin, sha256, size, status, received_at) "
      "VALUES (?, ?, ?, ?, 'processing', ?)");
  q.bind(system).bind(origin).bind(sha256).bind(size).bind(received);
  const auto id = q.inserted_id();
  if (!id) throw StoreError("inputs: the insert returned no id");
  if (created != nullptr) *created = true;
  return *id;
}

void Store::close_input(const InputRecord& o) {
  const std::string completed = utc_now();
  query(
      "UPDATE inputs SET status = ?, completed_at = ?, records = ?, events = ?, "
      "duplicates = ?, quarantined = ?, message = ? WHERE id = ?")
      .bind(o.status)
      .bind(completed)
      .bind(o.records)
      .bind(o.events)
      .bind(o.duplicates)
      .bind(o.quarantined)
      .bind(o.message)
      .bind(o.id)
      .run();
}

std::vector<InputRecord> Store::inputs(std::size_t limit) {
  std::vector<InputRecord> out;
  auto q = query(
      "SELECT id, system, origin, sha256, size, status, received_at, "
      "COALESCE(completed_at, ''), records, events, duplicates, quarantined, message "
      "FROM inputs ORDER BY id DESC LIMIT ?");
  q.bind(static_cast<std::int64_t>(limit));
  while (q.next()) {
    InputRecord r;
    r.id = q.integer(0);
    r.system = q.text(1);
    r.origin = q.text(2);
    r.sha256 = q.text(3);
    r.size = q.integer(4);
    r.status = q.text(5);
    r.received_at = q.text(6);
    r.completed_at = q.text(7);
    r.records = q.integer(8);
    r.events = q.integer(9);
    r.duplicates = q.integer(10);
    r.quarantined = q.integer(11);
    r.message = q.text(12);
    out.push_back(std::move(r));
  }
  return out;
}

namespace {

// Who a record is about, as its source identifies them: the 宛名番号 where the source has it,
// otherwise kana, birth date, name and sex. Identity linking across sources comes later; this only
// decides whose data key seals the record.
std::string source_identity(const CaseEvent& e) {
  if (!e.subject.resident_id.empty()) return "rid\x1f" + e.subject.resident_id;
  return "name\x1f" + e.subject.name_kana + '\x1f' + e.subject.birth_date + '\x1f' +
         e.subject.name + '\x1f' + e.subject.sex;
}

}  // namespace

void Store::forget_subject(const std::string& subject_id) {
  impl_->by_id.erase(subject_id);
  for (auto it = impl_->by_lookup.begin(); it != impl_->by_lookup.end();) {
    it = it->second.id == subject_id ? impl_->by_lookup.erase(it) : std::next(it);
  }
}

bool Store::purged_meanwhile(const std::string& subject_id) {
  // Another process (the CLI's retention purge, another instance) purged a subject this store
  // still had a key for: its rows would be unreadable from the start. The key is forgotten and the
  // caller seals again under a new subject.
  if (!subject_purged(subject_id)) return false;
  forget_subject(subject_id);
  return true;
}

bool Store::insert_event(CaseEvent& event, std::int64_t input_id, std::int64_t record_no,
                         const std::string& raw, std::string* subject_id_out) {
  for (int attempt = 0;; ++attempt) {
    std::string id = time_ordered_uuid();
    const SubjectKey subject = subject_for(event.source, source_identity(event));
    // The event id is the associated data: a sealed payload cannot be moved to another event.
    const std::string payload = security::seal(subject.key, subject_payload(event), id);
    const std::string sealed_raw = security::seal(subject.key, raw, id + ":raw");
    const std::string stored = utc_now();
    const std::string_view sensitivity = to_string(event.sensitivity);
    // Only under a live subject (the key may come from this store's cache).
    const std::int64_t inserted =
        query(
            "INSERT INTO events (id, source, source_ref, source_version, kind, occurred_at, "
            "sensitivity, ward_code, payload, raw, input_id, record_no, stored_at, subject_id) "
            "SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, s.id FROM subjects s "
            "WHERE s.id = ? AND s.purged_at IS NULL "
            "ON CONFLICT (source, source_ref, source_version) DO NOTHING")
            .bind(id)
            .bind(event.source)
            .bind(event.source_ref)
            .bind(event.source_version)
            .bind(event.kind)
            .bind(event.occurred_at)
            .bind(sensitivity)
            .bind(event.subject.ward_code)
            .bind_blob(payload)
            .bind_blob(sealed_raw)
            .bind(input_id)
            .bind(record_no)
            .bind(stored)
            .bind(subject.id)
            .run();
    if (inserted == 0 && attempt == 0 && purged_meanwhile(subject.id)) continue;
    if (subject_id_out != nullptr) *subject_id_out = subject.id;
    if (inserted == 0) return false;
    event.id = std::move(id);
    return true;
  }
}

std::optional<std::string> Store::event_raw(const std::string& id) {
  std::string subject, raw;
  {
    auto q = query("SELECT subject_id, raw FROM events WHERE id = ?");
    q.bind(id);
    if (!q.next()) return std::nullopt;
    subject = q.text(0);
    raw = q.blob(1);
  }
  auto data_key = key_of(subject);
  if (!data_key) return std::nullopt;
  return security::open(*data_key, raw, id + ":raw");
}

namespace {

// Reads the row's columns; `payload` receives the sealed payload, opened by the caller once the
// query is done (opening may need the subjects' keys, another query).
StoredEvent read_event(const Query& q, std::string& payload) {
  StoredEvent se;
  CaseEvent& e = se.event;
  e.id = q.text(0);
  e.source = q.text(1);
  e.source_ref = q.text(2);
  e.source_version = q.integer(3);
  e.kind = q.text(4);
  e.occurred_at = q.text(5);
  e.sensitivity = sensitivity_from_string(q.text(6));
  e.subject.ward_code = q.text(7);
  payload = q.blob(8);
  se.input_id = q.integer(9);
  se.record_no = q.integer(10);
  se.stored_at = q.text(11);
  se.subject_id = q.text(12);
  return se;
}

constexpr const char* kEventColumns =
    "SELECT id, source, source_ref, source_version, kind, occurred_at, sensitivity, ward_code, "
    "payload, input_id, record_no, stored_at, subject_id FROM events ";

}  // namespace

void Store::open_payload(StoredEvent& se, const std::string& payload) {
  if (payload.empty()) return;
  if (auto key = key_of(se.subject_id)) {
    if (auto clear = security::open(*key, payload, se.event.id)) {
      read_payload(*clear, se.event);
      se.readable = true;
    }
  }
}

std::vector<StoredEvent> Store::events(const EventQuery& eq) {
  std::vector<std::pair<StoredEvent, std::string>> rows;
  {
    auto q = query(std::string(kEventColumns) +
                   "WHERE (? = '' OR source = ?) AND (? = '' OR kind = ?) "
                   "ORDER BY stored_at, source, source_ref, source_version LIMIT ? OFFSET ?");
    q.bind(eq.source)
        .bind(eq.source)
        .bind(eq.kind)
        .bind(eq.kind)
        .bind(static_cast<std::int64_t>(eq.limit))
        .bind(static_cast<std::int64_t>(eq.offset));
    while (q.next()) {
      std::string payload;
      StoredEvent se = read_event(q, payload);
      rows.emplace_back(std::move(se), std::move(payload));
    }
  }
  std::vector<StoredEvent> out;
  out.reserve(rows.size());
  for (auto& [se, payload] : rows) {
    open_payload(se, payload);
    out.push_back(std::move(se));
  }
  return out;
}

std::optional<StoredEvent> Store::event(const std::string& id) {
  std::string payload;
  std::optional<StoredEvent> se;
  {
    auto q = query(std::string(kEventColumns) + "WHERE id = ?");
    q.bind(id);
    if (!q.next()) return std::nullopt;
    se = read_event(q, payload);
  }
  open_payload(*se, payload);
  return se;
}

std::int64_t Store::count_events(const std::string& source) {
  auto q = query("SELECT COUNT(*) FROM events WHERE ? = '' OR source = ?");
  q.bind(source).bind(source);
  return q.next() ? q.integer(0) : 0;
}

std::int64_t Store::count_events_of_input(std::int64_t input_id) {
  auto q = query("SELECT COUNT(*) FROM events WHERE input_id = ?");
  q.bind(input_id);
  return q.next() ? q.integer(0) : 0;
}

bool Store::insert_quarantine(const QuarantineEntry& q, std::string* subject_id_out) {
  for (int attempt = 0;; ++attempt) {
    // A rejected record may not say whom it is about: it is sealed under a subject of its input.
    const SubjectKey subject = subject_for(q.system, "input\x1f" + q.input_sha256);
    const std::string raw =
        security::seal(subject.key, q.raw, quarantine_ad(q.system, q.input_sha256, q.record_no));
    const std::string created = utc_now();
    const std::int64_t inserted =
        query(
            "INSERT INTO quarantine (system, origin, input_sha256, record_no, line, field, "
            "reason, raw, created_at, subject_id) SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, s.id "
            "FROM subjects s WHERE s.id = ? AND s.purged_at IS NULL "
            "ON CONFLICT (system, input_sha256, record_no) DO NOTHING")
            .bind(q.system)
            .bind(q.origin)
            .bind(q.input_sha256)
            .bind(q.record_no)
            .bind(q.line)
            .bind(q.field)
            .bind(q.reason)
            .bind_blob(raw)
            .bind(created)
            .bind(subject.id)
            .run();
    if (inserted == 0 && attempt == 0 && purged_meanwhile(subject.id)) continue;
    if (subject_id_out != nullptr) *subject_id_out = subject.id;
    return inserted > 0;
  }
}

namespace {

QuarantineEntry read_quarantine(const Query& q, std::string& sealed_raw) {
  QuarantineEntry e;
  e.id = q.integer(0);
  e.system = q.text(1);
  e.origin = q.text(2);
  e.input_sha256 = q.text(3);
  e.record_no = q.integer(4);
  e.line = q.integer(5);
  e.field = q.text(6);
  e.reason = q.text(7);
  sealed_raw = q.blob(8);
  e.status = q.text(9);
  e.created_at = q.text(10);
  e.subject_id = q.text(11);
  return e;
}

constexpr const char* kQuarantineColumns =
    "SELECT id, system, origin, input_sha256, record_no, line, field, reason, raw, status, "
    "created_at, subject_id FROM quarantine ";

}  // namespace

std::vector<QuarantineEntry> Store::quarantine(const std::string& system, std::size_t limit,
                                               bool open_only) {
  std::vector<std::pair<QuarantineEntry, std::string>> rows;
  {
    auto q = query(std::string(kQuarantineColumns) +
                   "WHERE (? = '' OR system = ?) AND (? = 0 OR status = 'open') ORDER BY id "
                   "LIMIT ?");
    q.bind(system).bind(system).bind(open_only ? 1 : 0).bind(static_cast<std::int64_t>(limit));
    while (q.next()) {
      std::string sealed;
      QuarantineEntry e = read_quarantine(q, sealed);
      rows.emplace_back(std::move(e), std::move(sealed));
    }
  }
  return open_quarantine_rows(rows);
}

std::optional<QuarantineEntry> Store::quarantine_entry(std::int64_t id) {
  std::vector<std::pair<QuarantineEntry, std::string>> rows;
  {
    auto q = query(std::string(kQuarantineColumns) + "WHERE id = ?");
    q.bind(id);
    if (!q.next()) return std::nullopt;
    std::string sealed;
    QuarantineEntry e = read_quarantine(q, sealed);
    rows.emplace_back(std::move(e), std::move(sealed));
  }
  return open_quarantine_rows(rows).front();
}

std::vector<QuarantineEntry> Store::quarantine_of_input(const std::string& system,
                                                        const std::string& input_sha256) {
  std::vector<std::pair<QuarantineEntry, std::string>> rows;
  {
    auto q = query(std::string(kQuarantineColumns) +
                   "WHERE system = ? AND input_sha256 = ? ORDER BY record_no");
    q.bind(system).bind(input_sha256);
    while (q.next()) {
      std::string sealed;
      QuarantineEntry e = read_quarantine(q, sealed);
      rows.emplace_back(std::move(e), std::move(sealed));
    }
  }
  return open_quarantine_rows(rows);
}

// Opens each row's raw record with its subject's key (after the query: that needs more queries).
std::vector<QuarantineEntry> Store::open_quarantine_rows(
    std::vector<std::pair<QuarantineEntry, std::string>>& rows) {
  std::vector<QuarantineEntry> out;
  out.reserve(rows.size());
  for (auto& [e, sealed] : rows) {
    if (auto key = key_of(e.subject_id); key && !sealed.empty()) {
      if (auto clear =
              security::open(*key, sealed, quarantine_ad(e.system, e.input_sha256, e.record_no))) {
        e.raw = std::move(*clear);
        e.readable = true;
      }
    }
    out.push_back(std::move(e));
  }
  return out;
}

std::int64_t Store::count_quarantine(const std::string& system) {
  auto q =
      query("SELECT COUNT(*) FROM quarantine WHERE status = 'open' AND (? = '' OR system = ?)");
  q.bind(system).bind(system);
  return q.next() ? q.integer(0) : 0;
}

void Store::resolve_quarantine(std::int64_t id) {
  query("UPDATE quarantine SET status = 'resolved' WHERE id = ?").bind(id).run();
}

void Store::update_quarantine_reason(std::int64_t id, const std::string& field,
                                     const std::string& reason) {
  query("UPDATE quarantine SET field = ?, reason = ? WHERE id = ?")
      .bind(field)
      .bind(reason)
      .bind(id)
      .run();
}

std::optional<std::int64_t> Store::input_by_digest(const std::string& system,
                                                   const std::string& sha256) {
  auto q = query("SELECT id FROM inputs WHERE system = ? AND sha256 = ? ORDER BY id LIMIT 1");
  q.bind(system).bind(sha256);
  if (!q.next()) return std::nullopt;
  return q.integer(0);
}

}  // namespace tsunagu::store
