#include "schedule_file.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <set>
#include <sstream>

#include "oee/core/time.h"

namespace oee::plant {

namespace {

std::string lower(const std::string& s) {
  std::string out;
  for (char c : s) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Index of the name `word` starts with (at least three letters), -1 when none.
template <std::size_t N>
int prefix_index(const char* const (&names)[N], const std::string& word) {
  for (std::size_t i = 0; i < N; ++i)
    if (word.size() >= 3 && std::string(names[i]).rfind(word, 0) == 0) return static_cast<int>(i);
  return -1;
}

const char* const kMonths[] = {"january", "february", "march", "april", "may", "june", "july",
                               "august", "september", "october", "november", "december"};
const char* const kWeekdays[] = {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"};
const char* const kOrdinals[] = {"first", "second", "third", "fourth", "fifth"};

int ordinal(const std::string& w) {
  if (w == "last") return -1;
  if (w.size() == 3 && w[0] >= '1' && w[0] <= '5') return w[0] - '0';  // 1st … 5th
  const int i = prefix_index(kOrdinals, w);
  return i < 0 ? 0 : i + 1;
}

// "MM-DD" or "<nth> <weekday> of <month>" ("last mon of may", "4th thursday of november").
HolidayRule read_yearly(const YamlFields& r, const YAML::Node& n, const std::string& what) {
  const std::string text = lower(r.string(n, what));
  HolidayRule rule;
  unsigned month = 0, day = 0;
  char dash = 0;
  std::istringstream md(text);
  if (md >> month >> dash >> day && md.eof() && dash == '-' && text.size() == 5) {
    static const unsigned kMaxDay[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};  // 02-29: leap years only
    if (month < 1 || month > 12 || day < 1 || day > kMaxDay[month - 1])
      r.fail(n, what + ": '" + text + "' is not a month and day MM-DD");
    rule.kind = HolidayRule::Kind::yearly_date;
    rule.month = month;
    rule.day = day;
    return rule;
  }
  std::istringstream in(text);
  std::string nth, weekday, of, month_name, rest;
  in >> nth >> weekday >> of >> month_name >> rest;
  rule.kind = HolidayRule::Kind::yearly_weekday;
  rule.nth = ordinal(nth);
  rule.weekday = prefix_index(kWeekdays, weekday);
  const int m = prefix_index(kMonths, month_name);
  if (rule.nth == 0 || rule.weekday < 0 || of != "of" || m < 0 || !rest.empty())
    r.fail(n, what + ": '" + text + "' is neither MM-DD nor '<first … fifth|last> <weekday> of <month>'");
  rule.month = static_cast<unsigned>(m + 1);
  return rule;
}

std::int64_t date(const YamlFields& r, const YAML::Node& n, const std::string& what) {
  const auto d = parse_civil_date(r.string(n, what));
  if (!d) r.fail(n, what + ": '" + n.Scalar() + "' is not a date YYYY-MM-DD");
  return *d;
}

HolidayRule read_holiday(const YamlFields& r, const YAML::Node& n, const std::string& what) {
  HolidayRule rule;
  if (n.IsScalar()) {
    rule.first_day = rule.last_day = date(r, n, what);
    return rule;
  }
  r.expect_map(n, what);
  r.only_keys(n, what, {"date", "from", "to", "yearly", "name"});
  const int forms = (n["date"] ? 1 : 0) + (n["from"] || n["to"] ? 1 : 0) + (n["yearly"] ? 1 : 0);
  if (forms != 1) r.fail(n, what + ": give exactly one of 'date', 'from' and 'to', or 'yearly'");
  if (n["yearly"]) {
    rule = read_yearly(r, n["yearly"], what + ".yearly");
  } else if (n["date"]) {
    rule.first_day = rule.last_day = date(r, n["date"], what + ".date");
  } else {
    if (!n["from"] || !n["to"]) r.fail(n, what + ": a range needs both 'from' and 'to' (inclusive dates)");
    rule.first_day = date(r, n["from"], what + ".from");
    rule.last_day = date(r, n["to"], what + ".to");
    if (rule.last_day < rule.first_day) r.fail(n["to"], what + ".to: is before 'from'");
  }
  if (n["name"]) rule.name = r.string(n["name"], what + ".name");
  return rule;
}

std::vector<RotationSegment> read_pattern(const YamlFields& r, const YAML::Node& list, const std::vector<ShiftSpec>& shifts) {
  r.expect_list(list, "rotation.pattern");
  if (list.size() == 0) r.fail(list, "rotation.pattern: must not be empty");
  std::vector<RotationSegment> out;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string what = "rotation.pattern[" + std::to_string(i) + "]";
    const YAML::Node n = list[i];
    r.expect_map(n, what);
    r.only_keys(n, what, {"shift", "off", "days"});
    RotationSegment s;
    if (n["off"]) {
      if (n["shift"] || n["days"]) r.fail(n, what + ": either {shift: NAME, days: N} or {off: N}");
      s.days = static_cast<int>(r.integer(n["off"], what + ".off", 1, 366));
    } else {
      if (!n["shift"] || !n["days"]) r.fail(n, what + ": either {shift: NAME, days: N} or {off: N}");
      s.shift = r.string(n["shift"], what + ".shift");
      if (std::none_of(shifts.begin(), shifts.end(), [&](const ShiftSpec& x) { return x.name == s.shift; }))
        r.fail(n["shift"], what + ".shift: '" + s.shift + "' is not one of the plant's shifts");
      s.days = static_cast<int>(r.integer(n["days"], what + ".days", 1, 366));
    }
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<Crew> read_crews(const YamlFields& r, const YAML::Node& list) {
  r.expect_list(list, "rotation.crews");
  if (list.size() == 0) r.fail(list, "rotation.crews: must not be empty");
  std::vector<Crew> out;
  std::set<std::string> names;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string what = "rotation.crews[" + std::to_string(i) + "]";
    r.expect_map(list[i], what);
    r.only_keys(list[i], what, {"name", "offset_days"});
    if (!list[i]["name"]) r.fail(list[i], what + ": missing 'name'");
    Crew c{r.string(list[i]["name"], what + ".name"), 0};
    if (c.name.empty() || !names.insert(c.name).second) r.fail(list[i]["name"], what + ".name: empty or duplicate crew '" + c.name + "'");
    if (list[i]["offset_days"]) c.offset_days = static_cast<int>(r.integer(list[i]["offset_days"], what + ".offset_days", 0, 3660));
    out.push_back(std::move(c));
  }
  return out;
}

// Two crews on one shift the same day would make the crew of that shift ambiguous; a shift no crew
// ever works would silently never run. Both are errors.
void check_rotation(const YamlFields& r, const YAML::Node& map, const CrewRotation& rot, const std::vector<ShiftSpec>& shifts) {
  std::set<std::string> worked;
  for (std::int64_t d = 0; d < rot.cycle_days(); ++d) {
    for (const ShiftSpec& s : shifts) {
      const Crew* first = nullptr;
      for (const Crew& c : rot.crews) {
        if (rot.shift_of(c, rot.start_day + d) != s.name) continue;
        if (first != nullptr)
          r.fail(map["crews"], "rotation.crews: " + first->name + " and " + c.name + " both work shift " + s.name + " on " +
                                   format_civil_date(rot.start_day + d) + " (check offset_days)");
        first = &c;
        worked.insert(s.name);
      }
    }
  }
  for (const ShiftSpec& s : shifts)
    if (!worked.count(s.name)) r.fail(map["pattern"], "rotation.pattern: no crew ever works shift " + s.name + ": it would never run");
}

}  // namespace

HolidayCalendar read_holidays(const YamlFields& r, const YAML::Node& list) {
  r.expect_list(list, "holidays");
  HolidayCalendar out;
  for (std::size_t i = 0; i < list.size(); ++i) out.rules.push_back(read_holiday(r, list[i], "holidays[" + std::to_string(i) + "]"));
  return out;
}

CrewRotation read_rotation(const YamlFields& r, const YAML::Node& map, const std::vector<ShiftSpec>& shifts) {
  r.expect_map(map, "rotation");
  r.only_keys(map, "rotation", {"start", "pattern", "crews"});
  if (shifts.empty()) r.fail(map, "rotation: needs the plant's shifts (the pattern names them)");
  for (const char* key : {"start", "pattern", "crews"})
    if (!map[key]) r.fail(map, std::string("rotation: missing '") + key + "'");
  CrewRotation rot;
  rot.start_day = date(r, map["start"], "rotation.start");
  rot.pattern = read_pattern(r, map["pattern"], shifts);
  rot.crews = read_crews(r, map["crews"]);
  check_rotation(r, map, rot, shifts);
  return rot;
}

}  // namespace oee::plant
