// Who may read which notice: the one rule that the inbox, the notice page, its forms and the
// notice API all apply (never a second copy of it in a handler).
//
// An account that receives notices (liaison, coordinator, pa_section_chief, cg_emergency,
// cg_caseworker, cg_section_chief) may read a notice when
//   - its roster officer id is among the notice's recipients, or
//   - the notice is addressed to the account's role in the account's ward (the ward's team
//     inbox) — for the child guidance centre's city-wide roles (cg_*) to the role alone.
// Nobody else may read one: auditors see the exchange log's metadata, never a notice.
//
// A notice someone may not read is answered exactly like one that does not exist (404), so that
// guessing ids confirms nothing.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "routing/notice_store.hpp"
#include "web/accounts.hpp"

namespace tsunagu::web {

// The child guidance centre's roles (cg_caseworker, cg_emergency, cg_section_chief) serve the
// whole city: their notices are theirs whatever the ward.
bool city_wide(Role role);

bool may_read(const Account& account, const routing::Notice& notice);

// The notices `account` may read, most urgent first (open before acknowledged before closed,
// then by due time); `status` ("open", "acknowledged", "closed" or "" for all) narrows them.
std::vector<routing::Notice> visible_notices(routing::NoticeStore& notices, const Account& account,
                                             const std::string& status = "");

// The notice if it exists and `account` may read it; otherwise nullopt (the caller answers 404).
std::optional<routing::Notice> visible_notice(routing::NoticeStore& notices, const Account& account,
                                              const std::string& id, bool with_details);

}  // namespace tsunagu::web
