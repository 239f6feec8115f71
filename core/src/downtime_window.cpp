#include "oee/core/downtime_window.h"

namespace oee {

bool DowntimeWindow::applies_to(std::string_view machine_path) const {
  if (machine_path.size() < target.size() || machine_path.substr(0, target.size()) != target) return false;
  return machine_path.size() == target.size() || machine_path[target.size()] == '/';
}

std::vector<Interval> DowntimeWindow::occurrences(const TimeZone& zone, TimeMs from, TimeMs to) const {
  std::vector<Interval> out;
  if (from >= to) return out;
  auto keep = [&](Interval iv) {
    if (iv.end > from && iv.start < to && iv.end > iv.start) out.push_back(iv);
  };
  if (!recurring) {
    keep({zone.to_utc(local_start_ms), zone.to_utc(local_end_ms)});
    return out;
  }
  // Local days whose window can reach [from, to): one day of margin for windows crossing midnight,
  // one more for the zone's offset.
  const std::int64_t first_day = floor_to(from + zone.offset_ms_at(from), kMsPerDay) / kMsPerDay - 2;
  const std::int64_t last_day = floor_to(to + zone.offset_ms_at(to), kMsPerDay) / kMsPerDay + 1;
  const bool crosses_midnight = end_minute <= start_minute;
  for (std::int64_t day = first_day; day <= last_day; ++day) {
    if (!weekdays[iso_weekday_from_days(day)]) continue;
    keep({zone.to_utc(day * kMsPerDay + start_minute * kMsPerMinute),
          zone.to_utc((day + (crosses_midnight ? 1 : 0)) * kMsPerDay + end_minute * kMsPerMinute)});
  }
  return out;
}

}  // namespace oee
