#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "oee/core/kpi.h"
#include "oee/core/plant_history.h"
#include "oee/synthetic/generators.h"
#include "test_events.h"

namespace oee {

namespace {

TimeMs at(const char* s) { return *parse_timestamp(s); }

Event state(TimeMs ts, const char* s, std::string src = "", std::int64_t seq = -1) {
  Event e;
  e.ts = ts;
  e.type = EventType::state;
  e.state = s;
  e.src = std::move(src);
  e.seq = seq;
  return e;
}
Event count(TimeMs ts, std::int64_t good, std::int64_t reject) {
  Event e;
  e.ts = ts;
  e.type = EventType::count;
  e.good = good;
  e.reject = reject;
  return e;
}

MachineSpec machine(const char* path, std::int64_t cycle_us = 1'000'000) {
  MachineSpec m;
  m.id = path;
  m.path = path;
  m.ideal_cycle_us = cycle_us;
  return m;
}

// A random but plausible event stream for one machine, with src+seq identities.
std::vector<Event> random_events(std::uint64_t seed, TimeMs start, TimeMs end, const std::string& machine_path) {
  std::mt19937_64 rng(seed);
  std::vector<Event> out;
  const char* states[] = {"running", "running", "running", "stopped", "setup", "starved", "blocked", "planned_stop"};
  const char* products[] = {"a", "b", "c"};
  std::int64_t seq = 0;
  std::int64_t counter_value = 60000;
  for (TimeMs t = start; t < end; t += 1 + static_cast<TimeMs>(rng() % 90'000)) {
    Event e;
    switch (rng() % 6) {
      case 0: e = state(t, states[rng() % 8]); if (rng() % 3 == 0) e.reason = "jam"; break;
      case 1: e = count(t, static_cast<std::int64_t>(rng() % 20), static_cast<std::int64_t>(rng() % 3)); break;
      case 2:
        counter_value = (counter_value + static_cast<std::int64_t>(rng() % 500)) % 65536;
        e = counter(t, CounterName::total, counter_value, 65536);
        break;
      case 3: e.ts = t; e.type = EventType::product; e.product = products[rng() % 3]; break;
      case 4: e.ts = t; e.type = EventType::reason; e.reason = "material"; e.at = t - static_cast<TimeMs>(rng() % 600'000); break;
      default: e = count(t, 1, 0); break;
    }
    e.machine = machine_path;
    e.src = "gen";
    e.seq = seq++;
    out.push_back(std::move(e));
  }
  return out;
}

// Two lines of two machines with three shifts, breaks and a non-production day.
PlantModel property_plant() { return synthetic::test_plant(2, 2); }

}  // namespace

// oee.com / Vorne worked example: a 480-minute shift with 60 minutes of breaks, 47 minutes down,
// 1.0 s ideal cycle, 19,271 parts of which 423 rejects.
TEST(Engine, OeeComWorkedExample) {
  PlantModel plant;
  plant.shifts.push_back({"day", 6 * 60, 14 * 60, {{9 * 60, 9 * 60 + 30}, {12 * 60, 12 * 60 + 30}}});
  const MachineSpec m = machine("s/a/l/m");
  const FixedOffsetZone utc;
  const ShiftCalendar cal(plant, utc);
  std::vector<Event> events = {state(at("2026-11-10T06:00:00Z"), "running"),
                               state(at("2026-11-10T07:00:00Z"), "stopped"),
                               state(at("2026-11-10T07:47:00Z"), "running"),
                               count(at("2026-11-10T13:00:00Z"), 19271 - 423, 423)};
  const auto h = MachineHistory::build(m, events);
  const KpiTotals t = machine_totals(h, cal, at("2026-11-10T06:00:00Z"), at("2026-11-10T14:00:00Z"), kTimeMax);
  EXPECT_EQ(t.planned_production_ms(), 420 * kMsPerMinute);
  EXPECT_EQ(t.breakdown_ms, 47 * kMsPerMinute);
  EXPECT_EQ(t.planned_downtime_ms, 60 * kMsPerMinute);
  const KpiFigures f = derive_figures(t);
  EXPECT_NEAR(*f.availability, 0.8881, 5e-5);
  EXPECT_NEAR(*f.performance, 0.8611, 5e-5);
  EXPECT_NEAR(*f.quality, 0.9780, 5e-5);
  EXPECT_NEAR(*f.oee, 0.7479, 5e-5);
  EXPECT_EQ(t.breakdown_count, 1);
  EXPECT_DOUBLE_EQ(*f.mttr_s, 47 * 60.0);
}

TEST(Engine, ShuffledDuplicatedAndLateEventsGiveIdenticalResults) {
  const PlantModel plant = property_plant();
  const FixedOffsetZone zone(kMsPerHour, "+01:00");
  const ShiftCalendar cal(plant, zone);
  const TimeMs from = at("2026-11-10T00:00:00Z"), to = at("2026-11-13T00:00:00Z");
  std::vector<Event> events;
  std::uint64_t seed = 7;
  for (const MachineSpec* m : plant.machines()) {
    auto e = random_events(seed++, from, to, m->path);
    events.insert(events.end(), e.begin(), e.end());
  }
  const auto reference = PlantHistory::build(plant, events).node_kpis(cal, "", Grouping::hour, from, to, to);
  ASSERT_EQ(reference.size(), 72u);
  std::mt19937_64 rng(42);
  for (int round = 0; round < 5; ++round) {
    std::vector<Event> disturbed = events;
    for (std::size_t i = 0; i < events.size() / 3; ++i) disturbed.push_back(events[rng() % events.size()]);
    std::shuffle(disturbed.begin(), disturbed.end(), rng);
    const auto again = PlantHistory::build(plant, disturbed).node_kpis(cal, "", Grouping::hour, from, to, to);
    ASSERT_EQ(again.size(), reference.size());
    for (std::size_t i = 0; i < again.size(); ++i) EXPECT_EQ(again[i].totals, reference[i].totals) << "bucket " << i;
  }
  // The same, built incrementally as if the last third arrived late: the set is what counts.
  KpiTotals sum_ref;
  for (const auto& r : reference) sum_ref += r.totals;
  EXPECT_GT(sum_ref.total_count(), 0);
  EXPECT_GT(sum_ref.breakdown_ms, 0);
}

TEST(Engine, WindowsAreAdditive) {
  const PlantModel plant = property_plant();
  const FixedOffsetZone zone(kMsPerHour, "+01:00");
  const ShiftCalendar cal(plant, zone);
  const TimeMs a = at("2026-11-10T00:00:00Z"), c = at("2026-11-12T00:00:00Z");
  const MachineSpec& spec = plant.sites[0].areas[0].lines[0].machines[0];
  const auto h = MachineHistory::build(spec, random_events(3, a, c, spec.path));
  std::mt19937_64 rng(1);
  for (int i = 0; i < 50; ++i) {
    const TimeMs b = a + static_cast<TimeMs>(rng() % static_cast<std::uint64_t>(c - a));
    KpiTotals left = machine_totals(h, cal, a, b, c);
    const KpiTotals right = machine_totals(h, cal, b, c, c);
    KpiTotals whole = machine_totals(h, cal, a, c, c);
    left += right;
    left.machine_count = whole.machine_count = 0;
    EXPECT_EQ(left, whole) << "split at " << format_rfc3339(b);
  }
}

TEST(Engine, CountersWithRolloverGiveTheSameProductionAsIncrements) {
  const MachineSpec m = machine("m");
  PlantModel plant;
  const FixedOffsetZone utc;
  const ShiftCalendar cal(plant, utc);
  std::vector<Event> increments = {state(0, "running")};
  std::vector<Event> counters = {state(0, "running"), counter(0, CounterName::total, 65000, 65536),
                                 counter(0, CounterName::reject, 10, 65536)};
  std::int64_t total = 65000, reject = 10;
  std::mt19937_64 rng(5);
  for (TimeMs t = 1000; t < 3'600'000; t += 1000) {
    const std::int64_t made = static_cast<std::int64_t>(rng() % 7), bad = made > 0 ? static_cast<std::int64_t>(rng() % 2) : 0;
    increments.push_back(count(t, made - bad, bad));
    total = (total + made) % 65536;
    reject = (reject + bad) % 65536;
    counters.push_back(counter(t, CounterName::total, total, 65536));
    counters.push_back(counter(t, CounterName::reject, reject, 65536));
  }
  const auto a = machine_totals(MachineHistory::build(m, increments), cal, 0, 3'600'000, 3'600'000);
  const auto b = machine_totals(MachineHistory::build(m, counters), cal, 0, 3'600'000, 3'600'000);
  ASSERT_LT(total, 65000);  // the total counter rolled over past 65535
  EXPECT_GT(a.total_count(), 65536 - 65000);
  EXPECT_EQ(a.good_count, b.good_count);
  EXPECT_EQ(a.reject_count, b.reject_count);
  EXPECT_EQ(a.ideal_us, b.ideal_us);
}

TEST(Engine, CounterResetWithoutRolloverCountsFromZero) {
  const MachineSpec m = machine("m");
  PlantModel plant;
  const FixedOffsetZone utc;
  const ShiftCalendar cal(plant, utc);
  const std::vector<Event> events = {state(0, "running"), counter(10, CounterName::good, 500), counter(20, CounterName::good, 530),
                                     counter(30, CounterName::good, 7), counter(40, CounterName::good, 9)};
  const auto t = machine_totals(MachineHistory::build(m, events), cal, 0, 100, 100);
  EXPECT_EQ(t.good_count, 30 + 7 + 2);
}

TEST(Engine, LineFiguresAreSumsNotAveragesOfMachines) {
  PlantModel plant = property_plant();
  const FixedOffsetZone utc;
  plant.shifts.clear();
  const ShiftCalendar cal(plant, utc);
  const auto& l1 = plant.sites[0].areas[0].lines[0];
  // m1: 1 h, runs 30 min and makes 1,000 parts at 0.9 s; m2: runs the whole hour, 3,000 parts at 1.0 s.
  std::vector<Event> events = {state(0, "running"), state(30 * kMsPerMinute, "stopped"), count(1000, 1000, 0),
                               state(0, "running"), count(2000, 2900, 100)};
  for (int i = 0; i < 3; ++i) events[static_cast<std::size_t>(i)].machine = l1.machines[0].path;
  for (int i = 3; i < 5; ++i) events[static_cast<std::size_t>(i)].machine = l1.machines[1].path;
  const auto p = PlantHistory::build(plant, events);
  const auto line = p.node_kpis(cal, l1.path, Grouping::none, 0, kMsPerHour, kMsPerHour);
  ASSERT_EQ(line.size(), 1u);
  const KpiTotals& t = line[0].totals;
  EXPECT_EQ(t.planned_production_ms(), 2 * kMsPerHour);
  EXPECT_EQ(t.run_ms(), 90 * kMsPerMinute);
  EXPECT_EQ(t.ideal_us, 1000 * 900'000LL + 3000 * 1'000'000LL);
  const KpiFigures f = derive_figures(t);
  EXPECT_DOUBLE_EQ(*f.availability, 5400.0 / 7200.0);
  EXPECT_DOUBLE_EQ(*f.performance, 3900.0 / 5400.0);
  EXPECT_DOUBLE_EQ(*f.quality, 3900.0 / 4000.0);
  EXPECT_EQ(t.machine_count, 2);
  // The plant's figures equal the line's: the other line has no events, so it is all unknown time.
  const auto plant_kpis = p.node_kpis(cal, "", Grouping::none, 0, kMsPerHour, kMsPerHour);
  EXPECT_EQ(plant_kpis[0].totals.planned_production_ms(), t.planned_production_ms());
  EXPECT_EQ(plant_kpis[0].totals.unknown_ms, 2 * kMsPerHour);
}

TEST(Engine, TimeBeforeTheFirstStateIsUnknownAndNotPlanned) {
  const MachineSpec m = machine("m");
  PlantModel plant;
  const FixedOffsetZone utc;
  const ShiftCalendar cal(plant, utc);
  const auto t = machine_totals(MachineHistory::build(m, std::vector<Event>{state(600'000, "running")}), cal, 0, 3'600'000, 3'600'000);
  EXPECT_EQ(t.unknown_ms, 600'000);
  EXPECT_EQ(t.planned_production_ms(), 3'000'000);
  EXPECT_EQ(t.all_ms, 3'600'000);
}

TEST(Engine, SmallStopsStartupRejectsAndReasons) {
  MachineSpec m = machine("m");
  m.micro_stop_threshold_ms = 60'000;
  m.startup_window_ms = 120'000;
  PlantModel plant;
  const FixedOffsetZone utc;
  const ShiftCalendar cal(plant, utc);
  Event reason;
  reason.type = EventType::reason;
  reason.ts = 900'000;
  reason.reason = "jam";
  reason.at = 400'000;
  const std::vector<Event> events = {
      state(0, "running"), state(100'000, "stopped"), state(130'000, "running"),  // 30 s: small stop
      state(300'000, "stopped"), state(600'000, "running"),                          // 5 min: breakdown
      count(650'000, 10, 4),                                                          // inside start-up window
      count(800'000, 10, 1),                                                          // after it
      reason};
  const auto h = MachineHistory::build(m, events);
  ASSERT_EQ(h.intervals().size(), 5u);
  EXPECT_EQ(h.intervals()[3].reason, "jam");
  const auto t = machine_totals(h, cal, 0, 1'000'000, 1'000'000);
  EXPECT_EQ(t.small_stop_ms, 30'000);
  EXPECT_EQ(t.breakdown_ms, 300'000);
  EXPECT_EQ(t.breakdown_count, 1);
  EXPECT_EQ(t.stop_count, 2);
  EXPECT_EQ(t.run_ms(), 700'000);
  EXPECT_EQ(t.reject_count, 5);
  EXPECT_EQ(t.startup_reject_count, 4);
  const KpiFigures f = derive_figures(t);
  EXPECT_DOUBLE_EQ(f.startup_rejects_s, 4.0);
  EXPECT_DOUBLE_EQ(f.production_rejects_s, 1.0);
  EXPECT_DOUBLE_EQ(f.small_stops_s, 30.0);
}

TEST(Engine, ProductMixUsesEachProductsIdealCycle) {
  MachineSpec m = machine("m", 1'000'000);
  m.product_cycle_us = {{"fast", 500'000}};
  PlantModel plant;
  const FixedOffsetZone utc;
  const ShiftCalendar cal(plant, utc);
  Event p;
  p.type = EventType::product;
  p.ts = 5000;
  p.product = "fast";
  const std::vector<Event> events = {state(0, "running"), count(1000, 10, 0), p, count(5000, 10, 0)};
  const auto t = machine_totals(MachineHistory::build(m, events), cal, 0, 10'000, 10'000);
  EXPECT_EQ(t.ideal_us, 10 * 1'000'000 + 10 * 500'000);
}

TEST(Engine, RawStatesMapThroughTheMachinesTable) {
  MachineSpec m = machine("m");
  m.state_map = {{"1", State::running}, {"2", State::stopped}, {"3", State::setup}};
  PlantModel plant;
  const FixedOffsetZone utc;
  const ShiftCalendar cal(plant, utc);
  const std::vector<Event> events = {state(0, "1"), state(1000, "3"), state(3000, "1"), state(4000, "99")};
  const auto h = MachineHistory::build(m, events);
  EXPECT_EQ(h.ignored_events(), 1u);
  const auto t = machine_totals(h, cal, 0, 10'000, 10'000);
  EXPECT_EQ(t.setup_ms, 2000);
  EXPECT_EQ(t.running_ms, 8000);
}

}  // namespace oee
