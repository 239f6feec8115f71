#include <gtest/gtest.h>

#include "oee/core/shift_calendar.h"

namespace oee {

namespace {
TimeMs at(const char* s) { return *parse_timestamp(s); }

PlantModel two_shift_plant() {
  PlantModel p;
  p.shifts.push_back({"early", 6 * 60, 14 * 60, {{9 * 60, 9 * 60 + 15}}});
  p.shifts.push_back({"night", 22 * 60, 6 * 60, {{2 * 60, 2 * 60 + 30, "meal"}}});
  return p;
}
}  // namespace

TEST(ShiftCalendar, NightShiftCrossesMidnightAndBelongsToTheDayItStarts) {
  const PlantModel plant = two_shift_plant();
  const FixedOffsetZone utc;
  const ShiftCalendar cal(plant, utc);
  const auto occ = cal.occurrences(at("2026-11-10T00:00:00Z"), at("2026-11-11T00:00:00Z"));
  ASSERT_EQ(occ.size(), 3u);  // the night shift of the 9th, early and night of the 10th
  EXPECT_EQ(occ[0].name, "night");
  EXPECT_EQ(occ[0].local_day, *parse_civil_date("2026-11-09"));
  EXPECT_EQ(occ[0].start, at("2026-11-09T22:00:00Z"));
  EXPECT_EQ(occ[0].end, at("2026-11-10T06:00:00Z"));
  ASSERT_EQ(occ[0].breaks.size(), 1u);
  EXPECT_EQ(occ[0].breaks[0], (Interval{at("2026-11-10T02:00:00Z"), at("2026-11-10T02:30:00Z")}));
  EXPECT_EQ(occ[0].breaks[0].name, "meal");  // the plant file's name, shown while it lasts
  EXPECT_EQ(occ[1].name, "early");
  EXPECT_EQ(occ[1].breaks.at(0).name, "");
  EXPECT_EQ(occ[2].start, at("2026-11-10T22:00:00Z"));
}

TEST(ShiftCalendar, PlannedIntervalsSubtractBreaksAndClip) {
  const PlantModel plant = two_shift_plant();
  const FixedOffsetZone utc;
  const ShiftCalendar cal(plant, utc);
  const auto planned = cal.planned_intervals(at("2026-11-10T05:00:00Z"), at("2026-11-10T10:00:00Z"));
  ASSERT_EQ(planned.size(), 2u);
  EXPECT_EQ(planned[0], (Interval{at("2026-11-10T05:00:00Z"), at("2026-11-10T09:00:00Z")}));
  EXPECT_EQ(planned[1], (Interval{at("2026-11-10T09:15:00Z"), at("2026-11-10T10:00:00Z")}));
}

TEST(ShiftCalendar, NonProductionDaysHaveNoShifts) {
  PlantModel plant = two_shift_plant();
  plant.production_weekdays[5] = plant.production_weekdays[6] = false;  // no weekend production
  plant.non_production_dates.push_back(*parse_civil_date("2026-12-25"));
  const FixedOffsetZone utc;
  const ShiftCalendar cal(plant, utc);
  // Saturday 2026-11-14 and Sunday: only Friday's night shift reaches into Saturday morning.
  const auto weekend = cal.occurrences(at("2026-11-14T00:00:00Z"), at("2026-11-16T00:00:00Z"));
  ASSERT_EQ(weekend.size(), 1u);
  EXPECT_EQ(weekend[0].local_day, *parse_civil_date("2026-11-13"));
  const auto christmas = cal.occurrences(at("2026-12-25T07:00:00Z"), at("2026-12-25T20:00:00Z"));
  EXPECT_TRUE(christmas.empty());
}

TEST(ShiftCalendar, NoShiftsMeansAlwaysPlanned) {
  PlantModel plant;
  const FixedOffsetZone utc;
  const ShiftCalendar cal(plant, utc);
  const auto planned = cal.planned_intervals(100, 5000);
  ASSERT_EQ(planned.size(), 1u);
  EXPECT_EQ(planned[0], (Interval{100, 5000}));
}

TEST(ShiftCalendar, LocalHoursAndDaysFollowTheOffset) {
  PlantModel plant;
  const FixedOffsetZone india(5 * kMsPerHour + 30 * kMsPerMinute, "+05:30");
  const ShiftCalendar cal(plant, india);
  const auto hours = cal.local_hours(at("2026-11-10T00:00:00Z"), at("2026-11-10T02:00:00Z"));
  ASSERT_EQ(hours.size(), 3u);
  EXPECT_EQ(hours[0].start, at("2026-11-09T23:30:00Z"));
  EXPECT_EQ(hours[1].start, at("2026-11-10T00:30:00Z"));
  const auto days = cal.local_days(at("2026-11-10T00:00:00Z"), at("2026-11-10T12:00:00Z"));
  ASSERT_EQ(days.size(), 1u);
  EXPECT_EQ(days[0].start, at("2026-11-09T18:30:00Z"));
  EXPECT_EQ(days[0].length(), kMsPerDay);
}

}  // namespace oee
