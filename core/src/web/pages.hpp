// The server-rendered pages: Japanese first, one small style sheet, no scripts and nothing
// loaded from elsewhere (the Content-Security-Policy allows only this server's style sheet).
// Every value shown goes through html_escape. Rendering only: no store, no decisions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "audit/audit_log.hpp"
#include "web/accounts.hpp"
#include "web/audit_search.hpp"
#include "web/inbox.hpp"

namespace tsunagu::web {

// GET /assets/tsunagu.css
extern const char* const kStyleSheet;

// `form_token`: the login form's double-submit token; `message`: why the last attempt failed.
std::string render_login(const std::string& form_token, const std::string& message,
                         const std::string& login);
std::string render_inbox(const Principal& principal, const InboxPage& inbox);
// One notice with its fields and history, and the forms to acknowledge it and record an action.
std::string render_notice(const Principal& principal, const NoticePage& notice);
std::string render_audit(const Principal& principal, const AuditFilter& filter,
                         const std::vector<AuditRow>& rows,
                         const std::optional<audit::TreeHead>& head, std::uint64_t log_size,
                         const std::string& error);
std::string render_account(const Principal& principal);
// A page that only says something (refusals, throttling). `principal` may be null.
std::string render_message(const Principal* principal, const std::string& title,
                           const std::string& message);

}  // namespace tsunagu::web
