#include "web/notice_view.hpp"

#include <map>
#include <stdexcept>

#include "routing/calendar.hpp"
#include "routing/router.hpp"

namespace tsunagu::web {
namespace {

// The reading order of a notice's fields: what it is, then who, then the details.
constexpr const char* kFieldOrder[][2] = {
    {"kind", "種別"},
    {"occurred_at", "発生日時"},
    {"source", "情報元"},
    {"source_ref", "記録番号"},
    {"subject.name", "氏名"},
    {"subject.name_kana", "カナ"},
    {"subject.birth_date", "生年月日"},
    {"subject.age_months", "月齢"},
    {"subject.sex", "性別"},
    {"subject.ward_code", "区"},
    {"subject.address", "住所"},
    {"subject.resident_id", "宛名番号"},
    {"household.role", "続柄"},
    {"attributes.checkup_type", "健診の種類"},
    {"attributes.absence_days", "欠席日数"},
    {"attributes.risk_level", "リスク区分"},
    {"attributes.caseworker", "担当ケースワーカー"},
    {"signals", "関連する連絡"},
};

std::string sex_label(const std::string& v) {
  if (v == "1" || v == "M" || v == "male") return "男";
  if (v == "2" || v == "F" || v == "female") return "女";
  return v;
}

std::string actor_label(const std::string& actor) {
  if (actor == "hub") return "つなぐ";
  if (actor.rfind("user:", 0) == 0) return actor.substr(5);
  return actor;
}

}  // namespace

std::string NoticeLabels::kind(const std::string& kind) const {
  return config_ ? config_->kind_label(kind) : kind;
}

std::string NoticeLabels::system(const std::string& system) const {
  return config_ ? config_->system_label(system) : system;
}

std::string NoticeLabels::ward(const std::string& code) const {
  if (config_) {
    if (const auto* w = config_->roster.ward(code)) return w->name;
  }
  return code;
}

std::string NoticeLabels::role(const std::string& role) const {
  if (config_) {
    auto it = config_->roster.role_names.find(role);
    if (it != config_->roster.role_names.end()) return it->second;
  }
  return role;
}

std::string NoticeLabels::officer(const std::string& id) const {
  if (config_) {
    if (const auto* o = config_->roster.officer(id)) return o->name + " (" + id + ")";
  }
  return id;
}

const routing::Policy* NoticeLabels::policy(const std::string& id) const {
  return config_ ? config_->policy(id) : nullptr;
}

const char* notice_status_label(const std::string& status) {
  if (status == "open") return "未対応";
  if (status == "acknowledged") return "確認済み";
  if (status == "closed") return "完了";
  return "";
}

const char* notice_type_label(const std::string& type) {
  if (type == "route") return "通知";
  if (type == "combined") return "複合的な懸念";
  if (type == "timer") return "期限切れ（安全確認）";
  if (type == "escalation") return "期限超過の連絡";
  if (type == "handover") return "転居による引継ぎ";
  return "";
}

const char* history_action_label(const std::string& action) {
  static const std::map<std::string, const char*> labels{
      {"created", "作成"},
      {"delivered", "配信"},
      {"opened", "閲覧"},
      {"acknowledged", "確認"},
      {"action", "対応の記録"},
      {"updated", "更新"},
      {"escalated", "期限超過"},
      {"handed_over", "引継ぎ"},
      {"withheld_step", "提供保留"},
      {"closed", "完了"},
      {"delivery_failed", "配信失敗（再試行）"},
      {"dead_letter", "配信不能"},
  };
  auto it = labels.find(action);
  return it == labels.end() ? "" : it->second;
}

const char* field_label(const std::string& name) {
  for (const auto& [key, label] : kFieldOrder) {
    if (name == key) return label;
  }
  return "";
}

bool is_overdue(const routing::Notice& n, TimePoint now) {
  return n.status == "open" && n.due_at > 0 && n.due_at < routing::to_unix(now);
}

std::string jst_text(const std::string& iso) {
  if (iso.empty()) return "";
  try {
    return routing::format_jst_japanese(routing::parse_iso(iso));
  } catch (const std::invalid_argument&) {
    return iso;
  }
}

std::string jst_text(std::int64_t unix_seconds) {
  return unix_seconds > 0 ? routing::format_jst_japanese(routing::from_unix(unix_seconds)) : "";
}

std::vector<NoticeFieldView> field_views(const routing::Notice& n, const NoticeLabels& labels) {
  std::vector<NoticeFieldView> out;
  auto value_of = [&](const std::string& name, const std::string& v) -> std::string {
    if (name == "kind") return labels.kind(v) == v ? v : labels.kind(v) + " (" + v + ")";
    if (name == "source") return labels.system(v);
    if (name == "subject.ward_code")
      return labels.ward(v) == v ? v : labels.ward(v) + " (" + v + ")";
    if (name == "subject.age_months") return v + " か月";
    if (name == "subject.sex") return sex_label(v);
    // A date alone stays a date (sources that give only a date store it at midnight, and
    // "00:00" would claim a time nobody recorded); a time is shown in Japan time.
    if (name == "occurred_at" && v.size() > 10) {
      const std::string shown = jst_text(v);
      const std::string midnight = " 00:00";
      const bool date_only =
          v.compare(10, 9, "T00:00:00") == 0 && shown.size() > midnight.size() &&
          shown.compare(shown.size() - midnight.size(), midnight.size(), midnight) == 0;
      return date_only ? shown.substr(0, shown.size() - midnight.size()) : shown;
    }
    return v;
  };
  for (const auto& [key, label] : kFieldOrder) {
    auto it = n.fields.find(key);
    if (it != n.fields.end()) out.push_back({key, label, value_of(key, it->second)});
  }
  // Anything else the policy let through (other attributes): shown under its own name.
  for (const auto& [name, value] : n.fields) {
    if (*field_label(name) == '\0') {
      const std::string label =
          name.rfind("attributes.", 0) == 0 ? name.substr(std::string("attributes.").size()) : name;
      out.push_back({name, label, value});
    }
  }
  return out;
}

InboxItem inbox_item(const routing::Notice& n, const NoticeLabels& labels, TimePoint now) {
  InboxItem item;
  item.id = n.id;
  item.href = "/notices/" + n.id;
  item.title = n.title;
  item.type_label = notice_type_label(n.type);
  item.ward = labels.ward(n.recipient_ward);
  item.status = n.status;
  item.status_label = notice_status_label(n.status);
  item.received_at = jst_text(n.created_at);
  item.deadline = jst_text(n.due_at);
  item.overdue = is_overdue(n, now);
  item.unread = is_unread(n);
  return item;
}

NoticePage notice_page_view(const routing::Notice& n, const NoticeLabels& labels, TimePoint now) {
  NoticePage p;
  p.id = n.id;
  p.title = n.title;
  p.reason = n.reason;
  p.type_label = notice_type_label(n.type);
  p.status = n.status;
  p.status_label = notice_status_label(n.status);
  p.legal_basis = n.legal_basis;
  p.policy_id = n.policy_id;
  if (const auto* policy = labels.policy(n.policy_id)) {
    p.policy_title = policy->title;
    p.purpose = policy->purpose;
  }
  p.ward = labels.ward(n.recipient_ward);
  p.recipient_role = labels.role(n.recipient_role);
  for (const auto& id : n.recipients) {
    p.recipients += (p.recipients.empty() ? "" : "、") + labels.officer(id);
  }
  p.received_at = jst_text(n.created_at);
  p.deadline = jst_text(n.due_at);
  p.opened_at = jst_text(n.opened_at);
  p.overdue = is_overdue(n, now);
  p.escalation_level = n.escalation_level;
  p.fields_readable = n.fields_readable;
  p.fields = field_views(n, labels);
  for (const auto& h : n.history) {
    p.history.push_back({jst_text(h.at), h.action, history_action_label(h.action),
                         actor_label(h.actor), h.detail, h.note});
  }
  return p;
}

}  // namespace tsunagu::web
