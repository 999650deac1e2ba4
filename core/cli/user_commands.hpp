// tsunagu user add|passwd|disable|enable|list|token|token-revoke: accounts for the pages and API.
#pragma once

#include "cli/commands.hpp"

namespace tsunagu::cli {

int user_add(const runtime::CommonOptions& options, const Args& args);
int user_passwd(const runtime::CommonOptions& options, const Args& args);
int user_disable(const runtime::CommonOptions& options, const Args& args);
int user_enable(const runtime::CommonOptions& options, const Args& args);
int user_list(const runtime::CommonOptions& options, const Args& args);
int user_token(const runtime::CommonOptions& options, const Args& args);
int user_token_revoke(const runtime::CommonOptions& options, const Args& args);

}  // namespace tsunagu::cli
