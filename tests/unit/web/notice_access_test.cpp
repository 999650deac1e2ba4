// Who may read which notice (web/notice_access.hpp): by officer id, by role in the ward, the
// child guidance centre's roles city-wide, the section chiefs' escalations, and nobody else.
#include <gtest/gtest.h>

#include "web/notice_access.hpp"

namespace {

using namespace tsunagu;
using namespace tsunagu::web;

Account account(Role role, const std::string& officer, const std::string& ward) {
  Account a;
  a.login = "someone";
  a.role = role;
  a.officer_id = officer;
  a.ward_code = ward;
  return a;
}

routing::Notice notice(const std::string& role, const std::string& ward,
                       std::vector<std::string> recipients) {
  routing::Notice n;
  n.id = "n1";
  n.recipient_role = role;
  n.recipient_ward = ward;
  n.recipients = std::move(recipients);
  return n;
}

// A notice to 東区's liaisons.
routing::Notice higashi_liaisons() {
  return notice("liaison", "01103", {"higashi-liaison-1", "higashi-liaison-2"});
}

TEST(NoticeAccess, ARecipientByOfficerIdMayReadIt) {
  EXPECT_TRUE(may_read(account(Role::liaison, "higashi-liaison-2", "01103"), higashi_liaisons()));
  // Even from an account of another role or ward: the roster named that officer.
  EXPECT_TRUE(may_read(account(Role::coordinator, "higashi-liaison-1", ""), higashi_liaisons()));
}

TEST(NoticeAccess, TheWardsTeamOfTheRoleMayReadItAnotherWardMayNot) {
  EXPECT_TRUE(may_read(account(Role::liaison, "", "01103"), higashi_liaisons()));
  EXPECT_FALSE(may_read(account(Role::liaison, "kita-liaison-1", "01102"), higashi_liaisons()));
  EXPECT_FALSE(may_read(account(Role::liaison, "", ""), higashi_liaisons()))
      << "a ward role without a ward sees only what names its officer";
  EXPECT_FALSE(
      may_read(account(Role::coordinator, "higashi-coordinator-1", "01103"), higashi_liaisons()))
      << "another role of the same ward";
}

TEST(NoticeAccess, ChildGuidanceRolesAreCityWide) {
  const auto cg = notice("cg_caseworker", "01101", {"cg-caseworker-1"});
  EXPECT_TRUE(may_read(account(Role::cg_caseworker, "", ""), cg));
  EXPECT_TRUE(may_read(account(Role::cg_caseworker, "cg-caseworker-3", "01105"), cg));
  EXPECT_FALSE(may_read(account(Role::cg_emergency, "", ""), cg));
  EXPECT_FALSE(may_read(account(Role::cg_caseworker, "", ""), higashi_liaisons()));
}

// The escalation of a 東区 route to the ward's 保護課長 (as the router addresses it: the role, the
// child's ward, the roster's officer).
routing::Notice higashi_pa_chief_escalation() {
  return notice("pa_section_chief", "01103", {"higashi-pa-chief"});
}

TEST(NoticeAccess, AWardsSectionChiefReadsItsWardsEscalationsAnotherWardsChiefGetsNothing) {
  EXPECT_TRUE(may_read(account(Role::pa_section_chief, "higashi-pa-chief", "01103"),
                       higashi_pa_chief_escalation()));
  EXPECT_TRUE(may_read(account(Role::pa_section_chief, "", "01103"), higashi_pa_chief_escalation()))
      << "by role in the ward, like a liaison";
  EXPECT_FALSE(may_read(account(Role::pa_section_chief, "kita-pa-chief", "01102"),
                        higashi_pa_chief_escalation()));
  EXPECT_FALSE(may_read(account(Role::pa_section_chief, "", ""), higashi_pa_chief_escalation()))
      << "a ward role without a ward sees only what names its officer";
  EXPECT_FALSE(
      may_read(account(Role::pa_section_chief, "higashi-pa-chief", "01103"), higashi_liaisons()))
      << "not the liaisons' notice itself, only what is escalated to the chief";
  EXPECT_FALSE(may_read(account(Role::liaison, "higashi-liaison-1", "01103"),
                        higashi_pa_chief_escalation()));
}

TEST(NoticeAccess, TheChildGuidanceSectionChiefIsCityWide) {
  // The 48-hour timer's escalation about a child of 東区.
  const auto escalation = notice("cg_section_chief", "01103", {"cg-section-chief"});
  EXPECT_TRUE(may_read(account(Role::cg_section_chief, "cg-section-chief", ""), escalation));
  EXPECT_TRUE(may_read(account(Role::cg_section_chief, "", ""), escalation));
  EXPECT_TRUE(may_read(account(Role::cg_section_chief, "", "01106"), escalation));
  EXPECT_FALSE(may_read(account(Role::cg_emergency, "cg-emergency-day", ""), escalation));
  EXPECT_FALSE(may_read(account(Role::pa_section_chief, "higashi-pa-chief", "01103"), escalation));
  EXPECT_FALSE(may_read(account(Role::cg_section_chief, "", ""), higashi_pa_chief_escalation()));
  EXPECT_TRUE(city_wide(Role::cg_section_chief));
  EXPECT_FALSE(city_wide(Role::pa_section_chief));
}

TEST(NoticeAccess, AuditorsAdminsAndDisabledAccountsReadNoNotice) {
  EXPECT_FALSE(may_read(account(Role::auditor, "higashi-liaison-1", "01103"), higashi_liaisons()));
  EXPECT_FALSE(may_read(account(Role::admin, "higashi-liaison-1", "01103"), higashi_liaisons()));
  Account disabled = account(Role::liaison, "higashi-liaison-1", "01103");
  disabled.disabled = true;
  EXPECT_FALSE(may_read(disabled, higashi_liaisons()));
}

TEST(NoticeAccess, OfficerIdsMatchExactlyNotAsPatterns) {
  const auto n = notice("coordinator", "01103", {"kita_liaison-1"});
  EXPECT_FALSE(may_read(account(Role::liaison, "kita%liaison-1", "01102"), n));
  EXPECT_FALSE(may_read(account(Role::liaison, "kita", "01102"), n));
}

}  // namespace
