// Sites in their own time zones: the worked example of docs/oee-model.md ("Sites in their own time
// zones"), hand-computed.
#include <gtest/gtest.h>

#include <memory>

#include "oee/core/plant_history.h"

namespace oee {
namespace {

TimeMs at(const char* s) { return *parse_timestamp(s); }

Event running(const std::string& machine, TimeMs ts) {
  Event e;
  e.machine = machine;
  e.ts = ts;
  e.type = EventType::state;
  e.state = "running";
  return e;
}

SiteSpec site(const char* id, std::int64_t offset_h, const char* zone_name) {
  MachineSpec m;
  m.id = "press";
  m.path = std::string(id) + "/a/l/press";
  SiteSpec s{id, id, id, {AreaSpec{"a", std::string(id) + "/a", "a", {LineSpec{"l", std::string(id) + "/a/l", "l", {m}}}}}};
  s.timezone = zone_name;
  s.zone = std::make_shared<FixedOffsetZone>(offset_h * kMsPerHour, zone_name);
  return s;
}

// The plant's zone is UTC; Berlin (+01:00) and Tokyo (+09:00) each run one shift 08:00-16:00 local
// time, with one machine running all day.
struct TwoZones : ::testing::Test {
  PlantModel plant;
  FixedOffsetZone utc;
  std::vector<Event> events;
  TwoZones() {
    plant.shifts.push_back({"day", 8 * 60, 16 * 60, {}});
    plant.sites = {site("berlin", 1, "+01:00"), site("tokyo", 9, "+09:00")};
    for (const MachineSpec* m : plant.machines()) events.push_back(running(m->path, at("2026-11-09T00:00:00Z")));
  }
  std::vector<NodeKpis> rows(const char* node, Grouping by) {
    const ShiftCalendar cal(plant, utc);
    return PlantHistory::build(plant, events).node_kpis(cal, node, by, at("2026-11-10T00:00:00Z"), at("2026-11-11T00:00:00Z"),
                                                        at("2026-11-12T00:00:00Z"));
  }
};

}  // namespace

// Berlin's shift is 07:00-15:00 UTC, Tokyo's 23:00-07:00 UTC of the day before. The plant's UTC day
// 2026-11-10 holds Berlin's shift (8 h) and of Tokyo's two shifts the last 7 h of the one of local
// 10 November (23:00Z on the 9th to 07:00Z) and the first hour of the one of the 11th (from 23:00Z):
// 16 h planned in all.
TEST_F(TwoZones, PlantWideDaysAreUtcDaysSummingEverySitesShifts) {
  const auto plant_days = rows("", Grouping::day);
  ASSERT_EQ(plant_days.size(), 1u);
  EXPECT_EQ(plant_days[0].bucket.range, (Interval{at("2026-11-10T00:00:00Z"), at("2026-11-11T00:00:00Z")}));
  EXPECT_EQ(plant_days[0].totals.planned_production_ms(), 16 * kMsPerHour);
  EXPECT_EQ(plant_days[0].totals.running_ms, 16 * kMsPerHour);
}

// Tokyo's own days start at 15:00 UTC: the UTC window splits into the end of its 10 November
// (00:00Z-15:00Z: 7 h of shift) and the start of its 11 November (15:00Z-24:00Z: 1 h). Berlin's
// day starts at 23:00 UTC.
TEST_F(TwoZones, ASitesDaysFollowItsZone) {
  const auto tokyo = rows("tokyo", Grouping::day);
  ASSERT_EQ(tokyo.size(), 2u);
  EXPECT_EQ(tokyo[0].bucket.range, (Interval{at("2026-11-10T00:00:00Z"), at("2026-11-10T15:00:00Z")}));
  EXPECT_EQ(tokyo[0].totals.planned_production_ms(), 7 * kMsPerHour);
  EXPECT_EQ(tokyo[1].totals.planned_production_ms(), 1 * kMsPerHour);
  const auto berlin = rows("berlin/a/l", Grouping::day);
  ASSERT_EQ(berlin.size(), 2u);
  EXPECT_EQ(berlin[0].bucket.range.end, at("2026-11-10T23:00:00Z"));
  EXPECT_EQ(berlin[0].totals.planned_production_ms(), 8 * kMsPerHour);
  EXPECT_EQ(berlin[1].totals.planned_production_ms(), 0);
}

// By shift, a site's shifts are its local ones; the plant's (the plant's zone) are at 08:00-16:00 UTC.
TEST_F(TwoZones, ASitesShiftsAreAtItsLocalTimes) {
  const auto tokyo = rows("tokyo/a/l/press", Grouping::shift);
  ASSERT_EQ(tokyo.size(), 2u);
  EXPECT_EQ(tokyo[0].bucket.range, (Interval{at("2026-11-10T00:00:00Z"), at("2026-11-10T07:00:00Z")}));
  EXPECT_EQ(tokyo[1].bucket.range, (Interval{at("2026-11-10T23:00:00Z"), at("2026-11-11T00:00:00Z")}));
  const auto plant_shifts = rows("", Grouping::shift);
  ASSERT_EQ(plant_shifts.size(), 1u);
  EXPECT_EQ(plant_shifts[0].bucket.range, (Interval{at("2026-11-10T08:00:00Z"), at("2026-11-10T16:00:00Z")}));
  EXPECT_EQ(plant_shifts[0].totals.planned_production_ms(), 7 * kMsPerHour);  // Berlin 08-15, Tokyo none
}

// A plant whose sites share its zone keeps local days (no UTC switch).
TEST_F(TwoZones, SitesInThePlantsZoneKeepItsLocalDays) {
  const FixedOffsetZone plus1(kMsPerHour, "+01:00");
  plant.sites.pop_back();
  events.pop_back();
  const ShiftCalendar cal(plant, plus1);
  EXPECT_EQ(cal.for_node("").zone().name(), "+01:00");
}

}  // namespace oee
