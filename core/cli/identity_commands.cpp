// tsunagu identity review … and tsunagu person show: the person master for IT staff and
// coordinators who resolve the review queue.
#include <iostream>

#include "cli/cli_support.hpp"
#include "cli/identity_commands.hpp"
#include "hub/hub.hpp"
#include "identity/person_master.hpp"
#include "routing/router.hpp"
#include "store/prepared.hpp"

namespace tsunagu::cli {
namespace {

const char* ward_name(const std::string& code) {
  static const std::map<std::string, const char*> names{
      {"01101", "中央区"}, {"01102", "北区"},  {"01103", "東区"}, {"01104", "白石区"},
      {"01105", "豊平区"}, {"01106", "南区"},  {"01107", "西区"}, {"01108", "厚別区"},
      {"01109", "手稲区"}, {"01110", "清田区"}};
  auto it = names.find(code);
  return it == names.end() ? "" : it->second;
}

int review_decide(const runtime::CommonOptions& options, const Args& args, bool link) {
  const auto p = parse(args, {"by"});
  if (p.positional.size() != 1) {
    throw std::invalid_argument(std::string("usage: identity review ") +
                                (link ? "link" : "separate") + " <review id> [--by NAME]");
  }
  quiet_logging();
  const auto config = runtime::load_config(options);
  auto store = open_store(config);
  audit::AuditLog log(*store);
  identity::PersonMaster master(*store, log);
  const std::string by = p.has("by") ? "user:" + p.get("by") : cli_actor();
  // A merge routes the survivor's recent events again, in the decision's transaction: what the
  // two records only say together (a report about a child in a welfare household, a combined
  // concern) reaches the officers now.
  const auto routing = load_routing(config);
  bool merged = false;
  identity::MergeHook on_merged;
  if (routing) {
    on_merged = [&](const identity::Merge& m) {
      routing::Router(routing, *store, log, SystemClock::instance()).on_merged(m);
      merged = true;
    };
  }
  master.decide(std::stoll(p.positional[0]), link, by, on_merged);
  std::cout << "review " << p.positional[0] << ": "
            << (link ? "linked (同一人物として統合)" : "separated (別人として確定)") << " by " << by
            << "\n";
  if (merged)
    std::cout << "routing: 統合後の記録を再判定しました (routed again with the merged facts)\n";
  return kExitOk;
}

}  // namespace

int identity_review_list(const runtime::CommonOptions& options, const Args& args) {
  const auto p = parse(args, {}, {"all"});
  quiet_logging();
  const auto config = runtime::load_config(options);
  auto store = open_store(config);
  audit::AuditLog log(*store);
  identity::PersonMaster master(*store, log);
  const auto reviews = master.reviews(!p.has("all"));
  for (const auto& r : reviews) {
    std::cout << r.id << "  " << r.status << "  subject " << r.subject_id << " (person "
              << r.subject_person << ") ↔ person " << r.candidate_person << "  " << r.reason;
    if (!r.decided_by.empty()) std::cout << "  decided by " << r.decided_by << " " << r.decided_at;
    std::cout << "\n";
  }
  std::cout << "確認待ち (open reviews): " << master.reviews(true).size() << " 件\n";
  return kExitOk;
}

int identity_review_link(const runtime::CommonOptions& options, const Args& args) {
  return review_decide(options, args, true);
}

int identity_review_separate(const runtime::CommonOptions& options, const Args& args) {
  return review_decide(options, args, false);
}

int person_show(const runtime::CommonOptions& options, const Args& args) {
  const auto p = parse(args, {});
  if (p.positional.size() != 1)
    throw std::invalid_argument("usage: person show <person id | 宛名番号 | event id>");
  quiet_logging();
  const auto config = runtime::load_config(options);
  auto store = open_store(config);
  audit::AuditLog log(*store);
  identity::PersonMaster master(*store, log);
  const std::string key = p.positional[0];
  std::optional<std::string> person_id;
  if (auto event = store->event(key)) person_id = master.person_of_subject(event->subject_id);
  if (!person_id && key.size() == 10 && key.find_first_not_of("0123456789") == std::string::npos) {
    person_id = master.person_of_resident_id(key);
  }
  if (!person_id) person_id = key;
  const auto person = master.person(*person_id);
  if (!person) {
    std::cerr << "no person, 宛名番号 or event '" << key << "'\n";
    return kExitFailure;
  }
  const auto& f = person->facts;
  std::cout << "人物 (person): " << person->id << "\n"
            << "  現住区 (current ward):     " << f.ward_code << " " << ward_name(f.ward_code)
            << (f.ward_as_of.empty() ? "" : "  (as of " + f.ward_as_of + ")") << "\n"
            << "  生活保護 (on public assistance): "
            << (f.on_public_assistance ? "はい (yes)" : "いいえ (no)") << "\n"
            << "  児相ケース (open CG case): " << (f.has_open_cg_case ? "あり (yes)" : "なし (no)")
            << "\n"
            << "  世帯 (household):          "
            << (f.household_token.empty() ? "-" : f.household_token.substr(0, 12)) << " "
            << f.household_role << "\n"
            << "  生年月日 (birth date):     " << f.birth_date << "\n"
            << "連携元 (linked source subjects):\n";
  std::vector<std::string> subject_ids;
  for (const auto& s : person->subjects) {
    std::cout << "  " << s.subject_id << "  " << s.source << "  rule " << s.rule << " ("
              << s.evidence << ")  " << s.linked_at << " by " << s.linked_by << "\n";
    subject_ids.push_back(s.subject_id);
  }
  std::cout << "イベント (events, by occurred_at):\n";
  std::vector<std::string> ids;
  for (const auto& sid : subject_ids) {
    auto q = store->query("SELECT id FROM events WHERE subject_id = ? ORDER BY id");
    q.bind(sid);
    while (q.next()) ids.push_back(q.text(0));
  }
  std::vector<store::StoredEvent> events;
  for (const auto& id : ids) {
    if (auto e = store->event(id)) events.push_back(*e);
  }
  std::sort(events.begin(), events.end(),
            [](const auto& a, const auto& b) { return a.event.occurred_at < b.event.occurred_at; });
  for (const auto& se : events) {
    const auto& e = se.event;
    std::cout << "  " << e.occurred_at << "  " << e.kind << "  " << e.source << " " << e.source_ref
              << "  ward " << e.subject.ward_code
              << (se.readable ? "  " + e.subject.name : "  [sealed]") << "\n";
  }
  return kExitOk;
}

}  // namespace tsunagu::cli
