// Notices as people read them: Japanese labels of kinds, systems, wards, roles and fields (from
// the routing configuration), statuses and history actions, times in Japan time. Used by the
// pages and the notice API alike; decides nothing about access (notice_access.hpp does).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "routing/notice_store.hpp"
#include "routing/routing_config.hpp"
#include "web/inbox.hpp"

namespace tsunagu::web {

// Labels from the routing configuration; with none (routing off), the ids themselves.
class NoticeLabels {
 public:
  explicit NoticeLabels(std::shared_ptr<const routing::RoutingConfig> config = nullptr)
      : config_(std::move(config)) {}

  std::string kind(const std::string& kind) const;      // 乳幼児健診の未受診
  std::string system(const std::string& system) const;  // 保健センター（母子保健）
  std::string ward(const std::string& code) const;      // 東区
  std::string role(const std::string& role) const;      // 子ども支援窓口（保護課）
  std::string officer(const std::string& id) const;     // 小林　剛 (higashi-liaison-1)
  const routing::Policy* policy(const std::string& id) const;  // null if unknown

 private:
  std::shared_ptr<const routing::RoutingConfig> config_;
};

const char* notice_status_label(const std::string& status);   // 未対応, 確認済み, 完了
const char* notice_type_label(const std::string& type);       // 通知, 複合的な懸念, …
const char* history_action_label(const std::string& action);  // 閲覧, 確認, …
const char* field_label(const std::string& name);             // 氏名, … ("" if unknown)

// Open and past its deadline at `now`.
bool is_overdue(const routing::Notice& notice, TimePoint now);
// Never opened by anyone.
inline bool is_unread(const routing::Notice& notice) {
  return notice.opened_at.empty();
}

// "2019年6月5日(水) 21:30" from stored ISO text (returned as is when it is not a time) or Unix
// seconds ("" for empty text or 0).
std::string jst_text(const std::string& iso);
std::string jst_text(std::int64_t unix_seconds);

// The notice's stored fields (already minimised by its policy), in a fixed reading order, with
// Japanese labels; codes (kind, source, ward) shown with their labels.
std::vector<NoticeFieldView> field_views(const routing::Notice& notice, const NoticeLabels& labels);

InboxItem inbox_item(const routing::Notice& notice, const NoticeLabels& labels, TimePoint now);
// `notice` read with details (fields and history).
NoticePage notice_page_view(const routing::Notice& notice, const NoticeLabels& labels,
                            TimePoint now);

}  // namespace tsunagu::web
