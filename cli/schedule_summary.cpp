#include "schedule_summary.h"

#include <cstdio>

namespace oee::cli {

namespace {

const char* const kDays[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
const char* const kNth[] = {"", "first", "second", "third", "fourth", "fifth"};

std::string hh_mm(int minute) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%02d:%02d", minute / 60, minute % 60);
  return buf;
}

std::string local_time(std::int64_t local_ms) {
  const std::int64_t day = floor_to(local_ms, kMsPerDay) / kMsPerDay;
  return format_civil_date(day) + ' ' + hh_mm(static_cast<int>((local_ms - day * kMsPerDay) / kMsPerMinute));
}

std::string holiday(const HolidayRule& h) {
  std::string s;
  char buf[24];
  switch (h.kind) {
    case HolidayRule::Kind::dates:
      s = format_civil_date(h.first_day);
      if (h.last_day != h.first_day) s += " to " + format_civil_date(h.last_day);
      break;
    case HolidayRule::Kind::yearly_date:
      std::snprintf(buf, sizeof buf, "%02u-%02u", h.month % 100, h.day % 100);
      s = std::string("yearly ") + buf;
      break;
    case HolidayRule::Kind::yearly_weekday:
      s = std::string("yearly ") + (h.nth < 0 ? "last" : kNth[h.nth]) + ' ' + kDays[h.weekday] + " of month " + std::to_string(h.month);
      break;
  }
  return h.name.empty() ? s : s + " (" + h.name + ")";
}

std::string window(const DowntimeWindow& w) {
  std::string s = "  " + w.name + " on " + w.target + ": ";
  if (!w.recurring) return s + "once " + local_time(w.local_start_ms) + " to " + local_time(w.local_end_ms);
  std::string days;
  for (std::size_t d = 0; d < 7; ++d)
    if (w.weekdays[d]) days += (days.empty() ? "" : ",") + std::string(kDays[d]);
  return s + "every " + (days.size() == 27 ? std::string("day") : days) + ' ' + hh_mm(w.start_minute) + '-' + hh_mm(w.end_minute);
}

// Sites with their own zone or shifts, lines with their own shifts.
std::string own_schedules(const PlantModel& plant) {
  std::string s;
  for (const SiteSpec& site : plant.sites) {
    if (site.zone || site.shifts)
      s += "  site " + site.path + ": time zone " + (site.zone ? site.timezone : plant.timezone) + ", " +
           std::to_string(site.shifts ? site.shifts->size() : plant.shifts.size()) + " shift(s)" +
           (site.shifts ? " of its own\n" : "\n");
    for (const AreaSpec& area : site.areas)
      for (const LineSpec& line : area.lines)
        if (line.shifts) s += "  line " + line.path + ": " + std::to_string(line.shifts->size()) + " shift(s) of its own\n";
  }
  return s;
}

}  // namespace

std::string schedule_summary(const PlantModel& plant) {
  std::string s;
  if (!plant.rotation.empty()) {
    s += "crews: " + std::to_string(plant.rotation.crews.size()) + " on a " + std::to_string(plant.rotation.cycle_days()) +
         "-day rotation from " + format_civil_date(plant.rotation.start_day) + ":";
    for (const Crew& c : plant.rotation.crews) s += ' ' + c.name + " (+" + std::to_string(c.offset_days) + " d)";
    s += '\n';
  }
  if (!plant.holidays.rules.empty()) {
    s += "holidays: " + std::to_string(plant.holidays.rules.size()) + ":";
    for (std::size_t i = 0; i < plant.holidays.rules.size(); ++i) s += (i ? "; " : " ") + holiday(plant.holidays.rules[i]);
    s += '\n';
  }
  if (!plant.downtime.empty()) {
    s += "downtime windows: " + std::to_string(plant.downtime.size()) + " (local times of the target's site)\n";
    for (const DowntimeWindow& w : plant.downtime) s += window(w) + '\n';
  }
  const std::string own = own_schedules(plant);
  if (!own.empty()) s += "own schedules:\n" + own;
  return s;
}

}  // namespace oee::cli
