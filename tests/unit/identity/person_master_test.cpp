// The person master over a real store: each linking rule, each review-queue case, out-of-order
// facts, a family's move between wards, and review decisions that merge and recompute.
#include "identity/person_master.hpp"

#include <gtest/gtest.h>

#include "store/prepared.hpp"
#include "support/temp_dir.hpp"
#include "support/test_store.hpp"

namespace {

using namespace tsunagu;
using identity::PersonMaster;

CaseEvent child(const std::string& source, const std::string& ref, const std::string& rid,
                const std::string& kana, const std::string& birth, const std::string& ward,
                const std::string& occurred_at = "2019-06-05T00:00:00+09:00") {
  CaseEvent e;
  e.source = source;
  e.source_ref = ref;
  e.source_version = 1;
  e.kind = "school.prolonged_absence";
  e.occurred_at = occurred_at;
  e.subject.resident_id = rid;
  e.subject.name = "池田　詩織";
  e.subject.name_kana = kana;
  e.subject.birth_date = birth;
  e.subject.sex = "F";
  e.subject.ward_code = ward;
  return e;
}

class PersonMasterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = tsunagu_test::open_test_store(dir_ / "store.db", {});
    store_->set_keyring(std::make_shared<const security::Keyring>(security::DataKey::generate()));
    audit_ = std::make_unique<audit::AuditLog>(*store_);
    master_ = std::make_unique<PersonMaster>(*store_, *audit_);
  }

  // Stores and links an event, as ingest does, in one transaction.
  identity::LinkResult ingest(CaseEvent e) {
    store::Transaction tx(*store_);
    if (input_ == 0) input_ = store_->open_input("test", "t", "digest", 0);
    std::string subject;
    EXPECT_TRUE(store_->insert_event(e, input_, ++record_, "raw", &subject));
    auto result = master_->link(e, subject, "test");
    tx.commit();
    return result;
  }

  identity::PersonFacts facts(const std::string& person) { return master_->person(person)->facts; }

  tsunagu_test::TempDir dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<audit::AuditLog> audit_;
  std::unique_ptr<PersonMaster> master_;
  std::int64_t input_ = 0;
  std::int64_t record_ = 0;
};

TEST_F(PersonMasterTest, SameResidentIdLinksAcrossSources) {
  const auto a =
      ingest(child("health_centre", "HC1", "0012345678", "イケダ シオリ", "2017-11-30", "01103"));
  const auto b =
      ingest(child("public_assistance", "PA1", "0012345678", "ｲｹﾀﾞ ｼｵﾘ", "2017-11-30", "01103"));
  EXPECT_EQ(a.rule, "new");
  EXPECT_EQ(b.rule, "resident_id");
  EXPECT_EQ(a.person_id, b.person_id);
  EXPECT_EQ(master_->person_of_resident_id("0012345678"), a.person_id);
  EXPECT_EQ(master_->person(a.person_id)->subjects.size(), 2u);
}

TEST_F(PersonMasterTest, KanaAndBirthDateLinkWhenOneSideHasNoResidentId) {
  const auto a =
      ingest(child("health_centre", "HC1", "0012345678", "イケダ シオリ", "2017-11-30", "01103"));
  const auto b = ingest(child("child_guidance", "CG1", "", "いけだ しおり", "2017-11-30", "01102"));
  const auto c = ingest(child("education", "ED1", "", "ｲｹﾀﾞ ｼｵﾘ", "2017-11-30", "01103"));
  EXPECT_EQ(b.rule, "kana_birth");
  EXPECT_EQ(b.person_id, a.person_id);
  EXPECT_EQ(c.person_id, a.person_id);
}

TEST_F(PersonMasterTest, DifferentSexIsNotTheSameChildAndUnknownSexDoesNotBlock) {
  const auto a = ingest(child("health_centre", "HC1", "", "イケダ シオリ", "2017-11-30", "01103"));
  auto unknown = child("education", "ED1", "", "イケダ シオリ", "2017-11-30", "01103");
  unknown.subject.sex = "U";
  EXPECT_EQ(ingest(unknown).person_id, a.person_id);
  auto boy = child("child_guidance", "CG1", "", "イケダ シオリ", "2017-11-30", "01103");
  boy.subject.sex = "M";
  const auto b = ingest(boy);
  EXPECT_NE(b.person_id, a.person_id);
  EXPECT_EQ(b.rule, "new");
}

TEST_F(PersonMasterTest, TwoEquallyGoodCandidatesGoToReview) {
  const auto girl =
      ingest(child("health_centre", "HC1", "", "イケダ シオリ", "2017-11-30", "01103"));
  auto boy = child("health_centre", "HC2", "", "イケダ シオリ", "2017-11-30", "01103");
  boy.subject.sex = "M";
  const auto b = ingest(boy);
  ASSERT_NE(b.person_id, girl.person_id);
  auto unknown = child("education", "ED1", "", "イケダ シオリ", "2017-11-30", "01103");
  unknown.subject.sex = "U";
  const auto u = ingest(unknown);
  EXPECT_NE(u.person_id, girl.person_id);
  EXPECT_NE(u.person_id, b.person_id);
  EXPECT_EQ(u.reviews_opened.size(), 2u);
}

TEST_F(PersonMasterTest, SameKanaAndBirthButDifferentResidentIdGoesToReview) {
  const auto a =
      ingest(child("health_centre", "HC1", "0012345678", "イケダ シオリ", "2017-11-30", "01103"));
  const auto b = ingest(
      child("public_assistance", "PA1", "0099999999", "イケダ シオリ", "2017-11-30", "01103"));
  EXPECT_NE(b.person_id, a.person_id);
  EXPECT_EQ(b.rule, "new_pending_review");
  ASSERT_EQ(b.reviews_opened.size(), 1u);
  const auto reviews = master_->reviews(true);
  ASSERT_EQ(reviews.size(), 1u);
  EXPECT_EQ(reviews[0].reason, "same kana and birth date, different 宛名番号");
  EXPECT_EQ(reviews[0].candidate_person, a.person_id);
}

TEST_F(PersonMasterTest, SameResidentIdButDifferentBirthDateGoesToReview) {
  const auto a =
      ingest(child("health_centre", "HC1", "0012345678", "イケダ シオリ", "2017-11-30", "01103"));
  const auto b = ingest(
      child("public_assistance", "PA1", "0012345678", "イケダ シオリ", "2017-11-03", "01103"));
  EXPECT_NE(b.person_id, a.person_id);
  ASSERT_EQ(master_->reviews(true).size(), 1u);
  EXPECT_EQ(master_->reviews(true)[0].reason, "same 宛名番号, different birth date");
}

TEST_F(PersonMasterTest, SameKanaYearAndWardButDifferentDayGoesToReview) {
  const auto a = ingest(child("health_centre", "HC1", "", "イケダ シオリ", "2017-11-30", "01103"));
  const auto b = ingest(child("education", "ED1", "", "イケダ シオリ", "2017-11-13", "01103"));
  EXPECT_NE(b.person_id, a.person_id);
  ASSERT_EQ(master_->reviews(true).size(), 1u);
  EXPECT_EQ(master_->reviews(true)[0].reason,
            "same kana, birth year and ward, different birth day");
  // Another ward: no review at all.
  ingest(child("education", "ED2", "", "イケダ シオリ", "2017-10-13", "01107"));
  EXPECT_EQ(master_->reviews(true).size(), 1u);
}

TEST_F(PersonMasterTest, DifferentNamesAreDifferentPeople) {
  const auto a = ingest(child("health_centre", "HC1", "", "サトウ ハナ", "2017-11-30", "01103"));
  const auto b = ingest(child("education", "ED1", "", "サトオ ハナ", "2017-11-30", "01103"));
  EXPECT_NE(a.person_id, b.person_id);
  EXPECT_TRUE(master_->reviews(true).empty());
}

TEST_F(PersonMasterTest, ReviewLinkMergesAndRecomputesFacts) {
  const auto a = ingest(child("health_centre", "HC1", "0012345678", "イケダ シオリ", "2017-11-30",
                              "01103", "2019-04-01T00:00:00+09:00"));
  auto welfare = child("public_assistance", "PA1", "0099999999", "イケダ シオリ", "2017-11-30",
                       "01101", "2019-06-01T00:00:00+09:00");
  welfare.kind = "welfare.household_opened";
  const auto b = ingest(welfare);
  EXPECT_FALSE(facts(a.person_id).on_public_assistance);
  const auto review = master_->reviews(true).at(0);
  master_->decide(review.id, true, "user:tanaka");
  EXPECT_EQ(master_->person_of_subject(master_->person(b.person_id)->subjects[0].subject_id),
            a.person_id);
  const auto merged = facts(a.person_id);
  EXPECT_TRUE(merged.on_public_assistance);
  EXPECT_EQ(merged.ward_code, "01101");  // the welfare event is the latest address
  // The merged person's facts are the live person's; its subjects are listed under that person.
  EXPECT_EQ(master_->facts_of(b.person_id), merged);
  EXPECT_EQ(master_->person(a.person_id)->subjects.size(), 2u);
  EXPECT_EQ(master_->facts_of("no-such-person"), std::nullopt);
  const auto decided = master_->reviews(false).at(0);
  EXPECT_EQ(decided.status, "linked");
  EXPECT_EQ(decided.decided_by, "user:tanaka");
  EXPECT_THROW(master_->decide(review.id, false, "user:x"), std::invalid_argument);
}

TEST_F(PersonMasterTest, ReviewSeparateKeepsThemApart) {
  const auto a =
      ingest(child("health_centre", "HC1", "0012345678", "イケダ シオリ", "2017-11-30", "01103"));
  const auto b = ingest(
      child("public_assistance", "PA1", "0099999999", "イケダ シオリ", "2017-11-30", "01103"));
  master_->decide(master_->reviews(true).at(0).id, false, "user:sato");
  EXPECT_TRUE(master_->reviews(true).empty());
  EXPECT_NE(*master_->person_of_resident_id("0099999999"), a.person_id);
  EXPECT_EQ(*master_->person_of_resident_id("0099999999"), b.person_id);
}

TEST_F(PersonMasterTest, AnOldAddressArrivingLateDoesNotMoveTheChildBack) {
  const auto a = ingest(child("public_assistance", "PA2", "0012345678", "イケダ シオリ",
                              "2017-11-30", "01101", "2019-08-01T00:00:00+09:00"));
  ingest(child("public_assistance", "PA1", "0012345678", "イケダ シオリ", "2017-11-30", "01103",
               "2019-05-01T00:00:00+09:00"));
  EXPECT_EQ(facts(a.person_id).ward_code, "01101");
}

TEST_F(PersonMasterTest, AFamilyMovesFromHigashiToChuo) {
  auto opened = child("public_assistance", "PA1", "0012345678", "イケダ シオリ", "2017-11-30",
                      "01103", "2019-01-10T00:00:00+09:00");
  opened.kind = "welfare.household_opened";
  opened.household = {"12345678", "子"};
  auto mother = opened;
  mother.source_ref = "PA2";
  mother.subject = {"0012345600", "池田　由美", "イケダ ユミ", "1990-02-02",
                    "F",          "札幌市東区", "01103"};
  mother.household.role = "世帯主";
  const auto child_person = ingest(opened).person_id;
  const auto mother_person = ingest(mother).person_id;
  EXPECT_EQ(facts(child_person).ward_code, "01103");
  EXPECT_EQ(facts(child_person).household_token, facts(mother_person).household_token);
  EXPECT_TRUE(facts(child_person).on_public_assistance);

  auto moved = opened;
  moved.source_ref = "PA3";
  moved.kind = "welfare.address_changed";
  moved.occurred_at = "2019-03-01T00:00:00+09:00";
  moved.subject.ward_code = "01101";
  ingest(moved);
  auto school =
      child("education", "ED1", "", "ｲｹﾀﾞ ｼｵﾘ", "2017-11-30", "01101", "2019-04-10T00:00:00+09:00");
  EXPECT_EQ(ingest(school).person_id, child_person);
  EXPECT_EQ(facts(child_person).ward_code, "01101");
  EXPECT_TRUE(facts(child_person).on_public_assistance);

  auto closed = moved;
  closed.source_ref = "PA4";
  closed.kind = "welfare.household_closed";
  closed.occurred_at = "2019-09-01T00:00:00+09:00";
  ingest(closed);
  EXPECT_FALSE(facts(child_person).on_public_assistance);
}

TEST_F(PersonMasterTest, OpenChildGuidanceCaseFollowsTheLatestEvent) {
  auto opened = child("child_guidance", "CG1", "", "イケダ シオリ", "2017-11-30", "01103",
                      "2019-06-01T00:00:00+09:00");
  opened.kind = "cg.case_opened";
  const auto p = ingest(opened).person_id;
  EXPECT_TRUE(facts(p).has_open_cg_case);
  auto closed_earlier = opened;
  closed_earlier.source_ref = "CG0";
  closed_earlier.kind = "cg.case_closed";
  closed_earlier.occurred_at = "2019-01-01T00:00:00+09:00";
  ingest(closed_earlier);
  EXPECT_TRUE(facts(p).has_open_cg_case) << "an older closing must not close a newer case";
}

TEST_F(PersonMasterTest, BirthDateIsSealedAndAgeInMonths) {
  const auto p =
      ingest(child("health_centre", "HC1", "", "イケダ シオリ", "2017-11-30", "01103")).person_id;
  EXPECT_EQ(facts(p).birth_date, "2017-11-30");
  EXPECT_EQ(identity::age_in_months("2017-11-30", "2019-05-30"), 18);
  EXPECT_EQ(identity::age_in_months("2017-11-30", "2019-05-29"), 17);
  EXPECT_EQ(identity::age_in_months("2017-11-30", "2017-11-30"), 0);
  EXPECT_FALSE(identity::age_in_months("2017-11-30", "2017-11-01").has_value());
  EXPECT_FALSE(identity::age_in_months("nonsense", "2017-11-01").has_value());
}

TEST_F(PersonMasterTest, EveryLinkAndReviewIsAudited) {
  ingest(child("health_centre", "HC1", "0012345678", "イケダ シオリ", "2017-11-30", "01103"));
  ingest(child("public_assistance", "PA1", "0099999999", "イケダ シオリ", "2017-11-30", "01103"));
  master_->decide(master_->reviews(true).at(0).id, true, "user:tanaka");
  const auto count = [&](const std::string& sql) {
    auto q = store_->query(sql);
    return q.next() ? q.integer(0) : -1;
  };
  const auto of_type = [&](const char* type) {
    return count(std::string("SELECT COUNT(*) FROM audit_entries WHERE type = '") + type + "'");
  };
  EXPECT_EQ(of_type("identity.linked"), 2);
  EXPECT_EQ(of_type("identity.review_opened"), 1);
  EXPECT_EQ(of_type("identity.review_resolved"), 1);
  EXPECT_EQ(of_type("identity.merged"), 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM audit_entries WHERE entry LIKE '%0012345678%' OR "
                  "entry LIKE '%イケダ%'"),
            0);
}

}  // namespace
