#pragma once
// A machine's planned production time as seen from a moving cursor: the intervals of its own
// calendar (ShiftCalendar::for_machine: its site's zone, its line's or site's shifts, holidays,
// the rotation, the downtime windows on it and its line), fetched a week at a time and merged
// across the fetch boundaries (so a fetch boundary is never a state change).
#include <deque>
#include <string_view>

#include "oee/core/interval.h"
#include "oee/core/shift_calendar.h"

namespace oee::simulator {

class PlannedTimeline {
 public:
  PlannedTimeline(ShiftCalendar calendar, TimeMs start);

  struct Stretch {
    bool planned = false;
    TimeMs end = 0;  // > the queried instant; may be a look-ahead horizon rather than a change
  };
  // Whether t is planned production time and until when that stays so. Queries must not go back.
  Stretch stretch_at(TimeMs t);
  // The name of the planned-downtime window holding t (what a stop for it is called), else empty.
  std::string_view downtime_window_at(TimeMs t) const;

 private:
  void fetch_next_chunk();

  ShiftCalendar calendar_;
  std::deque<Interval> intervals_;  // merged, sorted, covering [.., covered_to_)
  TimeMs covered_to_;
};

}  // namespace oee::simulator
