// Japan time is UTC+09:00 all year (no daylight saving), so local dates and times are computed
// by shifting a time point by nine hours: nothing here reads the machine's time zone.
#include "routing/calendar.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <optional>
#include <stdexcept>

namespace tsunagu::routing {
namespace {

using std::chrono::days;
using std::chrono::minutes;
using std::chrono::seconds;
using std::chrono::sys_days;
using Local = std::chrono::sys_time<TimePoint::duration>;  // wall time in Japan, as if UTC

constexpr std::chrono::hours kJst{9};
// How far ahead an office-hours deadline looks for the next opening before giving up (a
// calendar without office hours): then the deadline runs on the wall clock instead.
constexpr int kSearchDays = 400;

Local to_local(TimePoint t) {
  return Local(t.time_since_epoch() + kJst);
}
TimePoint from_local(Local l) {
  return TimePoint(l.time_since_epoch() - kJst);
}

std::string date_text(sys_days d) {
  const std::chrono::year_month_day ymd(d);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return buf;
}

int weekday_of(sys_days d) {
  return static_cast<int>(std::chrono::weekday(d).c_encoding());
}

// A slot occurrence that starts on local date `day`: [start, end).
struct Interval {
  Local start;
  Local end;
};

Interval occurrence(const WeeklySlot& slot, sys_days day) {
  const int end = slot.to_minute > slot.from_minute ? slot.to_minute : slot.to_minute + 1440;
  return {Local(day) + minutes(slot.from_minute), Local(day) + minutes(end)};
}

// Whether `slot` has an occurrence starting on `day`.
bool starts_on(const WeeklySlot& slot, sys_days day, const Holidays& holidays) {
  const bool holiday = holidays.contains(date_text(day));
  if (holiday && slot.not_on_holidays) return false;
  if (slot.weekdays.count(weekday_of(day)) != 0) return true;
  return holiday && slot.holidays;
}

bool covers(const std::vector<WeeklySlot>& slots, TimePoint t, const Holidays& holidays) {
  const Local local = to_local(t);
  const sys_days today = std::chrono::floor<days>(local);
  for (const auto& slot : slots) {
    // An overnight slot that started yesterday may still be running.
    for (const sys_days day : {today, today - days(1)}) {
      if (!starts_on(slot, day, holidays)) continue;
      const Interval i = occurrence(slot, day);
      if (local >= i.start && local < i.end) return true;
    }
  }
  return false;
}

// The office-hours interval containing `pos`, or the next one after it.
std::optional<Interval> next_opening(const std::vector<WeeklySlot>& slots, Local pos,
                                     const Holidays& holidays) {
  const sys_days first = std::chrono::floor<days>(pos) - days(1);
  std::optional<Interval> best;
  for (int k = 0; k <= kSearchDays; ++k) {
    const sys_days day = first + days(k);
    if (best && best->start <= Local(day)) break;  // later days only start later
    for (const auto& slot : slots) {
      if (!starts_on(slot, day, holidays)) continue;
      const Interval i = occurrence(slot, day);
      if (i.end <= pos) continue;
      if (!best || i.start < best->start) best = i;
    }
  }
  return best;
}

// Moves `pos` forward by `amount` of office time. nullopt when the office never opens.
std::optional<Local> consume(const std::vector<WeeklySlot>& slots, Local pos,
                             TimePoint::duration amount, const Holidays& holidays) {
  while (amount > TimePoint::duration::zero()) {
    const auto open = next_opening(slots, pos, holidays);
    if (!open) return std::nullopt;
    pos = std::max(pos, open->start);
    const auto take = std::min(amount, open->end - pos);
    pos += take;
    amount -= take;
  }
  return pos;
}

// The office time of the local date `day`: the total length of the slots starting on it.
TimePoint::duration office_day_length(const std::vector<WeeklySlot>& slots, sys_days day,
                                      const Holidays& holidays) {
  TimePoint::duration total{};
  for (const auto& slot : slots) {
    if (!starts_on(slot, day, holidays)) continue;
    const Interval i = occurrence(slot, day);
    total += i.end - i.start;
  }
  return total;
}

const char* const kWeekdaysJa[] = {"日", "月", "火", "水", "木", "金", "土"};

[[noreturn]] void bad_time(const std::string& text, const char* why) {
  throw std::invalid_argument("'" + text + "' is not an ISO-8601 date-time (" + why + ")");
}

int digits(const std::string& text, std::size_t at, std::size_t count) {
  if (at + count > text.size()) bad_time(text, "too short");
  int value = 0;
  for (std::size_t i = at; i < at + count; ++i) {
    if (text[i] < '0' || text[i] > '9') bad_time(text, "a digit was expected");
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

}  // namespace

bool Calendar::in_office_hours(TimePoint t) const {
  return covers(roster_.office_hours, t, holidays_);
}

bool Calendar::is_holiday(TimePoint t) const {
  return holidays_.contains(date_text(std::chrono::floor<days>(to_local(t))));
}

TimePoint Calendar::due(TimePoint start, const Deadline& deadline) const {
  const auto wall =
      days(deadline.days) + std::chrono::hours(deadline.hours) + minutes(deadline.minutes);
  if (deadline.clock == Deadline::Clock::wall) return start + wall;
  const auto& slots = roster_.office_hours;
  Local pos = to_local(start);
  for (int d = 0; d < deadline.days; ++d) {
    const auto open = next_opening(slots, pos, holidays_);
    if (!open) return start + wall;  // no office hours at all: the wall clock is the safe side
    pos = std::max(pos, open->start);
    // The day the counting is in: the one its current opening started on.
    const sys_days day = std::chrono::floor<days>(open->start);
    const auto next = consume(slots, pos, office_day_length(slots, day, holidays_), holidays_);
    if (!next) return start + wall;
    pos = *next;
  }
  const auto rest = consume(
      slots, pos, std::chrono::hours(deadline.hours) + minutes(deadline.minutes), holidays_);
  if (!rest) return start + wall;
  return from_local(*rest);
}

std::vector<const Officer*> Calendar::on_duty(const std::string& role, TimePoint t) const {
  std::vector<const Officer*> out;
  std::optional<bool> office;  // computed once, if some officer works office hours
  for (const auto& o : roster_.officers) {
    if (!o.active || o.role != role) continue;
    bool on = false;
    if (o.duty.empty()) {
      if (!office) office = in_office_hours(t);
      on = *office;
    } else {
      on = covers(o.duty, t, holidays_);
    }
    if (on) out.push_back(&o);
  }
  return out;
}

std::string format_jst(TimePoint t) {
  const Local local = to_local(std::chrono::floor<seconds>(t));
  const sys_days day = std::chrono::floor<days>(local);
  const std::chrono::hh_mm_ss<TimePoint::duration> hms(local - Local(day));
  char buf[40];
  std::snprintf(buf, sizeof buf, "%sT%02d:%02d:%02d+09:00", date_text(day).c_str(),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

std::string format_jst_japanese(TimePoint t) {
  const Local local = to_local(std::chrono::floor<minutes>(t));
  const sys_days day = std::chrono::floor<days>(local);
  const std::chrono::year_month_day ymd(day);
  const auto in_day = std::chrono::duration_cast<minutes>(local - Local(day)).count();
  char buf[64];
  std::snprintf(buf, sizeof buf, "%d年%u月%u日(%s) %02d:%02d", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                kWeekdaysJa[weekday_of(day)], static_cast<int>(in_day / 60),
                static_cast<int>(in_day % 60));
  return buf;
}

// Accepts "2019-06-05", "2019-06-05T21:30", "2019-06-05T21:30:00", fractions of a second, and
// an offset "Z", "+09:00" or "+0900"; a space may stand for the "T". No offset: Japan time.
TimePoint parse_iso(const std::string& text) {
  if (text.size() < 10 || text[4] != '-' || text[7] != '-') bad_time(text, "expected YYYY-MM-DD");
  const std::chrono::year_month_day ymd{
      std::chrono::year(digits(text, 0, 4)),
      std::chrono::month(static_cast<unsigned>(digits(text, 5, 2))),
      std::chrono::day(static_cast<unsigned>(digits(text, 8, 2)))};
  if (!ymd.ok()) bad_time(text, "no such date");
  Local local{sys_days(ymd)};
  std::size_t i = 10;
  if (i < text.size()) {
    if (text[i] != 'T' && text[i] != ' ') bad_time(text, "expected T after the date");
    const int h = digits(text, i + 1, 2);
    if (i + 3 >= text.size() || text[i + 3] != ':') bad_time(text, "expected HH:MM");
    const int m = digits(text, i + 4, 2);
    int s = 0;
    i += 6;
    if (i < text.size() && text[i] == ':') {
      s = digits(text, i + 1, 2);
      i += 3;
      if (i < text.size() && (text[i] == '.' || text[i] == ',')) {
        ++i;
        const std::size_t start = i;
        while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
        if (i == start) bad_time(text, "expected digits after the decimal point");
      }
    }
    if (h > 23 || m > 59 || s > 60) bad_time(text, "time of day out of range");
    local += std::chrono::hours(h) + minutes(m) + seconds(s);
  }
  auto offset = std::chrono::duration_cast<TimePoint::duration>(kJst);
  if (i < text.size()) {
    if (text[i] == 'Z' && i + 1 == text.size()) {
      offset = TimePoint::duration::zero();
    } else if ((text[i] == '+' || text[i] == '-') &&
               (text.size() == i + 6 || text.size() == i + 5)) {
      const int oh = digits(text, i + 1, 2);
      const bool colon = text.size() == i + 6;
      if (colon && text[i + 3] != ':') bad_time(text, "expected an offset ±HH:MM");
      const int om = digits(text, i + (colon ? 4 : 3), 2);
      if (oh > 23 || om > 59) bad_time(text, "offset out of range");
      const auto magnitude = std::chrono::hours(oh) + minutes(om);
      offset = text[i] == '+' ? magnitude : -magnitude;
    } else {
      bad_time(text, "expected Z or an offset ±HH:MM at the end");
    }
  }
  return TimePoint(local.time_since_epoch() - offset);
}

}  // namespace tsunagu::routing
