// tsunagu identity review list|link|separate, tsunagu person show.
#pragma once

#include "cli/commands.hpp"

namespace tsunagu::cli {

int identity_review_list(const runtime::CommonOptions& options, const Args& args);
int identity_review_link(const runtime::CommonOptions& options, const Args& args);
int identity_review_separate(const runtime::CommonOptions& options, const Args& args);
int person_show(const runtime::CommonOptions& options, const Args& args);

}  // namespace tsunagu::cli
