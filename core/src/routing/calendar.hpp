// The city's calendar: office hours from the roster, public holidays, on-duty officers, and
// deadlines counted on the wall clock or in office hours. Japan time (+09:00) throughout.
#pragma once

#include <string>
#include <vector>

#include "common/clock.hpp"
#include "routing/routing_config.hpp"

namespace tsunagu::routing {

class Calendar {
 public:
  Calendar(const Roster& roster, const Holidays& holidays) : roster_(roster), holidays_(holidays) {}

  // Whether `t` falls in the city's office hours (a weekday slot, not a public holiday).
  bool in_office_hours(TimePoint t) const;
  bool is_holiday(TimePoint t) const;  // the Japan-time date of t is a public holiday

  // When a deadline started at `start` runs out. Wall: start + duration. Office hours: the
  // duration is counted only while the office is open, a day ("P1D") being one full office day
  // (the length of that weekday's office-hours slots); a start outside office hours begins
  // counting at the next opening.
  TimePoint due(TimePoint start, const Deadline& deadline) const;

  // Active officers of `role` on duty at `t`: those with a duty slot covering t; an officer with
  // no duty slots is on duty during office hours. The ward is not considered (the emergency team
  // is city-wide). Empty when nobody is.
  std::vector<const Officer*> on_duty(const std::string& role, TimePoint t) const;

 private:
  const Roster& roster_;
  const Holidays& holidays_;
};

// Japan-time rendering, "2019-06-05T21:30:00+09:00", and the inverse (any offset accepted);
// parse throws std::invalid_argument naming the text.
std::string format_jst(TimePoint t);
TimePoint parse_iso(const std::string& text);
// For people: "2019年6月5日(水) 21:30".
std::string format_jst_japanese(TimePoint t);

}  // namespace tsunagu::routing
