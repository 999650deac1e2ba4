#include "web/roles.hpp"

namespace tsunagu::web {

const char* to_string(Role role) {
  switch (role) {
    case Role::liaison:
      return "liaison";
    case Role::coordinator:
      return "coordinator";
    case Role::pa_section_chief:
      return "pa_section_chief";
    case Role::cg_emergency:
      return "cg_emergency";
    case Role::cg_caseworker:
      return "cg_caseworker";
    case Role::cg_section_chief:
      return "cg_section_chief";
    case Role::auditor:
      return "auditor";
    case Role::admin:
      return "admin";
  }
  return "";
}

const char* display_name(Role role) {
  switch (role) {
    case Role::liaison:
      return "連絡担当";
    case Role::coordinator:
      return "調整担当";
    case Role::pa_section_chief:
      return "保護課長";
    case Role::cg_emergency:
      return "児童相談所 緊急対応";
    case Role::cg_caseworker:
      return "児童相談所 ケースワーカー";
    case Role::cg_section_chief:
      return "児童相談所 緊急対応担当課長";
    case Role::auditor:
      return "監査";
    case Role::admin:
      return "管理者";
  }
  return "";
}

std::optional<Role> role_from_string(std::string_view name) {
  for (Role r : kAllRoles) {
    if (name == to_string(r)) return r;
  }
  return std::nullopt;
}

std::string role_names() {
  std::string out;
  for (Role r : kAllRoles) out += (out.empty() ? "" : ", ") + std::string(to_string(r));
  return out;
}

bool receives_notices(Role role) {
  return role == Role::liaison || role == Role::coordinator || role == Role::pa_section_chief ||
         role == Role::cg_emergency || role == Role::cg_caseworker ||
         role == Role::cg_section_chief;
}

}  // namespace tsunagu::web
