// Line OEE in constraint mode and line stops blamed on their root-cause machine: the worked example
// of docs/oee-model.md ("Line OEE"), computed by hand.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "oee/core/plant_history.h"
#include "oee/core/time_zone.h"

namespace oee {

namespace {

constexpr TimeMs kS = 1000;

Event ev(const std::string& machine, TimeMs s, const char* st) {
  Event e;
  e.machine = machine;
  e.ts = s * kS;
  e.type = EventType::state;
  e.state = st;
  return e;
}
Event made(const std::string& machine, TimeMs s, std::int64_t good, std::int64_t reject) {
  Event e;
  e.machine = machine;
  e.ts = s * kS;
  e.type = EventType::count;
  e.good = good;
  e.reject = reject;
  return e;
}

// Filler -> capper (the constraint, 2 s per part) -> packer (the outfeed), in flow order.
PlantModel worked_plant(LineKpiMode mode) {
  PlantModel p;
  LineSpec line{"l1", "s/a/l1", "Line 1", {}};
  for (auto [id, cycle_us] : {std::pair{"filler", 1'000'000}, std::pair{"capper", 2'000'000}, std::pair{"packer", 1'000'000}}) {
    MachineSpec m;
    m.id = id;
    m.path = line.path + "/" + id;
    m.ideal_cycle_us = cycle_us;
    line.machines.push_back(std::move(m));
  }
  line.kpi = {mode, "capper", "packer"};
  p.sites.push_back({"s", "s", "S", {{"a", "s/a", "A", {std::move(line)}}}});
  return p;
}

// The worked example's hour (docs/oee-model.md).
std::vector<Event> worked_events() {
  const std::string f = "s/a/l1/filler", c = "s/a/l1/capper", p = "s/a/l1/packer";
  return {ev(f, 0, "running"), ev(c, 0, "running"), ev(p, 0, "running"),
          // The filler breaks down at 600 s; the capper runs dry at 660 s until 960 s.
          ev(f, 600, "stopped"), ev(c, 660, "starved"), ev(f, 900, "running"), ev(c, 960, "running"),
          // The packer jams at 2000 s; the capper backs up at 2030 s until 2150 s.
          ev(p, 2000, "stopped"), ev(c, 2030, "blocked"), ev(p, 2120, "running"), ev(c, 2150, "running"),
          // The capper's own breakdown: 180 s.
          ev(c, 3000, "stopped"), ev(c, 3180, "running"),
          made(f, 3599, 1500, 0), made(c, 3599, 1400, 0), made(p, 3599, 1350, 30)};
}


}  // namespace

TEST(ConstraintLine, WorkedExampleFromTheConstraintAndTheOutfeed) {
  const PlantModel plant = worked_plant(LineKpiMode::constraint);
  const FixedOffsetZone utc;
  const ShiftCalendar cal(plant, utc);
  const auto events = worked_events();
  const auto rows = PlantHistory::build(plant, events).node_kpis(cal, "s/a/l1", Grouping::none, 0, 3600 * kS, 3600 * kS);
  ASSERT_EQ(rows.size(), 1u);
  const KpiTotals& t = rows[0].totals;
  EXPECT_EQ(t.planned_production_ms(), 3600 * kS);
  EXPECT_EQ(t.run_ms(), 3000 * kS);  // the capper's: 3600 - 300 starved - 120 blocked - 180 down
  EXPECT_EQ(t.starved_ms, 300 * kS);
  EXPECT_EQ(t.blocked_ms, 120 * kS);
  EXPECT_EQ(t.breakdown_ms, 180 * kS);
  EXPECT_EQ(t.good_count, 1350);  // the packer's
  EXPECT_EQ(t.reject_count, 30);
  EXPECT_EQ(t.ideal_us, 1380 * 2'000'000LL);  // at the capper's 2 s
  EXPECT_EQ(t.machine_count, 3);
  const KpiFigures fig = derive_figures(t);
  EXPECT_DOUBLE_EQ(*fig.availability, 3000.0 / 3600.0);
  EXPECT_DOUBLE_EQ(*fig.performance, 2760.0 / 3000.0);
  EXPECT_DOUBLE_EQ(*fig.quality, 1350.0 / 1380.0);
  EXPECT_NEAR(*fig.oee, 0.75, 1e-12);  // = 1350 good x 2 s / 3600 s
}

TEST(ConstraintLine, SumModeStillSumsTheMachines) {
  const PlantModel plant = worked_plant(LineKpiMode::sum);
  const FixedOffsetZone utc;
  const ShiftCalendar cal(plant, utc);
  const auto rows = PlantHistory::build(plant, worked_events()).node_kpis(cal, "s/a/l1", Grouping::none, 0, 3600 * kS, 3600 * kS);
  EXPECT_EQ(rows[0].totals.planned_production_ms(), 3 * 3600 * kS);
  EXPECT_EQ(rows[0].totals.good_count, 1500 + 1400 + 1350);
}

TEST(ConstraintLine, StarvedBlamedUpstreamAndBlockedDownstream) {
  const PlantModel plant = worked_plant(LineKpiMode::constraint);
  const FixedOffsetZone utc;
  const ShiftCalendar cal(plant, utc);
  const auto causes = PlantHistory::build(plant, worked_events()).line_stop_causes(cal, "s/a/l1", 0, 3600 * kS, 3600 * kS);
  ASSERT_EQ(causes.size(), 2u);
  EXPECT_EQ(causes[0].machine, "s/a/l1/filler");
  EXPECT_EQ(causes[0].constraint_state, State::starved);
  EXPECT_EQ(causes[0].loss_ms, 300 * kS);
  EXPECT_EQ(causes[0].stop_count, 1);
  EXPECT_EQ(causes[1].machine, "s/a/l1/packer");
  EXPECT_EQ(causes[1].constraint_state, State::blocked);
  EXPECT_EQ(causes[1].loss_ms, 120 * kS);
}

// depal -> filler -> capper -> packer: two machines upstream of the constraint.
TEST(ConstraintLine, TheUpstreamMachineThatWentDownFirstIsTheRootCause) {
  PlantModel plant = worked_plant(LineKpiMode::constraint);
  LineSpec& line = plant.sites[0].areas[0].lines[0];
  MachineSpec depal;
  depal.id = "depal";
  depal.path = "s/a/l1/depal";
  line.machines.insert(line.machines.begin(), depal);  // depal -> filler -> capper -> packer
  const FixedOffsetZone utc;
  const ShiftCalendar cal(plant, utc);
  const std::string d = "s/a/l1/depal", f = "s/a/l1/filler", c = "s/a/l1/capper", p = "s/a/l1/packer";
  std::vector<Event> events = {ev(d, 0, "running"), ev(f, 0, "running"), ev(c, 0, "running"), ev(p, 0, "running"),
                               // depal down at 100 s; the filler starves at 110 s, the capper at 120 s.
                               ev(d, 100, "stopped"), ev(f, 110, "starved"), ev(c, 120, "starved"),
                               ev(d, 400, "running"), ev(f, 410, "running"), ev(c, 420, "running"),
                               // Later the capper starves with nobody upstream down: its own.
                               ev(c, 1000, "starved"), ev(c, 1060, "running"),
                               // The filler and depal go down at the same instant: the farther one.
                               ev(d, 2000, "setup"), ev(f, 2000, "stopped"), ev(c, 2010, "starved"),
                               ev(d, 2100, "running"), ev(f, 2100, "running"), ev(c, 2110, "running")};
  const auto causes = PlantHistory::build(plant, events).line_stop_causes(cal, "s/a/l1", 0, 3600 * kS, 3600 * kS);
  ASSERT_EQ(causes.size(), 2u);
  EXPECT_EQ(causes[0].machine, d);
  EXPECT_EQ(causes[0].loss_ms, (300 + 100) * kS);
  EXPECT_EQ(causes[0].stop_count, 2);
  EXPECT_EQ(causes[1].machine, c);
  EXPECT_EQ(causes[1].loss_ms, 60 * kS);
  // The causes split the line's starved time exactly.
  const auto rows = PlantHistory::build(plant, events).node_kpis(cal, "s/a/l1", Grouping::none, 0, 3600 * kS, 3600 * kS);
  EXPECT_EQ(rows[0].totals.starved_ms, causes[0].loss_ms + causes[1].loss_ms);
}

TEST(ConstraintLine, ArrivalOrderDoesNotChangeTheFiguresOrTheCauses) {
  const PlantModel plant = worked_plant(LineKpiMode::constraint);
  const FixedOffsetZone utc;
  const ShiftCalendar cal(plant, utc);
  auto events = worked_events();
  const auto ref = PlantHistory::build(plant, events);
  const auto ref_rows = ref.node_kpis(cal, "s/a/l1", Grouping::hour, 0, 3600 * kS, 3600 * kS);
  const auto ref_causes = ref.line_stop_causes(cal, "s/a/l1", 0, 3600 * kS, 3600 * kS);
  std::mt19937_64 rng(7);
  for (int i = 0; i < 20; ++i) {
    std::shuffle(events.begin(), events.end(), rng);
    auto disturbed = events;
    disturbed.push_back(events[static_cast<std::size_t>(i) % events.size()]);  // a duplicate
    const auto again = PlantHistory::build(plant, disturbed);
    EXPECT_EQ(again.node_kpis(cal, "s/a/l1", Grouping::hour, 0, 3600 * kS, 3600 * kS)[0].totals, ref_rows[0].totals);
    const auto causes = again.line_stop_causes(cal, "s/a/l1", 0, 3600 * kS, 3600 * kS);
    ASSERT_EQ(causes.size(), ref_causes.size());
    for (std::size_t k = 0; k < causes.size(); ++k) {
      EXPECT_EQ(causes[k].machine, ref_causes[k].machine);
      EXPECT_EQ(causes[k].loss_ms, ref_causes[k].loss_ms);
    }
  }
}

}  // namespace oee
