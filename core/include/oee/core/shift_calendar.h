#pragma once
// The plant's shift calendar in UTC instants: shift occurrences, their breaks, and the planned
// production intervals (in a shift, outside its breaks, on a production day, outside planned-downtime
// windows). Plant without shifts: every instant is planned. A machine's calendar (for_machine)
// follows its site's zone, its line's or site's own shifts and its downtime windows.
#include <string>
#include <vector>

#include "oee/core/interval.h"
#include "oee/core/plant_model.h"
#include "oee/core/time.h"
#include "oee/core/time_zone.h"

namespace oee {

// A break of one shift occurrence: its instants and the name the plant file gives it.
struct ShiftBreak : Interval {
  std::string name;
};

struct ShiftOccurrence {
  std::string name;
  std::string crew;  // the rotating crew working it; empty without a rotation
  std::int64_t local_day = 0;  // days since epoch of the local date the shift starts on
  TimeMs start = 0;
  TimeMs end = 0;
  std::vector<ShiftBreak> breaks;  // UTC, inside [start, end), sorted
};

class ShiftCalendar {
 public:
  ShiftCalendar(const PlantModel& plant, const TimeZone& zone);

  // A machine's calendar: its site's zone; the shifts of its line, else of its site, else the
  // plant's; the downtime windows that apply to it.
  ShiftCalendar for_machine(const MachineSpec& machine) const;
  // The calendar a node's buckets follow: a machine's as above; a line's or site's zone and shifts
  // (without downtime windows, which are per machine). A node spanning sites in different zones has
  // UTC hours and days and the plant's shifts in the plant's zone (docs/oee-model.md, "Sites in
  // their own time zones").
  ShiftCalendar for_node(std::string_view node) const;

  // Shift occurrences overlapping [from, to), sorted by start.
  std::vector<ShiftOccurrence> occurrences(TimeMs from, TimeMs to) const;
  // Planned production intervals within [from, to): shifts minus breaks, clipped, sorted, disjoint.
  std::vector<Interval> planned_intervals(TimeMs from, TimeMs to) const;
  // Boundaries of local days / local hours overlapping [from, to) (first starts at or before from).
  std::vector<Interval> local_days(TimeMs from, TimeMs to) const;
  std::vector<Interval> local_hours(TimeMs from, TimeMs to) const;
  // The shift occurrence containing t, if any.
  bool shift_at(TimeMs t, ShiftOccurrence& out) const;
  // The first of this calendar's downtime windows (for_machine's) holding t, else nullptr.
  const DowntimeWindow* downtime_window_at(TimeMs t) const;

  // The zone of its hours and days.
  const TimeZone& zone() const { return *bucket_zone_; }
  bool has_shifts() const { return !shifts_->empty(); }

 private:
  bool is_production_day(std::int64_t local_day) const;
  TimeMs local_to_utc(std::int64_t local_day, int minute) const;
  // The zone and shifts of a site, or of a line in it, from the plant's.
  ShiftCalendar scheduled(const SiteSpec* site, const LineSpec* line) const;
  // Planned intervals minus this calendar's downtime windows.
  std::vector<Interval> without_downtime(std::vector<Interval> planned, TimeMs from, TimeMs to) const;

  const PlantModel* plant_;
  const TimeZone* plant_zone_;   // for_machine and for_node start from the plant's own zone
  const TimeZone* zone_;         // the local times of shifts and downtime windows
  const TimeZone* bucket_zone_;  // hours and days: zone_, or UTC across zones
  const std::vector<ShiftSpec>* shifts_;
  std::vector<const DowntimeWindow*> downtime_;
};

}  // namespace oee
