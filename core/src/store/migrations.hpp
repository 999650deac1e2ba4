// Versioned schema migrations. Append new versions; never edit a released one.
#pragma once

#include <string>
#include <vector>

namespace tsunagu::store {

struct Migration {
  int version;
  std::string description;
  std::vector<std::string>
      statements;  // SQLite's; PostgreSQL runs them through dialect::postgres_ddl
  std::vector<std::string> postgres;  // PostgreSQL's own, where the SQLite ones cannot be rewritten
};

const std::vector<Migration>& migrations();

}  // namespace tsunagu::store
