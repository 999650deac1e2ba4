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
       }},
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
       }},
  };
  return migrations;
}

}  // namespace tsunagu::store
