// The plant file's downtime windows, a line's and a site's own shifts and a site's time zone: read
// into the model, and file:line errors for what cannot take effect.
#include <gtest/gtest.h>

#include "oee/core/shift_calendar.h"
#include "oee/plant/plant_file.h"
#include "plant_error_of.h"

namespace oee::plant {

namespace {
// Line numbers matter: the errors below name them.
const char* kPlant = R"(timezone: UTC
shifts:
  - {name: early, start: "06:00", end: "14:00"}
sites:
  - id: tokyo
    timezone: Asia/Tokyo
    shifts:
      - {name: day, start: "08:00", end: "16:00"}
    areas:
      - id: a
        lines:
          - id: l1
            shifts:
              - {name: night, start: "22:00", end: "06:00"}
            machines:
              - {id: m1, ideal_cycle_time_s: 1}
          - id: l2
            machines:
              - {id: m2, ideal_cycle_time_s: 1}
  - id: berlin
    areas:
      - id: a
        lines:
          - id: l
            machines:
              - {id: m, ideal_cycle_time_s: 1}
downtime:
  - {name: PM, target: tokyo/a/l1, start: "2026-11-10 09:00", end: "2026-11-10 11:30"}
  - {name: cleaning, target: berlin/a/l/m, start: "12:00", end: "13:00", days: [sat, sun]}
)";

std::string with_downtime(const std::string& entry) {
  const std::string text = kPlant;
  return text.substr(0, text.find("downtime:")) + "downtime:\n  - " + entry + "\n";
}
}  // namespace

TEST(DowntimeFile, WindowsLineAndSiteShiftsAndASiteZoneAreRead) {
  const LoadedPlant loaded = load_plant_yaml(kPlant, "plant.yaml");
  const PlantModel& p = loaded.model;
  ASSERT_EQ(p.downtime.size(), 2u);
  EXPECT_FALSE(p.downtime[0].recurring);
  EXPECT_EQ(p.downtime[0].target, "tokyo/a/l1");
  EXPECT_EQ(p.downtime[0].local_end_ms - p.downtime[0].local_start_ms, 150 * kMsPerMinute);
  EXPECT_TRUE(p.downtime[1].recurring);
  EXPECT_EQ(p.downtime[1].start_minute, 12 * 60);
  EXPECT_EQ(p.downtime[1].weekdays, (std::array<bool, 7>{false, false, false, false, false, true, true}));
  ASSERT_TRUE(p.sites[0].zone);
  EXPECT_EQ(p.sites[0].zone->offset_ms_at(0), 9 * kMsPerHour);
  EXPECT_FALSE(p.sites[1].zone);
  ASSERT_TRUE(p.sites[0].shifts && p.sites[0].areas[0].lines[0].shifts);
  EXPECT_EQ(p.sites[0].areas[0].lines[0].shifts->at(0).name, "night");
  EXPECT_FALSE(p.sites[0].areas[0].lines[1].shifts);

  // In effect: l1 (night, 22:00-06:00 Tokyo = 13:00-21:00Z) loses nothing to its window, which is at
  // 09:00-11:30 Tokyo time, outside its night shift; its calendar's shifts are Tokyo's nights.
  const ShiftCalendar cal(p, *loaded.zone);
  const TimeMs day = *parse_timestamp("2026-11-10T00:00:00Z");
  const auto l1 = cal.for_machine(*p.find_machine("tokyo/a/l1/m1")).planned_intervals(day, day + kMsPerDay);
  ASSERT_EQ(l1.size(), 1u);
  EXPECT_EQ(l1[0], (Interval{day + 13 * kMsPerHour, day + 21 * kMsPerHour}));
  // l2 follows the site's day shift (08:00-16:00 Tokyo = 23:00Z-07:00Z).
  const auto l2 = cal.for_machine(*p.find_machine("tokyo/a/l2/m2")).planned_intervals(day, day + kMsPerDay);
  ASSERT_EQ(l2.size(), 2u);
  EXPECT_EQ(l2[0], (Interval{day, day + 7 * kMsPerHour}));
}

TEST(DowntimeFile, ErrorsNameTheFileLineAndWhatIsWrong) {
  EXPECT_EQ(error_of(with_downtime("{name: PM, target: tokyo/a/l9, start: \"06:00\", end: \"07:00\"}")),
            "plant.yaml:28: downtime[0].target: 'tokyo/a/l9' is not a line or machine of the plant (site/area/line[/machine])");
  EXPECT_EQ(error_of(with_downtime("{name: PM, target: tokyo/a/l1, start: \"2026-11-10 09:00\", end: \"2026-11-10 09:00\"}")),
            "plant.yaml:28: downtime[0].end: '2026-11-10 09:00' is not after its start '2026-11-10 09:00'");
  EXPECT_EQ(error_of(with_downtime("{name: PM, target: tokyo/a/l1, start: \"2026-11-10 09:00\", end: \"10:00\"}")),
            "plant.yaml:28: downtime[0]: start '2026-11-10 09:00' and end '10:00' must both be YYYY-MM-DD HH:MM (once) or both "
            "HH:MM (recurring)");
  EXPECT_EQ(error_of(with_downtime("{name: PM, target: tokyo/a/l1, start: \"2026-11-10 09:00\", end: \"2026-11-11 09:00\", days: [mon]}")),
            "plant.yaml:28: downtime[0].days: only for a recurring window (start and end as HH:MM)");
  EXPECT_EQ(error_of(with_downtime("{name: PM, target: tokyo/a/l1, start: \"06:00\", end: \"07:00\", days: [someday]}")),
            "plant.yaml:28: downtime[0].days: 'someday' is not a weekday (mon … sun)");
  EXPECT_EQ(error_of(with_downtime("{name: PM, target: tokyo/a/l1}")),
            "plant.yaml:28: downtime[0]: needs 'start' and 'end' (YYYY-MM-DD HH:MM once, or HH:MM with days)");
  EXPECT_EQ(error_of(with_downtime("{target: tokyo/a/l1, start: \"06:00\", end: \"07:00\"}")),
            "plant.yaml:28: downtime[0]: missing 'name' (maintenance, trial, …)");
  std::string bad_zone = kPlant;
  bad_zone.replace(bad_zone.find("Asia/Tokyo"), 10, "Mars/Olympus");
  EXPECT_NE(error_of(bad_zone).find("plant.yaml:6: sites[0].timezone: "), std::string::npos) << error_of(bad_zone);
  std::string twice = kPlant;
  twice.replace(twice.find("{name: night"), 12, "{name: night, start: \"06:00\", end: \"07:00\"}\n              - {name: night");
  EXPECT_EQ(error_of(twice), "plant.yaml:15: sites[0].areas[0].lines[0].shifts[1].name: duplicate shift 'night'");
}

}  // namespace oee::plant
