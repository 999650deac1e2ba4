#include "web/pages.hpp"

#include "web/forms.hpp"

namespace tsunagu::web {
namespace {

std::string e(std::string_view s) {
  return html_escape(s);
}

// The frame of every page: the header names who is signed in, with the logout form (a POST with
// the session's CSRF token; a link could be triggered by any other site).
std::string layout(const std::string& title, const Principal* principal, const std::string& main) {
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"ja\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>" +
      e(title) +
      " — つなぐ</title>\n<link rel=\"stylesheet\" href=\"/assets/tsunagu.css\">\n</head>\n<body>\n"
      "<header class=\"bar\"><span class=\"brand\">つなぐ <small>子ども支援連携ハブ</small></span>";
  if (principal != nullptr) {
    out += "<nav>";
    if (receives_notices(principal->account.role)) out += "<a href=\"/inbox\">受信箱</a>";
    if (principal->account.role == Role::auditor) out += "<a href=\"/audit\">監査ログ</a>";
    out += "<a href=\"/account\" id=\"who\">" + e(principal->account.login) + " (" +
           e(display_name(principal->account.role)) + ")</a>";
    if (principal->via == Principal::Via::session) {
      out +=
          "<form method=\"post\" action=\"/logout\" class=\"inline\">"
          "<input type=\"hidden\" name=\"csrf\" value=\"" +
          e(principal->csrf_token) +
          "\"><button type=\"submit\" id=\"logout\">ログアウト</button></form>";
    }
    out += "</nav>";
  }
  out += "</header>\n<main>\n" + main + "\n</main>\n</body>\n</html>\n";
  return out;
}

std::string input(const char* name, const char* label, const std::string& value,
                  const char* placeholder = "") {
  return std::string("<label>") + label + "<input type=\"text\" name=\"" + name + "\" value=\"" +
         e(value) + "\" placeholder=\"" + placeholder + "\"></label>";
}

std::string hex(const audit::Hash& h) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (const auto b : h) {
    out += kHex[static_cast<unsigned char>(b) >> 4U];
    out += kHex[static_cast<unsigned char>(b) & 15U];
  }
  return out;
}

}  // namespace

const char* const kStyleSheet = R"css(:root { --ink: #1d2733; --muted: #5b6775; --line: #d5dbe2;
  --accent: #0b5cad; --warn: #a4262c; --bg: #f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0; font-family: "Noto Sans JP", "Hiragino Sans", "Yu Gothic", sans-serif;
  color: var(--ink); background: var(--bg); line-height: 1.6; }
.bar { display: flex; justify-content: space-between; align-items: center; gap: 1rem;
  padding: .5rem 1rem; background: #fff; border-bottom: 1px solid var(--line); flex-wrap: wrap; }
.brand { font-weight: 700; } .brand small { color: var(--muted); font-weight: 400; }
nav { display: flex; gap: 1rem; align-items: center; flex-wrap: wrap; }
nav a { color: var(--accent); text-decoration: none; }
main { max-width: 72rem; margin: 1.5rem auto; padding: 0 1rem; }
h1 { font-size: 1.4rem; margin: 0 0 1rem; }
h2 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 1rem 1.25rem; }
.narrow { max-width: 26rem; margin: 3rem auto; }
label { display: block; margin: .5rem 0; font-size: .9rem; color: var(--muted); }
input[type=text], input[type=password] { display: block; width: 100%; padding: .45rem .5rem;
  font-size: 1rem; border: 1px solid var(--line); border-radius: 4px; color: var(--ink); }
button { padding: .45rem 1rem; font-size: 1rem; border: 0; border-radius: 4px;
  background: var(--accent); color: #fff; cursor: pointer; }
form.inline { display: inline; } form.inline button { padding: .2rem .7rem; font-size: .9rem; }
.filters { display: grid; grid-template-columns: repeat(auto-fill, minmax(12rem, 1fr)); gap: 0 1rem; }
.error { color: var(--warn); font-weight: 600; }
.empty { color: var(--muted); padding: 1rem 0; }
table { width: 100%; border-collapse: collapse; background: #fff; font-size: .9rem; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid var(--line);
  vertical-align: top; }
th { background: #eef2f6; }
td.mono, .mono { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: .8rem;
  word-break: break-all; }
dl.details { margin: 0; display: grid; grid-template-columns: max-content 1fr; gap: 0 .75rem; }
dl.details dt { color: var(--muted); } dl.details dd { margin: 0; word-break: break-all; }
tr.overdue td { background: #fdecea; }
tr.unread td a { font-weight: 700; }
.badge { display: inline-block; padding: 0 .4rem; border-radius: 3px; font-size: .75rem;
  background: var(--accent); color: #fff; }
.badge.warn, strong.warn { background: var(--warn); color: #fff; }
strong.warn { padding: 0 .3rem; border-radius: 3px; }
.counts { font-size: 1rem; }
.filters-inline { margin: 0 0 .75rem; }
.ok { color: #1a6e2e; font-weight: 600; }
.note { color: var(--muted); font-size: .85rem; }
.forms { display: grid; grid-template-columns: repeat(auto-fit, minmax(18rem, 1fr)); gap: 1rem; }
textarea { display: block; width: 100%; padding: .45rem .5rem; font: inherit;
  border: 1px solid var(--line); border-radius: 4px; color: var(--ink); }
td.nowrap { white-space: nowrap; }
.presets { display: flex; flex-wrap: wrap; gap: .4rem 1rem; margin: 0 0 1rem; }
)css";

std::string render_login(const std::string& form_token, const std::string& message,
                         const std::string& login) {
  std::string main = "<section class=\"card narrow\" id=\"login\"><h1>ログイン</h1>";
  if (!message.empty()) main += "<p class=\"error\" role=\"alert\">" + e(message) + "</p>";
  main +=
      "<form method=\"post\" action=\"/login\">"
      "<input type=\"hidden\" name=\"csrf\" value=\"" +
      e(form_token) +
      "\"><label>ログイン ID<input type=\"text\" name=\"login\" autocomplete=\"username\" "
      "required value=\"" +
      e(login) +
      "\"></label><label>パスワード<input type=\"password\" name=\"password\" "
      "autocomplete=\"current-password\" required></label>"
      "<button type=\"submit\" id=\"login-submit\">ログイン</button></form></section>";
  return layout("ログイン", nullptr, main);
}

std::string render_inbox(const Principal& principal, const InboxPage& inbox) {
  std::string main = "<section id=\"inbox\"><h1>受信箱</h1>";
  main += "<p class=\"counts\">未読 <strong id=\"unread-count\">" + std::to_string(inbox.unread) +
          "</strong> 件 ・ 期限超過 <strong id=\"overdue-count\"" +
          (inbox.overdue > 0 ? " class=\"warn\"" : "") + ">" + std::to_string(inbox.overdue) +
          "</strong> 件</p>";
  main += "<nav class=\"filters-inline\" id=\"status-filter\">";
  static constexpr const char* kFilters[][2] = {
      {"", "すべて"}, {"open", "未対応"}, {"acknowledged", "確認済み"}, {"closed", "完了"}};
  for (const auto& [value, label] : kFilters) {
    const std::string href = *value == '\0' ? "/inbox" : std::string("/inbox?status=") + value;
    if (inbox.status == value) {
      main += std::string("<strong>") + label + "</strong>";
    } else {
      main += "<a href=\"" + href + "\">" + label + "</a>";
    }
  }
  main += "</nav>";
  if (inbox.items.empty()) {
    main += "<p class=\"empty\" id=\"inbox-empty\">通知はありません</p>";
  } else {
    main +=
        "<table class=\"notices\" id=\"inbox-list\"><thead><tr><th>期限</th><th>件名</th>"
        "<th>区分</th><th>区</th><th>状態</th><th>受信</th></tr></thead><tbody>";
    for (const auto& item : inbox.items) {
      std::string classes = item.overdue ? "overdue" : "";
      if (item.unread) classes += classes.empty() ? "unread" : " unread";
      main += "<tr data-id=\"" + e(item.id) + "\"" +
              (classes.empty() ? "" : " class=\"" + classes + "\"") + "><td>" +
              (item.deadline.empty() ? "—" : e(item.deadline)) +
              (item.overdue ? " <span class=\"badge warn\">期限超過</span>" : "") +
              "</td><td><a href=\"" + e(item.href) + "\">" + e(item.title) + "</a>" +
              (item.unread ? " <span class=\"badge\">未読</span>" : "") + "</td><td>" +
              e(item.type_label) + "</td><td>" + e(item.ward) + "</td><td class=\"status\">" +
              e(item.status_label) + "</td><td>" + e(item.received_at) + "</td></tr>";
    }
    main += "</tbody></table>";
  }
  main += "</section>";
  return layout("受信箱", &principal, main);
}

std::string render_notice(const Principal& principal, const NoticePage& n) {
  auto row = [](const char* label, const std::string& value, const char* id = nullptr) {
    return std::string("<dt>") + label + "</dt><dd" +
           (id != nullptr ? std::string(" id=\"") + id + "\"" : std::string()) + ">" + e(value) +
           "</dd>";
  };
  std::string main = "<p><a href=\"/inbox\">← 受信箱</a></p><article id=\"notice\">";
  main += "<h1 id=\"notice-title\">" + e(n.title) + "</h1>";
  if (!n.message.empty())
    main += "<p class=\"ok\" role=\"status\" id=\"notice-message\">" + e(n.message) + "</p>";
  if (!n.error.empty())
    main += "<p class=\"error\" role=\"alert\" id=\"notice-error\">" + e(n.error) + "</p>";
  main += "<section class=\"card\" id=\"notice-summary\"><dl class=\"details\">";
  main += "<dt>状態</dt><dd id=\"notice-status\" data-status=\"" + e(n.status) + "\">" +
          e(n.status_label) + "</dd>";
  main += "<dt>期限</dt><dd id=\"notice-deadline\">" +
          (n.deadline.empty() ? std::string("—") : e(n.deadline)) +
          (n.overdue ? " <span class=\"badge warn\">期限超過</span>" : "") + "</dd>";
  main += row("区分", n.type_label + (n.escalation_level > 0
                                          ? "（第" + std::to_string(n.escalation_level) + "段階）"
                                          : ""));
  main += row("理由", n.reason, "notice-reason");
  main += row("法的根拠", n.legal_basis, "notice-legal-basis");
  main += row("提供の方針",
              (n.policy_title.empty() ? n.policy_id : n.policy_title + "（" + n.policy_id + "）"),
              "notice-policy");
  if (!n.purpose.empty()) main += row("目的", n.purpose);
  main += row("区", n.ward);
  main += row("宛先", n.recipient_role + (n.recipients.empty() ? "" : "：" + n.recipients));
  main += row("受信", n.received_at);
  main += row("初回閲覧", n.opened_at.empty() ? "—" : n.opened_at);
  main += "</dl></section>";

  main += "<section id=\"notice-fields\"><h2>提供された情報</h2>";
  if (!n.fields_readable) {
    main += "<p class=\"empty\">保存期間の満了により、この通知の個人情報は消去されています。</p>";
  } else {
    main +=
        "<p class=\"note\">方針で提供が認められた項目だけが届いています。</p>"
        "<dl class=\"details card\">";
    for (const auto& f : n.fields) {
      main +=
          "<dt>" + e(f.label) + "</dt><dd data-field=\"" + e(f.name) + "\">" + e(f.value) + "</dd>";
    }
    main += "</dl>";
  }
  main += "</section>";

  if (n.status != "closed" && principal.via == Principal::Via::session) {
    const std::string csrf =
        "<input type=\"hidden\" name=\"csrf\" value=\"" + e(principal.csrf_token) + "\">";
    main += "<section id=\"notice-forms\"><h2>対応</h2><div class=\"forms\">";
    if (n.status == "open") {
      main += "<form method=\"post\" action=\"/notices/" + e(n.id) +
              "/ack\" class=\"card\" id=\"ack-form\">" + csrf +
              "<label>確認のメモ（任意）<textarea name=\"note\" rows=\"3\" maxlength=\"1000\">"
              "</textarea></label><button type=\"submit\" id=\"ack-submit\">受領を確認する</button>"
              "</form>";
    }
    main +=
        "<form method=\"post\" action=\"/notices/" + e(n.id) +
        "/action\" class=\"card\" id=\"action-form\">" + csrf +
        "<label>行った対応<textarea name=\"note\" rows=\"3\" maxlength=\"1000\" required>"
        "</textarea></label><button type=\"submit\" id=\"action-submit\">対応を記録する</button>"
        "</form></div></section>";
  }

  main +=
      "<section id=\"notice-history\"><h2>経過</h2><table><thead><tr><th>日時</th><th>内容</th>"
      "<th>実行者</th><th>詳細・メモ</th></tr></thead><tbody>";
  for (const auto& h : n.history) {
    main += "<tr data-action=\"" + e(h.action) + "\"><td class=\"nowrap\">" + e(h.at) +
            "</td><td class=\"nowrap\">" + e(h.action_label.empty() ? h.action : h.action_label) +
            "</td><td>" + e(h.actor) + "</td><td>" + e(h.detail) +
            (h.note.empty()
                 ? ""
                 : (h.detail.empty() ? "" : "<br>") + std::string("<q>") + e(h.note) + "</q>") +
            "</td></tr>";
  }
  main += "</tbody></table></section></article>";
  return layout(n.title, &principal, main);
}

std::string render_audit(const Principal& principal, const AuditFilter& filter,
                         const std::vector<AuditRow>& rows,
                         const std::optional<audit::TreeHead>& head, std::uint64_t log_size,
                         const std::string& error) {
  std::string main = "<h1>監査ログ (交換記録)</h1>";
  main += "<section class=\"card\" id=\"tree-head\"><h2>署名付きツリーヘッド</h2>";
  if (head) {
    main += "<dl class=\"details\"><dt>エントリ数</dt><dd id=\"head-size\">" +
            std::to_string(head->tree_size) + "</dd><dt>ルートハッシュ</dt><dd class=\"mono\">" +
            hex(head->root) + "</dd><dt>署名時刻 (UTC)</dt><dd>" + e(head->time) +
            "</dd><dt>鍵 ID</dt><dd class=\"mono\">" + e(head->key_id) +
            "</dd><dt>署名</dt><dd class=\"mono\">" + e(head->signature_hex) + "</dd></dl>";
  } else {
    main += "<p class=\"empty\">まだ署名されたツリーヘッドはありません</p>";
  }
  main += "<p>ログ全体のエントリ数: " + std::to_string(log_size) +
          "。検証は公開鍵を各自保管のうえ <code>tsunagu audit verify</code> で行ってください。</p>"
          "</section>";
  main +=
      "<section><h2>検索</h2><form method=\"get\" action=\"/audit\" id=\"audit-search\" "
      "class=\"card\"><div class=\"filters\">" +
      input("subject", "対象 ID (subject)", filter.subject) +
      input("system", "システム", filter.system, "public_assistance") +
      input("type", "種別 (接頭辞は . で終える)", filter.type, "user.") +
      input("actor", "実行者 / ログイン ID", filter.actor) +
      input("recipient", "受信者 (職員 ID・ログイン ID・役割@区)", filter.recipient,
            "higashi-liaison-1") +
      input("notice", "通知 ID", filter.notice) +
      input("from", "開始 (UTC)", filter.from, "2019-06-01") +
      input("to", "終了 (UTC)", filter.to, "2019-06-30") +
      "</div><button type=\"submit\" id=\"search\">検索</button></form>";
  // Preset searches over the routing entries: who received what on which legal basis, who opened
  // and acknowledged it, and what was withheld. They keep the other filters (a recipient, a
  // notice, a subject, a time range) and set only the type.
  main += "<h3>通知の記録</h3><nav class=\"presets\" id=\"presets\">";
  static constexpr const char* kPresets[][3] = {
      {"routing.routed", "preset-routed", "配信（誰に・どの法的根拠で）"},
      {"notice.opened", "preset-opened", "閲覧"},
      {"notice.acknowledged", "preset-acknowledged", "受領確認"},
      {"notice.action", "preset-action", "対応の記録"},
      {"routing.withheld", "preset-withheld", "提供しなかった連絡（理由つき）"},
      {"routing.unreachable", "preset-unreachable", "宛先のいない連絡"},
      {"notice.", "preset-notice", "通知の経過すべて"},
  };
  for (const auto& [type, id, label] : kPresets) {
    auto params = filter.as_map();
    params.erase("before");
    params["type"] = type;
    std::string query;
    for (const auto& [k, v] : params)
      query += (query.empty() ? "?" : "&") + k + "=" + url_encode(v);
    main += std::string("<a id=\"") + id + "\" href=\"/audit" + e(query) + "\">" + label + "</a>";
  }
  main +=
      "</nav><p class=\"note\">監査ログはメタデータだけを記録します。通知の内容（氏名など）は"
      "記録されず、ここにも表示されません。</p>";
  if (!error.empty()) main += "<p class=\"error\" role=\"alert\">" + e(error) + "</p>";
  main += "</section><section><h2>結果</h2>";
  if (rows.empty()) {
    main += "<p class=\"empty\" id=\"no-entries\">該当するエントリはありません</p>";
  } else {
    main +=
        "<table id=\"entries\"><thead><tr><th>seq</th><th>時刻 (UTC)</th><th>種別</th>"
        "<th>実行者</th><th>対象</th><th>詳細</th></tr></thead><tbody>";
    for (const auto& r : rows) {
      const std::string label = audit_type_label(r.type);
      main += "<tr><td>" + std::to_string(r.seq) + "</td><td>" + e(r.time) +
              "</td><td><span class=\"type\">" + e(r.type) + "</span>" +
              (label.empty() ? "" : "<br><small>" + e(label) + "</small>") + "</td><td>" +
              e(r.actor) + "</td><td class=\"mono\">" + e(r.subject) +
              "</td><td><dl class=\"details\">";
      for (const auto& [k, v] : r.details) {
        // A notice id leads to every entry about that notice.
        const std::string value =
            k == "notice_id" && !v.empty()
                ? "<a href=\"/audit?notice=" + e(url_encode(v)) + "\">" + e(v) + "</a>"
                : e(v);
        main += "<dt>" + e(k) + "</dt><dd>" + value + "</dd>";
      }
      main += "</dl></td></tr>";
    }
    main += "</tbody></table>";
    if (rows.size() == filter.limit) {
      auto params = filter.as_map();
      params["before"] = std::to_string(rows.back().seq);
      std::string query;
      for (const auto& [k, v] : params)
        query += (query.empty() ? "?" : "&") + k + "=" + url_encode(v);
      main += "<p><a href=\"/audit" + e(query) + "\" id=\"older\">さらに古いエントリ</a></p>";
    }
  }
  main += "</section>";
  return layout("監査ログ", &principal, main);
}

std::string render_account(const Principal& principal) {
  const Account& a = principal.account;
  std::string main =
      "<section class=\"card\" id=\"account\"><h1>アカウント</h1><dl class=\"details\">"
      "<dt>ログイン ID</dt><dd>" +
      e(a.login) + "</dd><dt>役割</dt><dd>" + e(display_name(a.role)) + " (" +
      e(to_string(a.role)) + ")</dd>";
  if (!a.officer_id.empty()) main += "<dt>職員 ID</dt><dd>" + e(a.officer_id) + "</dd>";
  if (!a.ward_code.empty()) main += "<dt>区コード</dt><dd>" + e(a.ward_code) + "</dd>";
  main +=
      "</dl><p>アカウントの作成・変更は管理者が <code>tsunagu user</code> "
      "で行います。</p></section>";
  return layout("アカウント", &principal, main);
}

std::string render_message(const Principal* principal, const std::string& title,
                           const std::string& message) {
  return layout(title, principal,
                "<section class=\"card narrow\"><h1>" + e(title) + "</h1><p id=\"message\">" +
                    e(message) + "</p><p><a href=\"/\">トップへ</a></p></section>");
}

}  // namespace tsunagu::web
