#include "routing/calendar.hpp"

#include <cstdlib>

#include <gtest/gtest.h>

#include "routing_test_support.hpp"

namespace {

using tsunagu::TimePoint;
using tsunagu::routing::Calendar;
using tsunagu::routing::Deadline;
using tsunagu::routing::format_jst;
using tsunagu::routing::format_jst_japanese;
using tsunagu::routing::parse_duration;
using tsunagu::routing::parse_iso;

TimePoint at(const std::string& jst) {
  return parse_iso(jst + "+09:00");
}

Deadline office(const std::string& iso) {
  auto d = parse_duration(iso);
  d->clock = Deadline::Clock::office_hours;
  return *d;
}

// The fixture's roster (Mon–Fri 08:45–17:15; 2019-09-23 a holiday) plus emergency-team officers
// with a Friday night shift and a holiday-only slot.
class CalendarTest : public ::testing::Test {
 protected:
  CalendarTest() {
    tsunagu_test::replace_in(fixture_.roster,
                             R"(<officer id="emergency" role="cg_emergency" name="丁野　四郎">
      <duty days="sun mon tue wed thu fri sat" from="00:00" to="24:00"/>
    </officer>)",
                             R"(<officer id="night" role="cg_emergency" name="丁野　四郎">
      <duty days="fri" from="17:15" to="08:45"/>
    </officer>
    <officer id="holiday" role="cg_emergency" name="戊野　五子">
      <duty holidays="only" from="00:00" to="24:00"/>
    </officer>
    <officer id="retired" role="cg_emergency" name="己野　六郎" active="false">
      <duty days="sun mon tue wed thu fri sat" from="00:00" to="24:00"/>
    </officer>)");
    config_ = fixture_.load();
  }
  Calendar calendar() const { return Calendar(config_.roster, config_.holidays); }

  std::vector<std::string> on_duty(const std::string& jst) const {
    std::vector<std::string> ids;
    for (const auto* o : calendar().on_duty("cg_emergency", at(jst))) ids.push_back(o->id);
    return ids;
  }

  tsunagu_test::RoutingFixture fixture_;
  tsunagu::routing::RoutingConfig config_;
};

TEST_F(CalendarTest, OfficeHoursAreWeekdaysBetween0845And1715) {
  const auto c = calendar();
  EXPECT_FALSE(c.in_office_hours(at("2019-06-10T08:44:59")));  // Monday
  EXPECT_TRUE(c.in_office_hours(at("2019-06-10T08:45:00")));
  EXPECT_TRUE(c.in_office_hours(at("2019-06-10T17:14:59")));
  EXPECT_FALSE(c.in_office_hours(at("2019-06-10T17:15:00")));
  EXPECT_FALSE(c.in_office_hours(at("2019-06-08T10:00:00")));  // Saturday
  EXPECT_FALSE(c.in_office_hours(at("2019-09-23T10:00:00")));  // 秋分の日, a Monday
  EXPECT_TRUE(c.is_holiday(at("2019-09-23T00:00:00")));
  EXPECT_TRUE(c.is_holiday(at("2019-09-23T23:59:59")));
  EXPECT_FALSE(c.is_holiday(at("2019-09-24T00:00:00")));
  // 2019-09-22 15:00Z is already 2019-09-23 00:00 in Japan.
  EXPECT_TRUE(c.is_holiday(parse_iso("2019-09-22T15:00:00Z")));
}

TEST_F(CalendarTest, WallClockDeadlineIsPlainAddition) {
  auto d = parse_duration("PT48H");
  EXPECT_EQ(format_jst(calendar().due(at("2019-06-07T18:00:00"), *d)), "2019-06-09T18:00:00+09:00");
}

TEST_F(CalendarTest, FridayEveningStartOfOneOfficeDayLandsOnMonday) {
  EXPECT_EQ(format_jst(calendar().due(at("2019-06-07T18:00:00"), office("P1D"))),
            "2019-06-10T17:15:00+09:00");
  // Started within office hours: the rest of Friday, then Monday morning.
  EXPECT_EQ(format_jst(calendar().due(at("2019-06-07T16:00:00"), office("P1D"))),
            "2019-06-10T16:00:00+09:00");
  EXPECT_EQ(format_jst(calendar().due(at("2019-06-07T16:00:00"), office("PT4H"))),
            "2019-06-10T11:30:00+09:00");
  // Saturday counts from Monday's opening too.
  EXPECT_EQ(format_jst(calendar().due(at("2019-06-08T03:00:00"), office("P1DT1H"))),
            "2019-06-11T09:45:00+09:00");
}

TEST_F(CalendarTest, AHolidayMondayIsSkippedToTuesday) {
  EXPECT_EQ(format_jst(calendar().due(at("2019-09-20T18:00:00"), office("P1D"))),
            "2019-09-24T17:15:00+09:00");
  EXPECT_EQ(format_jst(calendar().due(at("2019-09-20T17:00:00"), office("PT30M"))),
            "2019-09-24T09:00:00+09:00");
  EXPECT_EQ(format_jst(calendar().due(at("2019-09-19T10:00:00"), office("P2D"))),
            "2019-09-24T10:00:00+09:00");
}

TEST_F(CalendarTest, ANightShiftStartedFridayCoversSaturdayMorning) {
  EXPECT_EQ(on_duty("2019-06-08T02:00:00"), std::vector<std::string>{"night"});
  EXPECT_EQ(on_duty("2019-06-07T17:15:00"), std::vector<std::string>{"night"});
  EXPECT_TRUE(on_duty("2019-06-08T08:45:00").empty());
  EXPECT_TRUE(on_duty("2019-06-07T17:14:00").empty());
  EXPECT_TRUE(on_duty("2019-06-09T02:00:00").empty());  // Sunday: Saturday has no shift
}

TEST_F(CalendarTest, HolidayOnlySlotsAreOnHolidaysOnly) {
  EXPECT_EQ(on_duty("2019-09-23T12:00:00"), std::vector<std::string>{"holiday"});
  EXPECT_EQ(on_duty("2019-09-23T00:00:00"), std::vector<std::string>{"holiday"});
  EXPECT_TRUE(on_duty("2019-09-24T12:00:00").empty());
  EXPECT_TRUE(on_duty("2019-09-22T12:00:00").empty());  // a Sunday is not a public holiday
}

TEST_F(CalendarTest, OfficersWithoutDutySlotsAreOnDutyInOfficeHours) {
  const auto c = calendar();
  EXPECT_EQ(c.on_duty("liaison", at("2019-06-10T10:00:00")).size(), 2u);
  EXPECT_TRUE(c.on_duty("liaison", at("2019-06-10T20:00:00")).empty());
  EXPECT_TRUE(c.on_duty("liaison", at("2019-09-23T10:00:00")).empty());
}

TEST(JapanTime, FormatAndParseDoNotDependOnTheMachinesTimeZone) {
  ::setenv("TZ", "America/New_York", 1);
  const TimePoint t = parse_iso("2019-06-05T12:30:00Z");
  EXPECT_EQ(format_jst(t), "2019-06-05T21:30:00+09:00");
  EXPECT_EQ(format_jst_japanese(t), "2019年6月5日(水) 21:30");
  EXPECT_EQ(parse_iso("2019-06-05T21:30:00+09:00"), t);
  EXPECT_EQ(parse_iso("2019-06-05T21:30:00+0900"), t);
  EXPECT_EQ(parse_iso("2019-06-05T21:30"), t);  // no offset: Japan time
  EXPECT_EQ(parse_iso("2019-06-05 21:30:00.250+09:00"), t);
  EXPECT_EQ(parse_iso("2019-06-05T08:30:00-04:00"), t);
  EXPECT_EQ(format_jst(parse_iso("2019-06-05")), "2019-06-05T00:00:00+09:00");
  EXPECT_EQ(format_jst_japanese(parse_iso("2020-01-01T00:05:00+09:00")), "2020年1月1日(水) 00:05");
  ::unsetenv("TZ");
}

TEST(JapanTime, ParseRefusesWhatIsNotADateTime) {
  for (const char* bad : {"", "2019-6-5", "2019-02-30", "2019-06-05T25:00", "2019-06-05T21:30+9",
                          "2019-06-05X21:30", "yesterday", "2019-06-05T21:30:00+09:00junk"}) {
    EXPECT_THROW(parse_iso(bad), std::invalid_argument) << bad;
  }
  try {
    parse_iso("2019-02-30");
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("2019-02-30"), std::string::npos);
  }
}

}  // namespace
