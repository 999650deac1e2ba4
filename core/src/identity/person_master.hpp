// The person master: every stored event's source subject is linked to one person, by a rule that
// is recorded, and the facts the router tests are kept per person.
//
// Rules, strongest first:
//   resident_id  same 宛名番号 and (where both are known) the same birth date → link;
//                same 宛名番号, different birth date → review item, no link.
//   kana_birth   same normalised kana and birth date, and the same sex where both are known →
//                link, unless both carry 宛名番号 and they differ → review item.
//   near_match   same normalised kana, birth year and ward, different day → review item.
//   new          otherwise a new person.
// A subject that gets a review item is linked to a new person of its own until someone decides:
// weak evidence never merges anybody silently. Kanji names are recorded as supporting evidence
// only (旧字体/新字体 variants would otherwise block true links).
//
// All writes happen inside the caller's transaction and write their audit entries there.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <tsunagu/event.hpp>

#include "audit/audit_log.hpp"
#include "store/store.hpp"

namespace tsunagu::identity {

struct PersonFacts {
  std::string ward_code;  // current ward: of the latest address-bearing event by occurred_at
  std::string ward_as_of;
  bool on_public_assistance = false;
  std::string pa_as_of;
  std::string household_token;  // equal for members of one household; opaque
  std::string household_role;
  bool has_open_cg_case = false;
  std::string cg_as_of;
  std::string birth_date;  // YYYY-MM-DD, empty if unknown (stored sealed)

  bool operator==(const PersonFacts&) const = default;
};

struct LinkedSubject {
  std::string subject_id;
  std::string source;
  std::string rule;
  std::string evidence;
  std::string linked_at;
  std::string linked_by;
};

struct Person {
  std::string id;
  std::string created_at;
  PersonFacts facts;
  std::vector<LinkedSubject> subjects;
};

struct Review {
  std::int64_t id = 0;
  std::string subject_id;
  std::string subject_person;  // the person the subject is linked to meanwhile
  std::string candidate_person;
  std::string reason;
  std::string status;  // open | linked | separated
  std::string created_at;
  std::string decided_at;
  std::string decided_by;
};

struct LinkResult {
  std::string person_id;
  std::string rule;
  std::vector<std::int64_t> reviews_opened;
  PersonFacts facts_before;  // the person's facts before this event …
  PersonFacts facts;         // … and after it (what the router tests; a ward change is a move)
};

// What a review's link decision merged: the review's subject's person into the candidate.
struct Merge {
  std::int64_t review_id = 0;
  std::string subject_id;    // the review's subject
  std::string from_person;   // merged away (persons.merged_into = into_person)
  std::string into_person;   // the survivor, which now holds every subject of both
  PersonFacts facts_before;  // the survivor's facts before the merge …
  PersonFacts facts;         // … and after it, recomputed from both persons' events
  std::string by;
};
// Called inside decide()'s transaction after a merge (the router moves its state and routes
// again: Router::on_merged); what it writes commits or rolls back with the decision.
using MergeHook = std::function<void(const Merge&)>;

// Age in whole months on `date` (YYYY-MM-DD) of someone born on `birth_date`; nullopt if either
// is malformed or the date is before the birth.
std::optional<int> age_in_months(const std::string& birth_date, const std::string& date);

class PersonMaster {
 public:
  // The store must have a keyring (tokens and the sealed birth date need it).
  PersonMaster(store::Store& store, audit::AuditLog& audit);

  // Links the subject of a just-stored event and updates the person's facts. Inside the caller's
  // transaction.
  LinkResult link(const CaseEvent& event, const std::string& subject_id, const std::string& actor);

  std::optional<Person> person(const std::string& person_id);
  // Only the live person's facts (what routing tests), without its linked subjects.
  std::optional<PersonFacts> facts_of(const std::string& person_id);
  // The live person a subject, an event or a 宛名番号 belongs to.
  std::optional<std::string> person_of_subject(const std::string& subject_id);
  std::optional<std::string> person_of_resident_id(const std::string& resident_id);

  std::vector<Review> reviews(bool open_only);
  // Decides a review: link merges the subject's person into the candidate (facts recomputed,
  // then `on_merged`); separate keeps them apart for good. Own transaction. Throws
  // std::invalid_argument if the review does not exist or is already decided.
  void decide(std::int64_t review_id, bool link, const std::string& by,
              const MergeHook& on_merged = {});

  // Recomputes a person's facts from all its events (after a merge). Inside a transaction.
  PersonFacts recompute_facts(const std::string& person_id);

 private:
  struct Keys;
  // A person's facts as stored, the birth date still sealed (opened only for the person linked).
  struct StoredFacts {
    PersonFacts facts;
    std::string sealed_birth;
  };
  Keys keys_of(const CaseEvent& event) const;
  // The live person of a subject; `facts` receives that person's stored facts when the same
  // statement could read them (the subject's person is not merged).
  std::optional<std::string> known_person(const std::string& subject_id,
                                          std::optional<StoredFacts>* facts);
  PersonFacts open_facts(const StoredFacts& stored, const std::string& person_id) const;
  // A new person with its first facts, written in one statement.
  std::string new_person(const PersonFacts& facts);
  void attach(const std::string& subject_id, const std::string& person_id,
              const std::string& source, const std::string& rule, const std::string& evidence,
              const Keys& keys, const std::string& actor);
  std::int64_t open_review(const std::string& subject_id, const std::string& candidate_person,
                           const std::string& reason, const std::string& actor);
  // `sealed_birth`, if given, receives the stored (sealed) birth date as it is. nullopt: no such
  // person; load_facts() gives empty facts then.
  std::optional<PersonFacts> read_facts(const std::string& person_id,
                                        std::string* sealed_birth = nullptr);
  PersonFacts load_facts(const std::string& person_id, std::string* sealed_birth = nullptr);
  // `sealed_birth`: the stored sealed birth date, written back as it is when the birth date did
  // not change (instead of sealing it again); nullptr seals it anew.
  void save_facts(const std::string& person_id, const PersonFacts& before, const PersonFacts& after,
                  const std::string& actor, const std::string* sealed_birth = nullptr);
  // The person.facts_changed entry for what changed between `before` and `after`, if anything the
  // router tests did.
  void audit_facts(const std::string& person_id, const PersonFacts& before,
                   const PersonFacts& after, const std::string& actor);
  std::string live(std::string person_id);

  store::Store& store_;
  audit::AuditLog& audit_;
};

// Applies one event to a person's facts (pure; exposed for tests). Out-of-order safe: a fact
// changes only if the event is at least as recent as the one that set it.
void apply_event(PersonFacts& facts, const CaseEvent& event, const std::string& household_token);

}  // namespace tsunagu::identity
