#include <gtest/gtest.h>

#include "oee/core/shift_calendar.h"
#include "oee/plant/plant_file.h"
#include "plant_error_of.h"

namespace oee::plant {

namespace {
// Line numbers matter: the errors below name them.
const char* kDuPont = R"(shifts:
  - {name: day, start: "07:00", end: "19:00"}
  - {name: night, start: "19:00", end: "07:00"}
holidays:
  - 2026-11-11
  - {from: 2026-12-24, to: 2026-12-26, name: Christmas break}
  - {yearly: 01-01, name: New year}
  - {yearly: last mon of may}
rotation:
  start: 2026-11-02
  pattern:
    - {shift: night, days: 4}
    - {off: 3}
    - {shift: day, days: 3}
    - {off: 1}
    - {shift: night, days: 3}
    - {off: 3}
    - {shift: day, days: 4}
    - {off: 7}
  crews:
    - {name: A, offset_days: 0}
    - {name: B, offset_days: 7}
    - {name: C, offset_days: 14}
    - {name: D, offset_days: 21}
sites:
  - id: s1
    areas:
      - id: a1
        lines:
          - id: l1
            machines:
              - {id: filler, ideal_cycle_time_s: 1.0}
)";

std::string with(std::string yaml, const std::string& from, const std::string& to) {
  return yaml.replace(yaml.find(from), from.size(), to);
}
TimeMs at(const char* s) { return *parse_timestamp(s); }
}  // namespace

TEST(ScheduleFile, RotationAndHolidaysTakeEffect) {
  const LoadedPlant loaded = load_plant_yaml(kDuPont, "plant.yaml");
  const PlantModel& p = loaded.model;
  ASSERT_EQ(p.rotation.crews.size(), 4u);
  EXPECT_EQ(p.rotation.cycle_days(), 28);
  ASSERT_EQ(p.holidays.rules.size(), 4u);
  EXPECT_EQ(p.holidays.rules[1].name, "Christmas break");
  const ShiftCalendar cal(p, *loaded.zone);
  // 2026-11-02: crew A on nights, D on days (pattern day 7 for offset 21).
  const auto monday = cal.occurrences(at("2026-11-02T07:00:00Z"), at("2026-11-03T07:00:00Z"));
  ASSERT_EQ(monday.size(), 2u);
  EXPECT_EQ(monday[0].crew, "D");
  EXPECT_EQ(monday[1].crew, "A");
  // Holidays: a date, a range, yearly rules.
  EXPECT_TRUE(cal.occurrences(at("2026-11-11T07:00:00Z"), at("2026-11-11T18:00:00Z")).empty());
  EXPECT_TRUE(cal.occurrences(at("2026-12-25T07:00:00Z"), at("2026-12-25T18:00:00Z")).empty());
  EXPECT_TRUE(cal.occurrences(at("2027-01-01T07:00:00Z"), at("2027-01-01T18:00:00Z")).empty());
  EXPECT_TRUE(cal.occurrences(at("2027-05-31T07:00:00Z"), at("2027-05-31T18:00:00Z")).empty());
  EXPECT_EQ(cal.occurrences(at("2027-05-24T07:00:00Z"), at("2027-05-24T18:00:00Z")).size(), 1u);
}

TEST(ScheduleFile, BadHolidaysNameFileAndLine) {
  EXPECT_EQ(error_of(with(kDuPont, "- 2026-11-11", "- 2026-13-11")), "plant.yaml:5: holidays[0]: '2026-13-11' is not a date YYYY-MM-DD");
  EXPECT_EQ(error_of(with(kDuPont, "to: 2026-12-26", "to: 2026-12-20")), "plant.yaml:6: holidays[1].to: is before 'from'");
  EXPECT_EQ(error_of(with(kDuPont, "{from: 2026-12-24, to: 2026-12-26,", "{from: 2026-12-24,")),
            "plant.yaml:6: holidays[1]: a range needs both 'from' and 'to' (inclusive dates)");
  EXPECT_EQ(error_of(with(kDuPont, "yearly: 01-01", "yearly: 02-30")),
            "plant.yaml:7: holidays[2].yearly: '02-30' is not a month and day MM-DD");
  EXPECT_EQ(error_of(with(kDuPont, "last mon of may", "sixth mon of may")),
            "plant.yaml:8: holidays[3].yearly: 'sixth mon of may' is neither MM-DD nor '<first … fifth|last> <weekday> of <month>'");
  EXPECT_EQ(error_of(with(kDuPont, "{yearly: last mon of may}", "{yearly: 05-01, date: 2026-05-01}")),
            "plant.yaml:8: holidays[3]: give exactly one of 'date', 'from' and 'to', or 'yearly'");
}

TEST(ScheduleFile, BadRotationNamesFileAndLine) {
  EXPECT_EQ(error_of(with(kDuPont, "{shift: day, days: 3}", "{shift: evening, days: 3}")),
            "plant.yaml:14: rotation.pattern[2].shift: 'evening' is not one of the plant's shifts");
  EXPECT_EQ(error_of(with(kDuPont, "{off: 1}", "{off: 1, days: 2}")),
            "plant.yaml:15: rotation.pattern[3]: either {shift: NAME, days: N} or {off: N}");
  EXPECT_EQ(error_of(with(kDuPont, "{name: B, offset_days: 7}", "{name: B, offset_days: 8}")),
            "plant.yaml:21: rotation.crews: B and D both work shift day on 2026-11-02 (check offset_days)");
  EXPECT_EQ(error_of(with(kDuPont, "{name: D, offset_days: 21}", "{name: A, offset_days: 21}")),
            "plant.yaml:24: rotation.crews[3].name: empty or duplicate crew 'A'");
  EXPECT_EQ(error_of(with(with(kDuPont, "{shift: day, days: 3}", "{off: 3}"), "{shift: day, days: 4}", "{off: 4}")),
            "plant.yaml:12: rotation.pattern: no crew ever works shift day: it would never run");
  EXPECT_EQ(error_of(with(kDuPont, "  start: 2026-11-02\n", "")), "plant.yaml:10: rotation: missing 'start'");
}

}  // namespace oee::plant
