#include "oee/core/production_run.h"
#include "oee/core/run_kpis.h"
#include "oee/core/time_zone.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

namespace oee {

namespace {

Event run_start(TimeMs ts, const char* run, const char* product, std::int64_t quantity, std::int64_t cycle_us = 0) {
  Event e;
  e.ts = ts;
  e.type = EventType::run;
  e.run_action = RunAction::start;
  e.run = run;
  e.product = product;
  e.quantity = quantity;
  e.run_cycle_us = cycle_us;
  return e;
}
Event run_end(TimeMs ts, const char* run) {
  Event e;
  e.ts = ts;
  e.type = EventType::run;
  e.run_action = RunAction::end;
  e.run = run;
  return e;
}
Event count(TimeMs ts, std::int64_t good, std::int64_t reject = 0) {
  Event e;
  e.ts = ts;
  e.type = EventType::count;
  e.good = good;
  e.reject = reject;
  return e;
}
Event running(TimeMs ts) {
  Event e;
  e.ts = ts;
  e.type = EventType::state;
  e.state = "running";
  return e;
}

MachineSpec machine() {
  MachineSpec m;
  m.id = m.path = "m";
  m.ideal_cycle_us = 1'000'000;
  return m;
}

std::vector<RunReport> reports_of(std::span<const Event> events, TimeMs horizon) {
  static const MachineSpec m = machine();
  const MachineHistory h = MachineHistory::build(m, events);
  const std::vector<ProductionRun> runs = production_runs(events);
  return run_reports(runs, h.counts(), horizon);
}

// The example of docs/oee-model.md, "Production runs": WO-1 reaches its 50 parts at 30 s and ends
// at 40 s; WO-2 starts at 45 s, makes its first good parts at 60 s and has 30 of its 100 at 105 s.
std::vector<Event> two_orders() {
  return {running(0),
          run_start(0, "WO-1", "cap-red", 50),
          count(10'000, 20),
          count(20'000, 20, 2),
          count(30'000, 10),
          run_end(40'000, "WO-1"),
          run_start(45'000, "WO-2", "cap-blue", 100, 800'000),
          count(60'000, 10),
          count(90'000, 20)};
}

}  // namespace

TEST(ProductionRun, TargetFinishAndChangeoverByHand) {
  const std::vector<RunReport> r = reports_of(two_orders(), 105'000);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].run, "WO-1");
  EXPECT_EQ(r[0].product, "cap-red");
  EXPECT_EQ(r[0].good, 50);
  EXPECT_EQ(r[0].reject, 2);
  EXPECT_EQ(r[0].remaining, 0);
  EXPECT_EQ(r[0].run_ms, 40'000);
  EXPECT_EQ(r[0].expected_finish, 30'000);  // the count that reached the quantity
  EXPECT_FALSE(r[0].changeover_ms);         // no run before it
  EXPECT_EQ(r[1].run, "WO-2");
  EXPECT_EQ(r[1].cycle_us, 800'000);
  EXPECT_EQ(r[1].good, 30);
  EXPECT_EQ(r[1].remaining, 70);
  EXPECT_EQ(r[1].run_ms, 60'000);
  EXPECT_EQ(r[1].end, kTimeMax);
  // 30 parts in 60 s: the 70 left take 140 s from the horizon.
  EXPECT_EQ(r[1].expected_finish, 105'000 + 140'000);
  // Last good part of WO-1 (30 s) to the first of WO-2 (60 s).
  EXPECT_EQ(r[1].changeover_ms, 30'000);
}

TEST(ProductionRun, StartOfAnotherRunEndsTheOpenOneAndStrayEndsChangeNothing) {
  const std::vector<Event> events = {run_start(0, "A", "p", 10), run_end(5, "B"), run_start(10, "A", "p", 10),
                                     run_start(20, "B", "q", 5), run_end(30, "B"), run_end(40, "B"),
                                     run_start(50, "A", "p", 10)};
  const std::vector<ProductionRun> runs = production_runs(events);
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(runs[0], (ProductionRun{"A", "p", 10, 0, 0, 20}));
  EXPECT_EQ(runs[1], (ProductionRun{"B", "q", 5, 0, 20, 30}));
  EXPECT_EQ(runs[2], (ProductionRun{"A", "p", 10, 0, 50, kTimeMax}));
  // Two stretches of A make one report, its time both stretches up to the horizon.
  const std::vector<RunReport> r = run_reports(runs, {}, 60);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].run_ms, 20 + 10);
  EXPECT_EQ(r[0].end, kTimeMax);
  EXPECT_FALSE(r[0].expected_finish);  // no good part yet: no rate
}

TEST(ProductionRun, EndedShortHasNoExpectedFinish) {
  const std::vector<Event> events = {run_start(0, "A", "p", 10), count(1'000, 4), run_end(2'000, "A")};
  const std::vector<RunReport> r = reports_of(events, 10'000);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].remaining, 6);
  EXPECT_FALSE(r[0].expected_finish);
}

// A pure function of the set: shuffled, with duplicates and events arriving late, the same runs.
TEST(ProductionRun, ShufflesDuplicatesAndLateEventsGiveTheSameReports) {
  std::vector<Event> events = two_orders();
  events.push_back(run_end(20'000, "WO-9"));  // an end of a run that is not open
  events.push_back(run_start(100'000, "WO-3", "cap-green", 10));
  events.push_back(count(101'000, 3));
  const std::vector<RunReport> expected = reports_of(events, 105'000);
  ASSERT_EQ(expected.size(), 3u);
  std::mt19937 rng(16);
  for (int round = 0; round < 50; ++round) {
    std::vector<Event> disturbed = events;
    for (int d = 0; d < 4; ++d) disturbed.push_back(events[rng() % events.size()]);
    std::shuffle(disturbed.begin(), disturbed.end(), rng);
    ASSERT_EQ(reports_of(disturbed, 105'000), expected) << "round " << round;
  }
  // Late events: the same reports whether WO-3's start came with the rest or after.
  std::vector<Event> late(events.begin(), events.end() - 2);
  late.push_back(events[events.size() - 1]);
  late.push_back(events[events.size() - 2]);
  EXPECT_EQ(reports_of(late, 105'000), expected);
}

// KPIs by run (docs/oee-model.md): WO-1 over [0, 40 s) with 52 parts at the product's 1 s, WO-2
// over [45, 105 s) with 30 parts at its 0.8 s override; a window from 20 s cuts WO-1.
TEST(RunKpis, EachRunsTotalsAtItsIdealCycle) {
  const MachineSpec m = machine();
  PlantModel plant;
  const FixedOffsetZone utc;
  const ShiftCalendar cal(plant, utc);
  const auto events = two_orders();
  const MachineHistory h = MachineHistory::build(m, events);
  const auto runs = production_runs(events);
  auto k = run_kpis(h, runs, cal, 0, 200'000, 105'000);
  ASSERT_EQ(k.size(), 2u);
  EXPECT_EQ(k[0].run, "WO-1");
  EXPECT_EQ(k[0].end, 40'000);
  EXPECT_EQ(k[0].totals.run_ms(), 40'000);
  EXPECT_EQ(k[0].totals.ideal_us, 52'000'000);
  EXPECT_EQ(k[0].totals.good_count, 50);
  EXPECT_EQ(k[1].run, "WO-2");
  EXPECT_EQ(k[1].start, 45'000);
  EXPECT_EQ(k[1].end, 105'000);  // open: up to the horizon
  EXPECT_EQ(k[1].totals.run_ms(), 60'000);
  EXPECT_EQ(k[1].totals.ideal_us, 30 * 800'000);
  EXPECT_EQ(k[1].totals.machine_count, 1);

  k = run_kpis(h, runs, cal, 20'000, 200'000, 105'000);
  ASSERT_EQ(k.size(), 2u);
  EXPECT_EQ(k[0].start, 20'000);
  EXPECT_EQ(k[0].totals.total_count(), 22 + 10);
  // A run after the window is left out.
  EXPECT_EQ(run_kpis(h, runs, cal, 0, 42'000, 105'000).size(), 1u);
}

}  // namespace oee
