#include "web/access_policy.hpp"

namespace tsunagu::web {

const std::vector<AccessRule>& access_table() {
  static const std::vector<AccessRule> table{
      // Signing in and out.
      {"GET", "/login", Surface::page, Audience::anyone()},
      {"POST", "/login", Surface::page, Audience::anyone()},
      {"POST", "/logout", Surface::page, Audience::signed_in()},
      {"POST", "/api/v1/session", Surface::api, Audience::anyone()},
      {"DELETE", "/api/v1/session", Surface::api, Audience::signed_in()},
      {"GET", "/api/v1/me", Surface::api, Audience::signed_in()},
      // Every signed-in account: its home (a redirect by role) and who it is.
      {"GET", "/", Surface::page, Audience::signed_in()},
      {"GET", "/account", Surface::page, Audience::signed_in()},
      // Public: the style sheet (the login page needs it) and the API's description.
      {"GET", "/assets/tsunagu.css", Surface::page, Audience::anyone()},
      {"GET", "/api/v1/openapi.json", Surface::api, Audience::anyone()},
      // Notices: the roles that receive them. Which notices each account may read is decided per
      // notice by web/notice_access.cpp (one rule for pages and API; others' notices are 404).
      {"GET", "/inbox", Surface::page, kNoticeReaders},
      {"GET", "/notices/{id}", Surface::page, kNoticeReaders},
      {"POST", "/notices/{id}/ack", Surface::page, kNoticeReaders},
      {"POST", "/notices/{id}/action", Surface::page, kNoticeReaders},
      {"GET", "/api/v1/notices", Surface::api, kNoticeReaders},
      {"GET", "/api/v1/notices/{id}", Surface::api, kNoticeReaders},
      {"POST", "/api/v1/notices/{id}/ack", Surface::api, kNoticeReaders},
      {"POST", "/api/v1/notices/{id}/actions", Surface::api, kNoticeReaders},
      // The exchange log: auditors only, and only its metadata.
      {"GET", "/audit", Surface::page, kAuditors},
      {"GET", "/api/v1/audit/entries", Surface::api, kAuditors},
      {"GET", "/api/v1/audit/tree-head", Surface::api, kAuditors},
      {"GET", "/api/v1/audit/proof/{seq}", Surface::api, kAuditors},
  };
  return table;
}

const AccessRule* find_access_rule(const std::string& method, const std::string& pattern) {
  for (const auto& rule : access_table()) {
    if (method == rule.method && pattern == rule.pattern) return &rule;
  }
  return nullptr;
}

}  // namespace tsunagu::web
