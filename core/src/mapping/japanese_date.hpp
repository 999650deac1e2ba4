// Dates as the four municipal systems write them (SYSTEMS.md, "Shared codes"): ISO, compact,
// Japanese era dates in letter, kanji and the education system's 7-digit form, and the date-times
// of the health centre (HL7 TS) and child guidance (ISO-8601).
//
// Everything here is pure and thread-safe. Parse functions never throw for bad input: they return
// a result whose `error` says why, in a sentence a person fixing the source data can act on.
#pragma once

#include <compare>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace tsunagu::mapping {

// A proleptic Gregorian calendar date.
struct CivilDate {
  int year = 0;
  unsigned month = 0;
  unsigned day = 0;

  // Written out because clang-tidy misreads the defaulted <=> (modernize-use-nullptr).
  std::strong_ordering operator<=>(const CivilDate& other) const {
    if (year != other.year) return year <=> other.year;
    if (month != other.month) return month <=> other.month;
    return day <=> other.day;
  }
  bool operator==(const CivilDate&) const = default;
  std::string iso() const;  // YYYY-MM-DD
};

// The written forms a date or date-time field may accept; a mapping lists them per field.
enum class DateForm : std::uint8_t {
  iso,               // 2019-06-05
  compact,           // 20190605
  era_letter,        // R1.06.05, R01.06.05, H31.04.30 (M, T, S, H, R)
  era_kanji,         // 令和元年6月5日, 平成31年4月30日 (half- or full-width digits)
  era_digit,         // 5010605: era digit (1 明治 … 5 令和) then YYMMDD — education system
  iso_datetime,      // 2019-05-15T21:30:00+09:00
  compact_datetime,  // 20190605213000+0900 — HL7 TS as the health centre writes it
};

// The mapping vocabulary's name for a form ("era-letter"), and back.
std::string_view to_string(DateForm form) noexcept;
std::optional<DateForm> date_form_from_string(std::string_view name) noexcept;
// A sample value of the form, for error messages ("R1.06.05").
std::string_view example_of(DateForm form) noexcept;
// True for the five forms that carry no time of day.
bool is_date_only(DateForm form) noexcept;

// A set of DateForm.
class DateForms {
 public:
  constexpr DateForms() = default;
  constexpr DateForms(std::initializer_list<DateForm> forms) {
    for (DateForm f : forms) insert(f);
  }
  static constexpr DateForms all_dates() {
    return {DateForm::iso, DateForm::compact, DateForm::era_letter, DateForm::era_kanji,
            DateForm::era_digit};
  }
  static constexpr DateForms all() {
    DateForms forms = all_dates();
    forms.insert(DateForm::iso_datetime);
    forms.insert(DateForm::compact_datetime);
    return forms;
  }

  constexpr DateForms& insert(DateForm form) {
    bits_ |= bit(form);
    return *this;
  }
  constexpr bool contains(DateForm form) const { return (bits_ & bit(form)) != 0; }
  constexpr bool empty() const { return bits_ == 0; }
  constexpr bool operator==(const DateForms&) const = default;
  // "era-letter, era-kanji, iso" in declaration order of DateForm.
  std::string to_string() const;

 private:
  static constexpr unsigned bit(DateForm form) { return 1U << static_cast<unsigned>(form); }
  unsigned bits_ = 0;
};

// A Japanese era as the systems use it. Year 1 of an era (元年) begins on `start`; the era ends the
// day before the next era's start.
struct Era {
  std::string_view name;  // 明治
  char letter;            // 'M'
  int digit;              // 1 (education system)
  CivilDate start;
};
// 明治, 大正, 昭和, 平成, 令和 — oldest first.
std::span<const Era> eras() noexcept;

bool is_leap_year(int year) noexcept;
// 0 for a month outside 1–12.
unsigned days_in_month(int year, unsigned month) noexcept;

struct DateResult {
  CivilDate date;
  DateForm form = DateForm::iso;  // the form the text was written in (when recognised)
  std::string error;              // empty on success

  bool ok() const noexcept { return error.empty(); }
};

// Parses a date written in one of `accepted` (date-only forms; others in the set are ignored).
// Era dates are checked against their era: a date before the era's start, or on/after the next
// era's start, is rejected — real systems never write 平成31年5月1日, so such a value is a data
// error.
DateResult parse_date(std::string_view text, DateForms accepted = DateForms::all_dates());

struct DateTimeResult {
  std::string iso;  // YYYY-MM-DDTHH:MM:SS+09:00
  DateForm form = DateForm::iso_datetime;
  std::string error;  // empty on success

  bool ok() const noexcept { return error.empty(); }
};

// Parses a date-time written in one of `accepted`; a date-only form means midnight in Asia/Tokyo.
// The result is normalised to +09:00 (Asia/Tokyo has had no daylight saving since 1951), so that
// events from different systems compare as text. A value without an offset is local Japanese time;
// fractions of a second are dropped (the canonical event keeps seconds).
DateTimeResult parse_datetime(std::string_view text, DateForms accepted = DateForms::all());

}  // namespace tsunagu::mapping
