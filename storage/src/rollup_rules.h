#pragma once
// The rules a machine's rollups are made with, as text both stores keep beside them: a plant file
// changed between two runs (a new no_data_after_s, micro-stop threshold, cycle time, state map, or
// shift calendar: shifts, breaks, production days, time zone) must not be answered from rollups made
// with the old rules (docs/storage.md).
#include <string>

#include "oee/core/plant_model.h"
#include "oee/core/time_zone.h"

namespace oee::storage {

// The fields the engine's totals depend on (SqliteEventStore's same_rules), names length-prefixed.
inline std::string machine_rules(const MachineSpec& m) {
  std::string s = std::to_string(m.ideal_cycle_us) + ' ' + std::to_string(m.micro_stop_threshold_ms) + ' ' +
                  std::to_string(m.startup_window_ms) + ' ' + std::to_string(m.no_data_after_ms);
  auto name = [&s](const std::string& n) { s += ' ' + std::to_string(n.size()) + ':' + n; };
  for (const auto& [product, cycle] : m.product_cycle_us) {
    name(product);
    s += '=' + std::to_string(cycle);
  }
  s += " |";
  for (const auto& [raw, state] : m.state_map) {
    name(raw);
    s += '=' + std::to_string(static_cast<int>(state));
  }
  // A reason's loss counts (reason tree): the codes with a loss, and the PLC codes read as codes.
  // Without a tree the text stays as before, so such stores keep their rollups.
  if (m.reasons || !m.reason_codes.empty()) {
    s += " |reasons";
    if (m.reasons)
      for (const ReasonNode& n : m.reasons->nodes())
        if (n.loss != ReasonLoss::none) {
          name(n.code);
          s += '=' + std::to_string(static_cast<int>(n.loss));
        }
    s += " |codes";
    for (const auto& [plc, code] : m.reason_codes) {
      name(plc);
      name(code);
    }
  }
  return s;
}

// Each shift's times, breaks and weekdays. Shift names only label (but see the rotation below).
inline void append_shift_rules(std::string& s, const std::vector<ShiftSpec>& shifts) {
  for (const ShiftSpec& shift : shifts) {
    s += " shift " + std::to_string(shift.start_minute) + '-' + std::to_string(shift.end_minute);
    for (const BreakSpec& b : shift.breaks) s += " break " + std::to_string(b.start_minute) + '-' + std::to_string(b.end_minute);
    s += ' ';
    for (bool on : shift.weekdays) s += on ? '1' : '0';
  }
}

// What the planned time of an hour depends on (ShiftCalendar): the zone, each shift's times, breaks
// and weekdays, the production weekdays and the non-production dates; holidays and a rotation
// (which decides which shifts run) when there are any, so that stores without them keep their text.
inline std::string calendar_rules(const PlantModel& plant, const TimeZone& zone) {
  std::string s = std::to_string(zone.name().size()) + ':' + zone.name();
  append_shift_rules(s, plant.shifts);
  s += " | ";
  for (bool on : plant.production_weekdays) s += on ? '1' : '0';
  for (std::int64_t d : plant.non_production_dates) s += ' ' + std::to_string(d);
  for (const HolidayRule& h : plant.holidays.rules)
    s += " holiday " + std::to_string(static_cast<int>(h.kind)) + ' ' + std::to_string(h.first_day) + ' ' +
         std::to_string(h.last_day) + ' ' + std::to_string(h.month) + ' ' + std::to_string(h.day) + ' ' +
         std::to_string(h.weekday) + ' ' + std::to_string(h.nth);
  if (!plant.rotation.empty()) {
    s += " rotation " + std::to_string(plant.rotation.start_day);
    for (const RotationSegment& seg : plant.rotation.pattern) s += ' ' + std::to_string(seg.shift.size()) + ':' + seg.shift + '*' + std::to_string(seg.days);
    for (const Crew& c : plant.rotation.crews) s += " crew " + std::to_string(c.offset_days);
  }
  return s;
}

// What a machine's own calendar adds (ShiftCalendar::for_machine): its site's zone, the shifts of its
// line or site, and its downtime windows. Empty for a machine on the plant's calendar, whose stored
// text so stays as before.
inline std::string machine_calendar_rules(const PlantModel& plant, const MachineSpec& m) {
  std::string s;
  const SiteSpec* site = plant.find_site(m.path);
  const LineSpec* line = plant.find_line(std::string_view(m.path).substr(0, m.path.rfind('/')));
  if (site && site->zone) s += " zone " + std::to_string(site->zone->name().size()) + ':' + site->zone->name();
  const std::optional<std::vector<ShiftSpec>>& own = line && line->shifts ? line->shifts : site ? site->shifts : std::nullopt;
  if (own) {
    s += " own shifts";
    append_shift_rules(s, *own);
  }
  for (const DowntimeWindow& w : plant.downtime) {
    if (!w.applies_to(m.path)) continue;
    s += w.recurring ? " every " + std::to_string(w.start_minute) + '-' + std::to_string(w.end_minute) + ' '
                     : " once " + std::to_string(w.local_start_ms) + '-' + std::to_string(w.local_end_ms);
    if (w.recurring)
      for (bool on : w.weekdays) s += on ? '1' : '0';
  }
  return s;
}

inline std::string rollup_rules(const PlantModel& plant, const MachineSpec& m, const std::string& calendar) {
  return machine_rules(m) + " @ " + calendar + machine_calendar_rules(plant, m);
}

}  // namespace oee::storage
