// The notice pages and the notice API of WebApp. Access by role is the table's
// (access_policy.cpp); which notice an account may read is notice_access.hpp's, applied to every
// handler here the same way: a notice the caller may not read is 404, like one that does not
// exist.
#include <stdexcept>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Logger.h>

#include "http/response.hpp"
#include "routing/calendar.hpp"
#include "routing/notice_store.hpp"
#include "routing/router.hpp"
#include "web/forms.hpp"
#include "web/notice_access.hpp"
#include "web/notice_view.hpp"
#include "web/pages.hpp"
#include "web/web_app.hpp"

namespace tsunagu::web {
namespace {

using http::Response;

Poco::Logger& log() {
  return Poco::Logger::get("tsunagu.web");
}

constexpr std::size_t kMaxNoteCharacters = 1000;
constexpr const char* kNotFound = "この通知はありません。受信箱から開いてください";

Response page(int status, std::string body) {
  Response r;
  r.status = status;
  r.content_type = "text/html; charset=utf-8";
  r.body = std::move(body);
  return r;
}

Response see_other(const std::string& location) {
  Response r = page(303, "");
  r.headers.emplace_back("Location", location);
  return r;
}

std::string actor_of(const Principal& p) {
  return "user:" + p.account.login;
}

bool valid_status_filter(const std::string& s) {
  return s.empty() || s == "open" || s == "acknowledged" || s == "closed";
}

std::size_t characters(const std::string& utf8) {
  std::size_t n = 0;
  for (const char ch : utf8) n += (static_cast<unsigned char>(ch) & 0xC0U) != 0x80U ? 1 : 0;
  return n;
}

// Nothing but spaces (ASCII or the ideographic space U+3000) and line breaks.
bool blank(const std::string& text) {
  static const std::string kIdeographicSpace = "\u3000";
  for (std::size_t i = 0; i < text.size();) {
    if (text.compare(i, kIdeographicSpace.size(), kIdeographicSpace) == 0) {
      i += kIdeographicSpace.size();
    } else if (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n') {
      ++i;
    } else {
      return false;
    }
  }
  return true;
}

// Why a note cannot be stored, or "".
std::string note_problem(const std::string& note, bool required) {
  if (required && blank(note)) return "行った対応を入力してください";
  if (!valid_utf8(note)) return "メモに使えない文字が含まれています";
  if (characters(note) > kMaxNoteCharacters) {
    return "メモは " + std::to_string(kMaxNoteCharacters) + " 文字以内で入力してください";
  }
  for (const char ch : note) {
    const auto u = static_cast<unsigned char>(ch);
    if (u < 0x20 && ch != '\n' && ch != '\r' && ch != '\t') {
      return "メモに使えない文字が含まれています";
    }
  }
  return "";
}

Poco::JSON::Object::Ptr notice_json(const routing::Notice& n, const NoticeLabels& labels,
                                    TimePoint now, bool with_details) {
  auto o = http::json_object();
  o->set("id", n.id);
  o->set("type", n.type);
  o->set("type_label", std::string(notice_type_label(n.type)));
  o->set("rule", n.rule_id);
  o->set("policy", n.policy_id);
  if (const auto* policy = labels.policy(n.policy_id)) {
    o->set("policy_title", policy->title);
    o->set("purpose", policy->purpose);
  }
  o->set("legal_basis", n.legal_basis);
  o->set("title", n.title);
  o->set("reason", n.reason);
  o->set("recipient_role", n.recipient_role);
  o->set("ward_code", n.recipient_ward);
  o->set("ward_name", labels.ward(n.recipient_ward));
  Poco::JSON::Array::Ptr recipients = new Poco::JSON::Array;
  for (const auto& r : n.recipients) recipients->add(r);
  o->set("recipients", recipients);
  o->set("status", n.status);
  o->set("status_label", std::string(notice_status_label(n.status)));
  o->set("created_at", n.created_at);
  o->set("updated_at", n.updated_at);
  if (n.due_at > 0) {
    o->set("due_at", routing::format_jst(routing::from_unix(n.due_at)));
  } else {
    o->set("due_at", Poco::Dynamic::Var());
  }
  o->set("overdue", is_overdue(n, now));
  o->set("unread", is_unread(n));
  if (n.opened_at.empty()) {
    o->set("opened_at", Poco::Dynamic::Var());
  } else {
    o->set("opened_at", n.opened_at);
  }
  o->set("escalation_level", n.escalation_level);
  o->set("parent_id", n.parent_id);
  if (with_details) {
    o->set("fields_readable", n.fields_readable);
    Poco::JSON::Array::Ptr fields = new Poco::JSON::Array;
    for (const auto& f : field_views(n, labels)) {
      auto field = http::json_object();
      field->set("name", f.name);
      field->set("label", f.label);
      field->set("value", n.fields.at(f.name));
      field->set("display", f.value);
      fields->add(field);
    }
    o->set("fields", fields);
    Poco::JSON::Array::Ptr history = new Poco::JSON::Array;
    for (const auto& h : n.history) {
      auto row = http::json_object();
      row->set("at", h.at);
      row->set("action", h.action);
      row->set("actor", h.actor);
      row->set("detail", h.detail);
      row->set("note", h.note);
      history->add(row);
    }
    o->set("history", history);
  }
  return o;
}

}  // namespace

// --- pages ---

Response WebApp::inbox_page(Context& c) {
  const auto status_it = c.query.find("status");
  const std::string status = status_it == c.query.end() ? "" : status_it->second;
  if (!valid_status_filter(status)) {
    return page(400, render_message(&*c.principal, "リクエストを処理できません",
                                    "status は open, acknowledged, closed のいずれかです"));
  }
  routing::NoticeStore notices(*c.store().store, *c.store().audit, clock_);
  const TimePoint now = clock_.now();
  const NoticeLabels labels = this->labels();
  InboxPage inbox;
  inbox.status = status;
  // The counts are of every notice the account may read, whatever the filter shows.
  for (const auto& n : visible_notices(notices, c.principal->account)) {
    inbox.unread += is_unread(n) ? 1 : 0;
    inbox.overdue += is_overdue(n, now) ? 1 : 0;
    if (status.empty() || n.status == status) inbox.items.push_back(inbox_item(n, labels, now));
  }
  return page(200, render_inbox(*c.principal, inbox));
}

Response WebApp::notice_page(Context& c) {
  const std::string& id = c.request.param("id");
  routing::NoticeStore notices(*c.store().store, *c.store().audit, clock_);
  if (!visible_notice(notices, c.principal->account, id, false)) {
    return page(404, render_message(&*c.principal, "通知が見つかりません", kNotFound));
  }
  // Opening is recorded (once, with its audit entry) before anything is shown.
  notices.mark_opened(id, actor_of(*c.principal));
  const auto n = notices.get(id, true);
  NoticePage view = notice_page_view(*n, labels(), clock_.now());
  const auto done = c.query.find("done");
  if (done != c.query.end()) {
    if (done->second == "ack") view.message = "受領の確認を記録しました";
    if (done->second == "action") view.message = "対応を記録しました";
  }
  return page(200, render_notice(*c.principal, view));
}

Response WebApp::notice_ack_form(Context& c) {
  return notice_form(c, true);
}

Response WebApp::notice_action_form(Context& c) {
  return notice_form(c, false);
}

Response WebApp::notice_form(Context& c, bool acknowledge) {
  const std::string& id = c.request.param("id");
  routing::NoticeStore notices(*c.store().store, *c.store().audit, clock_);
  const auto n = visible_notice(notices, c.principal->account, id, false);
  if (!n) return page(404, render_message(&*c.principal, "通知が見つかりません", kNotFound));
  const auto field = c.form.find("note");
  const std::string note = field == c.form.end() ? "" : field->second;
  std::string problem = note_problem(note, !acknowledge);
  int status = 400;
  if (problem.empty() && n->status == "closed") {
    problem = "この通知は完了しています";
    status = 409;
  } else if (problem.empty() && acknowledge && n->status != "open") {
    problem = "この通知はすでに受領が確認されています";
    status = 409;
  }
  if (problem.empty()) {
    try {
      if (acknowledge) {
        notices.acknowledge(id, actor_of(*c.principal), note);
      } else {
        notices.record_action(id, actor_of(*c.principal), note);
      }
      return see_other("/notices/" + id + (acknowledge ? "?done=ack" : "?done=action"));
    } catch (const std::invalid_argument& e) {
      log().information("notice %s: %s", id, std::string(e.what()));
      problem = "この通知の状態が変わったため記録できませんでした。開き直してください";
      status = 409;
    }
  }
  const auto fresh = notices.get(id, true);
  NoticePage view = notice_page_view(*fresh, labels(), clock_.now());
  view.error = problem;
  return page(status, render_notice(*c.principal, view));
}

// --- API ---

Response WebApp::api_notices(Context& c) {
  const auto status_it = c.query.find("status");
  const std::string status = status_it == c.query.end() ? "" : status_it->second;
  if (!valid_status_filter(status)) {
    return http::error_response(400, "bad_status",
                                "status: open, acknowledged or closed (or none for all)");
  }
  routing::NoticeStore notices(*c.store().store, *c.store().audit, clock_);
  const TimePoint now = clock_.now();
  const NoticeLabels labels = this->labels();
  Poco::JSON::Array::Ptr list = new Poco::JSON::Array;
  std::size_t unread = 0, overdue = 0;
  for (const auto& n : visible_notices(notices, c.principal->account)) {
    unread += is_unread(n) ? 1 : 0;
    overdue += is_overdue(n, now) ? 1 : 0;
    if (status.empty() || n.status == status) list->add(notice_json(n, labels, now, false));
  }
  auto o = http::json_object();
  o->set("notices", list);
  o->set("unread", static_cast<Poco::UInt64>(unread));
  o->set("overdue", static_cast<Poco::UInt64>(overdue));
  return http::json_response(200, o);
}

Response WebApp::api_notice(Context& c) {
  const std::string& id = c.request.param("id");
  routing::NoticeStore notices(*c.store().store, *c.store().audit, clock_);
  if (!visible_notice(notices, c.principal->account, id, false)) {
    return http::error_response(404, "not_found", "no notice " + id);
  }
  notices.mark_opened(id, actor_of(*c.principal));
  return http::json_response(200,
                             notice_json(*notices.get(id, true), labels(), clock_.now(), true));
}

Response WebApp::api_notice_ack(Context& c) {
  return api_notice_change(c, true);
}

Response WebApp::api_notice_action(Context& c) {
  return api_notice_change(c, false);
}

Response WebApp::api_notice_change(Context& c, bool acknowledge) {
  const std::string& id = c.request.param("id");
  routing::NoticeStore notices(*c.store().store, *c.store().audit, clock_);
  const auto n = visible_notice(notices, c.principal->account, id, false);
  // Before the body is looked at: whether the notice exists is not told to whoever may not see it.
  if (!n) return http::error_response(404, "not_found", "no notice " + id);
  std::string note;
  const bool has_body = c.request.content_length > 0 || c.request.chunked;
  if (has_body) {
    if (http::media_type(c.request.content_type) != "application/json") {
      return http::error_response(415, "unsupported_media_type",
                                  "send {\"note\": \"…\"} as application/json");
    }
    const std::optional<std::string> body = c.request.body != nullptr
                                                ? c.request.body->read(options_.max_form_bytes)
                                                : std::optional<std::string>("");
    if (!body) return http::error_response(413, "body_too_large", "the body is too large");
    try {
      Poco::JSON::Parser parser;
      const auto o = parser.parse(*body).extract<Poco::JSON::Object::Ptr>();
      if (o->has("note") && !o->get("note").isString()) throw std::invalid_argument("note");
      note = o->optValue<std::string>("note", "");
    } catch (const std::exception&) {
      return http::error_response(400, "bad_json",
                                  "the body must be a JSON object {\"note\": text}");
    }
  }
  if (const std::string problem = note_problem(note, !acknowledge); !problem.empty()) {
    return http::error_response(400, "bad_note",
                                acknowledge ? "note: at most 1000 characters of text"
                                            : "note: what was done, 1 to 1000 characters");
  }
  if (n->status == "closed") {
    return http::error_response(409, "closed", "notice " + id + " is closed");
  }
  if (acknowledge && n->status != "open") {
    return http::error_response(409, "already_acknowledged",
                                "notice " + id + " is already acknowledged");
  }
  try {
    if (acknowledge) {
      notices.acknowledge(id, actor_of(*c.principal), note);
    } else {
      notices.record_action(id, actor_of(*c.principal), note);
    }
  } catch (const std::invalid_argument& e) {
    return http::error_response(409, "conflict", e.what());
  }
  return http::json_response(acknowledge ? 200 : 201,
                             notice_json(*notices.get(id, true), labels(), clock_.now(), true));
}

}  // namespace tsunagu::web
