// The roles an account has (one each). Who may do what is decided in one table, access_policy.cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tsunagu::web {

enum class Role : std::uint8_t {
  liaison,           // 連絡担当: a ward office's officer who receives notices
  coordinator,       // 調整担当: oversees routing and escalations
  pa_section_chief,  // 保護課長: a ward's 保護課, receives escalations
  cg_emergency,      // 児童相談所 緊急対応
  cg_caseworker,     // 児童相談所 ケースワーカー
  cg_section_chief,  // 児童相談所 緊急対応担当課長: city-wide, receives escalations
  auditor,           // 監査: reads the exchange log, never payloads
  admin,             // 管理者: accounts (through the CLI today)
};

inline constexpr Role kAllRoles[] = {
    Role::liaison,       Role::coordinator,      Role::pa_section_chief, Role::cg_emergency,
    Role::cg_caseworker, Role::cg_section_chief, Role::auditor,          Role::admin};
// Every role once: Audience's bits rely on the roles being 0 … n-1.
static_assert(static_cast<std::size_t>(Role::admin) + 1 == std::size(kAllRoles));

// "liaison", "coordinator", … — as stored and as the CLI takes them.
const char* to_string(Role role);
std::optional<Role> role_from_string(std::string_view name);
// 連絡担当, 監査, … for the pages.
const char* display_name(Role role);
// Every role name, comma-separated, for error messages.
std::string role_names();

// Roles that receive notices in an inbox (liaison work), as opposed to auditing or administering.
bool receives_notices(Role role);

// A set of roles plus "anonymous" (no account): who a route admits.
class Audience {
 public:
  constexpr Audience() = default;
  static constexpr Audience anyone() { return Audience(kAnonymousBit | kAllRoleBits); }
  static constexpr Audience signed_in() { return Audience(kAllRoleBits); }
  static constexpr Audience of(std::initializer_list<Role> roles) {
    std::uint32_t bits = 0;
    for (Role r : roles) bits |= bit(r);
    return Audience(bits);
  }
  constexpr bool admits_anonymous() const { return (bits_ & kAnonymousBit) != 0; }
  constexpr bool admits(Role role) const { return (bits_ & bit(role)) != 0; }

 private:
  static constexpr std::uint32_t bit(Role r) { return 1U << static_cast<unsigned>(r); }
  static constexpr std::uint32_t kAnonymousBit = 1U << 31U;
  static constexpr std::uint32_t kAllRoleBits = (1U << std::size(kAllRoles)) - 1U;
  constexpr explicit Audience(std::uint32_t bits) : bits_(bits) {}
  std::uint32_t bits_ = 0;
};

}  // namespace tsunagu::web
