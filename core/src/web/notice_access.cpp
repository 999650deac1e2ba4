#include "web/notice_access.hpp"

#include <algorithm>
#include <set>
#include <tuple>

namespace tsunagu::web {

bool city_wide(Role role) {
  return role == Role::cg_emergency || role == Role::cg_caseworker ||
         role == Role::cg_section_chief;
}

bool may_read(const Account& account, const routing::Notice& notice) {
  if (account.disabled || !receives_notices(account.role)) return false;
  if (!account.officer_id.empty() && notice.addressed_to(account.officer_id)) return true;
  if (notice.recipient_role != to_string(account.role)) return false;
  if (city_wide(account.role)) return true;
  return !account.ward_code.empty() && notice.recipient_ward == account.ward_code;
}

namespace {

int status_rank(const std::string& status) {
  if (status == "open") return 0;
  if (status == "acknowledged") return 1;
  return 2;
}

}  // namespace

std::vector<routing::Notice> visible_notices(routing::NoticeStore& notices, const Account& account,
                                             const std::string& status) {
  if (!receives_notices(account.role)) return {};
  // Two narrow reads (by officer, by role and ward) rather than every notice; each candidate is
  // then checked with may_read, which is exact where the store's match is not (LIKE).
  std::vector<routing::NoticeFilter> reads;
  if (!account.officer_id.empty()) {
    routing::NoticeFilter f;
    f.officer = account.officer_id;
    reads.push_back(f);
  }
  if (city_wide(account.role) || !account.ward_code.empty()) {
    routing::NoticeFilter f;
    f.role = to_string(account.role);
    if (!city_wide(account.role)) f.ward = account.ward_code;
    reads.push_back(f);
  }
  std::vector<routing::Notice> out;
  std::set<std::string> seen;
  for (auto& f : reads) {
    f.status = status;
    f.limit = 500;
    for (auto& n : notices.list(f)) {
      if (may_read(account, n) && seen.insert(n.id).second) out.push_back(std::move(n));
    }
  }
  // The order of NoticeStore::list, kept across the two reads.
  std::stable_sort(out.begin(), out.end(), [](const routing::Notice& a, const routing::Notice& b) {
    const int rank_a = status_rank(a.status), rank_b = status_rank(b.status);
    const bool none_a = a.due_at == 0, none_b = b.due_at == 0;
    return std::tie(rank_a, none_a, a.due_at, a.created_at, a.id) <
           std::tie(rank_b, none_b, b.due_at, b.created_at, b.id);
  });
  return out;
}

std::optional<routing::Notice> visible_notice(routing::NoticeStore& notices, const Account& account,
                                              const std::string& id, bool with_details) {
  if (!receives_notices(account.role)) return std::nullopt;
  auto n = notices.get(id, with_details);
  if (!n || !may_read(account, *n)) return std::nullopt;
  return n;
}

}  // namespace tsunagu::web
