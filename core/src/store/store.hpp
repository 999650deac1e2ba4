// The hub's durable state, through Poco::Data. SQLite (WAL) is the embedded default.
//
// A Store wraps one database session and is used by one thread at a time; open one per thread.
// Writes that belong together go inside one Transaction, so a crash leaves either all or none.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <tsunagu/event.hpp>

#include "security/keyring.hpp"
#include "store/checkpointer.hpp"

namespace Poco::Data {
class Session;
}

namespace tsunagu::store {

class Prepared;
class Query;

class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct SqliteOptions {
  // Every commit fsync-durable (false: NORMAL, durable at checkpoints).
  bool synchronous_full = true;
  int busy_timeout_ms = 10000;
  // The page cache of each connection, an upper bound it grows to as it reads. SQLite's default
  // (2 MiB) cannot hold the interior pages of a store's indexes past a few hundred thousand
  // events, so every row re-read them through the kernel (bench/RESULTS.md, B1 and B2).
  int cache_mb = 64;
  // How far the write-ahead log grows before a commit copies it into the database (SQLite's
  // automatic checkpoint; its default is 4 MiB). A page changed by many transactions in between
  // is written back once, not once per transaction; the file is cut back to this size after.
  int checkpoint_mb = 256;
  // Whether a thread of this process runs those checkpoints (store/checkpointer.hpp) rather than
  // the commit that takes the log over its size, which made that commit and every writer queued
  // behind it wait for the whole copy.
  bool checkpoint_in_background = true;
};

// One file (or push) received from a system.
struct InputRecord {
  std::int64_t id = 0;
  std::string system;
  std::string origin;  // file name or push id
  std::string sha256;  // of the raw bytes, hex
  std::int64_t size = 0;
  std::string status;  // processing | done | failed
  std::string received_at;
  std::string completed_at;
  std::int64_t records = 0, events = 0, duplicates = 0, quarantined = 0;
  std::string message;  // why a file failed as a whole
};

struct StoredEvent {
  CaseEvent event;         // subject, household and attributes only if `readable`
  std::string subject_id;  // the source subject whose data key seals the payload
  bool readable = false;   // false: no keyring, or the subject's key was purged
  std::int64_t input_id = 0;
  std::int64_t record_no = 0;
  std::string stored_at;
};

// A record that could not become an event, kept raw with why.
struct QuarantineEntry {
  std::int64_t id = 0;
  std::string system;
  std::string origin;
  std::string input_sha256;
  std::int64_t record_no = 0;
  std::int64_t line = 0;
  std::string field;   // native field the first error concerns (may be empty)
  std::string reason;  // all errors of the record, "field: reason; field: reason"
  std::string raw;     // empty unless `readable`
  bool readable = false;
  std::string subject_id;
  std::string status;  // open | resolved
  std::string created_at;
};

// What a retention rule needs to know of a subject: its latest record per source and kind.
struct SubjectActivity {
  std::string subject_id;
  std::string source;
  std::string kind;    // empty for quarantined records
  std::string latest;  // ISO-8601 UTC time the latest such record was stored
};

struct EventQuery {
  std::string source;  // empty: any
  std::string kind;    // empty: any
  std::size_t limit = 100;
  std::size_t offset = 0;
};

class Store {
 public:
  // Opens (creating if needed) an SQLite store and applies pending migrations.
  static std::unique_ptr<Store> open_sqlite(const std::filesystem::path& file,
                                            const SqliteOptions& options);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Opens a PostgreSQL store (libpq connection string: "host=… port=… dbname=… user=…"; what it
  // leaves out comes from PGHOST, PGPORT, … and ~/.pgpass) and applies pending migrations.
  static std::unique_ptr<Store> open_postgres(const std::string& conninfo);

  enum class Backend { sqlite, postgresql };
  Backend backend() const;
  // This connection is about to read large tables once, in order (`audit verify`): the page
  // cache is set back to SQLite's default 2 MiB, since filling a large one costs more than it
  // saves on pages read once (measured: verify of 200,000 entries 0.60 s with 64 MiB, 0.31 s
  // with 2 MiB). Nothing on PostgreSQL.
  void read_once_in_order();
  // Where the store is, for messages: the SQLite file, or "PostgreSQL database <name>".
  const std::string& location() const;
  // SQLite with `checkpoint_in_background`: the file's checkpointer thread (shared by this
  // process's connections to it, and safe to ask from any thread); null otherwise.
  std::shared_ptr<const Checkpointer> checkpointer() const;

  // Appended to a SELECT in a `rows` transaction: " FOR UPDATE SKIP LOCKED" on PostgreSQL (the
  // rows are this transaction's; rows another has locked are passed over), "" on SQLite, where
  // the transaction holds the write lock anyway.
  const char* row_lock_sql() const;

  // The SQL expression for the text at `path` ("details.outcome") inside the JSON text column
  // `column`, or NULL: the one JSON operation the two engines spell differently.
  std::string json_text_sql(std::string_view column, std::string_view path) const;

  // The schema version this build knows; a store at a newer version is refused.
  static int known_schema_version();
  int schema_version();

  // Personal data (event payloads, raw records) is sealed with AES-256-GCM under per-subject data
  // keys wrapped by the keyring's master key. Without a keyring nothing can be written or read
  // back in clear.
  void set_keyring(std::shared_ptr<const security::Keyring> keyring);
  bool has_keyring() const;
  const security::Keyring* keyring() const;

  // What a transaction waits for before it starts. `writer`: every other writer, on both engines
  // (SQLite's write lock; on PostgreSQL an advisory lock all instances share), so it sees what
  // the previous writer committed and nobody else changes anything until it commits: everything
  // that appends to the audit log. `rows`: on PostgreSQL only the rows it locks itself
  // (row_lock_sql()), for work such as claiming an outbox row that writes nothing else; on
  // SQLite the same as `writer`.
  enum class Lock { writer, rows };

  // SQLite at synchronous=FULL: from now on this session's COMMITs write the write-ahead log
  // without syncing it (synchronous=NORMAL: the database stays consistent whatever happens), and
  // the caller makes them durable with a WalSync of the returned file before it tells anyone
  // they are — from another thread, while it goes on (the group committer). Other sessions read
  // a commit as soon as it is made; a power loss before the sync may undo it, and nothing made
  // after it. nullopt, and nothing changes, on PostgreSQL or at NORMAL.
  std::optional<std::filesystem::path> defer_log_sync();
  void begin(Lock lock = Lock::writer);
  void commit();
  void rollback();
  bool in_transaction() const;
  // Changes whenever a transaction begins: state cached for one transaction is stale after it.
  std::uint64_t transaction_generation() const;

  // Registers a received input. If the same input (system, origin, sha256) is still 'processing'
  // from an interrupted run, that row is returned so the resumed run continues it.
  std::int64_t open_input(const std::string& system, const std::string& origin,
                          const std::string& sha256, std::int64_t size, bool* created = nullptr);
  void close_input(const InputRecord& outcome);  // by outcome.id: status, counts, message
  std::vector<InputRecord> inputs(std::size_t limit);

  // Inserts the event unless (source, source_ref, source_version) is already stored. Assigns
  // event.id when inserted. Returns true if inserted, false if it was a duplicate.
  // `subject_id`, if given, receives the id of the subject the event was sealed under.
  bool insert_event(CaseEvent& event, std::int64_t input_id, std::int64_t record_no,
                    const std::string& raw, std::string* subject_id = nullptr);
  std::vector<StoredEvent> events(const EventQuery& query);
  std::optional<StoredEvent> event(const std::string& id);
  // The raw record an event came from, decrypted; nullopt if unknown or purged.
  std::optional<std::string> event_raw(const std::string& id);
  std::int64_t count_events(const std::string& source = "");
  std::int64_t count_events_of_input(std::int64_t input_id);

  // Quarantines a record unless the same record of the same input is already there.
  bool insert_quarantine(const QuarantineEntry& entry, std::string* subject_id = nullptr);
  std::vector<QuarantineEntry> quarantine(const std::string& system, std::size_t limit,
                                          bool open_only = true);
  std::optional<QuarantineEntry> quarantine_entry(std::int64_t id);
  // Every quarantined record of one input, by record number.
  std::vector<QuarantineEntry> quarantine_of_input(const std::string& system,
                                                   const std::string& input_sha256);
  std::int64_t count_quarantine(const std::string& system = "");
  // After a retry: the record became an event (resolved), or is still rejected with a new reason.
  void resolve_quarantine(std::int64_t id);
  void update_quarantine_reason(std::int64_t id, const std::string& field,
                                const std::string& reason);
  // The first input with this digest (a quarantined record's events belong to it).
  std::optional<std::int64_t> input_by_digest(const std::string& system, const std::string& sha256);

  // Retention: the latest record of every live subject, per source and kind.
  std::vector<SubjectActivity> subject_activity();
  // Destroys the subject's data key; its payloads can never be read again. Returns false if it
  // was already purged or does not exist.
  bool purge_subject(const std::string& subject_id);
  bool subject_purged(const std::string& subject_id);

  // Seals / opens bytes under a subject's data key, with `associated_data` binding them to their
  // place. Notices seal their fields under the subject of the event they came from, so a
  // retention purge destroys them together. seal_for throws StoreError if the subject has no
  // key (purged, unknown, no keyring); open_for returns nullopt then.
  std::string seal_for(const std::string& subject_id, std::string_view plaintext,
                       std::string_view associated_data);
  std::optional<std::string> open_for(const std::string& subject_id, std::string_view sealed,
                                      std::string_view associated_data);

  Poco::Data::Session& session();

  // A statement compiled once per store and kept (store/prepared.hpp): for the statements run
  // once per record. The SQL is the cache key.
  Query query(std::string_view sql);
  // An INSERT into a table keyed by `id INTEGER PRIMARY KEY`, whose id Query::inserted_id()
  // returns: PostgreSQL's statement gets `RETURNING id`; SQLite's does not and reads the
  // connection's last rowid, because SQLite buffers RETURNING rows in a temporary table made
  // and freed on every execution (~30 µs of CPU per push in the daemon; bench/RESULTS.md).
  Query insert_query(std::string_view sql);

  // State of a module above the store that is shared by all of its objects on this store, with
  // work to do inside each transaction just before it commits. The audit log keeps its Merkle
  // frontier here and writes it once per transaction rather than once per entry.
  class Extension {
   public:
    virtual ~Extension() = default;
    // Called by commit(), inside the transaction, before COMMIT; an exception aborts the commit
    // (the transaction stays open and is rolled back by its Transaction).
    virtual void before_commit(Store& store) = 0;
  };
  // The extension registered under `key`, made by `make` on first use; it lives as long as the
  // store.
  Extension& extension(std::string_view key,
                       const std::function<std::unique_ptr<Extension>()>& make);

 private:
  struct Impl;
  explicit Store(std::unique_ptr<Impl> impl);
  void migrate();
  struct SubjectKey;
  SubjectKey subject_for(const std::string& source, const std::string& identity);
  std::optional<security::DataKey> key_of(const std::string& subject_id);
  void forget_subject(const std::string& subject_id);
  bool purged_meanwhile(const std::string& subject_id);
  void open_payload(StoredEvent& event, const std::string& sealed_payload);
  std::vector<QuarantineEntry> open_quarantine_rows(
      std::vector<std::pair<QuarantineEntry, std::string>>& rows);
  std::unique_ptr<Impl> impl_;
};

// RAII: begins on construction, rolls back on destruction unless committed.
class Transaction {
 public:
  explicit Transaction(Store& store, Store::Lock lock = Store::Lock::writer) : store_(store) {
    store_.begin(lock);
  }
  ~Transaction() {
    if (!done_) {
      try {
        store_.rollback();
      } catch (...) {  // NOLINT(bugprone-empty-catch): destructor must not throw
      }
    }
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit() {
    store_.commit();
    done_ = true;
  }

 private:
  Store& store_;
  bool done_ = false;
};

// Current UTC time, ISO-8601 with microseconds: 2019-06-05T14:30:12.123456+00:00.
std::string utc_now();

// A random (version 4) UUID in lower-case hex, 8-4-4-4-12.
std::string random_uuid();

// A time-ordered (version 7, RFC 9562) UUID: 48 bits of Unix milliseconds, then 74 random bits.
// The ids of events, subjects, persons and notices: ids made close in time sort close together,
// so the primary keys and the indexes that name them (events by subject, notices by person …)
// grow at their right edge instead of dirtying a random page of a large B-tree per row. The
// creation time they show is stored beside them anyway.
std::string time_ordered_uuid();

}  // namespace tsunagu::store
