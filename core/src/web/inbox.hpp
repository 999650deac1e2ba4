// The liaison inbox as the page sees it. Issue 6 (routing) supplies the notices: WebApp takes an
// InboxSource, and until one is set the inbox is empty ("通知はありません").
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "store/store.hpp"
#include "web/accounts.hpp"

namespace tsunagu::web {

// One line of the inbox. Only what a liaison needs to decide what to open first; the notice
// itself is on its own page (href), which logs the view.
struct InboxItem {
  std::string id;
  std::string received_at;  // ISO-8601
  std::string kind;         // event kind label, e.g. 養育支援 要連絡
  std::string ward_code;
  std::string status;    // 未読, 既読, 確認済み, …
  std::string deadline;  // ISO-8601, or empty
  std::string href;      // e.g. /notices/<id>
  bool overdue = false;
};

// The notices addressed to `principal`, newest first. Runs on the request's own store session.
using InboxSource = std::function<std::vector<InboxItem>(store::Store&, const Principal&)>;

}  // namespace tsunagu::web
