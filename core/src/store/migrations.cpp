#include "store/migrations.hpp"

namespace tsunagu::store {

namespace {

// A CHECK that a column holds one of `values`, as comparisons joined by OR. Not `IN (…)`: for a
// list of more than two values SQLite builds a temporary B-tree of the list every time the
// statement runs (a pager and its page cache allocated and freed per row), which cost ~200 µs
// of CPU per notice INSERT in the daemon — more than the rest of the INSERT twenty times over
// (migration 10, bench/RESULTS.md). The same values, the same NULL handling.
std::string one_of(const std::string& column, const std::vector<std::string>& values) {
  std::string out = "(";
  for (const auto& v : values) {
    if (out.size() > 1) out += " OR ";
    out += column + " = '" + v + "'";
  }
  return out + ")";
}

// SQLite's procedure for changing a table's definition: the new table under a temporary name,
// every row copied with its id, AUTOINCREMENT's high-water mark kept, the old table dropped,
// the new one renamed (references from other tables' foreign keys follow the name), and the
// indexes made again. `create` is the CREATE TABLE statement for `<table>_v<version>`.
std::vector<std::string> rebuilt(const std::string& table, int version, const std::string& create,
                                 const std::string& columns, bool autoincrement,
                                 const std::vector<std::string>& indexes) {
  const std::string next = table + "_v" + std::to_string(version);
  std::vector<std::string> out{
      create,
      "INSERT INTO " + next + " (" + columns + ") SELECT " + columns + " FROM " + table,
  };
  if (autoincrement) {
    out.push_back("DELETE FROM sqlite_sequence WHERE name = '" + next + "'");
    out.push_back("INSERT INTO sqlite_sequence (name, seq) SELECT '" + next +
                  "', seq FROM sqlite_sequence WHERE name = '" + table + "'");
  }
  out.push_back("DROP TABLE " + table);
  out.push_back("ALTER TABLE " + next + " RENAME TO " + table);
  out.insert(out.end(), indexes.begin(), indexes.end());
  return out;
}

template <typename... Lists>
std::vector<std::string> joined(const Lists&... lists) {
  std::vector<std::string> out;
  (out.insert(out.end(), lists.begin(), lists.end()), ...);
  return out;
}

const std::vector<std::string> kInputStatus{"processing", "done", "failed"};
const std::vector<std::string> kReviewStatus{"open", "linked", "separated"};
const std::vector<std::string> kNoticeType{"route", "combined", "timer", "escalation", "handover"};
const std::vector<std::string> kNoticeStatus{"open", "acknowledged", "closed"};
const std::vector<std::string> kTimerStatus{"running", "stopped", "fired"};
const std::vector<std::string> kOutboxStatus{"pending", "delivered", "dead"};

// Migration 10 on SQLite: the five tables whose CHECKs listed more than two values, rebuilt.
std::vector<std::string> checks_without_lists_sqlite() {
  return joined(
      rebuilt("inputs", 10,
              R"(CREATE TABLE inputs_v10 (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                system TEXT NOT NULL,
                origin TEXT NOT NULL,
                sha256 TEXT NOT NULL,
                size INTEGER NOT NULL,
                status TEXT NOT NULL CHECK )" +
                  one_of("status", kInputStatus) + R"(,
                received_at TEXT NOT NULL,
                completed_at TEXT,
                records INTEGER NOT NULL DEFAULT 0,
                events INTEGER NOT NULL DEFAULT 0,
                duplicates INTEGER NOT NULL DEFAULT 0,
                quarantined INTEGER NOT NULL DEFAULT 0,
                message TEXT NOT NULL DEFAULT ''))",
              "id, system, origin, sha256, size, status, received_at, completed_at, records, "
              "events, duplicates, quarantined, message",
              true, {"CREATE INDEX inputs_by_digest ON inputs (system, origin, sha256, status)"}),
      rebuilt("identity_reviews", 10,
              R"(CREATE TABLE identity_reviews_v10 (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                subject_id TEXT NOT NULL,
                candidate_person TEXT NOT NULL,
                reason TEXT NOT NULL,
                status TEXT NOT NULL DEFAULT 'open' CHECK )" +
                  one_of("status", kReviewStatus) + R"(,
                created_at TEXT NOT NULL,
                decided_at TEXT,
                decided_by TEXT,
                UNIQUE (subject_id, candidate_person)))",
              "id, subject_id, candidate_person, reason, status, created_at, decided_at, "
              "decided_by",
              true, {}),
      rebuilt("notices", 10,
              R"(CREATE TABLE notices_v10 (
                id TEXT PRIMARY KEY,
                dedupe_key TEXT NOT NULL UNIQUE,
                type TEXT NOT NULL CHECK )" +
                  one_of("type", kNoticeType) + R"(,
                rule_id TEXT NOT NULL,
                policy_id TEXT NOT NULL,
                legal_basis TEXT NOT NULL,
                person_id TEXT NOT NULL,
                event_id TEXT NOT NULL,
                subject_id TEXT NOT NULL,
                recipient_role TEXT NOT NULL,
                recipient_ward TEXT NOT NULL,
                recipients TEXT NOT NULL,
                channels TEXT NOT NULL,
                title TEXT NOT NULL,
                reason TEXT NOT NULL,
                fields BLOB,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                due_at INTEGER NOT NULL DEFAULT 0,
                status TEXT NOT NULL CHECK )" +
                  one_of("status", kNoticeStatus) + R"(,
                escalation_level INTEGER NOT NULL DEFAULT 0,
                next_escalation_at INTEGER NOT NULL DEFAULT 0,
                parent_id TEXT NOT NULL DEFAULT '',
                opened_at TEXT NOT NULL DEFAULT ''))",
              "id, dedupe_key, type, rule_id, policy_id, legal_basis, person_id, event_id, "
              "subject_id, recipient_role, recipient_ward, recipients, channels, title, reason, "
              "fields, created_at, updated_at, due_at, status, escalation_level, "
              "next_escalation_at, parent_id, opened_at",
              false,
              {"CREATE INDEX notices_by_escalation ON notices (status, next_escalation_at)",
               "CREATE INDEX notices_by_person ON notices (person_id, status)",
               "CREATE INDEX notices_by_recipient ON notices (recipient_role, recipient_ward, "
               "status)",
               "CREATE INDEX notices_by_event ON notices (event_id)"}),
      rebuilt("routing_timers", 10,
              R"(CREATE TABLE routing_timers_v10 (
                id TEXT PRIMARY KEY,
                rule_id TEXT NOT NULL,
                start_key TEXT NOT NULL,
                person_id TEXT NOT NULL,
                event_id TEXT NOT NULL,
                subject_id TEXT NOT NULL,
                ward_code TEXT NOT NULL,
                started_at TEXT NOT NULL,
                due_at INTEGER NOT NULL,
                status TEXT NOT NULL CHECK )" +
                  one_of("status", kTimerStatus) + R"(,
                stopped_by TEXT NOT NULL DEFAULT '',
                fired_at TEXT NOT NULL DEFAULT '',
                notice_id TEXT NOT NULL DEFAULT '',
                UNIQUE (rule_id, start_key)))",
              "id, rule_id, start_key, person_id, event_id, subject_id, ward_code, started_at, "
              "due_at, status, stopped_by, fired_at, notice_id",
              false,
              {"CREATE INDEX routing_timers_due ON routing_timers (status, due_at)",
               "CREATE INDEX routing_timers_by_person ON routing_timers (person_id, status)"}),
      rebuilt("outbox", 10,
              R"(CREATE TABLE outbox_v10 (
                id TEXT PRIMARY KEY,
                notice_id TEXT NOT NULL,
                channel TEXT NOT NULL,
                recipient TEXT NOT NULL,
                status TEXT NOT NULL CHECK )" +
                  one_of("status", kOutboxStatus) + R"(,
                attempts INTEGER NOT NULL DEFAULT 0,
                next_attempt_at INTEGER NOT NULL,
                claimed_until INTEGER NOT NULL DEFAULT 0,
                last_outcome TEXT NOT NULL DEFAULT '',
                last_detail TEXT NOT NULL DEFAULT '',
                created_at TEXT NOT NULL,
                delivered_at TEXT NOT NULL DEFAULT ''))",
              "id, notice_id, channel, recipient, status, attempts, next_attempt_at, "
              "claimed_until, last_outcome, last_detail, created_at, delivered_at",
              false,
              {"CREATE INDEX outbox_due ON outbox (status, next_attempt_at)",
               "CREATE INDEX outbox_by_notice ON outbox (notice_id)"}));
}

// PostgreSQL evaluates IN lists without that cost, but the schemas stay alike: the same CHECKs,
// changed in place (their names are PostgreSQL's defaults).
std::vector<std::string> checks_without_lists_postgres() {
  auto change = [](const std::string& table, const std::string& column,
                   const std::vector<std::string>& values) {
    const std::string name = table + "_" + column + "_check";
    return "ALTER TABLE " + table + " DROP CONSTRAINT " + name + ", ADD CONSTRAINT " + name +
           " CHECK " + one_of(column, values);
  };
  return {change("inputs", "status", kInputStatus),
          change("identity_reviews", "status", kReviewStatus),
          change("notices", "type", kNoticeType),
          change("notices", "status", kNoticeStatus),
          change("routing_timers", "status", kTimerStatus),
          change("outbox", "status", kOutboxStatus)};
}

// Migration 12. Which blocks of 256 entries (seq 256·block+1 … 256·block+256, the blocks of
// audit_nodes) hold a subject's or a type's entries: the appender writes a row the first time a
// block has that subject or type (audit/audit_log.cpp), and readers take those blocks' seq
// ranges of audit_entries. A record's entries are consecutive and a block holds a dozen types,
// so this is a small fraction of the rows the two indexes wrote (one per entry each): appending
// 1,000,000 entries ran ~110,000 → ~140,000 entries/s without them (bench/RESULTS.md, B5).
std::vector<std::string> audit_blocks_statements(bool postgres) {
  const std::string block_type = postgres ? "BIGINT" : "INTEGER";
  const std::string table_options = postgres ? "" : " WITHOUT ROWID";
  std::vector<std::string> out;
  for (const char* column : {"subject", "type"}) {
    const std::string table = std::string("audit_") + column + "_blocks";
    out.push_back("CREATE TABLE " + table + " (" + column + " TEXT NOT NULL, block " + block_type +
                  " NOT NULL, PRIMARY KEY (" + column + ", block))" + table_options);
  }
  out.push_back(
      "INSERT INTO audit_subject_blocks (subject, block) SELECT DISTINCT subject, (seq - 1) / 256 "
      "FROM audit_entries WHERE subject <> ''");
  out.push_back(
      "INSERT INTO audit_type_blocks (type, block) SELECT DISTINCT type, (seq - 1) / 256 FROM "
      "audit_entries");
  out.push_back("DROP INDEX audit_by_subject");
  out.push_back("DROP INDEX audit_by_type");
  return out;
}

}  // namespace

const std::vector<Migration>& migrations() {
  static const std::vector<Migration> migrations{
      {1,
       "inputs, events, quarantine",
       {
           R"(CREATE TABLE inputs (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                system TEXT NOT NULL,
                origin TEXT NOT NULL,
                sha256 TEXT NOT NULL,
                size INTEGER NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('processing', 'done', 'failed')),
                received_at TEXT NOT NULL,
                completed_at TEXT,
                records INTEGER NOT NULL DEFAULT 0,
                events INTEGER NOT NULL DEFAULT 0,
                duplicates INTEGER NOT NULL DEFAULT 0,
                quarantined INTEGER NOT NULL DEFAULT 0,
                message TEXT NOT NULL DEFAULT ''))",
           "CREATE INDEX inputs_by_digest ON inputs (system, origin, sha256, status)",
           // payload: subject, household and attributes as JSON — the personal data of the event.
           R"(CREATE TABLE events (
                id TEXT PRIMARY KEY,
                source TEXT NOT NULL,
                source_ref TEXT NOT NULL,
                source_version INTEGER NOT NULL,
                kind TEXT NOT NULL,
                occurred_at TEXT NOT NULL,
                sensitivity TEXT NOT NULL,
                ward_code TEXT NOT NULL,
                payload BLOB NOT NULL,  -- sealed (AES-256-GCM) JSON of subject, household, attributes
                raw BLOB,  -- NULL when the record had no bytes
                input_id INTEGER NOT NULL REFERENCES inputs (id),
                record_no INTEGER NOT NULL,
                stored_at TEXT NOT NULL,
                UNIQUE (source, source_ref, source_version)))",
           "CREATE INDEX events_by_kind ON events (kind, occurred_at)",
           "CREATE INDEX events_by_input ON events (input_id)",
           R"(CREATE TABLE quarantine (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                system TEXT NOT NULL,
                origin TEXT NOT NULL,
                input_sha256 TEXT NOT NULL,
                record_no INTEGER NOT NULL,
                line INTEGER NOT NULL,
                field TEXT NOT NULL,
                reason TEXT NOT NULL,
                raw BLOB,  -- NULL when the record had no bytes
                status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
                created_at TEXT NOT NULL,
                UNIQUE (system, input_sha256, record_no)))",
       },
       {}},
      {2,
       "exchange log (Merkle tree, signed heads), subjects with their data keys, sealed payloads",
       {
           // One row per log entry; `entry` is the exact byte string the leaf hash covers.
           R"(CREATE TABLE audit_entries (
                seq INTEGER PRIMARY KEY,
                time TEXT NOT NULL,
                type TEXT NOT NULL,
                subject TEXT NOT NULL DEFAULT '',
                entry TEXT NOT NULL,
                leaf_hash TEXT NOT NULL))",
           "CREATE INDEX audit_by_subject ON audit_entries (subject, seq)",
           "CREATE INDEX audit_by_type ON audit_entries (type, seq)",
           // The compact Merkle frontier after the last entry, so appending never rescans the log.
           R"(CREATE TABLE audit_frontier (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                size INTEGER NOT NULL,
                state TEXT NOT NULL))",
           "INSERT INTO audit_frontier (id, size, state) VALUES (1, 0, '')",
           R"(CREATE TABLE audit_heads (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                tree_size INTEGER NOT NULL,
                root TEXT NOT NULL,
                time TEXT NOT NULL,
                key_id TEXT NOT NULL,
                signature TEXT NOT NULL))",
           // A subject is whoever a source record is about, as that source identifies them; its
           // data key seals the subject's payloads. lookup is an HMAC token, never the identifier.
           R"(CREATE TABLE subjects (
                id TEXT PRIMARY KEY,
                source TEXT NOT NULL,
                lookup TEXT NOT NULL UNIQUE,
                wrapped_key BLOB,
                created_at TEXT NOT NULL,
                purged_at TEXT))",
           "ALTER TABLE events ADD COLUMN subject_id TEXT NOT NULL DEFAULT ''",
           "CREATE INDEX events_by_subject ON events (subject_id)",
           "ALTER TABLE quarantine ADD COLUMN subject_id TEXT NOT NULL DEFAULT ''",
       },
       {}},
      {3,
       "person master: persons with their facts, linked source subjects, identity review queue",
       {
           // Facts the router tests, each with the occurred_at it was last set from, so that an
           // older event arriving late never overwrites a newer fact.
           R"(CREATE TABLE persons (
                id TEXT PRIMARY KEY,
                created_at TEXT NOT NULL,
                merged_into TEXT,
                ward_code TEXT NOT NULL DEFAULT '',
                ward_as_of TEXT NOT NULL DEFAULT '',
                on_public_assistance INTEGER NOT NULL DEFAULT 0,
                pa_as_of TEXT NOT NULL DEFAULT '',
                household_token TEXT NOT NULL DEFAULT '',
                household_role TEXT NOT NULL DEFAULT '',
                has_open_cg_case INTEGER NOT NULL DEFAULT 0,
                cg_as_of TEXT NOT NULL DEFAULT '',
                birth_date BLOB))",
           // One row per source subject: which person it belongs to, by which rule, and the
           // HMAC tokens of its identifying keys (never the keys themselves).
           R"(CREATE TABLE identity_subjects (
                subject_id TEXT PRIMARY KEY,
                person_id TEXT NOT NULL REFERENCES persons (id),
                source TEXT NOT NULL,
                rule TEXT NOT NULL,
                evidence TEXT NOT NULL,
                rid_token TEXT NOT NULL DEFAULT '',
                kana_birth_token TEXT NOT NULL DEFAULT '',
                kana_year_ward_token TEXT NOT NULL DEFAULT '',
                birth_token TEXT NOT NULL DEFAULT '',
                kanji_token TEXT NOT NULL DEFAULT '',
                sex TEXT NOT NULL DEFAULT '',
                linked_at TEXT NOT NULL,
                linked_by TEXT NOT NULL))",
           "CREATE INDEX identity_by_person ON identity_subjects (person_id)",
           "CREATE INDEX identity_by_rid ON identity_subjects (rid_token)",
           "CREATE INDEX identity_by_kana_birth ON identity_subjects (kana_birth_token)",
           "CREATE INDEX identity_by_kana_year_ward ON identity_subjects (kana_year_ward_token)",
           R"(CREATE TABLE identity_reviews (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                subject_id TEXT NOT NULL,
                candidate_person TEXT NOT NULL,
                reason TEXT NOT NULL,
                status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'linked', 'separated')),
                created_at TEXT NOT NULL,
                decided_at TEXT,
                decided_by TEXT,
                UNIQUE (subject_id, candidate_person)))",
       },
       {}},
      {4,
       "routing: notices with their history, routing decisions, timers, correlation signals",
       {
           // One notice per (rule, recipient role, person, source record) — the dedupe key — so a
           // re-sent or revised record updates its notice instead of adding one. `fields` holds
           // only what the policy allows, sealed under the data key of the event's subject (a
           // retention purge destroys it with the event). due_at: Unix seconds, 0 = no deadline.
           R"(CREATE TABLE notices (
                id TEXT PRIMARY KEY,
                dedupe_key TEXT NOT NULL UNIQUE,
                type TEXT NOT NULL CHECK (type IN ('route', 'combined', 'timer', 'escalation',
                                                   'handover')),
                rule_id TEXT NOT NULL,
                policy_id TEXT NOT NULL,
                legal_basis TEXT NOT NULL,
                person_id TEXT NOT NULL,
                event_id TEXT NOT NULL,
                subject_id TEXT NOT NULL,
                recipient_role TEXT NOT NULL,
                recipient_ward TEXT NOT NULL,
                recipients TEXT NOT NULL,
                channels TEXT NOT NULL,
                title TEXT NOT NULL,
                reason TEXT NOT NULL,
                fields BLOB,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                due_at INTEGER NOT NULL DEFAULT 0,
                status TEXT NOT NULL CHECK (status IN ('open', 'acknowledged', 'closed')),
                escalation_level INTEGER NOT NULL DEFAULT 0,
                next_escalation_at INTEGER NOT NULL DEFAULT 0,
                parent_id TEXT NOT NULL DEFAULT '',
                opened_at TEXT NOT NULL DEFAULT ''))",
           "CREATE INDEX notices_by_escalation ON notices (status, next_escalation_at)",
           "CREATE INDEX notices_by_person ON notices (person_id, status)",
           "CREATE INDEX notices_by_recipient ON notices (recipient_role, recipient_ward, status)",
           "CREATE INDEX notices_by_event ON notices (event_id)",
           // created, delivered, opened, acknowledged, action, updated, escalated, handed_over,
           // closed … with who and when; a note (free text) is sealed like the fields.
           R"(CREATE TABLE notice_history (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                notice_id TEXT NOT NULL,
                at TEXT NOT NULL,
                action TEXT NOT NULL,
                actor TEXT NOT NULL,
                detail TEXT NOT NULL DEFAULT '',
                note BLOB))",
           "CREATE INDEX notice_history_by_notice ON notice_history (notice_id, id)",
           // What the router decided for each event and rule: routed, updated, withheld, … — what
           // `tsunagu explain` shows. Metadata only.
           R"(CREATE TABLE routing_decisions (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                event_id TEXT NOT NULL,
                rule_id TEXT NOT NULL,
                outcome TEXT NOT NULL,
                policy_id TEXT NOT NULL DEFAULT '',
                recipient TEXT NOT NULL DEFAULT '',
                notice_id TEXT NOT NULL DEFAULT '',
                reason TEXT NOT NULL DEFAULT '',
                at TEXT NOT NULL))",
           "CREATE INDEX routing_decisions_by_event ON routing_decisions (event_id, id)",
           // A running clock (e.g. 48 hours to confirm a child's safety): started by one event,
           // stopped by another about the same person, or fired once when it runs out.
           R"(CREATE TABLE routing_timers (
                id TEXT PRIMARY KEY,
                rule_id TEXT NOT NULL,
                start_key TEXT NOT NULL,
                person_id TEXT NOT NULL,
                event_id TEXT NOT NULL,
                subject_id TEXT NOT NULL,
                ward_code TEXT NOT NULL,
                started_at TEXT NOT NULL,
                due_at INTEGER NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('running', 'stopped', 'fired')),
                stopped_by TEXT NOT NULL DEFAULT '',
                fired_at TEXT NOT NULL DEFAULT '',
                notice_id TEXT NOT NULL DEFAULT '',
                UNIQUE (rule_id, start_key)))",
           "CREATE INDEX routing_timers_due ON routing_timers (status, due_at)",
           "CREATE INDEX routing_timers_by_person ON routing_timers (person_id, status)",
           // Concern signals per person, for correlation rules (occurred_at: Unix seconds).
           R"(CREATE TABLE routing_signals (
                event_id TEXT PRIMARY KEY,
                person_id TEXT NOT NULL,
                kind TEXT NOT NULL,
                source TEXT NOT NULL,
                occurred_at INTEGER NOT NULL))",
           "CREATE INDEX routing_signals_by_person ON routing_signals (person_id, occurred_at)",
       },
       {}},
      {5,
       "accounts with roles, page sessions, API tokens",
       {
           // officer_id ties an account to a roster officer (routing), ward_code to a ward office.
           // password_hash: "$scrypt$ln=…,r=…,p=…$<salt>$<hash>" (web/password_hash.hpp).
           R"(CREATE TABLE accounts (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                login TEXT NOT NULL UNIQUE,
                role TEXT NOT NULL CHECK (role IN ('liaison', 'coordinator', 'cg_emergency',
                                                   'cg_caseworker', 'auditor', 'admin')),
                officer_id TEXT NOT NULL DEFAULT '',
                ward_code TEXT NOT NULL DEFAULT '',
                password_hash TEXT NOT NULL,
                disabled INTEGER NOT NULL DEFAULT 0,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL))",
           "CREATE INDEX accounts_by_officer ON accounts (officer_id)",
           // A login to the pages. The session id is only in the browser's cookie; the store
           // keeps its SHA-256. Times are Unix seconds so that expiry is plain arithmetic.
           R"(CREATE TABLE web_sessions (
                id_hash TEXT PRIMARY KEY,
                account_id INTEGER NOT NULL REFERENCES accounts (id),
                created_unix INTEGER NOT NULL,
                last_seen_unix INTEGER NOT NULL,
                remote TEXT NOT NULL DEFAULT ''))",
           "CREATE INDEX web_sessions_by_account ON web_sessions (account_id)",
           // Bearer tokens for the REST API, shown once when made; the store keeps their SHA-256.
           R"(CREATE TABLE api_tokens (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                account_id INTEGER NOT NULL REFERENCES accounts (id),
                token_hash TEXT NOT NULL UNIQUE,
                label TEXT NOT NULL DEFAULT '',
                created_at TEXT NOT NULL,
                expires_unix INTEGER,  -- NULL: until revoked
                revoked_at TEXT))",
           "CREATE INDEX api_tokens_by_account ON api_tokens (account_id)",
       },
       {}},
      {6,
       "delivery outbox: one row per notice, channel and officer, with its attempts",
       {
           // id is the delivery id — the idempotency key every attempt carries. A worker claims a
           // row by setting claimed_until (a lease): a worker that dies mid-attempt leaves the row
           // to be claimed again when the lease runs out. Times: Unix milliseconds.
           R"(CREATE TABLE outbox (
                id TEXT PRIMARY KEY,
                notice_id TEXT NOT NULL,
                channel TEXT NOT NULL,
                recipient TEXT NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'dead')),
                attempts INTEGER NOT NULL DEFAULT 0,
                next_attempt_at INTEGER NOT NULL,
                claimed_until INTEGER NOT NULL DEFAULT 0,
                last_outcome TEXT NOT NULL DEFAULT '',
                last_detail TEXT NOT NULL DEFAULT '',
                created_at TEXT NOT NULL,
                delivered_at TEXT NOT NULL DEFAULT ''))",
           "CREATE INDEX outbox_due ON outbox (status, next_attempt_at)",
           "CREATE INDEX outbox_by_notice ON outbox (notice_id)",
       },
       {}},
      {7,
       "accounts: section-chief roles",
       {
           // The 保護課長 and the child guidance centre's section chief receive escalations, so
           // accounts may hold their roles. SQLite cannot change a CHECK: the table is rebuilt
           // (with foreign key enforcement off, as every migration runs) and keeps every row and
           // id, which web_sessions and api_tokens refer to.
           R"(CREATE TABLE accounts_v7 (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                login TEXT NOT NULL UNIQUE,
                role TEXT NOT NULL CHECK (role IN ('liaison', 'coordinator', 'pa_section_chief',
                                                   'cg_emergency', 'cg_caseworker',
                                                   'cg_section_chief', 'auditor', 'admin')),
                officer_id TEXT NOT NULL DEFAULT '',
                ward_code TEXT NOT NULL DEFAULT '',
                password_hash TEXT NOT NULL,
                disabled INTEGER NOT NULL DEFAULT 0,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL))",
           R"(INSERT INTO accounts_v7 (id, login, role, officer_id, ward_code, password_hash,
                                       disabled, created_at, updated_at)
              SELECT id, login, role, officer_id, ward_code, password_hash, disabled, created_at,
                     updated_at FROM accounts)",
           // AUTOINCREMENT's high-water mark comes along, so an id is never handed out twice.
           "DELETE FROM sqlite_sequence WHERE name = 'accounts_v7'",
           R"(INSERT INTO sqlite_sequence (name, seq)
              SELECT 'accounts_v7', seq FROM sqlite_sequence WHERE name = 'accounts')",
           "DROP TABLE accounts",
           "ALTER TABLE accounts_v7 RENAME TO accounts",
           "CREATE INDEX accounts_by_officer ON accounts (officer_id)",
       },
       {
           // PostgreSQL changes a CHECK in place (its name is PostgreSQL's default for it).
           R"(ALTER TABLE accounts DROP CONSTRAINT accounts_role_check,
                ADD CONSTRAINT accounts_role_check CHECK (role IN ('liaison', 'coordinator',
                  'pa_section_chief', 'cg_emergency', 'cg_caseworker', 'cg_section_chief',
                  'auditor', 'admin')))",
       }},
      {8,
       "exchange log: stored roots of large aligned Merkle subtrees, so a proof reads O(log n) "
       "rows",
       {
           // The root (MTH, hex) of leaves [idx·2^level, (idx+1)·2^level), for every complete
           // aligned subtree of level 8 and above (audit/audit_log.cpp kNodeLevel): about one row
           // per 128 entries, written by the appender in the transaction of the entry that
           // completes it. A cache of what the entries determine: a store from before this
           // migration has none, and the first inclusion proof builds them from the leaf hashes;
           // `audit verify` checks every one against the entries.
           R"(CREATE TABLE audit_nodes (
                level INTEGER NOT NULL,
                idx INTEGER NOT NULL,
                hash TEXT NOT NULL,
                PRIMARY KEY (level, idx)))",
       },
       {}},
      {9,
       "events: no index on (kind, occurred_at)",
       {
           // No query reads events by kind and time (the event list filters kind with a
           // parameter test and orders by stored_at), and occurred_at follows the source, not
           // arrival, so every stored event wrote a random page of this index: one of the writes
           // that grew with the store's size (bench/RESULTS.md, B1).
           "DROP INDEX events_by_kind",
       },
       {}},
      {10, "CHECKs that list values as comparisons, not IN lists (SQLite: tables rebuilt)",
       checks_without_lists_sqlite(), checks_without_lists_postgres()},
      {11,
       "notice_recipients: which officers each notice is addressed to, by officer",
       {
           // The recipients column (",a,b,") as rows, written with it in the router's
           // transaction (routing::NoticeStore::address): an officer's inbox and the outbox's
           // unread count read their own range of this key instead of testing every notice's
           // list, which no index serves and which grew with the store (25–40 ms per inbox
           // list at 20,286 notices, even for an officer with none; bench/RESULTS.md, 3e88f4d).
           // Access is still decided on the notice itself
           // (web::may_read); this table only finds the candidates.
           R"(CREATE TABLE notice_recipients (
                officer_id TEXT NOT NULL,
                notice_id TEXT NOT NULL REFERENCES notices (id),
                PRIMARY KEY (officer_id, notice_id)) WITHOUT ROWID)",
           // Every stored notice's list, split at its commas.
           R"(WITH RECURSIVE split (notice_id, officer, rest) AS (
                SELECT id, '', substr(recipients, 2) FROM notices
                UNION ALL
                SELECT notice_id, substr(rest, 1, instr(rest, ',') - 1),
                       substr(rest, instr(rest, ',') + 1)
                  FROM split WHERE instr(rest, ',') > 0)
              INSERT INTO notice_recipients (officer_id, notice_id)
              SELECT DISTINCT officer, notice_id FROM split WHERE officer <> '')",
       },
       {
           R"(CREATE TABLE notice_recipients (
                officer_id TEXT NOT NULL,
                notice_id TEXT NOT NULL REFERENCES notices (id),
                PRIMARY KEY (officer_id, notice_id)))",
           R"(INSERT INTO notice_recipients (officer_id, notice_id)
              SELECT DISTINCT officer, id FROM notices,
                     unnest(string_to_array(recipients, ',')) AS officer
               WHERE officer <> '')",
       }},
      {12,
       "exchange log: found by subject and by type through blocks of 256 entries, not two "
       "indexes of every entry",
       audit_blocks_statements(false), audit_blocks_statements(true)},
  };
  return migrations;
}

}  // namespace tsunagu::store
