// The compiled form of a mapping file: what load_file() builds and map() runs. Internal to the
// mapping module.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <tsunagu/event.hpp>

#include "mapping/japanese_date.hpp"

namespace tsunagu::mapping::detail {

enum class FieldType { text, digits, date, datetime, code, integer };

// Which padding spaces (U+0020, as fixed-width and hand-made CSV files carry) to strip.
enum class Trim { none, left, right, both };

// A slot of CaseEvent that a field or a rule writes.
enum class Slot {
  none,
  source_ref,
  source_version,
  occurred_at,
  resident_id,
  name,
  name_kana,
  birth_date,
  sex,
  address,
  ward_code,
  household_id,
  household_role,
  attribute,
};

struct Target {
  Slot slot = Slot::none;
  std::string attribute;  // the key, when slot == Slot::attribute

  bool operator==(const Target&) const = default;
};

// "subject.ward_code" → Target; nullopt for a name that is not a canonical target.
std::optional<Target> parse_target(std::string_view name);
std::string to_string(const Target& target);

struct Code {
  std::string canonical;
  std::string label;
};

struct CodeTable {
  std::string name;
  std::map<std::string, Code, std::less<>> codes;  // native value → code
};

struct FieldSpec {
  std::string native;
  FieldType type = FieldType::text;
  Trim trim = Trim::none;
  bool required = false;
  std::optional<std::string> default_value;  // used when the trimmed value is empty
  Target target;                             // Slot::none: validated, used by rules only
  Target label_target;                       // code fields: where the code's label goes
  std::size_t length = 0;                    // digits: exact length
  std::size_t max_length = 0;                // text: in characters; 0 = no limit
  DateForms forms;                           // date, datetime
  const CodeTable* table = nullptr;          // code; points into Model::tables
  std::optional<std::int64_t> min;           // integer
  std::optional<std::int64_t> max;
  long line = 0;
};

struct Condition {
  enum class Test { equals, one_of, none_of, present, absent };
  Test test = Test::equals;
  std::size_t field = 0;            // index into Model::fields
  std::vector<std::string> values;  // equals: one; one_of / none_of: the set
  // When set, the native value is a list (e.g. a repeatable observation joined by the adapter)
  // and equals / one_of hold when any item does, none_of when no item does.
  std::string item_separator;
};

struct Rule {
  std::vector<Condition> conditions;  // all must hold
  std::string kind;
  Sensitivity sensitivity = Sensitivity::normal;
  std::vector<std::pair<std::string, std::string>> attributes;  // fixed attributes the rule sets
  long line = 0;
};

// Never copied or moved once built: FieldSpec::table points into `tables`.
struct Model {
  Model() = default;
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  std::string system;
  std::filesystem::path file;
  std::map<std::string, std::string> adapter_settings;
  std::map<std::string, CodeTable, std::less<>> tables;
  std::vector<FieldSpec> fields;
  std::size_t deciding_field = 0;  // named by the "no kind rule matches" error
  // Fields the rules test, the deciding field first: their values explain a failed match.
  std::vector<std::size_t> rule_fields;
  std::vector<Rule> rules;  // first match wins
};

std::string_view trim(std::string_view value, Trim how) noexcept;

struct Converted {
  std::string value;  // canonical text
  std::string label;  // code fields: the code's label
  std::string error;  // empty on success
};

// Checks and converts a non-empty (already trimmed) value by the field's type.
Converted convert(const FieldSpec& field, std::string_view value);

// Cuts and quotes a value for an error message.
std::string quote_value(std::string_view value);

}  // namespace tsunagu::mapping::detail
