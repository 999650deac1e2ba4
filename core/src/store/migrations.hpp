// Versioned schema migrations. Append new versions; never edit a released one.
#pragma once

#include <string>
#include <vector>

namespace tsunagu::store {

struct Migration {
  int version;
  std::string description;
  std::vector<std::string> statements;
};

const std::vector<Migration>& sqlite_migrations();

}  // namespace tsunagu::store
