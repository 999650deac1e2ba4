#include <string>

#include <gtest/gtest.h>

#include <mapping/japanese_date.hpp>

namespace tsunagu::mapping {
namespace {

// The ISO date `text` parses to, or "error: <reason>".
std::string date(const std::string& text, DateForms accepted = DateForms::all_dates()) {
  const DateResult result = parse_date(text, accepted);
  return result.ok() ? result.date.iso() : "error: " + result.error;
}

std::string datetime(const std::string& text, DateForms accepted = DateForms::all()) {
  const DateTimeResult result = parse_datetime(text, accepted);
  return result.ok() ? result.iso : "error: " + result.error;
}

::testing::AssertionResult rejected_because(const std::string& text, const std::string& reason) {
  const DateResult result = parse_date(text);
  if (result.ok()) {
    return ::testing::AssertionFailure() << text << " was accepted as " << result.date.iso();
  }
  if (result.error.find(reason) == std::string::npos) {
    return ::testing::AssertionFailure()
           << text << " was rejected with \"" << result.error << "\", not \"" << reason << "\"";
  }
  return ::testing::AssertionSuccess();
}

TEST(JapaneseDate, EraTableMatchesTheSharedCodes) {
  ASSERT_EQ(eras().size(), 5U);
  EXPECT_EQ(eras()[0].name, "明治");
  EXPECT_EQ(eras()[0].start, (CivilDate{1868, 10, 23}));
  EXPECT_EQ(eras()[1].start, (CivilDate{1912, 7, 30}));
  EXPECT_EQ(eras()[2].start, (CivilDate{1926, 12, 25}));
  EXPECT_EQ(eras()[3].start, (CivilDate{1989, 1, 8}));
  EXPECT_EQ(eras()[4].name, "令和");
  EXPECT_EQ(eras()[4].letter, 'R');
  EXPECT_EQ(eras()[4].digit, 5);
  EXPECT_EQ(eras()[4].start, (CivilDate{2019, 5, 1}));
}

TEST(JapaneseDate, GregorianForms) {
  EXPECT_EQ(date("2019-06-05"), "2019-06-05");
  EXPECT_EQ(date("20190605"), "2019-06-05");
}

TEST(JapaneseDate, EraLetterForms) {
  EXPECT_EQ(date("R1.06.05"), "2019-06-05");
  EXPECT_EQ(date("R01.06.05"), "2019-06-05");
  EXPECT_EQ(date("R1.6.5"), "2019-06-05");
  EXPECT_EQ(date("H31.04.30"), "2019-04-30");
  EXPECT_EQ(date("S60.01.15"), "1985-01-15");
  EXPECT_EQ(date("T10.03.01"), "1921-03-01");
  EXPECT_EQ(date("M44.12.31"), "1911-12-31");
}

TEST(JapaneseDate, EraKanjiForms) {
  EXPECT_EQ(date("令和元年6月5日"), "2019-06-05");
  EXPECT_EQ(date("令和1年6月5日"), "2019-06-05");
  EXPECT_EQ(date("平成31年4月30日"), "2019-04-30");
  EXPECT_EQ(date("昭和60年1月15日"), "1985-01-15");
  EXPECT_EQ(date("令和5年12月01日"), "2023-12-01");
}

TEST(JapaneseDate, FullWidthDigitsInKanjiForm) {
  EXPECT_EQ(date("令和元年６月５日"), "2019-06-05");
  EXPECT_EQ(date("平成３１年４月３０日"), "2019-04-30");
  EXPECT_EQ(date("令和２年１２月３１日"), "2020-12-31");
  EXPECT_EQ(date("令和2年１2月3１日"), "2020-12-31");  // mixed widths, as typed in practice
}

TEST(JapaneseDate, EducationSevenDigitForm) {
  EXPECT_EQ(date("5010605"), "2019-06-05");
  EXPECT_EQ(date("4310430"), "2019-04-30");
  EXPECT_EQ(date("3640107"), "1989-01-07");
  EXPECT_EQ(date("2010730"), "1912-07-30");
  EXPECT_EQ(date("1450729"), "1912-07-29");
  EXPECT_TRUE(rejected_because("1451231", "is after the end of 明治 (大正 began 1912-07-30)"));
  EXPECT_TRUE(rejected_because("4310501", "is after the end of 平成 (令和 began 2019-05-01)"));
  EXPECT_TRUE(rejected_because("6010101", "unknown era digit 6"));
  EXPECT_TRUE(rejected_because("0010101", "unknown era digit 0"));
  EXPECT_TRUE(rejected_because("5000605", "there is no year 0 of 令和"));
}

// Every era's first day is valid in it, and the day before is rejected in it but valid as the
// last day of the era before.
TEST(JapaneseDate, EraStartDaysAndTheDayBefore) {
  EXPECT_EQ(date("M1.10.23"), "1868-10-23");
  EXPECT_EQ(date("明治元年10月23日"), "1868-10-23");
  EXPECT_TRUE(rejected_because("M1.10.22", "is before the start of 明治 (1868-10-23)"));

  EXPECT_EQ(date("T1.07.30"), "1912-07-30");
  EXPECT_EQ(date("大正元年7月30日"), "1912-07-30");
  EXPECT_TRUE(rejected_because("T1.07.29", "is before the start of 大正 (1912-07-30)"));
  EXPECT_EQ(date("M45.07.29"), "1912-07-29");

  EXPECT_EQ(date("S1.12.25"), "1926-12-25");
  EXPECT_EQ(date("昭和元年12月25日"), "1926-12-25");
  EXPECT_TRUE(rejected_because("S1.12.24", "is before the start of 昭和 (1926-12-25)"));
  EXPECT_EQ(date("T15.12.24"), "1926-12-24");

  EXPECT_EQ(date("H1.01.08"), "1989-01-08");
  EXPECT_EQ(date("平成元年1月8日"), "1989-01-08");
  EXPECT_TRUE(rejected_because("H1.01.07", "is before the start of 平成 (1989-01-08)"));
  EXPECT_EQ(date("S64.01.07"), "1989-01-07");

  EXPECT_EQ(date("R1.05.01"), "2019-05-01");
  EXPECT_EQ(date("令和元年5月1日"), "2019-05-01");
  EXPECT_EQ(date("5010501"), "2019-05-01");
  EXPECT_TRUE(rejected_because("令和元年4月30日", "is before the start of 令和 (2019-05-01)"));
  EXPECT_TRUE(rejected_because("R1.04.30", "is before the start of 令和 (2019-05-01)"));
  EXPECT_EQ(date("H31.04.30"), "2019-04-30");
}

// The next era's first day written in the old era is a data error, not a silent conversion.
TEST(JapaneseDate, LastDayOfEachEraAndTheDayAfter) {
  EXPECT_EQ(date("M45.07.29"), "1912-07-29");
  EXPECT_TRUE(rejected_because("M45.07.30", "is after the end of 明治 (大正 began 1912-07-30)"));
  EXPECT_EQ(date("T15.12.24"), "1926-12-24");
  EXPECT_TRUE(rejected_because("T15.12.25", "is after the end of 大正 (昭和 began 1926-12-25)"));
  EXPECT_EQ(date("S64.01.07"), "1989-01-07");
  EXPECT_TRUE(rejected_because("S64.01.08", "is after the end of 昭和 (平成 began 1989-01-08)"));
  EXPECT_EQ(date("昭和64年1月7日"), "1989-01-07");
  EXPECT_TRUE(rejected_because("昭和64年1月8日", "is after the end of 昭和"));
  EXPECT_EQ(date("H31.04.30"), "2019-04-30");
  EXPECT_EQ(parse_date("H31.05.01").error,
            "H31.05.01 is after the end of 平成 (令和 began 2019-05-01)");
  EXPECT_TRUE(rejected_because("平成31年5月1日", "is after the end of 平成"));
  EXPECT_TRUE(rejected_because("H32.01.01", "is after the end of 平成"));
  EXPECT_TRUE(rejected_because("S65.01.01", "is after the end of 昭和"));
  // 令和 has no end yet.
  EXPECT_EQ(date("R99.12.31"), "2117-12-31");
}

TEST(JapaneseDate, ImpossibleDays) {
  EXPECT_EQ(parse_date("R1.02.30").error, "R1.02.30 is not a real date (2019-02 has 28 days)");
  EXPECT_TRUE(rejected_because("R1.04.31", "(2019-04 has 30 days)"));
  EXPECT_TRUE(rejected_because("R1.06.00", "is not a real date"));
  EXPECT_TRUE(rejected_because("R1.13.01", "there is no month 13"));
  EXPECT_TRUE(rejected_because("R1.00.10", "there is no month 0"));
  EXPECT_TRUE(rejected_because("2019-06-31", "(2019-06 has 30 days)"));
  EXPECT_TRUE(rejected_because("20190732", "(2019-07 has 31 days)"));
  EXPECT_TRUE(rejected_because("令和元年9月31日", "is not a real date"));
}

TEST(JapaneseDate, LeapYears) {
  EXPECT_TRUE(is_leap_year(2020));
  EXPECT_TRUE(is_leap_year(2000));
  EXPECT_FALSE(is_leap_year(2019));
  EXPECT_FALSE(is_leap_year(1900));
  EXPECT_EQ(days_in_month(2020, 2), 29U);
  EXPECT_EQ(days_in_month(1900, 2), 28U);
  EXPECT_EQ(days_in_month(2019, 13), 0U);

  EXPECT_EQ(date("2020-02-29"), "2020-02-29");
  EXPECT_EQ(date("R2.02.29"), "2020-02-29");
  EXPECT_EQ(date("5020229"), "2020-02-29");
  EXPECT_EQ(date("2000-02-29"), "2000-02-29");
  EXPECT_EQ(date("H12.02.29"), "2000-02-29");
  EXPECT_TRUE(rejected_because("2019-02-29", "(2019-02 has 28 days)"));
  EXPECT_TRUE(rejected_because("H31.02.29", "(2019-02 has 28 days)"));
  EXPECT_TRUE(rejected_because("1900-02-29", "(1900-02 has 28 days)"));
  EXPECT_TRUE(rejected_because("M33.02.29", "(1900-02 has 28 days)"));
}

TEST(JapaneseDate, YearZero) {
  EXPECT_TRUE(rejected_because("R0.06.05", "there is no year 0 of 令和"));
  EXPECT_TRUE(rejected_because("令和0年6月5日", "there is no year 0 of 令和"));
  EXPECT_TRUE(rejected_because("H00.01.08", "there is no year 0 of 平成"));
  EXPECT_TRUE(rejected_because("0000-06-05", "there is no year 0"));
  EXPECT_TRUE(rejected_because("00000605", "there is no year 0"));
}

TEST(JapaneseDate, MalformedText) {
  EXPECT_TRUE(rejected_because("", "is not a date in an accepted form"));
  EXPECT_TRUE(rejected_because("yesterday", "is not a date in an accepted form"));
  EXPECT_TRUE(rejected_because("2019/06/05", "is not a date in an accepted form"));
  EXPECT_TRUE(rejected_because(" 2019-06-05", "is not a date in an accepted form"));
  EXPECT_TRUE(rejected_because("R1.06", "is not a valid era-letter date (e.g. R1.06.05)"));
  EXPECT_TRUE(rejected_because("R1.06.05x", "is not a valid era-letter date"));
  EXPECT_TRUE(rejected_because("R123.06.05", "is not a valid era-letter date"));
  EXPECT_TRUE(rejected_because("R元.06.05", "is not a date in an accepted form"));
  EXPECT_TRUE(rejected_because("X1.06.05", "unknown era letter 'X'"));
  EXPECT_TRUE(rejected_because("r1.06.05", "unknown era letter 'r'"));
  EXPECT_TRUE(rejected_because("令和元年6月5", "is not a valid era-kanji date"));
  EXPECT_TRUE(rejected_because("令和元年6月5日です", "is not a valid era-kanji date"));
  EXPECT_TRUE(rejected_because("令和年6月5日", "is not a valid era-kanji date"));
  EXPECT_TRUE(rejected_because("2019-6-5", "is not a valid iso date"));
  EXPECT_TRUE(rejected_because("201906051", "is not a date in an accepted form"));
}

TEST(JapaneseDate, LongGarbageIsCutInTheMessage) {
  const std::string garbage(500, 'x');
  const DateResult result = parse_date(garbage);
  ASSERT_FALSE(result.ok());
  EXPECT_LT(result.error.size(), 200U);
}

TEST(JapaneseDate, OnlyTheAcceptedFormsParse) {
  const DateForms iso_only{DateForm::iso};
  EXPECT_EQ(date("2019-06-05", iso_only), "2019-06-05");
  EXPECT_EQ(parse_date("20190605", iso_only).error,
            "'20190605' is written in compact form, which this field does not accept "
            "(accepted: iso)");
  const DateForms pa{DateForm::era_letter, DateForm::era_kanji, DateForm::iso};
  EXPECT_EQ(date("R1.06.05", pa), "2019-06-05");
  EXPECT_NE(date("5010605", pa).find("era-digit form"), std::string::npos);
  // A date-time is not a date.
  EXPECT_NE(date("20190605213000+0900").find("compact-datetime form"), std::string::npos);
}

TEST(JapaneseDate, FormNames) {
  EXPECT_EQ(to_string(DateForm::era_kanji), "era-kanji");
  EXPECT_EQ(date_form_from_string("era-digit"), DateForm::era_digit);
  EXPECT_EQ(date_form_from_string("era_digit"), std::nullopt);
  EXPECT_EQ((DateForms{DateForm::iso, DateForm::era_letter}).to_string(), "iso, era-letter");
  EXPECT_TRUE(is_date_only(DateForm::era_digit));
  EXPECT_FALSE(is_date_only(DateForm::compact_datetime));
}

TEST(JapaneseDateTime, HealthCentreCompactForm) {
  EXPECT_EQ(datetime("20190605213000+0900"), "2019-06-05T21:30:00+09:00");
  EXPECT_EQ(datetime("201906052130+0900"), "2019-06-05T21:30:00+09:00");
  EXPECT_EQ(datetime("2019060521"), "2019-06-05T21:00:00+09:00");
  EXPECT_EQ(datetime("20190605213000"), "2019-06-05T21:30:00+09:00");  // local time
  EXPECT_EQ(datetime("20190605213000.123+0900"), "2019-06-05T21:30:00+09:00");
  EXPECT_EQ(datetime("20190605+0900"), "2019-06-05T00:00:00+09:00");
  EXPECT_EQ(datetime("20190605123000+0000"), "2019-06-05T21:30:00+09:00");
}

TEST(JapaneseDateTime, ChildGuidanceIsoForm) {
  EXPECT_EQ(datetime("2019-05-15T21:30:00+09:00"), "2019-05-15T21:30:00+09:00");
  EXPECT_EQ(datetime("2019-05-15T12:30:00Z"), "2019-05-15T21:30:00+09:00");
  EXPECT_EQ(datetime("2019-05-15T12:30:00.5Z"), "2019-05-15T21:30:00+09:00");
  EXPECT_EQ(datetime("2019-05-15T21:30+09:00"), "2019-05-15T21:30:00+09:00");
  // Crossing midnight and a month end when moved to Asia/Tokyo.
  EXPECT_EQ(datetime("2019-05-31T20:00:00-05:00"), "2019-06-01T10:00:00+09:00");
  EXPECT_EQ(datetime("2020-02-28T20:00:00Z"), "2020-02-29T05:00:00+09:00");
}

TEST(JapaneseDateTime, DateOnlyValuesAreMidnightInTokyo) {
  EXPECT_EQ(datetime("2019-06-05"), "2019-06-05T00:00:00+09:00");
  EXPECT_EQ(datetime("20190605"), "2019-06-05T00:00:00+09:00");
  EXPECT_EQ(datetime("R1.06.05"), "2019-06-05T00:00:00+09:00");
  EXPECT_EQ(datetime("令和元年6月5日"), "2019-06-05T00:00:00+09:00");
  EXPECT_EQ(datetime("5010605"), "2019-06-05T00:00:00+09:00");
  const DateTimeResult result = parse_datetime("H31.05.01");
  EXPECT_EQ(result.error, "H31.05.01 is after the end of 平成 (令和 began 2019-05-01)");
}

TEST(JapaneseDateTime, Rejections) {
  EXPECT_NE(datetime("2019-05-15T24:00:00+09:00").find("is not a real time of day"),
            std::string::npos);
  EXPECT_NE(datetime("2019-05-15T21:60:00+09:00").find("is not a real time of day"),
            std::string::npos);
  EXPECT_NE(datetime("20190230213000+0900").find("20190230 is not a real date (2019-02 has 28"),
            std::string::npos);
  EXPECT_NE(datetime("2019-05-15T21:30:00+0900").find("is not a valid iso-datetime"),
            std::string::npos);
  EXPECT_NE(datetime("2019-05-15T21:30:00+25:00").find("impossible UTC offset"), std::string::npos);
  EXPECT_NE(datetime("2019-05-15 21:30:00").find("is not a valid iso date"), std::string::npos);
  EXPECT_NE(datetime("2019-05-15T21:30:00+09:00",
                     DateForms{DateForm::compact_datetime, DateForm::compact})
                .find("iso-datetime form, which this field does not accept"),
            std::string::npos);
}

}  // namespace
}  // namespace tsunagu::mapping
