#pragma once
// The plant's shift calendar in UTC instants: shift occurrences, their breaks, and the planned
// production intervals (in a shift, outside its breaks, on a production day). Plant without shifts:
// every instant is planned.
#include <string>
#include <vector>

#include "oee/core/plant_model.h"
#include "oee/core/time.h"
#include "oee/core/time_zone.h"

namespace oee {

struct Interval {
  TimeMs start = 0;
  TimeMs end = 0;  // exclusive
  DurationMs length() const { return end - start; }
  bool operator==(const Interval&) const = default;
};

struct ShiftOccurrence {
  std::string name;
  std::string crew;  // the rotating crew working it; empty without a rotation
  std::int64_t local_day = 0;  // days since epoch of the local date the shift starts on
  TimeMs start = 0;
  TimeMs end = 0;
  std::vector<Interval> breaks;  // UTC, inside [start, end), sorted
};

class ShiftCalendar {
 public:
  ShiftCalendar(const PlantModel& plant, const TimeZone& zone);

  // Shift occurrences overlapping [from, to), sorted by start.
  std::vector<ShiftOccurrence> occurrences(TimeMs from, TimeMs to) const;
  // Planned production intervals within [from, to): shifts minus breaks, clipped, sorted, disjoint.
  std::vector<Interval> planned_intervals(TimeMs from, TimeMs to) const;
  // Boundaries of local days / local hours overlapping [from, to) (first starts at or before from).
  std::vector<Interval> local_days(TimeMs from, TimeMs to) const;
  std::vector<Interval> local_hours(TimeMs from, TimeMs to) const;
  // The shift occurrence containing t, if any.
  bool shift_at(TimeMs t, ShiftOccurrence& out) const;

  const TimeZone& zone() const { return zone_; }
  bool has_shifts() const { return !plant_.shifts.empty(); }

 private:
  bool is_production_day(std::int64_t local_day) const;
  TimeMs local_to_utc(std::int64_t local_day, int minute) const;

  const PlantModel& plant_;
  const TimeZone& zone_;
};

}  // namespace oee
