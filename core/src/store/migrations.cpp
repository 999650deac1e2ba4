#include "store/migrations.hpp"

namespace tsunagu::store {

const std::vector<Migration>& sqlite_migrations() {
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
                payload TEXT NOT NULL,
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
       }},
  };
  return migrations;
}

}  // namespace tsunagu::store
