// tsunagu audit … and tsunagu retention …: the auditor's tools. verify, prove and export work
// offline on a copy of the store; check-proof needs no store at all.
#pragma once

#include "cli/commands.hpp"

namespace tsunagu::cli {

int audit_verify(const runtime::CommonOptions& options, const Args& args);
int audit_sign(const runtime::CommonOptions& options, const Args& args);
int audit_new_key(const runtime::CommonOptions& options, const Args& args);
int audit_head(const runtime::CommonOptions& options, const Args& args);
int audit_prove(const runtime::CommonOptions& options, const Args& args);
int audit_check_proof(const runtime::CommonOptions& options, const Args& args);
int audit_export(const runtime::CommonOptions& options, const Args& args);
int retention_purge(const runtime::CommonOptions& options, const Args& args);

}  // namespace tsunagu::cli
