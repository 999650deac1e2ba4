// Who may use which page and API endpoint: one table for the whole web surface
// (access_policy.cpp). WebApp refuses to register a route that has no row here, and checks every
// request against its row before the handler runs — handlers never decide access by role.
//
// To add endpoints: add a row per method and pattern, then register the handler with
// WebApp::route(); tests/integration/web_access_test.cpp has the matrix to extend.
#pragma once

#include <string>
#include <vector>

#include "web/roles.hpp"

namespace tsunagu::web {

// How a refusal is answered: a page redirects to the login page (no session) or shows an HTML
// 403; the API answers JSON 401 / 403.
enum class Surface { page, api };

struct AccessRule {
  const char* method = "";
  const char* pattern = "";  // as given to http::Router
  Surface surface = Surface::page;
  Audience audience;
};

const std::vector<AccessRule>& access_table();

// The row for exactly this method and pattern, or null.
const AccessRule* find_access_rule(const std::string& method, const std::string& pattern);

// Roles whose work is acting on notices (the inbox, the notice pages and the notice API): those
// routes reach, and the section chiefs their escalations reach.
inline constexpr Audience kNoticeReaders =
    Audience::of({Role::liaison, Role::coordinator, Role::pa_section_chief, Role::cg_emergency,
                  Role::cg_caseworker, Role::cg_section_chief});
inline constexpr Audience kAuditors = Audience::of({Role::auditor});

}  // namespace tsunagu::web
