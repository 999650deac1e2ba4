#include "identity/person_master.hpp"

#include <chrono>
#include <cstdio>
#include <map>
#include <set>
#include <stdexcept>

#include <Poco/UUIDGenerator.h>

#include "identity/kana_normaliser.hpp"
#include "security/aead.hpp"
#include "store/prepared.hpp"

namespace tsunagu::identity {

namespace {

constexpr char kSep = '\x1f';
constexpr std::size_t kMaxCandidates = 16;

std::optional<std::chrono::year_month_day> parse_date(const std::string& s) {
  int y = 0;
  unsigned m = 0, d = 0;
  if (s.size() < 10 || std::sscanf(s.c_str(), "%4d-%2u-%2u", &y, &m, &d) != 3) return std::nullopt;
  std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{m}, std::chrono::day{d}};
  if (!ymd.ok()) return std::nullopt;
  return ymd;
}

bool newer_or_same(const std::string& occurred_at, const std::string& as_of) {
  // Both ISO-8601 with the same +09:00 offset (the mappings normalise every time to it), so the
  // text order is the time order.
  return as_of.empty() || occurred_at >= as_of;
}

std::string sealed_birth_ad(const std::string& person_id) {
  return "person-birth:" + person_id;
}

// The facts columns of persons p, read by read_stored() from `first` on; joined to the lookups
// that find a person, so that linking needs no separate statement to load them.
constexpr const char* kFactsColumns =
    "p.ward_code, p.ward_as_of, p.on_public_assistance, p.pa_as_of, p.household_token, "
    "p.household_role, p.has_open_cg_case, p.cg_as_of, p.birth_date";

// The candidates by one token column, oldest link first, each with whether its person was merged
// (a subquery in the select list, not a join). The order decides which candidates become review
// items when there are more than the limit, so it is explicit: without an ORDER BY, PostgreSQL
// returned them in the order of their tuples on disk, which an autovacuum running part-way
// changes. Built once per column.
const std::string& candidate_sql(std::string_view column) {
  auto build = [](std::string_view c) {
    return std::string(
               "SELECT subject_id, person_id, (SELECT COALESCE(p.merged_into, '') FROM persons p "
               "WHERE p.id = identity_subjects.person_id), rid_token, birth_token, sex, "
               "kanji_token FROM identity_subjects WHERE ") +
           std::string(c) + " = ? ORDER BY linked_at, subject_id LIMIT " +
           std::to_string(kMaxCandidates + 1);
  };
  static const std::string rid = build("rid_token"), kana_birth = build("kana_birth_token"),
                           kana_year_ward = build("kana_year_ward_token");
  if (column == "rid_token") return rid;
  if (column == "kana_birth_token") return kana_birth;
  if (column == "kana_year_ward_token") return kana_year_ward;
  throw std::logic_error("no candidate lookup by " + std::string(column));
}

template <typename Row>
void read_stored(const Row& q, int first, PersonFacts& f, std::string& sealed_birth) {
  f.ward_code = q.text(first);
  f.ward_as_of = q.text(first + 1);
  f.on_public_assistance = q.integer(first + 2) != 0;
  f.pa_as_of = q.text(first + 3);
  f.household_token = q.text(first + 4);
  f.household_role = q.text(first + 5);
  f.has_open_cg_case = q.integer(first + 6) != 0;
  f.cg_as_of = q.text(first + 7);
  sealed_birth = q.is_null(first + 8) ? std::string() : q.blob(first + 8);
}

// Binds a person's facts in the column order persons' INSERT and UPDATE share (ward_code …
// birth_date), after whatever the statement bound before them.
store::Query& bind_facts(store::Query& q, const PersonFacts& f, std::string_view sealed_birth) {
  return q.bind(f.ward_code)
      .bind(f.ward_as_of)
      .bind(f.on_public_assistance ? 1 : 0)
      .bind(f.pa_as_of)
      .bind(f.household_token)
      .bind(f.household_role)
      .bind(f.has_open_cg_case ? 1 : 0)
      .bind(f.cg_as_of)
      .bind_blob(sealed_birth);
}

}  // namespace

std::optional<int> age_in_months(const std::string& birth_date, const std::string& date) {
  const auto b = parse_date(birth_date), d = parse_date(date);
  if (!b || !d || *d < *b) return std::nullopt;
  int months = (static_cast<int>(d->year()) - static_cast<int>(b->year())) * 12 +
               (static_cast<int>(static_cast<unsigned>(d->month())) -
                static_cast<int>(static_cast<unsigned>(b->month())));
  if (static_cast<unsigned>(d->day()) < static_cast<unsigned>(b->day())) --months;
  return months;
}

void apply_event(PersonFacts& f, const CaseEvent& e, const std::string& household_token) {
  if (f.birth_date.empty() && !e.subject.birth_date.empty()) f.birth_date = e.subject.birth_date;
  if (!e.subject.ward_code.empty() && newer_or_same(e.occurred_at, f.ward_as_of)) {
    f.ward_code = e.subject.ward_code;
    f.ward_as_of = e.occurred_at;
  }
  const bool opens = e.kind == "welfare.household_opened" || e.kind == "welfare.member_added";
  const bool closes = e.kind == "welfare.household_closed";
  if ((opens || closes) && newer_or_same(e.occurred_at, f.pa_as_of)) {
    f.on_public_assistance = opens;
    f.pa_as_of = e.occurred_at;
  }
  if (e.source == "public_assistance" && !household_token.empty()) {
    f.household_token = household_token;
    f.household_role = e.household.role;
  }
  const bool case_opened = e.kind == "cg.case_opened";
  const bool case_closed = e.kind == "cg.case_closed";
  if ((case_opened || case_closed) && newer_or_same(e.occurred_at, f.cg_as_of)) {
    f.has_open_cg_case = case_opened;
    f.cg_as_of = e.occurred_at;
  }
}

struct PersonMaster::Keys {
  std::string rid, kana_birth, kana_year_ward, birth, kanji, sex;
};

PersonMaster::PersonMaster(store::Store& store, audit::AuditLog& audit)
    : store_(store), audit_(audit) {
  if (store_.keyring() == nullptr) {
    throw std::logic_error("the person master needs the store's keyring (identity tokens)");
  }
}

PersonMaster::Keys PersonMaster::keys_of(const CaseEvent& e) const {
  const auto& k = *store_.keyring();
  Keys keys;
  const auto& s = e.subject;
  if (!s.resident_id.empty()) keys.rid = k.lookup_token(std::string("rid") + kSep + s.resident_id);
  const std::string kana = normalise_kana(s.name_kana);
  if (!kana.empty() && !s.birth_date.empty()) {
    keys.kana_birth = k.lookup_token(std::string("kb") + kSep + kana + kSep + s.birth_date);
    if (!s.ward_code.empty()) {
      keys.kana_year_ward = k.lookup_token(std::string("kyw") + kSep + kana + kSep +
                                           s.birth_date.substr(0, 4) + kSep + s.ward_code);
    }
  }
  if (!s.birth_date.empty()) keys.birth = k.lookup_token(std::string("b") + kSep + s.birth_date);
  if (!s.name.empty())
    keys.kanji = k.lookup_token(std::string("kj") + kSep + normalise_kanji(s.name));
  if (s.sex == "M" || s.sex == "F") keys.sex = s.sex;
  return keys;
}

std::string PersonMaster::live(std::string person_id) {
  // Follow merges; a chain is short (one hop per review decision).
  for (int hops = 0; hops < 64; ++hops) {
    std::string next;
    {
      auto q = store_.query("SELECT COALESCE(merged_into, '') FROM persons WHERE id = ?");
      q.bind(person_id);
      if (q.next()) next = q.text(0);
    }
    if (next.empty()) return person_id;
    person_id = std::move(next);
  }
  return person_id;
}

std::string PersonMaster::new_person(const PersonFacts& f) {
  std::string id = store::time_ordered_uuid();
  const std::string created = store::utc_now();
  const std::string sealed =
      f.birth_date.empty()
          ? std::string()
          : security::seal(store_.keyring()->master(), f.birth_date, sealed_birth_ad(id));
  auto q = store_.query(
      "INSERT INTO persons (id, created_at, ward_code, ward_as_of, on_public_assistance, "
      "pa_as_of, household_token, household_role, has_open_cg_case, cg_as_of, birth_date) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  bind_facts(q.bind(id).bind(created), f, sealed).run();
  return id;
}

void PersonMaster::attach(const std::string& subject_id, const std::string& person_id,
                          const std::string& source, const std::string& rule,
                          const std::string& evidence, const Keys& keys, const std::string& actor) {
  const std::string at = store::utc_now();
  store_
      .query(
          "INSERT INTO identity_subjects (subject_id, person_id, source, rule, evidence, "
          "rid_token, kana_birth_token, kana_year_ward_token, birth_token, kanji_token, sex, "
          "linked_at, linked_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
      .bind(subject_id)
      .bind(person_id)
      .bind(source)
      .bind(rule)
      .bind(evidence)
      .bind(keys.rid)
      .bind(keys.kana_birth)
      .bind(keys.kana_year_ward)
      .bind(keys.birth)
      .bind(keys.kanji)
      .bind(keys.sex)
      .bind(at)
      .bind(actor)
      .run();
  audit_.append(
      {audit::entry_type::kIdentityLinked,
       actor,
       subject_id,
       {{"person_id", person_id}, {"rule", rule}, {"evidence", evidence}, {"source", source}}});
}

std::int64_t PersonMaster::open_review(const std::string& subject_id,
                                       const std::string& candidate_person,
                                       const std::string& reason, const std::string& actor) {
  const std::string at = store::utc_now();
  std::int64_t id = 0;
  {
    // No row comes back when the review already exists.
    auto q = store_.insert_query(
        "INSERT INTO identity_reviews (subject_id, candidate_person, reason, created_at) "
        "VALUES (?, ?, ?, ?) ON CONFLICT (subject_id, candidate_person) DO NOTHING");
    q.bind(subject_id).bind(candidate_person).bind(reason).bind(at);
    const auto inserted = q.inserted_id();
    if (!inserted) return 0;
    id = *inserted;
  }
  audit_.append({audit::entry_type::kIdentityReviewOpened,
                 actor,
                 subject_id,
                 {{"review_id", std::to_string(id)},
                  {"candidate_person", candidate_person},
                  {"reason", reason}}});
  return id;
}

PersonFacts PersonMaster::open_facts(const StoredFacts& stored,
                                     const std::string& person_id) const {
  PersonFacts f = stored.facts;
  if (!stored.sealed_birth.empty()) {
    if (auto clear = security::open(store_.keyring()->master(), stored.sealed_birth,
                                    sealed_birth_ad(person_id))) {
      f.birth_date = *clear;
    }
  }
  return f;
}

std::optional<std::string> PersonMaster::known_person(const std::string& subject_id,
                                                      std::optional<StoredFacts>* facts) {
  // One statement for the subject, whether its person was merged, and that person's facts.
  static const std::string sql = std::string("SELECT s.person_id, COALESCE(p.merged_into, ''), ") +
                                 "p.id, " + kFactsColumns +
                                 " FROM identity_subjects s LEFT JOIN persons p ON p.id = "
                                 "s.person_id WHERE s.subject_id = ?";
  std::string person, merged;
  {
    auto q = store_.query(sql);
    q.bind(subject_id);
    if (!q.next()) return std::nullopt;
    person = q.text(0);
    merged = q.text(1);
    if (merged.empty() && !q.is_null(2) && facts != nullptr) {
      facts->emplace();
      read_stored(q, 3, (*facts)->facts, (*facts)->sealed_birth);
    }
  }
  if (merged.empty()) return person;
  return live(std::move(merged));
}

LinkResult PersonMaster::link(const CaseEvent& event, const std::string& subject_id,
                              const std::string& actor) {
  LinkResult result;
  // The linked person's facts as read by the statement that found it (nullopt: load them).
  std::optional<StoredFacts> stored;
  bool created = false;
  // apply_event() takes the household only from public assistance: no token for other sources.
  const std::string household =
      event.household.household_id.empty() || event.source != "public_assistance"
          ? std::string()
          : store_.keyring()->lookup_token(std::string("hh") + kSep + event.household.household_id);
  PersonFacts new_facts;  // a new person's first facts
  if (auto known = known_person(subject_id, &stored)) {
    result.person_id = *known;
    result.rule = "known";
  } else {
    const Keys keys = keys_of(event);
    std::string evidence;
    auto candidates = [&](const char* column, const std::string& token) {
      struct Row {
        std::string subject, person, merged, rid, birth, sex, kanji;
      };
      std::vector<Row> rows;
      // Real keys match a handful of subjects at most. Past kMaxCandidates the key is not
      // telling people apart (a placeholder name, test data): it links nobody and asks nobody.
      {
        auto q = store_.query(candidate_sql(column));
        q.bind(token);
        while (q.next()) {
          Row r{q.text(0), q.text(1), q.text(2), q.text(3), q.text(4), q.text(5), q.text(6)};
          rows.push_back(std::move(r));
        }
      }
      struct Candidate {
        std::string person, rid, birth, sex, kanji;
      };
      std::vector<Candidate> out;
      if (rows.size() > kMaxCandidates) {
        evidence = std::string("too many candidates by ") + column;
        return out;
      }
      std::set<std::string> seen;
      for (auto& r : rows) {
        std::string person = r.merged.empty() ? r.person : live(r.merged);
        if (!seen.insert(person).second) continue;
        out.push_back({std::move(person), r.rid, r.birth, r.sex, r.kanji});
      }
      return out;
    };
    auto kanji_evidence = [&](const std::string& other) {
      if (keys.kanji.empty() || other.empty()) return std::string("kanji=unknown");
      return std::string(keys.kanji == other ? "kanji=same" : "kanji=differs");
    };
    std::vector<std::pair<std::string, std::string>> reviews;  // candidate person, reason
    // Links only when exactly one person qualifies: two equally good candidates are a question
    // for a person, not for the hub.
    auto decide_among = [&](const std::vector<std::pair<std::string, std::string>>& linkable,
                            const char* rule) {
      if (linkable.size() == 1) {
        result.person_id = linkable.front().first;
        result.rule = rule;
        evidence = linkable.front().second;
      } else {
        for (const auto& [person, unused] : linkable) {
          reviews.emplace_back(person, std::string("several persons match by ") + rule);
        }
      }
    };
    if (!keys.rid.empty()) {
      std::vector<std::pair<std::string, std::string>> linkable;
      for (const auto& c : candidates("rid_token", keys.rid)) {
        if (!keys.birth.empty() && !c.birth.empty() && keys.birth != c.birth) {
          reviews.emplace_back(c.person, "same 宛名番号, different birth date");
        } else {
          linkable.emplace_back(c.person, kanji_evidence(c.kanji));
        }
      }
      decide_among(linkable, "resident_id");
    }
    if (result.person_id.empty() && reviews.empty() && !keys.kana_birth.empty()) {
      std::vector<std::pair<std::string, std::string>> linkable;
      for (const auto& c : candidates("kana_birth_token", keys.kana_birth)) {
        if (!keys.rid.empty() && !c.rid.empty() && keys.rid != c.rid) {
          reviews.emplace_back(c.person, "same kana and birth date, different 宛名番号");
        } else if (!keys.sex.empty() && !c.sex.empty() && keys.sex != c.sex) {
          continue;  // a different sex is a different child
        } else {
          linkable.emplace_back(
              c.person, kanji_evidence(c.kanji) +
                            (keys.sex.empty() || c.sex.empty() ? ",sex=unknown" : ",sex=same"));
        }
      }
      if (reviews.empty()) decide_among(linkable, "kana_birth");
    }
    if (result.person_id.empty() && reviews.empty() && !keys.kana_year_ward.empty()) {
      for (const auto& c : candidates("kana_year_ward_token", keys.kana_year_ward)) {
        if (c.birth != keys.birth) {
          reviews.emplace_back(c.person, "same kana, birth year and ward, different birth day");
        }
      }
    }
    if (result.person_id.empty()) {
      apply_event(new_facts, event, household);
      result.person_id = new_person(new_facts);
      created = true;
      result.rule = reviews.empty() ? "new" : "new_pending_review";
      if (evidence.empty()) evidence = "no match";
    }
    attach(subject_id, result.person_id, event.source, result.rule, evidence, keys, actor);
    for (const auto& [candidate, reason] : reviews) {
      if (candidate == result.person_id) continue;
      if (auto id = open_review(subject_id, candidate, reason, actor)) {
        result.reviews_opened.push_back(id);
      }
    }
  }
  if (created) {
    // Written with the person; what a facts update would have recorded is recorded here.
    audit_facts(result.person_id, PersonFacts{}, new_facts, actor);
    result.facts = std::move(new_facts);
    return result;
  }
  std::string sealed_birth;
  PersonFacts before;
  if (stored) {
    before = open_facts(*stored, result.person_id);
    sealed_birth = std::move(stored->sealed_birth);
  } else {
    before = load_facts(result.person_id, &sealed_birth);
  }
  PersonFacts after = before;
  apply_event(after, event, household);
  if (after != before) save_facts(result.person_id, before, after, actor, &sealed_birth);
  result.facts_before = before;
  result.facts = std::move(after);
  return result;
}

std::optional<PersonFacts> PersonMaster::read_facts(const std::string& person_id,
                                                    std::string* sealed_birth) {
  static const std::string sql =
      std::string("SELECT ") + kFactsColumns + " FROM persons p WHERE p.id = ?";
  StoredFacts stored;
  {
    auto q = store_.query(sql);
    q.bind(person_id);
    if (!q.next()) return std::nullopt;
    read_stored(q, 0, stored.facts, stored.sealed_birth);
  }
  if (sealed_birth != nullptr) *sealed_birth = stored.sealed_birth;
  return open_facts(stored, person_id);
}

PersonFacts PersonMaster::load_facts(const std::string& person_id, std::string* sealed_birth) {
  return read_facts(person_id, sealed_birth).value_or(PersonFacts{});
}

void PersonMaster::save_facts(const std::string& person_id, const PersonFacts& before,
                              const PersonFacts& f, const std::string& actor,
                              const std::string* sealed_birth) {
  const bool unchanged_birth =
      sealed_birth != nullptr && !sealed_birth->empty() && before.birth_date == f.birth_date;
  const std::string sealed =
      f.birth_date.empty() ? std::string()
      : unchanged_birth
          ? *sealed_birth
          : security::seal(store_.keyring()->master(), f.birth_date, sealed_birth_ad(person_id));
  auto q = store_.query(
      "UPDATE persons SET ward_code = ?, ward_as_of = ?, on_public_assistance = ?, "
      "pa_as_of = ?, household_token = ?, household_role = ?, has_open_cg_case = ?, "
      "cg_as_of = ?, birth_date = ? WHERE id = ?");
  bind_facts(q, f, sealed).bind(person_id).run();
  audit_facts(person_id, before, f, actor);
}

void PersonMaster::audit_facts(const std::string& person_id, const PersonFacts& before,
                               const PersonFacts& f, const std::string& actor) {
  std::map<std::string, std::string> details{{"person_id", person_id}};
  if (before.ward_code != f.ward_code) {
    details["ward_from"] = before.ward_code;
    details["ward_to"] = f.ward_code;
  }
  if (before.on_public_assistance != f.on_public_assistance) {
    details["on_public_assistance"] = f.on_public_assistance ? "true" : "false";
  }
  if (before.has_open_cg_case != f.has_open_cg_case) {
    details["has_open_cg_case"] = f.has_open_cg_case ? "true" : "false";
  }
  if (details.size() > 1) {
    audit_.append({audit::entry_type::kPersonFactsChanged, actor, "", details});
  }
}

std::optional<std::string> PersonMaster::person_of_subject(const std::string& subject_id) {
  return known_person(subject_id, nullptr);
}

std::optional<std::string> PersonMaster::person_of_resident_id(const std::string& resident_id) {
  const std::string token = store_.keyring()->lookup_token(std::string("rid") + kSep + resident_id);
  std::string person;
  {
    auto q = store_.query(
        "SELECT person_id FROM identity_subjects WHERE rid_token = ? ORDER BY linked_at, "
        "subject_id LIMIT 1");
    q.bind(token);
    if (!q.next()) return std::nullopt;
    person = q.text(0);
  }
  return live(std::move(person));
}

std::optional<Person> PersonMaster::person(const std::string& person_id) {
  Person p;
  p.id = live(person_id);
  {
    auto q = store_.query("SELECT created_at FROM persons WHERE id = ?");
    q.bind(p.id);
    if (!q.next()) return std::nullopt;
    p.created_at = q.text(0);
  }
  p.facts = load_facts(p.id);
  // decide() moves a merged person's subjects to the person it merged into, so the live
  // person's own rows are all of them: one range of identity_by_person. (A condition on the
  // merged persons too, ORed in, made this a scan of every link in the store.)
  auto q = store_.query(
      "SELECT subject_id, source, rule, evidence, linked_at, linked_by FROM identity_subjects "
      "WHERE person_id = ? ORDER BY linked_at, subject_id");
  q.bind(p.id);
  while (q.next()) {
    p.subjects.push_back({q.text(0), q.text(1), q.text(2), q.text(3), q.text(4), q.text(5)});
  }
  return p;
}

std::optional<PersonFacts> PersonMaster::facts_of(const std::string& person_id) {
  return read_facts(live(person_id));
}

std::vector<Review> PersonMaster::reviews(bool open_only) {
  std::vector<Review> out;
  {
    auto q = store_.query(std::string("SELECT r.id, r.subject_id, s.person_id, r.candidate_person, "
                                      "r.reason, r.status, r.created_at, COALESCE(r.decided_at, "
                                      "''), COALESCE(r.decided_by, '') FROM identity_reviews r "
                                      "JOIN identity_subjects s ON s.subject_id = r.subject_id ") +
                          (open_only ? "WHERE r.status = 'open' " : "") + "ORDER BY r.id");
    while (q.next()) {
      Review r;
      r.id = q.integer(0);
      r.subject_id = q.text(1);
      r.subject_person = q.text(2);
      r.candidate_person = q.text(3);
      r.reason = q.text(4);
      r.status = q.text(5);
      r.created_at = q.text(6);
      r.decided_at = q.text(7);
      r.decided_by = q.text(8);
      out.push_back(std::move(r));
    }
  }
  // Merges are followed once the rows are read: no other statement runs while this one steps.
  for (auto& r : out) {
    r.subject_person = live(r.subject_person);
    r.candidate_person = live(r.candidate_person);
  }
  return out;
}

void PersonMaster::decide(std::int64_t review_id, bool link, const std::string& by,
                          const MergeHook& on_merged) {
  store::Transaction tx(store_);
  std::optional<Review> review;
  for (auto& r : reviews(false)) {
    if (r.id == review_id) review = r;
  }
  if (!review)
    throw std::invalid_argument("there is no identity review " + std::to_string(review_id));
  if (review->status != "open") {
    throw std::invalid_argument("identity review " + std::to_string(review_id) + " was already " +
                                review->status + " by " + review->decided_by);
  }
  std::string status = link ? "linked" : "separated", at = store::utc_now(), who = by;
  store_
      .query("UPDATE identity_reviews SET status = ?, decided_at = ?, decided_by = ? WHERE id = ?")
      .bind(status)
      .bind(at)
      .bind(who)
      .bind(review_id)
      .run();
  audit_.append({audit::entry_type::kIdentityReviewResolved,
                 by,
                 review->subject_id,
                 {{"review_id", std::to_string(review_id)}, {"decision", status}}});
  if (link && review->subject_person != review->candidate_person) {
    std::string from = review->subject_person, into_person = review->candidate_person;
    store_.query("UPDATE persons SET merged_into = ? WHERE id = ?")
        .bind(into_person)
        .bind(from)
        .run();
    store_.query("UPDATE identity_subjects SET person_id = ? WHERE person_id = ?")
        .bind(into_person)
        .bind(from)
        .run();
    audit_.append({audit::entry_type::kIdentityMerged,
                   by,
                   review->subject_id,
                   {{"from_person", from},
                    {"into_person", into_person},
                    {"review_id", std::to_string(review_id)}}});
    const PersonFacts before = load_facts(into_person);
    const PersonFacts after = recompute_facts(into_person);
    if (after != before) save_facts(into_person, before, after, by);
    if (on_merged) {
      on_merged(Merge{review_id, review->subject_id, from, into_person, before, after, by});
    }
  }
  tx.commit();
}

PersonFacts PersonMaster::recompute_facts(const std::string& person_id) {
  std::vector<std::string> ids;
  {
    auto q = store_.query(
        "SELECT e.id FROM events e JOIN identity_subjects s ON s.subject_id = e.subject_id "
        "WHERE s.person_id = ? ORDER BY e.occurred_at, e.stored_at, e.id");
    q.bind(person_id);
    while (q.next()) ids.push_back(q.text(0));
  }
  PersonFacts facts;
  for (const auto& id : ids) {
    const auto stored = store_.event(id);
    if (!stored) continue;
    const auto& e = stored->event;
    const std::string household =
        e.household.household_id.empty()
            ? std::string()
            : store_.keyring()->lookup_token(std::string("hh") + kSep + e.household.household_id);
    apply_event(facts, e, household);
  }
  return facts;
}

}  // namespace tsunagu::identity
