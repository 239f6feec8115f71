#include "oee/core/shift_calendar.h"

#include <algorithm>

namespace oee {

ShiftCalendar::ShiftCalendar(const PlantModel& plant, const TimeZone& zone)
    : plant_(&plant), plant_zone_(&zone), zone_(&zone), bucket_zone_(&zone), shifts_(&plant.shifts) {}

ShiftCalendar ShiftCalendar::scheduled(const SiteSpec* site, const LineSpec* line) const {
  ShiftCalendar c(*plant_, *plant_zone_);
  if (site && site->zone) c.zone_ = c.bucket_zone_ = site->zone.get();
  if (site && site->shifts) c.shifts_ = &*site->shifts;
  if (line && line->shifts) c.shifts_ = &*line->shifts;
  return c;
}

ShiftCalendar ShiftCalendar::for_machine(const MachineSpec& machine) const {
  const std::string_view path = machine.path;
  ShiftCalendar c = scheduled(plant_->find_site(path), plant_->find_line(path.substr(0, path.rfind('/'))));
  for (const DowntimeWindow& w : plant_->downtime)
    if (w.applies_to(path)) c.downtime_.push_back(&w);
  return c;
}

ShiftCalendar ShiftCalendar::for_node(std::string_view node) const {
  if (const MachineSpec* m = plant_->find_machine(node)) return for_machine(*m);
  if (const SiteSpec* site = plant_->find_site(node)) return scheduled(site, plant_->find_line(node));
  ShiftCalendar c(*plant_, *plant_zone_);
  static const FixedOffsetZone kUtc;
  for (const SiteSpec& site : plant_->sites)
    if (site.zone && site.zone->name() != plant_zone_->name()) c.bucket_zone_ = &kUtc;
  return c;
}

bool ShiftCalendar::is_production_day(std::int64_t local_day) const {
  if (!plant_->production_weekdays[iso_weekday_from_days(local_day)]) return false;
  if (plant_->holidays.is_holiday(local_day)) return false;
  return std::find(plant_->non_production_dates.begin(), plant_->non_production_dates.end(), local_day) ==
         plant_->non_production_dates.end();
}

TimeMs ShiftCalendar::local_to_utc(std::int64_t local_day, int minute) const {
  return zone_->to_utc(local_day * kMsPerDay + minute * kMsPerMinute);
}

std::vector<ShiftOccurrence> ShiftCalendar::occurrences(TimeMs from, TimeMs to) const {
  std::vector<ShiftOccurrence> out;
  if (from >= to || shifts_->empty()) return out;
  // Local days that can hold a shift overlapping [from, to): one day of margin covers shifts that
  // start the day before and the largest UTC offsets.
  const std::int64_t first_day = floor_to(from + zone_->offset_ms_at(from), kMsPerDay) / kMsPerDay - 2;
  const std::int64_t last_day = floor_to(to + zone_->offset_ms_at(to), kMsPerDay) / kMsPerDay + 1;
  for (std::int64_t day = first_day; day <= last_day; ++day) {
    if (!is_production_day(day)) continue;
    for (const ShiftSpec& spec : *shifts_) {
      if (!spec.weekdays[iso_weekday_from_days(day)]) continue;
      // A line's or site's own shift the rotation does not name runs without a crew.
      const bool rotates = plant_->rotation.rotates(spec.name);
      const Crew* crew = rotates ? plant_->rotation.crew_on(spec.name, day) : nullptr;
      if (rotates && crew == nullptr) continue;  // no crew on it: the shift does not run
      const bool crosses_midnight = spec.end_minute <= spec.start_minute;
      ShiftOccurrence occ;
      occ.name = spec.name;
      if (crew != nullptr) occ.crew = crew->name;
      occ.local_day = day;
      occ.start = local_to_utc(day, spec.start_minute);
      occ.end = local_to_utc(day + (crosses_midnight ? 1 : 0), spec.end_minute);
      if (occ.end <= from || occ.start >= to || occ.end <= occ.start) continue;
      for (const BreakSpec& b : spec.breaks) {
        // A break's time of day belongs to the shift's first day when it is not before the shift
        // start, otherwise to the next day (a break at 02:00 in a shift that starts at 22:00).
        const std::int64_t bday = (crosses_midnight && b.start_minute < spec.start_minute) ? day + 1 : day;
        const bool break_crosses = b.end_minute <= b.start_minute;
        ShiftBreak iv{{local_to_utc(bday, b.start_minute), local_to_utc(bday + (break_crosses ? 1 : 0), b.end_minute)}, b.name};
        iv.start = std::max(iv.start, occ.start);
        iv.end = std::min(iv.end, occ.end);
        if (iv.end > iv.start) occ.breaks.push_back(iv);
      }
      std::sort(occ.breaks.begin(), occ.breaks.end(), [](const ShiftBreak& a, const ShiftBreak& b) { return a.start < b.start; });
      out.push_back(std::move(occ));
    }
  }
  std::sort(out.begin(), out.end(), [](const ShiftOccurrence& a, const ShiftOccurrence& b) {
    return a.start != b.start ? a.start < b.start : a.name < b.name;
  });
  return out;
}

std::vector<Interval> ShiftCalendar::planned_intervals(TimeMs from, TimeMs to) const {
  std::vector<Interval> out;
  if (from >= to) return out;
  if (shifts_->empty()) {
    out.push_back({from, to});
    return without_downtime(std::move(out), from, to);
  }
  std::vector<Interval> raw;
  for (const ShiftOccurrence& occ : occurrences(from, to)) {
    TimeMs cursor = occ.start;
    for (const Interval& b : occ.breaks) {
      if (b.start > cursor) raw.push_back({cursor, b.start});
      cursor = std::max(cursor, b.end);
    }
    if (occ.end > cursor) raw.push_back({cursor, occ.end});
  }
  std::sort(raw.begin(), raw.end(), [](const Interval& a, const Interval& b) { return a.start < b.start; });
  // Clip and merge overlapping shifts (two shifts may overlap at a handover).
  for (Interval iv : raw) {
    iv.start = std::max(iv.start, from);
    iv.end = std::min(iv.end, to);
    if (iv.end <= iv.start) continue;
    if (!out.empty() && iv.start <= out.back().end)
      out.back().end = std::max(out.back().end, iv.end);
    else
      out.push_back(iv);
  }
  return without_downtime(std::move(out), from, to);
}

std::vector<Interval> ShiftCalendar::without_downtime(std::vector<Interval> planned, TimeMs from, TimeMs to) const {
  if (downtime_.empty()) return planned;
  std::vector<Interval> cut;
  for (const DowntimeWindow* w : downtime_)
    for (const Interval& iv : w->occurrences(*zone_, from, to)) cut.push_back(iv);
  return subtract_intervals(planned, std::move(cut));
}

const DowntimeWindow* ShiftCalendar::downtime_window_at(TimeMs t) const {
  for (const DowntimeWindow* w : downtime_)
    if (!w->occurrences(*zone_, t, t + 1).empty()) return w;  // an occurrence overlapping [t, t+1) holds t
  return nullptr;
}

std::vector<Interval> ShiftCalendar::local_days(TimeMs from, TimeMs to) const {
  std::vector<Interval> out;
  if (from >= to) return out;
  std::int64_t day = floor_to(from + bucket_zone_->offset_ms_at(from), kMsPerDay) / kMsPerDay;
  for (;;) {
    const TimeMs start = bucket_zone_->to_utc(day * kMsPerDay);
    const TimeMs end = bucket_zone_->to_utc((day + 1) * kMsPerDay);
    if (start >= to) break;
    if (end > from) out.push_back({start, end});
    ++day;
  }
  return out;
}

std::vector<Interval> ShiftCalendar::local_hours(TimeMs from, TimeMs to) const {
  std::vector<Interval> out;
  if (from >= to) return out;
  // Local hour boundaries are the instants whose local wall time is a whole hour; across a DST change
  // an hour is skipped or repeated but every bucket still holds one real hour (or less at a
  // half-hour change).
  TimeMs t = from - ((from + bucket_zone_->offset_ms_at(from)) % kMsPerHour + kMsPerHour) % kMsPerHour;
  while (t < to) {
    TimeMs next = t + kMsPerHour;
    const std::int64_t off = bucket_zone_->offset_ms_at(next);
    const TimeMs misalign = ((next + off) % kMsPerHour + kMsPerHour) % kMsPerHour;
    next -= misalign;  // a half-hour offset change shortens the bucket
    if (next <= t) next = t + kMsPerHour;
    out.push_back({t, next});
    t = next;
  }
  return out;
}

bool ShiftCalendar::shift_at(TimeMs t, ShiftOccurrence& out) const {
  for (auto& occ : occurrences(t, t + 1)) {
    if (occ.start <= t && t < occ.end) {
      out = std::move(occ);
      return true;
    }
  }
  return false;
}

}  // namespace oee
