// The liaison's pages as the renderer sees them: the inbox and one notice. Built from the store's
// notices by notice_view.hpp (labels in Japanese, times in Japan time); rendered by pages.hpp.
// Only what the reader may see is ever put here (notice_access.hpp decides).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace tsunagu::web {

// One line of the inbox: what a liaison needs to decide what to open first. The fields of the
// notice are only on its own page, which records the opening.
struct InboxItem {
  std::string id;
  std::string href;          // /notices/<id>
  std::string title;         // the route's title (no personal data)
  std::string type_label;    // 通知, 複合的な懸念, 期限超過, 引継ぎ, …
  std::string ward;          // 東区
  std::string status;        // open | acknowledged | closed
  std::string status_label;  // 未対応, 確認済み, 完了
  std::string received_at;   // 2019年6月5日(水) 21:30
  std::string deadline;      // likewise, or ""
  bool overdue = false;      // open and past its deadline
  bool unread = false;       // never opened by anyone
};

struct InboxPage {
  std::vector<InboxItem> items;
  std::size_t unread = 0;
  std::size_t overdue = 0;
  std::string status;  // the status filter shown ("" = all)
};

struct NoticeFieldView {
  std::string name;   // subject.name, …
  std::string label;  // 氏名, …
  std::string value;  // as stored, or with its label (種別, 区, 情報元)
};

struct NoticeHistoryView {
  std::string at;
  std::string action;        // as stored
  std::string action_label;  // 閲覧, 確認, …
  std::string actor;         // a login, or つなぐ for the hub
  std::string detail;
  std::string note;
};

struct NoticePage {
  std::string id;
  std::string title;
  std::string reason;
  std::string type_label;
  std::string status;
  std::string status_label;
  std::string legal_basis;  // code and citation
  std::string policy_id;
  std::string policy_title;
  std::string purpose;
  std::string ward;
  std::string recipient_role;  // its Japanese name
  std::string recipients;      // officer names and ids
  std::string received_at;
  std::string deadline;
  std::string opened_at;
  bool overdue = false;
  int escalation_level = 0;
  bool fields_readable = false;  // false once the retention purge destroyed the data key
  std::vector<NoticeFieldView> fields;
  std::vector<NoticeHistoryView> history;
  std::string message;  // what the last form did (確認を記録しました)
  std::string error;    // why the last form was refused
};

}  // namespace tsunagu::web
