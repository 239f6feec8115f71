#include <gtest/gtest.h>

#include <map>

#include "oee/core/shift_calendar.h"

namespace oee {

namespace {
TimeMs at(const char* s) { return *parse_timestamp(s); }

// DuPont: 4 crews on a 28-day pattern of 12-hour shifts (4 nights, 3 off, 3 days, 1 off, 3 nights,
// 3 off, 4 days, 7 off), a week apart. Each shift has a 30-minute break.
PlantModel dupont_plant() {
  PlantModel p;
  p.shifts.push_back({"day", 7 * 60, 19 * 60, {{12 * 60, 12 * 60 + 30}}});
  p.shifts.push_back({"night", 19 * 60, 7 * 60, {{0, 30}}});
  p.rotation.start_day = *parse_civil_date("2026-11-02");
  p.rotation.pattern = {{"night", 4}, {"", 3}, {"day", 3}, {"", 1}, {"night", 3}, {"", 3}, {"day", 4}, {"", 7}};
  p.rotation.crews = {{"A", 0}, {"B", 7}, {"C", 14}, {"D", 21}};
  return p;
}

DurationMs planned_ms(const ShiftOccurrence& occ) {
  DurationMs ms = occ.end - occ.start;
  for (const Interval& b : occ.breaks) ms -= b.length();
  return ms;
}
}  // namespace

TEST(CrewRotation, DuPontPatternDaysByOffset) {
  const PlantModel p = dupont_plant();
  const std::int64_t day0 = p.rotation.start_day;
  EXPECT_EQ(p.rotation.cycle_days(), 28);
  EXPECT_EQ(p.rotation.shift_of(p.rotation.crews[0], day0), "night");      // A: pattern day 0
  EXPECT_EQ(p.rotation.shift_of(p.rotation.crews[0], day0 + 4), "");       // A: first day off
  EXPECT_EQ(p.rotation.shift_of(p.rotation.crews[3], day0), "day");        // D: pattern day 7
  EXPECT_EQ(p.rotation.shift_of(p.rotation.crews[1], day0 - 1), "day");    // B: pattern day 20, its last day
  EXPECT_EQ(p.rotation.shift_of(p.rotation.crews[1], day0), "");           // B: pattern day 21, off
  EXPECT_EQ(p.rotation.shift_of(p.rotation.crews[0], day0 + 28), "night");  // the cycle repeats
  EXPECT_EQ(p.rotation.shift_of(p.rotation.crews[0], day0 - 28), "night");  // also before the start
  ASSERT_NE(p.rotation.crew_on("day", day0), nullptr);
  EXPECT_EQ(p.rotation.crew_on("day", day0)->name, "D");
}

// Hand computation: over 28 days each crew works 14 shifts of 12 h less a 30-minute break, 161 h;
// the plant runs both shifts every day, 28 x 2 x 11.5 h = 644 h, and every shift has exactly one crew.
TEST(CrewRotation, DuPontPlannedTimeOver28DaysByCrew) {
  const PlantModel plant = dupont_plant();
  const FixedOffsetZone utc;
  const ShiftCalendar cal(plant, utc);
  const TimeMs from = at("2026-11-02T07:00:00Z"), to = at("2026-11-30T07:00:00Z");
  std::map<std::string, DurationMs> by_crew;
  std::map<std::string, int> shifts_by_crew;
  std::size_t occurrences = 0;
  for (const ShiftOccurrence& occ : cal.occurrences(from, to)) {
    if (occ.end <= from || occ.start >= to) continue;
    ASSERT_FALSE(occ.crew.empty()) << occ.name << " on day " << occ.local_day;
    by_crew[occ.crew] += planned_ms(occ);
    ++shifts_by_crew[occ.crew];
    ++occurrences;
  }
  EXPECT_EQ(occurrences, 56u);
  ASSERT_EQ(by_crew.size(), 4u);
  for (const auto& [crew, ms] : by_crew) {
    EXPECT_EQ(ms, 161 * kMsPerHour) << crew;
    EXPECT_EQ(shifts_by_crew[crew], 14) << crew;
  }
  DurationMs planned = 0;
  for (const Interval& iv : cal.planned_intervals(from, to)) planned += iv.length();
  EXPECT_EQ(planned, 644 * kMsPerHour);
}

// A pattern that leaves a shift without a crew on some days: the shift does not run on them.
TEST(CrewRotation, ShiftWithoutACrewDoesNotRun) {
  PlantModel plant;
  plant.shifts.push_back({"day", 8 * 60, 16 * 60, {}});
  plant.rotation.start_day = *parse_civil_date("2026-11-02");
  plant.rotation.pattern = {{"day", 2}, {"", 2}};  // one crew: two days on, two off
  plant.rotation.crews = {{"A", 0}};
  const FixedOffsetZone utc;
  const ShiftCalendar cal(plant, utc);
  const auto occ = cal.occurrences(at("2026-11-02T00:00:00Z"), at("2026-11-06T00:00:00Z"));
  ASSERT_EQ(occ.size(), 2u);
  EXPECT_EQ(occ[0].local_day, *parse_civil_date("2026-11-02"));
  EXPECT_EQ(occ[1].local_day, *parse_civil_date("2026-11-03"));
  EXPECT_EQ(occ[1].crew, "A");
}

}  // namespace oee
