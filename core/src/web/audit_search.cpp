#include "web/audit_search.hpp"

#include <cstdint>
#include <regex>
#include <variant>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "audit/audit_log.hpp"
#include "store/prepared.hpp"

namespace tsunagu::web {
namespace {

bool valid_time(const std::string& t) {
  static const std::regex kTime(R"(\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2})?)?)");
  return std::regex_match(t, kTime);
}

std::string text_param(const std::map<std::string, std::string>& params, const char* name) {
  auto it = params.find(name);
  if (it == params.end()) return "";
  std::string v = it->second;
  // Leading and trailing blanks are a typing accident, not part of an id.
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.pop_back();
  std::size_t start = 0;
  while (start < v.size() && (v[start] == ' ' || v[start] == '\t')) ++start;
  v = v.substr(start);
  if (v.size() > 200) throw FilterError(std::string(name) + ": at most 200 characters");
  return v;
}

std::int64_t number_param(const std::map<std::string, std::string>& params, const char* name,
                          std::int64_t fallback, std::int64_t min, std::int64_t max) {
  const std::string v = text_param(params, name);
  if (v.empty()) return fallback;
  std::size_t used = 0;
  std::int64_t n = 0;
  try {
    n = std::stoll(v, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != v.size() || n < min || n > max) {
    throw FilterError(std::string(name) + ": a whole number from " + std::to_string(min) + " to " +
                      std::to_string(max) + ", not '" + v + "'");
  }
  return n;
}

}  // namespace

std::map<std::string, std::string> AuditFilter::as_map() const {
  std::map<std::string, std::string> m;
  auto put = [&](const char* k, const std::string& v) {
    if (!v.empty()) m[k] = v;
  };
  put("subject", subject);
  put("system", system);
  put("type", type);
  put("actor", actor);
  put("recipient", recipient);
  put("notice", notice);
  put("from", from);
  put("to", to);
  if (before > 0) m["before"] = std::to_string(before);
  return m;
}

AuditFilter audit_filter_from(const std::map<std::string, std::string>& params) {
  AuditFilter f;
  f.subject = text_param(params, "subject");
  f.system = text_param(params, "system");
  f.type = text_param(params, "type");
  f.actor = text_param(params, "actor");
  f.recipient = text_param(params, "recipient");
  f.notice = text_param(params, "notice");
  f.from = text_param(params, "from");
  f.to = text_param(params, "to");
  if (!f.from.empty() && !valid_time(f.from)) {
    throw FilterError("from: YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS] (UTC), not '" + f.from + "'");
  }
  if (!f.to.empty() && !valid_time(f.to)) {
    throw FilterError("to: YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS] (UTC), not '" + f.to + "'");
  }
  f.before = number_param(params, "before", 0, 0, INT64_MAX);
  f.limit = static_cast<std::size_t>(number_param(params, "limit", 50, 1, 500));
  return f;
}

std::vector<AuditRow> search_audit(store::Store& store, const AuditFilter& f) {
  std::vector<std::string> texts;  // kept alive until the query is done (bound without copy)
  texts.reserve(24);               // more than the filters bind: the pointers below stay valid
  auto text = [&](std::string v) -> const std::string& { return texts.emplace_back(std::move(v)); };
  std::vector<std::variant<const std::string*, std::int64_t>> binds;
  auto json = [&](const char* path) { return store.json_text_sql("entry", path); };
  // A subject or an exact type is found through the blocks that hold it (the subject's, the
  // more selective, when both are given), newest block first: a page of the newest entries
  // reads only as many blocks as it needs.
  const bool exact_type = !f.type.empty() && f.type.back() != '.';
  std::string sql = "SELECT seq, time, type, subject, entry FROM ";
  std::string order = " ORDER BY seq DESC";
  if (!f.subject.empty() || exact_type) {
    const bool by_subject = !f.subject.empty();
    sql += by_subject ? audit::entries_in_blocks_sql("audit_subject_blocks", "subject")
                      : audit::entries_in_blocks_sql("audit_type_blocks", "type");
    binds.push_back(&text(by_subject ? f.subject : f.type));
    // Entries before `before` lie in its block or earlier ones.
    binds.push_back(f.before > 0 ? audit::last_block_before(f.before) : INT64_MAX);
    order = " ORDER BY b.block DESC, seq DESC";
  } else {
    sql += "audit_entries WHERE 1 = 1";
  }
  if (!f.subject.empty()) {
    sql += " AND subject = ?";
    binds.push_back(&text(f.subject));
  }
  if (!f.system.empty()) {
    sql += " AND (" + json("details.system") + " = ? OR " + json("actor") + " = ?)";
    binds.push_back(&text(f.system));
    binds.push_back(&text("system:" + f.system));
  }
  if (!f.type.empty()) {
    if (f.type.back() == '.') {
      // Every type under the prefix (types are ASCII). Not as a range ("user." ≤ type <
      // "user/"): the order of punctuation depends on the database's collation.
      sql += " AND substr(type, 1, CAST(? AS INTEGER)) = ?";
      binds.push_back(static_cast<std::int64_t>(f.type.size()));
      binds.push_back(&text(f.type));
    } else {
      sql += " AND type = ?";
      binds.push_back(&text(f.type));
    }
  }
  if (!f.actor.empty()) {
    sql += " AND (" + json("actor") + " IN (?, ?) OR " + json("details.login") + " = ?)";
    binds.push_back(&text(f.actor));
    binds.push_back(&text("user:" + f.actor));
    binds.push_back(&text(f.actor));
  }
  if (!f.recipient.empty()) {
    // A substring test that is exact and case-sensitive on both engines (instr is SQLite's
    // only, and LIKE would need '_' and '%' escaped and folds ASCII case on SQLite): the list
    // holds ",id," when removing it changes the list.
    const std::string list = "(',' || COALESCE(" + json("details.recipients") + ", '') || ',')";
    sql += " AND (" + json("details.recipient") + " = ?" + " OR replace(" + list + ", ?, '') <> " +
           list + " OR " + json("actor") + " = ?" + " OR " + json("actor") +
           " IN (SELECT 'user:' || login FROM accounts WHERE officer_id = ? AND officer_id <> ''))";
    binds.push_back(&text(f.recipient));
    binds.push_back(&text("," + f.recipient + ","));
    binds.push_back(&text("user:" + f.recipient));
    binds.push_back(&text(f.recipient));
  }
  if (!f.notice.empty()) {
    sql += " AND " + json("details.notice_id") + " = ?";
    binds.push_back(&text(f.notice));
  }
  if (!f.from.empty()) {
    sql += " AND time >= ?";
    binds.push_back(&text(f.from));
  }
  if (!f.to.empty()) {
    sql += " AND time <= ?";
    // Stored times are "YYYY-MM-DDTHH:MM:SS.ffffff+00:00": a date alone, or a time without
    // seconds, is widened to the end of that day or minute.
    std::string to = f.to;
    if (to.size() == 10)
      to += "T99";
    else if (to.size() == 16)
      to += ":99";
    else
      to += ".999999+99";
    binds.push_back(&text(to));
  }
  if (f.before > 0) {
    sql += " AND seq < ?";
    binds.push_back(f.before);
  }
  sql += order + " LIMIT " + std::to_string(f.limit);

  auto q = store.query(sql);
  for (const auto& b : binds) {
    if (const auto* t = std::get_if<const std::string*>(&b)) {
      q.bind(**t);
    } else {
      q.bind(std::get<std::int64_t>(b));
    }
  }
  std::vector<AuditRow> rows;
  Poco::JSON::Parser parser;
  while (q.next()) {
    AuditRow r;
    r.seq = q.integer(0);
    r.time = q.text(1);
    r.type = q.text(2);
    r.subject = q.text(3);
    parser.reset();
    const auto entry = parser.parse(q.text(4)).extract<Poco::JSON::Object::Ptr>();
    r.actor = entry->optValue<std::string>("actor", "");
    if (const auto details = entry->getObject("details")) {
      std::vector<std::string> names;
      details->getNames(names);  // sorted
      for (const auto& n : names) r.details.emplace_back(n, details->get(n).toString());
    }
    rows.push_back(std::move(r));
  }
  return rows;
}

const char* audit_type_label(const std::string& type) {
  namespace t = audit::entry_type;
  static const std::map<std::string, const char*> labels{
      {t::kHubStarted, "ハブ起動"},
      {t::kHubStopped, "ハブ停止"},
      {t::kPluginLoaded, "プラグイン読込"},
      {t::kPluginRefused, "プラグイン拒否"},
      {t::kConfigReloaded, "設定の再読込"},
      {t::kConfigReloadRefused, "設定の再読込を拒否"},
      {t::kInputReceived, "ファイル受信"},
      {t::kIngestRefused, "送信の拒否"},
      {t::kInputCompleted, "ファイル処理完了"},
      {t::kEventStored, "記録受領・保存"},
      {t::kRecordQuarantined, "記録隔離"},
      {t::kQuarantineRetried, "隔離記録の再処理"},
      {t::kRetentionPurged, "保存期間満了による鍵破棄"},
      {t::kAuditExported, "監査記録の出力"},
      {t::kAuditProved, "包含証明の発行"},
      {t::kAuditKeyReplaced, "署名鍵の交換"},
      {t::kIdentityLinked, "本人照合"},
      {t::kIdentityReviewOpened, "照合確認の依頼"},
      {t::kIdentityReviewResolved, "照合確認の決定"},
      {t::kIdentityMerged, "同一人物の統合"},
      {t::kPersonFactsChanged, "本人情報の更新"},
      {t::kUserCreated, "アカウント作成"},
      {t::kUserChanged, "アカウント変更"},
      {t::kUserLogin, "ログイン"},
      {t::kUserLoginFailed, "ログイン失敗"},
      {t::kUserLogout, "ログアウト"},
      {t::kAuditSearched, "監査ログ検索"},
      {t::kNoticeRouted, "通知の配信"},
      {t::kRoutingWithheld, "提供の保留（方針外）"},
      {t::kRoutingUnreachable, "宛先なし"},
      {t::kRoutingReevaluated, "統合後の再判定"},
      {t::kNoticeUpdated, "通知の更新"},
      {t::kNoticeEscalated, "期限超過による連絡"},
      {t::kNoticeHandedOver, "転居による引継ぎ"},
      {t::kNoticeOpened, "通知の閲覧"},
      {t::kNoticeAcknowledged, "通知の受領確認"},
      {t::kNoticeAction, "対応の記録"},
      {t::kNoticeClosed, "通知の完了"},
      {t::kTimerStarted, "期限の開始"},
      {t::kTimerStopped, "期限の停止"},
      {t::kTimerFired, "期限切れ"},
      // The delivery outbox's entries (issue 8), by name: their constants live with the outbox.
      {"delivery.attempted", "配信の試行"},
      {"delivery.retried", "配信不能の再送"},
  };
  auto it = labels.find(type);
  return it == labels.end() ? "" : it->second;
}

}  // namespace tsunagu::web
