// Shift and day lengths across daylight-saving changes, on the real tz database.
#include <gtest/gtest.h>

#include "oee/core/kpi.h"
#include "oee/plant/plant_file.h"

namespace oee {

namespace {
TimeMs at(const char* s) { return *parse_timestamp(s); }
}  // namespace

TEST(Dst, NightShiftAcrossDstChangeIsSevenOrNineHours) {
  PlantModel plant;
  plant.timezone = "Europe/Berlin";
  plant.shifts.push_back({"night", 22 * 60, 6 * 60, {}});
  const auto zone = plant::make_time_zone("Europe/Berlin");
  const ShiftCalendar cal(plant, *zone);
  // Spring forward: the night of 28/29 March 2026 loses an hour.
  auto spring = cal.occurrences(at("2026-03-28T12:00:00Z"), at("2026-03-29T12:00:00Z"));
  ASSERT_EQ(spring.size(), 1u);
  EXPECT_EQ(spring[0].local_day, *parse_civil_date("2026-03-28"));
  EXPECT_EQ(spring[0].start, at("2026-03-28T22:00:00+01:00"));
  EXPECT_EQ(spring[0].end, at("2026-03-29T06:00:00+02:00"));
  EXPECT_EQ(spring[0].end - spring[0].start, 7 * kMsPerHour);
  // Fall back: the night of 24/25 October 2026 gains one.
  auto autumn = cal.occurrences(at("2026-10-24T12:00:00Z"), at("2026-10-25T12:00:00Z"));
  ASSERT_EQ(autumn.size(), 1u);
  EXPECT_EQ(autumn[0].end - autumn[0].start, 9 * kMsPerHour);
  // A machine running all night: its planned production time follows.
  MachineSpec m;
  m.path = "m";
  Event running;
  running.type = EventType::state;
  running.state = "running";
  running.ts = at("2026-10-24T00:00:00Z");
  const auto h = MachineHistory::build(m, std::vector<Event>{running});
  const auto by_shift = make_buckets(cal, Grouping::shift, at("2026-10-24T12:00:00Z"), at("2026-10-26T00:00:00Z"));
  ASSERT_GE(by_shift.size(), 1u);
  EXPECT_EQ(by_shift[0].shift, "night");
  const auto t = machine_totals(h, cal, by_shift[0].range.start, by_shift[0].range.end, kTimeMax);
  EXPECT_EQ(t.planned_production_ms(), 9 * kMsPerHour);
}

TEST(Dst, DaysAre23Or25HoursAndHoursStayWhole) {
  PlantModel plant;
  const auto zone = plant::make_time_zone("Europe/Berlin");
  const ShiftCalendar cal(plant, *zone);
  const auto days = cal.local_days(at("2026-03-29T00:00:00+01:00"), at("2026-03-30T00:00:00+02:00"));
  ASSERT_EQ(days.size(), 1u);
  EXPECT_EQ(days[0].length(), 23 * kMsPerHour);
  const auto autumn = make_buckets(cal, Grouping::day, at("2026-10-25T00:00:00+02:00"), at("2026-10-27T00:00:00+01:00"));
  ASSERT_EQ(autumn.size(), 2u);
  EXPECT_EQ(autumn[0].range.length(), 25 * kMsPerHour);
  EXPECT_EQ(autumn[1].range.length(), 24 * kMsPerHour);
  const auto hours = make_buckets(cal, Grouping::hour, autumn[0].range.start, autumn[0].range.end);
  ASSERT_EQ(hours.size(), 25u);
  for (const auto& h : hours) EXPECT_EQ(h.range.length(), kMsPerHour);
}

TEST(Dst, AmbiguousAndMissingLocalTimesResolveAsDocumented) {
  const auto zone = plant::make_time_zone("Europe/Berlin");
  const std::int64_t spring_0230 = (*parse_civil_date("2026-03-29")) * kMsPerDay + 150 * kMsPerMinute;
  EXPECT_EQ(zone->to_utc(spring_0230), at("2026-03-29T03:00:00+02:00"));  // end of the gap
  const std::int64_t autumn_0230 = (*parse_civil_date("2026-10-25")) * kMsPerDay + 150 * kMsPerMinute;
  EXPECT_EQ(zone->to_utc(autumn_0230), at("2026-10-25T02:30:00+02:00"));  // first occurrence
  EXPECT_THROW(plant::make_time_zone("Not/AZone"), std::invalid_argument);
}

}  // namespace oee
