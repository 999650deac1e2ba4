// Linking a generated town's events must come out exactly as the plain sequential linker did
// before the person master was made faster: which person each event links to (persons numbered by
// first appearance, since their ids differ from run to run), the rule and evidence, the facts, the
// review items and every identity/person audit entry with its details. The expectations in
// link_expectations.txt were recorded with the sequential linker of commit c427579 on SQLite; set
// TSUNAGU_RECORD_LINK_EXPECTATIONS=<file> to write the current outcome there instead. Both engines
// must match the one record: candidates are read oldest link first on each (until the ORDER BY was
// added, PostgreSQL returned them in the order of its tuples, which an autovacuum could change).
//
// The town is small but dense: names and birth dates collide, 宛名番号 are missing or mistyped,
// birth days differ, sexes are unknown, events arrive out of order, one placeholder name is shared
// by more children than the candidate limit, transactions are of varying size (the per-transaction
// cache must not leak across them), and review decisions that merge persons come in between.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <regex>
#include <sstream>

#include "identity/person_master.hpp"
#include "store/prepared.hpp"
#include "support/temp_dir.hpp"
#include "support/test_store.hpp"

#ifndef TSUNAGU_LINK_EXPECTATIONS
#error "TSUNAGU_LINK_EXPECTATIONS must name the recorded expectations file"
#endif

namespace {

using namespace tsunagu;

struct Child {
  std::string rid, kana, hiragana, half, name, birth, sex, ward;
};

const char* const kKana[] = {"イケダ シオリ", "サトウ ハルト", "スズキ ユイ", "タナカ ソウタ"};
const char* const kHira[] = {"いけだ しおり", "さとう はると", "すずき ゆい", "たなか そうた"};
const char* const kHalf[] = {"ｲｹﾀﾞ ｼｵﾘ", "ｻﾄｳ ﾊﾙﾄ", "ｽｽﾞｷ ﾕｲ", "ﾀﾅｶ ｿｳﾀ"};
const char* const kName[] = {"池田　詩織", "佐藤　陽翔", "鈴木　結衣", "田中　蒼太"};
const char* const kSources[] = {"health_centre", "public_assistance", "child_guidance",
                                "education"};
const char* const kKinds[] = {"school.prolonged_absence", "cg.case_opened",
                              "cg.case_closed",           "welfare.household_opened",
                              "welfare.household_closed", "welfare.member_added",
                              "hc.checkup_missed"};

class Town {
 public:
  explicit Town(std::uint32_t seed) : rng_(seed) {
    // 40 children on 4 names and 6 birth dates: kana + birth collide often.
    for (int i = 0; i < 40; ++i) {
      const int n = pick(4);
      // Sized for any int, so -Wformat-truncation (Debug builds) has nothing to say.
      char rid[32], birth[48];
      std::snprintf(rid, sizeof rid, "00%08d", 1000 + i * 7);
      std::snprintf(birth, sizeof birth, "201%d-0%d-1%d", 5 + pick(2), 1 + pick(3), pick(2));
      children_.push_back({rid, kKana[n], kHira[n], kHalf[n], kName[n], birth,
                           pick(5) == 0 ? "" : (pick(2) == 0 ? "F" : "M"),
                           pick(2) == 0 ? "01101" : "01102"});
    }
  }

  CaseEvent event(int i) {
    CaseEvent e;
    e.source = kSources[pick(4)];
    e.source_ref = e.source + "-" + std::to_string(i);
    e.source_version = 1;
    e.kind = kKinds[pick(7)];
    char at[64];
    std::snprintf(at, sizeof at, "2019-%02d-%02dT%02d:00:00+09:00", 1 + pick(12), 1 + pick(28),
                  pick(24));
    e.occurred_at = at;
    if (i >= 250 && i < 272) {
      // A placeholder name and birth date shared by many children, each with its own 宛名番号.
      e.subject.resident_id = "09" + std::to_string(10000000 + i);
      e.subject.name_kana = "テスト タロウ";
      e.subject.birth_date = "2015-01-01";
      e.subject.ward_code = "01101";
      return e;
    }
    const Child& c = children_[static_cast<std::size_t>(pick(static_cast<int>(children_.size())))];
    const int variant = pick(20);
    e.subject.resident_id = variant < 13 ? c.rid : (variant == 13 ? c.rid.substr(0, 9) + "9" : "");
    const int spelling = pick(3);
    e.subject.name_kana = spelling == 0 ? c.kana : (spelling == 1 ? c.hiragana : c.half);
    e.subject.name = pick(4) == 0 ? "" : c.name;
    e.subject.birth_date = c.birth;
    if (variant == 14 || variant == 15) e.subject.birth_date[9] = '5';  // another day, same month
    if (variant == 16) e.subject.birth_date.clear();
    e.subject.sex = pick(6) == 0 ? "" : c.sex;
    e.subject.ward_code = pick(5) == 0 ? "" : (pick(4) == 0 ? "01103" : c.ward);
    if (e.source == "public_assistance" && pick(2) == 0) {
      e.household.household_id = "H" + std::to_string(pick(10));
      e.household.role = pick(2) == 0 ? "head" : "child";
    }
    return e;
  }

  int pick(int n) { return static_cast<int>(rng_() % static_cast<std::uint32_t>(n)); }

 private:
  std::mt19937 rng_;
  std::vector<Child> children_;
};

class Outcome {
 public:
  std::string id(const std::string& uuid, char prefix) {
    if (uuid.empty()) return "-";
    auto [it, added] = ids_.emplace(uuid, "");
    if (added) it->second = prefix + std::to_string(++counts_[prefix]);
    return it->second;
  }
  // Replaces every known id in `text`, in order of first appearance of unknown ones.
  std::string map_ids(const std::string& entry) {
    static const std::regex uuid("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
    std::string out;
    auto begin = std::sregex_iterator(entry.begin(), entry.end(), uuid);
    std::size_t at = 0;
    for (auto it = begin; it != std::sregex_iterator(); ++it) {
      out += entry.substr(at, static_cast<std::size_t>(it->position()) - at);
      out += id(it->str(), '?');
      at = static_cast<std::size_t>(it->position() + it->length());
    }
    return out + entry.substr(at);
  }

  std::ostringstream text;

 private:
  std::map<std::string, std::string> ids_;
  std::map<char, int> counts_;
};

std::string facts_text(const identity::PersonFacts& f) {
  return f.ward_code + "@" + f.ward_as_of + " pa=" + (f.on_public_assistance ? "1" : "0") + "@" +
         f.pa_as_of + " hh=" + (f.household_token.empty() ? "" : f.household_token.substr(0, 8)) +
         "/" + f.household_role + " cg=" + (f.has_open_cg_case ? "1" : "0") + "@" + f.cg_as_of +
         " birth=" + f.birth_date;
}

std::string link_town(const std::string& label) {
  tsunagu_test::TempDir dir;
  auto store = tsunagu_test::open_test_store(dir / "store.db", {});
  // A fixed master key: household tokens are then the same in every run.
  std::string raw(32, 'k');
  store->set_keyring(std::make_shared<const security::Keyring>(*security::DataKey::from_raw(raw)));
  audit::AuditLog log(*store);
  identity::PersonMaster master(*store, log);
  Town town(20261206);
  Outcome out;
  std::int64_t input = 0;
  int i = 0, decisions = 0;
  while (i < 400) {
    const int batch = 1 + town.pick(40);
    store::Transaction tx(*store);
    if (input == 0) input = store->open_input("test", "t", "digest", 0);
    for (int k = 0; k < batch && i < 400; ++k, ++i) {
      CaseEvent e = town.event(i);
      std::string subject;
      if (!store->insert_event(e, input, i, "raw", &subject)) continue;
      const auto r = master.link(e, subject, "system:" + e.source);
      out.text << i << " " << out.id(subject, 's') << " -> " << out.id(r.person_id, 'p') << " "
               << r.rule << " reviews=" << r.reviews_opened.size() << " before["
               << facts_text(r.facts_before) << "] after[" << facts_text(r.facts) << "]\n";
    }
    tx.commit();
    // After each batch an officer decides one open review, linking (a merge) or keeping apart.
    const auto open = master.reviews(true);
    if (!open.empty()) {
      const auto& review = open[static_cast<std::size_t>(town.pick(static_cast<int>(open.size())))];
      const bool link = ++decisions % 3 != 0;
      master.decide(review.id, link, "user:tanaka");
      out.text << "decided review " << review.id << (link ? " link" : " separate") << "\n";
    }
  }
  for (const auto& r : master.reviews(false)) {
    out.text << "review " << r.id << " " << out.id(r.subject_id, 's') << " in "
             << out.id(r.subject_person, 'p') << " vs " << out.id(r.candidate_person, 'p') << " "
             << r.reason << " " << r.status << "\n";
  }
  auto q = store->query(
      "SELECT type, subject, entry FROM audit_entries WHERE type LIKE 'identity.%' OR type LIKE "
      "'person.%' ORDER BY seq");
  while (q.next()) {
    // The canonical entry less its time: ids mapped, everything else as written.
    std::string entry = std::regex_replace(q.text(2), std::regex("\"time\":\"[^\"]*\""), "");
    out.text << "audit " << q.text(0) << " " << out.map_ids(entry) << "\n";
  }
  (void)label;
  return out.text.str();
}

TEST(LinkEquivalence, TownLinksExactlyAsRecorded) {
  const std::string outcome = link_town("sequential");
  if (const char* record = std::getenv("TSUNAGU_RECORD_LINK_EXPECTATIONS")) {
    std::ofstream(record) << outcome;
    GTEST_SKIP() << "recorded to " << record;
  }
  const std::string file = TSUNAGU_LINK_EXPECTATIONS;
  std::ifstream in(file);
  ASSERT_TRUE(in) << "cannot read " << file;
  std::stringstream expected;
  expected << in.rdbuf();
  // Line by line, so that a difference names the first event that links otherwise.
  std::istringstream a(expected.str()), b(outcome);
  std::string la, lb;
  int line = 0;
  while (true) {
    const bool more_a = static_cast<bool>(std::getline(a, la));
    const bool more_b = static_cast<bool>(std::getline(b, lb));
    ++line;
    if (!more_a && !more_b) break;
    ASSERT_EQ(more_a ? la : "(end)", more_b ? lb : "(end)") << "line " << line;
  }
  // The town must exercise every rule, the reviews and the merges, or it proves little.
  for (const char* needle :
       {" new ", " resident_id ", " kana_birth ", " known ", "new_pending_review",
        "too many candidates", "different birth day", "different 宛名番号", "different birth date",
        "identity.merged", "person.facts_changed", "separate"}) {
    EXPECT_NE(outcome.find(needle), std::string::npos) << needle;
  }
}

}  // namespace
