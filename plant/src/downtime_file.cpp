#include "downtime_file.h"

#include <yaml-cpp/yaml.h>

#include <cstdio>
#include <optional>

namespace oee::plant {

namespace {

// Minutes after midnight of "HH:MM" (00:00 … 24:00), or nullopt.
std::optional<int> minute_of_day(const std::string& s) {
  int h = -1, m = -1, used = 0;
  if (s.size() != 5 || std::sscanf(s.c_str(), "%2d:%2d%n", &h, &m, &used) != 2 || used != 5) return std::nullopt;
  if (h < 0 || h > 24 || m < 0 || m > 59 || (h == 24 && m != 0)) return std::nullopt;
  return h * 60 + m;
}

// Local wall time (ms since the local epoch) of "YYYY-MM-DD HH:MM", or nullopt.
std::optional<std::int64_t> local_date_time(const std::string& s) {
  if (s.size() != 16 || (s[10] != ' ' && s[10] != 'T')) return std::nullopt;
  const auto day = parse_civil_date(s.substr(0, 10));
  const auto minute = minute_of_day(s.substr(11));
  if (!day || !minute) return std::nullopt;
  return *day * kMsPerDay + *minute * kMsPerMinute;
}

std::array<bool, 7> weekdays(const YamlFields& r, const YAML::Node& n, const std::string& what) {
  static const char* kNames[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
  r.expect_list(n, what);
  if (n.size() == 0) r.fail(n, what + ": must not be empty (the window would never apply)");
  std::array<bool, 7> days{};
  for (const auto& d : n) {
    const std::string s = r.string(d, what);
    int found = -1;
    for (int i = 0; i < 7; ++i)
      if (s.size() >= 3 && std::string(kNames[i]) == s.substr(0, 3)) found = i;
    if (found < 0) r.fail(d, what + ": '" + s + "' is not a weekday (mon … sun)");
    days[static_cast<std::size_t>(found)] = true;
  }
  return days;
}

// Start and end, both "YYYY-MM-DD HH:MM" (one-off) or both "HH:MM" (recurring).
void read_times(const YamlFields& r, const YAML::Node& n, const std::string& what, DowntimeWindow& w) {
  if (!n["start"] || !n["end"]) r.fail(n, what + ": needs 'start' and 'end' (YYYY-MM-DD HH:MM once, or HH:MM with days)");
  const std::string start = r.string(n["start"], what + ".start"), end = r.string(n["end"], what + ".end");
  const auto once_start = local_date_time(start), once_end = local_date_time(end);
  const auto daily_start = minute_of_day(start), daily_end = minute_of_day(end);
  if (once_start && once_end) {
    if (n["days"]) r.fail(n["days"], what + ".days: only for a recurring window (start and end as HH:MM)");
    if (*once_end <= *once_start) r.fail(n["end"], what + ".end: '" + end + "' is not after its start '" + start + "'");
    w.local_start_ms = *once_start;
    w.local_end_ms = *once_end;
    return;
  }
  if (!daily_start || !daily_end)
    r.fail(daily_start || once_start ? n["end"] : n["start"],
           what + ": start '" + start + "' and end '" + end + "' must both be YYYY-MM-DD HH:MM (once) or both HH:MM (recurring)");
  w.recurring = true;
  w.start_minute = *daily_start % 1440;
  w.end_minute = *daily_end % 1440;
  if (const auto d = n["days"]) w.weekdays = weekdays(r, d, what + ".days");
}

bool is_line_or_machine(const PlantModel& plant, const std::string& path) {
  return plant.find_line(path) != nullptr || plant.find_machine(path) != nullptr;
}

}  // namespace

std::vector<DowntimeWindow> read_downtime(const YamlFields& r, const YAML::Node& list, const PlantModel& plant) {
  r.expect_list(list, "downtime");
  std::vector<DowntimeWindow> out;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const YAML::Node n = list[i];
    const std::string what = "downtime[" + std::to_string(i) + "]";
    r.expect_map(n, what);
    r.only_keys(n, what, {"name", "target", "start", "end", "days"});
    DowntimeWindow w;
    if (!n["name"]) r.fail(n, what + ": missing 'name' (maintenance, trial, …)");
    w.name = r.string(n["name"], what + ".name");
    if (!n["target"]) r.fail(n, what + ": missing 'target' (the path of a line or machine)");
    w.target = r.string(n["target"], what + ".target");
    if (!is_line_or_machine(plant, w.target))
      r.fail(n["target"], what + ".target: '" + w.target + "' is not a line or machine of the plant (site/area/line[/machine])");
    read_times(r, n, what, w);
    out.push_back(std::move(w));
  }
  return out;
}

}  // namespace oee::plant
