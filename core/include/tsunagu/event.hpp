// The canonical event every native record becomes (DESIGN.md, "Canonical event").
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace tsunagu {

enum class Sensitivity { normal, special_care };  // special_care: 要配慮個人情報

std::string_view to_string(Sensitivity s) noexcept;
// Throws std::invalid_argument for anything but "normal" / "special_care".
Sensitivity sensitivity_from_string(std::string_view s);

// Empty strings mean "the source does not know". Dates are ISO-8601 (YYYY-MM-DD).
struct Subject {
  std::string resident_id;  // 宛名番号, 10 digits
  std::string name;         // 漢字 name, family and given separated by one full-width space
  std::string name_kana;
  std::string birth_date;
  std::string sex;          // "M", "F" or "U"
  std::string address;
  std::string ward_code;    // 01101–01110

  bool operator==(const Subject&) const = default;
};

struct Household {
  std::string household_id;
  std::string role;  // role in household: 世帯主, 子, …

  bool operator==(const Household&) const = default;
};

struct CaseEvent {
  std::string id;  // UUID assigned by the hub when the event is stored
  std::string source;
  std::string source_ref;
  std::int64_t source_version = 0;  // (source, source_ref, source_version) is the idempotency key
  std::string kind;                 // e.g. welfare.household_opened
  std::string occurred_at;          // ISO-8601 with offset, Asia/Tokyo (+09:00)
  Subject subject;
  Household household;
  std::map<std::string, std::string> attributes;
  Sensitivity sensitivity = Sensitivity::normal;

  bool operator==(const CaseEvent&) const = default;
};

}  // namespace tsunagu
