#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <random>

#include "oee/core/kpi.h"
#include "oee/core/plant_history.h"
#include "oee/core/reason_tree.h"
#include "oee/synthetic/generators.h"

namespace oee {

namespace {

TimeMs at(const char* s) { return *parse_timestamp(s); }

Event state_event(TimeMs ts, const char* s, const char* reason = "") {
  Event e;
  e.ts = ts;
  e.type = EventType::state;
  e.state = s;
  e.reason = reason;
  return e;
}
Event reason_event(TimeMs ts, TimeMs in_stop, const char* reason) {
  Event e;
  e.ts = ts;
  e.type = EventType::reason;
  e.reason = reason;
  e.at = in_stop;
  return e;
}

// MECH (breakdown) > JAM, MOTOR; ORG > NO_ORDERS (planned), PM (planned); MINOR (small_stop).
std::shared_ptr<const ReasonTree> sample_tree() {
  auto tree = std::make_shared<ReasonTree>();
  const int mech = tree->add("MECH", "Mechanical", -1, ReasonLoss::breakdown);
  tree->add("JAM", "Jam", mech, ReasonLoss::none);
  tree->add("MOTOR", "Motor", mech, ReasonLoss::none);
  const int org = tree->add("ORG", "Organisation", -1, ReasonLoss::none);
  tree->add("NO_ORDERS", "No orders", org, ReasonLoss::planned);
  tree->add("PM", "Planned maintenance", org, ReasonLoss::planned);
  tree->add("MINOR", "Minor stop", -1, ReasonLoss::small_stop);
  return tree;
}

MachineSpec machine_with_tree() {
  MachineSpec m;
  m.id = m.path = "s/a/l/m";
  m.micro_stop_threshold_ms = 5 * kMsPerMinute;
  m.reasons = sample_tree();
  m.reason_codes = {{"17", "JAM"}, {"40", "NO_ORDERS"}};
  return m;
}

// One 8-hour shift, 06:00-14:00 UTC.
PlantModel day_shift() {
  PlantModel plant;
  plant.shifts.push_back({"day", 6 * 60, 14 * 60, {}});
  return plant;
}

}  // namespace

TEST(ReasonTree, LossesAreInheritedAndLevelsRollUp) {
  const auto tree = sample_tree();
  EXPECT_EQ(tree->find("JAM")->loss, ReasonLoss::breakdown);
  EXPECT_EQ(tree->find("ORG")->loss, ReasonLoss::none);
  EXPECT_EQ(tree->find("PM")->loss, ReasonLoss::planned);
  EXPECT_EQ(tree->depth(), 2);
  EXPECT_EQ(tree->at_level("JAM", 1), "MECH");
  EXPECT_EQ(tree->at_level("JAM", 2), "JAM");
  EXPECT_EQ(tree->at_level("MECH", 2), "MECH");
  EXPECT_EQ(tree->at_level("not-in-tree", 1), "not-in-tree");
  ReasonTree t;
  t.add("A", "a", -1, ReasonLoss::none);
  EXPECT_EQ(t.add("A", "again", -1, ReasonLoss::none), -1);
}

// Hand-computed: a 480-min shift, stopped 08:00-09:00. Without a reason the hour is a breakdown
// (availability 420/480); with "no orders" (loss planned) it is planned downtime: planned production
// time 420 min, all of it running, availability 1.
TEST(ReasonTree, APlannedReasonMakesTheStopPlannedDowntime) {
  const PlantModel plant = day_shift();
  const FixedOffsetZone utc;
  const ShiftCalendar cal(plant, utc);
  MachineSpec m = machine_with_tree();
  std::vector<Event> events = {state_event(at("2026-11-10T06:00:00Z"), "running"),
                               state_event(at("2026-11-10T08:00:00Z"), "stopped"),
                               state_event(at("2026-11-10T09:00:00Z"), "running")};
  const TimeMs from = at("2026-11-10T06:00:00Z"), to = at("2026-11-10T14:00:00Z");
  const KpiTotals before = machine_totals(MachineHistory::build(m, events), cal, from, to, kTimeMax);
  EXPECT_EQ(before.breakdown_ms, 60 * kMsPerMinute);
  EXPECT_EQ(before.planned_production_ms(), 480 * kMsPerMinute);
  EXPECT_DOUBLE_EQ(*derive_figures(before).availability, 420.0 / 480.0);

  events.push_back(reason_event(at("2026-11-10T09:30:00Z"), at("2026-11-10T08:10:00Z"), "NO_ORDERS"));
  const MachineHistory h = MachineHistory::build(m, events);
  EXPECT_EQ(h.intervals()[1].state, State::stopped);  // as the PLC said; the loss is the reason's
  EXPECT_EQ(h.intervals()[1].loss, ReasonLoss::planned);
  EXPECT_EQ(h.intervals()[1].reason_ts, at("2026-11-10T09:30:00Z"));
  const KpiTotals after = machine_totals(h, cal, from, to, kTimeMax);
  EXPECT_EQ(after.breakdown_ms, 0);
  EXPECT_EQ(after.stop_count, 0);
  EXPECT_EQ(after.planned_downtime_ms, 60 * kMsPerMinute);
  EXPECT_EQ(after.planned_production_ms(), 420 * kMsPerMinute);
  EXPECT_DOUBLE_EQ(*derive_figures(after).availability, 1.0);
}

// PLC code 17 reads as JAM (a breakdown by inheritance, even for a 2-minute stop under the 5-minute
// micro-stop threshold); MINOR makes a 20-minute starved stop a small stop; PLC code 40 makes a
// blocked stop planned.
TEST(ReasonTree, PlcCodesMapIntoTheTreeAndReasonLossesDecide) {
  const PlantModel plant = day_shift();
  const FixedOffsetZone utc;
  const ShiftCalendar cal(plant, utc);
  const MachineSpec m = machine_with_tree();
  const std::vector<Event> events = {state_event(at("2026-11-10T06:00:00Z"), "running"),
                                     state_event(at("2026-11-10T07:00:00Z"), "stopped", "17"),
                                     state_event(at("2026-11-10T07:02:00Z"), "running"),
                                     state_event(at("2026-11-10T08:00:00Z"), "starved", "MINOR"),
                                     state_event(at("2026-11-10T08:20:00Z"), "running"),
                                     state_event(at("2026-11-10T10:00:00Z"), "blocked", "40"),
                                     state_event(at("2026-11-10T10:30:00Z"), "running")};
  const MachineHistory h = MachineHistory::build(m, events);
  EXPECT_EQ(h.intervals()[1].reason, "JAM");
  EXPECT_EQ(h.intervals()[5].reason, "NO_ORDERS");
  const KpiTotals t = machine_totals(h, cal, at("2026-11-10T06:00:00Z"), at("2026-11-10T14:00:00Z"), kTimeMax);
  EXPECT_EQ(t.breakdown_ms, 2 * kMsPerMinute);
  EXPECT_EQ(t.breakdown_count, 1);
  EXPECT_EQ(t.small_stop_ms, 20 * kMsPerMinute);
  EXPECT_EQ(t.starved_ms, 0);
  EXPECT_EQ(t.blocked_ms, 0);
  EXPECT_EQ(t.planned_downtime_ms, 30 * kMsPerMinute);
  EXPECT_EQ(t.stop_count, 2);
}

// Reasons from the tree, PLC codes and free text, as state and reason events, shuffled and
// duplicated: the same set of events gives the same figures.
TEST(ReasonTree, ReasonsAndTheirLossesDoNotDependOnArrivalOrder) {
  PlantModel plant = synthetic::test_plant(1, 2);
  const auto tree = sample_tree();
  for (auto& site : plant.sites)
    for (auto& area : site.areas)
      for (auto& line : area.lines)
        for (auto& mach : line.machines) {
          mach.reasons = tree;
          mach.reason_codes = {{"17", "JAM"}, {"40", "NO_ORDERS"}};
        }
  const FixedOffsetZone utc;
  const ShiftCalendar cal(plant, utc);
  const TimeMs from = at("2026-11-10T00:00:00Z"), to = at("2026-11-12T00:00:00Z");
  const char* states[] = {"running", "running", "stopped", "starved", "blocked", "setup"};
  const char* reasons[] = {"", "17", "40", "MINOR", "PM", "MOTOR", "free text"};
  std::mt19937_64 rng(11);
  std::vector<Event> events;
  std::int64_t seq = 0;
  for (const MachineSpec* m : plant.machines())
    for (TimeMs t = from; t < to; t += 1 + static_cast<TimeMs>(rng() % 1'200'000)) {
      Event e = rng() % 3 == 0 ? reason_event(t, t - static_cast<TimeMs>(rng() % 3'600'000), reasons[1 + rng() % 6])
                               : state_event(t, states[rng() % 6], reasons[rng() % 7]);
      e.machine = m->path;
      e.src = "gen";
      e.seq = seq++;
      events.push_back(std::move(e));
    }
  const auto reference = PlantHistory::build(plant, events).node_kpis(cal, "", Grouping::hour, from, to, to);
  KpiTotals sum;
  for (const auto& r : reference) sum += r.totals;
  EXPECT_GT(sum.planned_downtime_ms, 0);
  EXPECT_GT(sum.small_stop_ms, 0);
  for (int round = 0; round < 3; ++round) {
    std::vector<Event> disturbed = events;
    for (std::size_t i = 0; i < events.size() / 4; ++i) disturbed.push_back(events[rng() % events.size()]);
    std::shuffle(disturbed.begin(), disturbed.end(), rng);
    const auto again = PlantHistory::build(plant, disturbed).node_kpis(cal, "", Grouping::hour, from, to, to);
    ASSERT_EQ(again.size(), reference.size());
    for (std::size_t i = 0; i < again.size(); ++i) EXPECT_EQ(again[i].totals, reference[i].totals) << "bucket " << i;
  }
}

}  // namespace oee
