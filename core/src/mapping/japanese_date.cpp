#include "mapping/japanese_date.hpp"

#include <array>
#include <chrono>
#include <cstdio>

namespace tsunagu::mapping {
namespace {

constexpr std::array<Era, 5> kEras{{
    {"明治", 'M', 1, {1868, 10, 23}},
    {"大正", 'T', 2, {1912, 7, 30}},
    {"昭和", 'S', 3, {1926, 12, 25}},
    {"平成", 'H', 4, {1989, 1, 8}},
    {"令和", 'R', 5, {2019, 5, 1}},
}};

struct FormInfo {
  DateForm form;
  std::string_view name;
  std::string_view example;
};

constexpr std::array<FormInfo, 7> kForms{{
    {DateForm::iso, "iso", "2019-06-05"},
    {DateForm::compact, "compact", "20190605"},
    {DateForm::era_letter, "era-letter", "R1.06.05"},
    {DateForm::era_kanji, "era-kanji", "令和元年6月5日"},
    {DateForm::era_digit, "era-digit", "5010605"},
    {DateForm::iso_datetime, "iso-datetime", "2019-05-15T21:30:00+09:00"},
    {DateForm::compact_datetime, "compact-datetime", "20190605213000+0900"},
}};

// Asia/Tokyo's offset; the canonical event writes every instant in it.
constexpr int kTokyoOffsetMinutes = 9 * 60;

bool is_ascii_digit(char c) {
  return c >= '0' && c <= '9';
}

// Quotes a value for an error message; long values are cut (at a UTF-8 character boundary) so
// that one bad field cannot flood an error report.
std::string quoted(std::string_view text) {
  constexpr std::size_t kMax = 40;
  if (text.size() <= kMax) return "'" + std::string(text) + "'";
  std::size_t cut = kMax;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return "'" + std::string(text.substr(0, cut)) + "…'";
}

// Reads a date or time left to right. Once a step fails every later step fails too, so a parser
// is a straight run of steps with one check at the end.
class Cursor {
 public:
  Cursor(std::string_view text, std::size_t pos) : text_(text), pos_(pos) {}

  // Reads between min_count and max_count decimal digits; full-width digits (０–９, as the kanji
  // form is often typed) count when allowed. Returns 0 and fails when fewer than min_count.
  unsigned number(int min_count, int max_count, bool full_width_ok = false) {
    unsigned value = 0;
    int count = 0;
    while (ok_ && count < max_count && pos_ < text_.size()) {
      const auto next = static_cast<unsigned char>(pos_ + 2 < text_.size() ? text_[pos_ + 2] : 0);
      if (is_ascii_digit(text_[pos_])) {
        value = value * 10 + static_cast<unsigned>(text_[pos_] - '0');
        pos_ += 1;
      } else if (full_width_ok && text_.substr(pos_, 2) == "\xEF\xBC" && next >= 0x90 &&
                 next <= 0x99) {
        value = value * 10 + (next - 0x90U);
        pos_ += 3;
      } else {
        break;
      }
      ++count;
    }
    if (count < min_count) ok_ = false;
    return ok_ ? value : 0;
  }

  // Consumes `token` or fails.
  void expect(std::string_view token) {
    if (!accept(token)) ok_ = false;
  }
  // Consumes `token` if it comes next.
  bool accept(std::string_view token) {
    if (!ok_ || text_.substr(pos_, token.size()) != token) return false;
    pos_ += token.size();
    return true;
  }
  bool at_digit() const { return ok_ && pos_ < text_.size() && is_ascii_digit(text_[pos_]); }
  bool at_end() const { return pos_ == text_.size(); }
  void skip_digits() {
    while (at_digit()) ++pos_;
  }
  void fail() { ok_ = false; }
  bool ok() const { return ok_; }
  std::size_t pos() const { return pos_; }

 private:
  std::string_view text_;
  std::size_t pos_;
  bool ok_ = true;
};

// What a form parser found, before calendar checks.
struct RawDate {
  const Era* era = nullptr;  // null for Gregorian forms
  unsigned year = 0;         // era year when era != null
  unsigned month = 0;
  unsigned day = 0;
};

struct RawTime {
  unsigned hour = 0;
  unsigned minute = 0;
  unsigned second = 0;
  int offset_minutes = kTokyoOffsetMinutes;  // east of UTC
};

// Recognises the form from the value's shape. The forms are told apart by their first characters
// and digit counts, so no value is ambiguous.
std::optional<DateForm> detect_form(std::string_view text) {
  if (text.empty()) return std::nullopt;
  const char first = text[0];
  if (((first >= 'A' && first <= 'Z') || (first >= 'a' && first <= 'z')) && text.size() > 1 &&
      is_ascii_digit(text[1])) {
    return DateForm::era_letter;
  }
  for (const Era& era : kEras) {
    if (text.starts_with(era.name)) return DateForm::era_kanji;
  }
  std::size_t digits = 0;
  while (digits < text.size() && is_ascii_digit(text[digits])) ++digits;
  if (digits == 4 && text.size() > 4 && text[4] == '-') {
    return text.find('T') == std::string_view::npos ? DateForm::iso : DateForm::iso_datetime;
  }
  if (digits == text.size()) {
    switch (digits) {
      case 7:
        return DateForm::era_digit;
      case 8:
        return DateForm::compact;
      case 10:
      case 12:
      case 14:
        return DateForm::compact_datetime;
      default:
        return std::nullopt;
    }
  }
  const char next = text[digits];
  if (digits >= 8 && (next == '+' || next == '-' || next == '.' || next == 'Z')) {
    return DateForm::compact_datetime;
  }
  return std::nullopt;
}

const Era* era_by_letter(char letter) {
  for (const Era& era : kEras) {
    if (era.letter == letter) return &era;
  }
  return nullptr;
}

std::string era_letter_list() {
  std::string list;
  for (const Era& era : kEras) {
    if (!list.empty()) list += ", ";
    list += era.letter;
    list += ' ';
    list += era.name;
  }
  return list;
}

std::string malformed(std::string_view text, DateForm form) {
  return quoted(text) + " is not a valid " + std::string(to_string(form)) + " date (e.g. " +
         std::string(example_of(form)) + ")";
}

// Parses the date part of `text` in `form`; sets `end` to where it stops. Returns an error
// message, empty on success.
std::string parse_raw_date(std::string_view text, DateForm form, std::size_t& end, RawDate& out) {
  Cursor in(text, 0);
  switch (form) {
    case DateForm::iso:
    case DateForm::iso_datetime:
      out.year = in.number(4, 4);
      in.expect("-");
      out.month = in.number(2, 2);
      in.expect("-");
      out.day = in.number(2, 2);
      break;
    case DateForm::compact:
    case DateForm::compact_datetime:
      out.year = in.number(4, 4);
      out.month = in.number(2, 2);
      out.day = in.number(2, 2);
      break;
    case DateForm::era_letter:
      out.era = era_by_letter(text[0]);
      if (out.era == nullptr) {
        return "unknown era letter '" + std::string(1, text[0]) + "' in " + quoted(text) + " (" +
               era_letter_list() + ")";
      }
      in = Cursor(text, 1);
      out.year = in.number(1, 2);
      in.expect(".");
      out.month = in.number(1, 2);
      in.expect(".");
      out.day = in.number(1, 2);
      break;
    case DateForm::era_kanji:
      for (const Era& era : kEras) {
        if (text.starts_with(era.name)) out.era = &era;
      }
      if (out.era == nullptr) return malformed(text, form);  // detect_form saw an era name
      in = Cursor(text, out.era->name.size());
      out.year = in.accept("元") ? 1 : in.number(1, 2, true);
      in.expect("年");
      out.month = in.number(1, 2, true);
      in.expect("月");
      out.day = in.number(1, 2, true);
      in.expect("日");
      break;
    case DateForm::era_digit: {
      const int digit = text[0] - '0';
      for (const Era& era : kEras) {
        if (era.digit == digit) out.era = &era;
      }
      if (out.era == nullptr) {
        return "unknown era digit " + std::string(1, text[0]) + " in " + quoted(text) +
               " (1 明治, 2 大正, 3 昭和, 4 平成, 5 令和)";
      }
      in = Cursor(text, 1);
      out.year = in.number(2, 2);
      out.month = in.number(2, 2);
      out.day = in.number(2, 2);
      break;
    }
  }
  if (!in.ok()) return malformed(text, form);
  end = in.pos();
  return {};
}

// Turns a parsed date into a Gregorian date, checking the calendar and the era's bounds.
std::string to_civil(std::string_view text, const RawDate& raw, CivilDate& out) {
  if (raw.year == 0) {
    if (raw.era != nullptr) {
      return std::string(text) + ": there is no year 0 of " + std::string(raw.era->name) +
             " (the first year is 1, also written 元)";
    }
    return std::string(text) + ": there is no year 0";
  }
  out.year = raw.era != nullptr ? raw.era->start.year + static_cast<int>(raw.year) - 1
                                : static_cast<int>(raw.year);
  out.month = raw.month;
  out.day = raw.day;
  if (raw.month < 1 || raw.month > 12) {
    return std::string(text) + " is not a real date (there is no month " +
           std::to_string(raw.month) + ")";
  }
  const unsigned last_day = days_in_month(out.year, out.month);
  if (raw.day < 1 || raw.day > last_day) {
    char month[16];
    std::snprintf(month, sizeof month, "%04d-%02u", out.year, out.month);
    return std::string(text) + " is not a real date (" + month + " has " +
           std::to_string(last_day) + " days)";
  }
  if (raw.era != nullptr) {
    if (out < raw.era->start) {
      return std::string(text) + " is before the start of " + std::string(raw.era->name) + " (" +
             raw.era->start.iso() + ")";
    }
    const Era* next = raw.era + 1;
    if (next != kEras.data() + kEras.size() && out >= next->start) {
      return std::string(text) + " is after the end of " + std::string(raw.era->name) + " (" +
             std::string(next->name) + " began " + next->start.iso() + ")";
    }
  }
  return {};
}

std::string not_in_any_form(std::string_view text, DateForms accepted) {
  std::string forms;
  for (const FormInfo& info : kForms) {
    if (!accepted.contains(info.form)) continue;
    if (!forms.empty()) forms += ", ";
    forms += std::string(info.name) + " " + std::string(info.example);
  }
  return quoted(text) + " is not a date in an accepted form (" + forms + ")";
}

std::string form_not_accepted(std::string_view text, DateForm form, DateForms accepted) {
  return std::string(text) + " is written in " + std::string(to_string(form)) +
         " form, which this field does not accept (accepted: " + accepted.to_string() + ")";
}

// Detects the form and checks that the field accepts it. Returns an error, empty on success.
std::string recognise(std::string_view text, DateForms accepted, DateForm& form) {
  const std::optional<DateForm> detected = detect_form(text);
  if (!detected) return not_in_any_form(text, accepted);
  form = *detected;
  if (!accepted.contains(form)) return form_not_accepted(quoted(text), form, accepted);
  return {};
}

// Parses the time of day and offset of a date-time after its date part (which ends at `pos`).
std::string parse_raw_time(std::string_view text, DateForm form, std::size_t pos, RawTime& out) {
  const bool iso = form == DateForm::iso_datetime;
  Cursor in(text, pos);
  bool has_seconds = false;
  if (iso) {
    in.expect("T");
    out.hour = in.number(2, 2);
    in.expect(":");
    out.minute = in.number(2, 2);
    if (in.accept(":")) {
      out.second = in.number(2, 2);
      has_seconds = true;
    }
  } else {
    // HL7 TS: YYYYMMDD[HH[MM[SS[.S…]]]] — each part optional from the right.
    if (in.at_digit()) out.hour = in.number(2, 2);
    if (in.at_digit()) out.minute = in.number(2, 2);
    if (in.at_digit()) {
      out.second = in.number(2, 2);
      has_seconds = true;
    }
  }
  if (has_seconds && in.accept(".")) {
    in.number(1, 1);
    in.skip_digits();
  }
  if (in.accept("Z")) {
    out.offset_minutes = 0;
  } else if (in.accept("+") || in.accept("-")) {
    const int sign = text[in.pos() - 1] == '-' ? -1 : 1;
    const unsigned hours = in.number(2, 2);
    if (iso) in.expect(":");
    const unsigned minutes = in.number(2, 2);
    if (in.ok() && (hours > 14 || minutes > 59)) {
      return std::string(text) + " has an impossible UTC offset";
    }
    out.offset_minutes = sign * static_cast<int>(hours * 60 + minutes);
  }
  if (!in.ok() || !in.at_end()) return malformed(text, form);
  if (out.hour > 23 || out.minute > 59 || out.second > 59) {
    return std::string(text) + " is not a real time of day";
  }
  return {};
}

std::string format_tokyo(const CivilDate& date, const RawTime& time, std::string& out) {
  using namespace std::chrono;
  const year_month_day ymd{year{date.year}, month{date.month}, day{date.day}};
  const sys_seconds utc = sys_days{ymd} + hours{time.hour} + minutes{time.minute} +
                          seconds{time.second} - minutes{time.offset_minutes};
  const sys_seconds tokyo = utc + minutes{kTokyoOffsetMinutes};
  const sys_days tokyo_day = floor<days>(tokyo);
  const year_month_day local{tokyo_day};
  const hh_mm_ss<seconds> clock{tokyo - tokyo_day};
  const int y = static_cast<int>(local.year());
  if (y < 1 || y > 9999) return "the instant falls outside years 1–9999";
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02uT%02d:%02d:%02d+09:00", y,
                static_cast<unsigned>(local.month()), static_cast<unsigned>(local.day()),
                static_cast<int>(clock.hours().count()), static_cast<int>(clock.minutes().count()),
                static_cast<int>(clock.seconds().count()));
  out = buffer;
  return {};
}

}  // namespace

std::string CivilDate::iso() const {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02u", year, month, day);
  return buffer;
}

std::string_view to_string(DateForm form) noexcept {
  for (const FormInfo& info : kForms) {
    if (info.form == form) return info.name;
  }
  return "unknown";
}

std::optional<DateForm> date_form_from_string(std::string_view name) noexcept {
  for (const FormInfo& info : kForms) {
    if (info.name == name) return info.form;
  }
  return std::nullopt;
}

std::string_view example_of(DateForm form) noexcept {
  for (const FormInfo& info : kForms) {
    if (info.form == form) return info.example;
  }
  return {};
}

bool is_date_only(DateForm form) noexcept {
  return form != DateForm::iso_datetime && form != DateForm::compact_datetime;
}

std::string DateForms::to_string() const {
  std::string out;
  for (const FormInfo& info : kForms) {
    if (!contains(info.form)) continue;
    if (!out.empty()) out += ", ";
    out += info.name;
  }
  return out;
}

std::span<const Era> eras() noexcept {
  return kEras;
}

bool is_leap_year(int year) noexcept {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

unsigned days_in_month(int year, unsigned month) noexcept {
  constexpr std::array<unsigned, 12> kDays{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12) return 0;
  return month == 2 && is_leap_year(year) ? 29 : kDays[month - 1];
}

DateResult parse_date(std::string_view text, DateForms accepted) {
  DateForms date_forms;
  for (const FormInfo& info : kForms) {
    if (is_date_only(info.form) && accepted.contains(info.form)) date_forms.insert(info.form);
  }
  DateResult result;
  result.error = recognise(text, date_forms, result.form);
  if (!result.ok()) return result;
  RawDate raw;
  std::size_t pos = 0;
  result.error = parse_raw_date(text, result.form, pos, raw);
  if (result.ok() && pos != text.size()) result.error = malformed(text, result.form);
  if (result.ok()) result.error = to_civil(text, raw, result.date);
  return result;
}

DateTimeResult parse_datetime(std::string_view text, DateForms accepted) {
  DateTimeResult result;
  result.error = recognise(text, accepted, result.form);
  if (!result.ok()) return result;
  if (is_date_only(result.form)) {
    const DateResult date = parse_date(text, accepted);
    if (!date.ok()) {
      result.error = date.error;
    } else {
      result.iso = date.date.iso() + "T00:00:00+09:00";
    }
    return result;
  }
  RawDate raw;
  std::size_t pos = 0;
  result.error = parse_raw_date(text, result.form, pos, raw);
  // Calendar errors name the date part, which is what the person has to fix.
  CivilDate date;
  if (result.ok()) result.error = to_civil(text.substr(0, pos), raw, date);
  RawTime time;
  if (result.ok()) result.error = parse_raw_time(text, result.form, pos, time);
  if (result.ok()) result.error = format_tokyo(date, time, result.iso);
  return result;
}

}  // namespace tsunagu::mapping
