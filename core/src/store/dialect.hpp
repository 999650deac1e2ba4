// Where the two engines' SQL differs, in one place.
//
// Statements are written once, in the subset SQLite 3.40 and PostgreSQL 15 share (RETURNING,
// ON CONFLICT … DO NOTHING/UPDATE, COALESCE, CASE, standard types), with `?` placeholders.
// Only two things are rewritten for PostgreSQL: the placeholders, which it numbers ($1, $2, …),
// and, in the migrations' table definitions, SQLite's type names and AUTOINCREMENT keys.
// Whatever cannot be written in the shared subset has its own statement per engine (the
// migrations' `postgres` variants, Store::json_text_sql, the writer lock in Store::begin).
#pragma once

#include <string>
#include <string_view>

namespace tsunagu::store::dialect {

// `?` outside quoted text, quoted identifiers and comments becomes $1, $2, …; `count` (if given)
// receives how many there were.
std::string postgres_placeholders(std::string_view sql, int* count = nullptr);

// A migration's statement for PostgreSQL: INTEGER PRIMARY KEY AUTOINCREMENT becomes an identity
// column, INTEGER becomes BIGINT (SQLite's integers are 64-bit), BLOB becomes BYTEA, REAL becomes
// DOUBLE PRECISION.
std::string postgres_ddl(std::string_view sql);

}  // namespace tsunagu::store::dialect
