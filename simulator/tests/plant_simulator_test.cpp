// The simulator's promises: deterministic, slice-invariant, gapless seq, events valid for the plant,
// planned_stop exactly outside planned time, and behaviour that looks like a real packaging line.
#include "oee/simulator/plant_simulator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "oee/core/machine_history.h"
#include "oee/core/plant_history.h"
#include "oee/core/shift_calendar.h"
#include "oee/core/time_zone.h"
#ifdef OEE_DEMO_PLANT_FILE
#include "oee/codec/event_json.h"
#include "oee/plant/plant_file.h"
#endif

namespace oee::simulator {
namespace {

// 2026-03-02 (a Monday), 00:00 UTC.
const TimeMs kMonday = days_from_civil(2026, 3, 2) * kMsPerDay;

MachineSpec machine(const std::string& line_path, const std::string& id, double cycle_s, double threshold_s) {
  MachineSpec m;
  m.id = id;
  m.name = id;
  m.path = line_path + "/" + id;
  m.ideal_cycle_us = static_cast<std::int64_t>(cycle_s * 1e6);
  m.micro_stop_threshold_ms = static_cast<DurationMs>(threshold_s * 1000);
  m.startup_window_ms = 5 * kMsPerMinute;
  return m;
}

// Two shifts (early with a break, late) and nothing at night; two lines, five machines, some with
// products and raw state values.
PlantModel test_plant() {
  PlantModel p;
  p.timezone = "UTC";
  ShiftSpec early{"early", 6 * 60, 14 * 60, {{9 * 60, 9 * 60 + 15}, {12 * 60, 12 * 60 + 30}}, {}};
  early.weekdays.fill(true);
  ShiftSpec late{"late", 14 * 60, 22 * 60, {{18 * 60, 18 * 60 + 20}}, {}};
  late.weekdays.fill(true);
  p.shifts = {early, late};
  SiteSpec site{"s1", "s1", "Site", {}};
  AreaSpec area{"a1", "s1/a1", "Area", {}};
  LineSpec l1{"l1", "s1/a1/l1", "Line 1", {}};
  LineSpec l2{"l2", "s1/a1/l2", "Line 2", {}};
  MachineSpec filler = machine(l1.path, "filler", 0.1, 120);
  filler.product_cycle_us = {{"cola", 100'000}, {"water", 120'000}, {"juice", 150'000}};
  filler.state_map = {{"1", State::running},  {"2", State::stopped}, {"3", State::setup},
                      {"4", State::starved},  {"5", State::blocked}, {"6", State::planned_stop}};
  MachineSpec capper = machine(l1.path, "capper", 0.09, 90);
  capper.product_cycle_us = {{"cola", 90'000}, {"water", 95'000}};
  MachineSpec labeler = machine(l1.path, "labeler", 0.1, 60);
  labeler.state_map = {{"EXECUTE", State::running}, {"HELD", State::stopped}};  // partial map
  l1.machines = {filler, capper, labeler};
  l2.machines = {machine(l2.path, "press", 2.0, 300), machine(l2.path, "packer", 0.5, 180)};
  area.lines = {l1, l2};
  site.areas = {area};
  p.sites = {site};
  return p;
}

struct Fixture {
  PlantModel plant = test_plant();
  FixedOffsetZone zone;
  ShiftCalendar calendar{plant, zone};
};

std::vector<Event> run(const Fixture& f, std::uint64_t seed, TimeMs from, TimeMs to, SimulatorOptions o = {}) {
  return simulate(f.plant, f.calendar, seed, from, to, std::move(o));
}

TEST(PlantSimulator, SameSeedGivesIdenticalEventsAndAnotherSeedDifferentOnes) {
  Fixture f;
  const auto a = run(f, 42, kMonday, kMonday + kMsPerDay);
  const auto b = run(f, 42, kMonday, kMonday + kMsPerDay);
  const auto c = run(f, 43, kMonday, kMonday + kMsPerDay);
  ASSERT_GT(a.size(), 1000u);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

void expect_sliced_generation_equals_one_call(const SimulatorOptions& o) {
  Fixture f;
  const TimeMs from = kMonday + 5 * kMsPerHour;
  const TimeMs to = from + 20 * kMsPerHour;
  const auto whole = run(f, 7, from, to, o);

  // Slices of every size, down to a millisecond, with boundaries landing on event timestamps too.
  PlantSimulator sim(f.plant, f.calendar, 7, from, o);
  std::vector<Event> sliced;
  TimeMs t = from;
  std::uint64_t step = 1;
  std::size_t i = 0;
  while (t < to) {
    step = step * 6364136223846793005ULL + 1442695040888963407ULL;
    DurationMs dt = static_cast<DurationMs>((step >> 33) % (15 * kMsPerMinute)) + 1;
    if (i++ % 7 == 0 && !sliced.empty()) dt = std::max<DurationMs>(1, sliced.back().ts + 1 - t);
    t = std::min(to, t + dt);
    sim.advance_to(t, sliced);
    EXPECT_EQ(sim.position(), t);
  }
  sim.advance_to(to - 1, sliced);  // going back appends nothing
  EXPECT_EQ(whole, sliced);
}

TEST(PlantSimulator, SlicedGenerationEqualsOneCall) { expect_sliced_generation_equals_one_call({}); }

TEST(PlantSimulator, SlicedGenerationEqualsOneCallWithHeartbeats) {
  SimulatorOptions o;
  o.heartbeat_ms = 7 * kMsPerSecond;  // not a divisor of the 5 s count period: instants shared and not
  expect_sliced_generation_equals_one_call(o);
}

TEST(PlantSimulator, HeartbeatsEveryIntervalForEveryMachineAfterTheEventsOfTheirInstant) {
  Fixture f;
  SimulatorOptions o;
  o.heartbeat_ms = kDefaultHeartbeatMs;
  const TimeMs from = kMonday + 3 * kMsPerHour + 1, to = from + 6 * kMsPerHour;
  const auto with = run(f, 5, from, to, o);
  std::map<std::string, std::vector<TimeMs>> beats;
  std::vector<Event> others;
  for (std::size_t i = 0; i < with.size(); ++i) {
    ASSERT_EQ(with[i].seq, static_cast<std::int64_t>(i)) << "heartbeats take their place in the gapless seq";
    if (with[i].type != EventType::heartbeat) {
      others.push_back(with[i]);
      continue;
    }
    beats[with[i].machine].push_back(with[i].ts);
    if (i + 1 < with.size() && with[i + 1].ts == with[i].ts) {
      ASSERT_EQ(with[i + 1].type, EventType::heartbeat) << "an event after the heartbeats of its instant";
    }
  }
  ASSERT_EQ(beats.size(), f.plant.machines().size());
  for (const auto& [machine, ts] : beats) {
    ASSERT_EQ(ts.size(), static_cast<std::size_t>((to - from) / kDefaultHeartbeatMs)) << machine;
    for (std::size_t k = 0; k < ts.size(); ++k) ASSERT_EQ(ts[k], from + static_cast<TimeMs>(k) * kDefaultHeartbeatMs);
  }
  // Besides them, the same events as without heartbeats (only the seq numbers differ).
  auto without = run(f, 5, from, to);
  ASSERT_EQ(others.size(), without.size());
  for (std::size_t i = 0; i < others.size(); ++i) {
    others[i].seq = without[i].seq;
    ASSERT_EQ(others[i], without[i]) << i;
  }
}

TEST(PlantSimulator, EventsAreTimeOrderedInsideTheWindowWithGaplessSeq) {
  Fixture f;
  SimulatorOptions o;
  o.src = "sim-test";
  o.first_seq = 1000;
  const TimeMs from = kMonday, to = kMonday + kMsPerDay;
  const auto events = run(f, 1, from, to, o);
  ASSERT_FALSE(events.empty());
  for (std::size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].src, "sim-test");
    ASSERT_EQ(events[i].seq, 1000 + static_cast<std::int64_t>(i));
    EXPECT_GE(events[i].ts, from);
    EXPECT_LT(events[i].ts, to);
    if (i > 0) {
      ASSERT_LE(events[i - 1].ts, events[i].ts);
    }
  }
}

// Checks every event against the plant and counts them per type.
void expect_valid_for_plant(const PlantModel& plant, const std::vector<Event>& events,
                            std::map<EventType, int>& per_type) {
  per_type.clear();
  for (const Event& e : events) {
    ++per_type[e.type];
    const MachineSpec* m = plant.find_machine(e.machine);
    ASSERT_NE(m, nullptr) << e.machine;
    switch (e.type) {
      case EventType::state: {
        const auto s = m->resolve_state(e.state);
        ASSERT_TRUE(s.has_value()) << e.machine << " state " << e.state;
        EXPECT_NE(*s, State::unknown);
        // A machine with a map speaks raw values for the states its map covers.
        for (const auto& [raw, canonical] : m->state_map) {
          if (canonical == *s) {
            EXPECT_TRUE(m->state_map.count(e.state)) << e.state;
          }
        }
        break;
      }
      case EventType::count:
        EXPECT_GE(e.good, 0);
        EXPECT_GE(e.reject, 0);
        EXPECT_GT(e.good + e.reject, 0);
        break;
      case EventType::counter:
        EXPECT_EQ(e.rollover, 65536);
        EXPECT_GE(e.value, 0);
        EXPECT_LT(e.value, e.rollover);
        EXPECT_TRUE(e.counter == CounterName::total || e.counter == CounterName::reject);
        break;
      case EventType::product:
        EXPECT_TRUE(m->product_cycle_us.count(e.product)) << e.product;
        break;
      case EventType::reason:
        EXPECT_FALSE(e.reason.empty());
        EXPECT_LT(e.at, e.ts);
        break;
      case EventType::sample:
        ADD_FAILURE() << "the simulator sends no samples";
        break;
      case EventType::heartbeat:
        ADD_FAILURE() << "the simulator sends no heartbeats (its edge source adds them)";
        break;
      case EventType::run:
        ADD_FAILURE() << "the simulator sends no runs";
        break;
      case EventType::correction:
        ADD_FAILURE() << "the simulator sends no corrections";
        break;
    }
  }
}

TEST(PlantSimulator, EveryEventIsValidForThePlant) {
  Fixture f;
  SimulatorOptions o;
  o.counters = CounterMode::always;
  const auto with_counters = run(f, 3, kMonday, kMonday + 2 * kMsPerDay, o);
  std::map<EventType, int> types;
  expect_valid_for_plant(f.plant, with_counters, types);
  EXPECT_GT(types[EventType::counter], 0);
  EXPECT_EQ(types[EventType::count], 0);
  EXPECT_GT(types[EventType::reason], 0);  // reasons entered after the stop
  EXPECT_GT(types[EventType::product], 0);

  o.counters = CounterMode::never;
  expect_valid_for_plant(f.plant, run(f, 3, kMonday, kMonday + 2 * kMsPerDay, o), types);
  EXPECT_GT(types[EventType::count], 0);
  EXPECT_EQ(types[EventType::counter], 0);
}

// One machine's canonical state timeline: (start, state, reason) per state event.
struct StateChange {
  TimeMs ts;
  State state;
  std::string reason;
};
std::vector<StateChange> states_of(const PlantModel& plant, const std::vector<Event>& events,
                                   const std::string& path) {
  const MachineSpec* m = plant.find_machine(path);
  std::vector<StateChange> out;
  for (const Event& e : events)
    if (e.machine == path && e.type == EventType::state) out.push_back({e.ts, *m->resolve_state(e.state), e.reason});
  return out;
}

// The state of every machine is planned_stop exactly where the calendar has no planned time (probed
// every minute and on both sides of every boundary), and production is reported only while running.
// Each machine's planned time is its own calendar's (for_machine).
void expect_planned_stop_exactly_outside_planned_time(const PlantModel& plant, const ShiftCalendar& calendar,
                                                      const std::vector<Event>& events, TimeMs from, TimeMs to) {
  for (const MachineSpec* m : plant.machines()) {
    const auto planned = calendar.for_machine(*m).planned_intervals(from, to);
    ASSERT_FALSE(planned.empty()) << m->path;
    auto is_planned = [&](TimeMs t) {  // the intervals are sorted and disjoint
      auto it = std::upper_bound(planned.begin(), planned.end(), t, [](TimeMs x, const Interval& iv) { return x < iv.start; });
      return it != planned.begin() && t < std::prev(it)->end;
    };
    const auto changes = states_of(plant, events, m->path);
    ASSERT_FALSE(changes.empty());
    EXPECT_EQ(changes.front().ts, from);
    std::vector<TimeMs> probes;
    for (TimeMs t = from; t < to; t += kMsPerMinute) probes.push_back(t);
    for (const auto& iv : planned) {
      probes.insert(probes.end(), {iv.start, iv.end - 1, iv.end});
      if (iv.start > from) probes.push_back(iv.start - 1);
    }
    for (const TimeMs t : probes) {
      if (t < from || t >= to) continue;
      auto it = std::upper_bound(changes.begin(), changes.end(), t,
                                 [](TimeMs x, const StateChange& c) { return x < c.ts; });
      ASSERT_NE(it, changes.begin());
      const State s = std::prev(it)->state;
      EXPECT_EQ(s == State::planned_stop, !is_planned(t))
          << m->path << " at " << format_rfc3339(t) << " state " << state_name(s);
    }
    // Nothing is produced in planned downtime (counter baselines at the start are no production).
    for (const Event& e : events) {
      if (e.machine != m->path || (e.type != EventType::count && e.type != EventType::counter)) continue;
      if (e.type == EventType::counter && e.ts == from) continue;
      auto it = std::upper_bound(changes.begin(), changes.end(), e.ts,
                                 [](TimeMs x, const StateChange& c) { return x < c.ts; });
      // A report at the instant the machine leaves running still belongs to the run before.
      const bool ends_run = it != changes.begin() && std::prev(it)->ts == e.ts && std::prev(it) != changes.begin();
      const State s = ends_run ? std::prev(it, 2)->state : std::prev(it)->state;
      EXPECT_EQ(s, State::running) << m->path << " produced at " << format_rfc3339(e.ts);
    }
  }
}

TEST(PlantSimulator, PlannedStopExactlyInBreaksAndOutsideShifts) {
  Fixture f;
  const TimeMs from = kMonday, to = kMonday + 3 * kMsPerDay;
  expect_planned_stop_exactly_outside_planned_time(f.plant, f.calendar, run(f, 11, from, to), from, to);
}

TEST(PlantSimulator, NoProductionOnTheWeekendOrOnAHoliday) {
  Fixture f;
  f.plant.production_weekdays[5] = f.plant.production_weekdays[6] = false;  // sat, sun
  f.plant.non_production_dates = {days_from_civil(2026, 3, 4)};              // a Wednesday
  const TimeMs from = kMonday, to = kMonday + 8 * kMsPerDay;
  const auto events = run(f, 12, from, to);
  expect_planned_stop_exactly_outside_planned_time(f.plant, f.calendar, events, from, to);
  // Nothing at all is reported on those days but the planned_stop that begins them.
  for (const TimeMs day : {kMonday + 2 * kMsPerDay, kMonday + 5 * kMsPerDay, kMonday + 6 * kMsPerDay}) {
    const auto n = std::count_if(events.begin(), events.end(),
                                 [&](const Event& e) { return e.ts > day && e.ts < day + kMsPerDay; });
    EXPECT_EQ(n, 0) << format_rfc3339(day);
  }
}

TEST(PlantSimulator, AddingAMachineLeavesTheOthersUnchanged) {
  Fixture f;
  Fixture bigger;
  bigger.plant.sites[0].areas[0].lines[1].machines.push_back(machine("s1/a1/l2", "wrapper", 1.0, 60));
  const ShiftCalendar calendar(bigger.plant, bigger.zone);
  auto strip = [](std::vector<Event> events, const std::string& skip) {
    std::vector<Event> out;
    for (auto& e : events) {
      if (e.machine == skip) continue;
      e.seq = -1;
      out.push_back(std::move(e));
    }
    return out;
  };
  const auto small = run(f, 5, kMonday, kMonday + kMsPerDay);
  const auto big = simulate(bigger.plant, calendar, 5, kMonday, kMonday + kMsPerDay);
  EXPECT_GT(big.size(), small.size());
  EXPECT_EQ(strip(small, ""), strip(big, "s1/a1/l2/wrapper"));
}

TEST(PlantSimulator, APlantWithoutPlannedTimeOnlyReportsPlannedStop) {
  Fixture f;
  for (auto& s : f.plant.shifts) s.weekdays.fill(false);
  const ShiftCalendar calendar(f.plant, f.zone);
  const auto events = simulate(f.plant, calendar, 1, kMonday, kMonday + 90 * kMsPerDay);
  int states = 0;
  for (const Event& e : events) {
    if (e.type != EventType::state) continue;
    ++states;
    EXPECT_EQ(f.plant.find_machine(e.machine)->resolve_state(e.state), State::planned_stop);
  }
  EXPECT_EQ(states, 5);
}

// What a day of one machine amounted to, computed from its events.
struct MachineDay {
  DurationMs busy_ms = 0;        // planned busy time: every state but planned_stop
  DurationMs run_ms = 0;         // running
  DurationMs small_stop_ms = 0;  // stops shorter than the micro-stop threshold
  int micro_stops = 0;
  int breakdowns = 0;
  int setups = 0;
  int starved_or_blocked = 0;
  std::set<std::string> reasons;
  std::int64_t good = 0, reject = 0;
  double ideal_ms = 0;
  int counter_rollovers = 0;
  double availability() const { return double(run_ms + small_stop_ms) / double(busy_ms); }
  double performance() const { return ideal_ms / double(run_ms); }
};

MachineDay summarise(const MachineSpec& m, const std::vector<Event>& events, TimeMs to) {
  MachineDay d;
  State state = State::unknown;
  TimeMs since = 0;
  std::string product;
  std::map<CounterName, std::int64_t> last_counter;
  auto close = [&](TimeMs t) {
    const DurationMs len = t - since;
    if (state == State::running) d.run_ms += len;
    if (state != State::planned_stop && state != State::unknown) d.busy_ms += len;
    if (is_unplanned_stop(state) && len < m.micro_stop_threshold_ms) {
      d.small_stop_ms += len;
      ++d.micro_stops;
    }
  };
  auto produced = [&](std::int64_t good, std::int64_t reject) {
    d.good += good;
    d.reject += reject;
    d.ideal_ms += double(good + reject) * double(m.cycle_us_for(product)) / 1000.0;
  };
  for (const Event& e : events) {
    if (e.machine != m.path) continue;
    switch (e.type) {
      case EventType::state: {
        close(e.ts);
        state = *m.resolve_state(e.state);
        since = e.ts;
        if (state == State::stopped && !e.reason.empty()) ++d.breakdowns;
        if (state == State::setup) ++d.setups;
        if (state == State::starved || state == State::blocked) ++d.starved_or_blocked;
        if (!e.reason.empty()) d.reasons.insert(e.reason);
        break;
      }
      case EventType::reason: d.reasons.insert(e.reason); ++d.breakdowns; break;
      case EventType::product: product = e.product; break;
      case EventType::count: produced(e.good, e.reject); break;
      case EventType::counter: {
        auto it = last_counter.find(e.counter);
        if (it != last_counter.end()) {
          std::int64_t delta = e.value - it->second;
          if (delta < 0) {
            delta += e.rollover;
            ++d.counter_rollovers;
          }
          // Given total and reject, good = total - reject.
          if (e.counter == CounterName::total) produced(delta, 0);
          else {
            d.good -= delta;
            d.reject += delta;
          }
        }
        last_counter[e.counter] = e.value;
        break;
      }
      case EventType::sample:
      case EventType::heartbeat:
      case EventType::run:
      case EventType::correction:
        break;
    }
  }
  close(to);
  return d;
}

void expect_plausible_day(const PlantModel& plant, const std::vector<Event>& events, TimeMs to,
                          const std::vector<std::string>& counter_machines) {
  int waits = 0;
  std::set<std::string> reasons;
  for (const MachineSpec* m : plant.machines()) {
    const MachineDay d = summarise(*m, events, to);
    SCOPED_TRACE(m->path);
    EXPECT_GT(d.busy_ms, 12 * kMsPerHour);
    EXPECT_GE(d.availability(), 0.6);
    EXPECT_LE(d.availability(), 0.95);
    EXPECT_GE(d.performance(), 0.6);
    EXPECT_LE(d.performance(), 1.0);
    EXPECT_GT(d.reject, 0);
    EXPECT_GT(d.good, 20 * d.reject);  // quality above 95 %
    EXPECT_GE(d.micro_stops, 20);      // every few minutes of running
    EXPECT_GE(d.breakdowns, 2);
    if (m->product_cycle_us.size() >= 2) {
      EXPECT_GE(d.setups, 1);
    }
    if (std::find(counter_machines.begin(), counter_machines.end(), m->path) != counter_machines.end()) {
      EXPECT_GE(d.counter_rollovers, 1);
      // The engine reads these genuine rollovers as rollovers: nothing flagged, the same parts.
      std::vector<Event> own;
      for (const Event& e : events)
        if (e.machine == m->path) own.push_back(e);
      const MachineHistory h = MachineHistory::build(*m, own);
      EXPECT_TRUE(h.data_quality().empty()) << h.data_quality().size() << " issues, the first at " << h.data_quality()[0].ts;
      std::int64_t good = 0, reject = 0;
      for (const CountRecord& c : h.counts()) good += c.good, reject += c.reject;
      EXPECT_EQ(good, d.good);
      EXPECT_EQ(reject, d.reject);
    }
    waits += d.starved_or_blocked;
    reasons.insert(d.reasons.begin(), d.reasons.end());
  }
  EXPECT_GE(waits, 3);
  EXPECT_GE(reasons.size(), 6u) << "breakdown and wait reasons";
}

TEST(PlantSimulator, ASimulatedDayLooksLikeAPackagingPlant) {
  Fixture f;
  for (std::uint64_t seed : {1, 2, 3}) {
    SCOPED_TRACE(seed);
    SimulatorOptions o;
    o.counters = seed == 2 ? CounterMode::always : CounterMode::by_machine;
    const TimeMs from = kMonday, to = kMonday + kMsPerDay;
    PlantSimulator sim(f.plant, f.calendar, seed, from, o);
    std::vector<std::string> counter_machines;
    for (std::size_t i = 0; i < sim.machine_count(); ++i) {
      // Rollover within a day needs at least 65536 parts a day.
      const auto& b = sim.behaviour(i);
      if (b.reports_counters && f.plant.machines()[i]->ideal_cycle_us <= 200'000) counter_machines.push_back(b.path);
    }
    std::vector<Event> events;
    sim.advance_to(to, events);
    expect_plausible_day(f.plant, events, to, counter_machines);
  }
}

TEST(PlantSimulator, StartupAfterBreaksHasMoreRejects) {
  Fixture f;
  const TimeMs from = kMonday, to = kMonday + 14 * kMsPerDay;
  SimulatorOptions o;
  o.counters = CounterMode::never;
  const auto events = run(f, 9, from, to, o);
  // Rejects per part in the first 5 minutes after each planned start vs the rest of running.
  const auto planned = f.calendar.planned_intervals(from, to);
  std::int64_t early_parts = 0, early_rejects = 0, other_parts = 0, other_rejects = 0;
  for (const Event& e : events) {
    if (e.type != EventType::count) continue;
    const bool early = std::any_of(planned.begin(), planned.end(), [&](const Interval& iv) {
      return e.ts > iv.start && e.ts <= iv.start + 5 * kMsPerMinute;
    });
    (early ? early_parts : other_parts) += e.good + e.reject;
    (early ? early_rejects : other_rejects) += e.reject;
  }
  ASSERT_GT(early_parts, 0);
  ASSERT_GT(other_parts, 0);
  EXPECT_GT(double(early_rejects) / double(early_parts), 3.0 * double(other_rejects) / double(other_parts));
}

#ifdef OEE_DEMO_PLANT_FILE
TEST(DemoPlant, HasTwelveMachinesOnThreeLinesAndSimulatesPlausibly) {
  const auto loaded = plant::load_plant_file(OEE_DEMO_PLANT_FILE);
  const PlantModel& plant = loaded.model;
  ASSERT_EQ(plant.sites.size(), 1u);
  ASSERT_EQ(plant.sites[0].areas.size(), 1u);
  EXPECT_EQ(plant.sites[0].areas[0].lines.size(), 3u);
  EXPECT_EQ(plant.machines().size(), 12u);
  EXPECT_EQ(plant.timezone, "Europe/Berlin");
  EXPECT_EQ(plant.shifts.size(), 3u);
  const ShiftCalendar calendar(plant, *loaded.zone);
  // A whole day in Berlin (UTC+1 in March before the change).
  const TimeMs from = kMonday - kMsPerHour, to = from + kMsPerDay;
  PlantSimulator sim(plant, calendar, 2026, from);
  std::vector<std::string> counter_machines;
  for (std::size_t i = 0; i < sim.machine_count(); ++i)
    if (sim.behaviour(i).reports_counters) counter_machines.push_back(sim.behaviour(i).path);
  EXPECT_GE(counter_machines.size(), 1u) << "the demo exercises counter rollover";
  std::vector<Event> events;
  sim.advance_to(to, events);
  std::map<EventType, int> types;
  expect_valid_for_plant(plant, events, types);
  EXPECT_GT(types.at(EventType::count), 0);
  EXPECT_GT(types.at(EventType::counter), 0);
  expect_plausible_day(plant, events, to, counter_machines);
  // Breaks are planned stops: 09:00-09:15 Berlin is 08:00-08:15 UTC.
  for (const MachineSpec* m : plant.machines()) {
    const auto changes = states_of(plant, events, m->path);
    auto at = [&](TimeMs t) {
      auto it = std::upper_bound(changes.begin(), changes.end(), t,
                                 [](TimeMs x, const StateChange& c) { return x < c.ts; });
      return std::prev(it)->state;
    };
    EXPECT_EQ(at(kMonday + 8 * kMsPerHour + 5 * kMsPerMinute), State::planned_stop) << m->path;
  }
}

TEST(DemoPlant, EveryEventSurvivesTheJsonCodec) {
  const auto loaded = plant::load_plant_file(OEE_DEMO_PLANT_FILE);
  const ShiftCalendar calendar(loaded.model, *loaded.zone);
  const TimeMs from = kMonday;
  SimulatorOptions o;
  o.heartbeat_ms = kDefaultHeartbeatMs;
  const auto events = simulate(loaded.model, calendar, 8, from, from + 6 * kMsPerHour, o);
  ASSERT_GT(events.size(), 10'000u);
  ASSERT_TRUE(std::any_of(events.begin(), events.end(), [](const Event& e) { return e.type == EventType::heartbeat; }));
  for (const Event& e : events) {
    Event back;
    std::string error;
    const std::string json = codec::event_to_json(e);
    ASSERT_TRUE(codec::parse_event(json, back, error)) << json << ": " << error;
    ASSERT_EQ(back, e) << json;
  }
}

// The demo plant's totals over [from, to), as the engine computes them with time stopping at `to`.
KpiTotals plant_totals(const PlantModel& plant, const ShiftCalendar& calendar, const std::vector<Event>& events,
                       TimeMs from, TimeMs to) {
  const auto kpis = PlantHistory::build(plant, events).node_kpis(calendar, "", Grouping::none, from, to, to);
  EXPECT_EQ(kpis.size(), 1u);
  return kpis.empty() ? KpiTotals{} : kpis.front().totals;
}

// A Berlin day of the demo plant, with or without the heartbeats `oee serve --demo` sends.
std::vector<Event> demo_day(const plant::LoadedPlant& loaded, const ShiftCalendar& calendar, DurationMs heartbeat_ms) {
  SimulatorOptions o;
  o.heartbeat_ms = heartbeat_ms;
  return simulate(loaded.model, calendar, 1, kMonday - kMsPerHour, kMonday - kMsPerHour + kMsPerDay, o);
}

TEST(DemoPlant, WithHeartbeatsItsNoDataThresholdChangesNoFigureOfADay) {
  const auto loaded = plant::load_plant_file(OEE_DEMO_PLANT_FILE);
  const ShiftCalendar calendar(loaded.model, *loaded.zone);
  for (const MachineSpec* m : loaded.model.machines()) EXPECT_EQ(m->no_data_after_ms, 60'000) << m->path;
  const TimeMs from = kMonday - kMsPerHour, to = from + kMsPerDay;
  const KpiTotals with = plant_totals(loaded.model, calendar, demo_day(loaded, calendar, kDefaultHeartbeatMs), from, to);
  EXPECT_EQ(with.no_data_ms, 0);
  EXPECT_GT(with.total_count(), 0);
  // The demo as it was: no threshold, no heartbeats. Every total is the same.
  PlantModel without_threshold = loaded.model;
  for (auto& site : without_threshold.sites)
    for (auto& area : site.areas)
      for (auto& line : area.lines)
        for (auto& m : line.machines) m.no_data_after_ms = 0;
  const ShiftCalendar calendar_without(without_threshold, *loaded.zone);
  const auto silent_events = demo_day(loaded, calendar, 0);
  EXPECT_EQ(plant_totals(without_threshold, calendar_without, silent_events, from, to), with);
  // Why the heartbeats: without them the quiet stretches (breaks, long stops) would be no data.
  EXPECT_GT(plant_totals(loaded.model, calendar, silent_events, from, to).no_data_ms, 0);
}

// Σ over the machines of the silence a cut of [cut_from, cut_to) leaves: from each machine's last
// sign of life before the cut to its first after it.
DurationMs silence_of_cut(const PlantModel& plant, const std::vector<Event>& events, TimeMs cut_from, TimeMs cut_to) {
  DurationMs sum = 0;
  for (const MachineSpec* m : plant.machines()) {
    TimeMs last_before = kTimeMin, first_after = kTimeMax;
    for (const Event& e : events) {
      if (e.machine != m->path) continue;
      if (e.ts < cut_from) last_before = std::max(last_before, e.ts);
      if (e.ts >= cut_to) first_after = std::min(first_after, e.ts);
    }
    sum += first_after - last_before;
  }
  return sum;
}

TEST(DemoPlant, AFeedStoppedLongerThanTheThresholdIsExactlyItsSilenceOfNoData) {
  const auto loaded = plant::load_plant_file(OEE_DEMO_PLANT_FILE);
  const ShiftCalendar calendar(loaded.model, *loaded.zone);
  const TimeMs from = kMonday - kMsPerHour, to = from + kMsPerDay;
  const auto day = demo_day(loaded, calendar, kDefaultHeartbeatMs);
  // The feed stopped (nothing of any machine arrives) for `stop` from an instant off the heartbeat grid.
  auto stopped = [&](TimeMs at, DurationMs stop) {
    std::vector<Event> kept;
    for (const Event& e : day)
      if (e.ts < at || e.ts >= at + stop) kept.push_back(e);
    return kept;
  };
  const TimeMs at = from + 10 * kMsPerHour + 3'456;
  const auto five_minutes = stopped(at, 5 * kMsPerMinute);
  const DurationMs expected = silence_of_cut(loaded.model, five_minutes, at, at + 5 * kMsPerMinute);
  EXPECT_GE(expected, 12 * 5 * kMsPerMinute);
  EXPECT_LT(expected, 12 * (5 * kMsPerMinute + 2 * kDefaultHeartbeatMs));
  EXPECT_EQ(plant_totals(loaded.model, calendar, five_minutes, from, to).no_data_ms, expected);
  // 40 s: with a heartbeat every 10 s on both sides the silence stays under 60 s: no data none.
  EXPECT_EQ(plant_totals(loaded.model, calendar, stopped(at, 40 * kMsPerSecond), from, to).no_data_ms, 0);
}

TEST(DemoPlant, FollowsTheBerlinCalendarAcrossBothDaylightSavingChanges) {
  const auto loaded = plant::load_plant_file(OEE_DEMO_PLANT_FILE);
  const ShiftCalendar calendar(loaded.model, *loaded.zone);
  // The nights into 2026-03-29 (23-hour day) and 2026-10-25 (25-hour day), generated in slices.
  for (const TimeMs from : {days_from_civil(2026, 3, 28) * kMsPerDay, days_from_civil(2026, 10, 24) * kMsPerDay}) {
    const TimeMs to = from + 2 * kMsPerDay;
    PlantSimulator sim(loaded.model, calendar, 77, from);
    std::vector<Event> events;
    for (TimeMs t = from; t < to;) sim.advance_to(t = std::min(to, t + 17 * kMsPerMinute), events);
    SCOPED_TRACE(format_rfc3339(from));
    expect_planned_stop_exactly_outside_planned_time(loaded.model, calendar, events, from, to);
    std::map<EventType, int> types;
    expect_valid_for_plant(loaded.model, events, types);
  }
}

// Two sites: Berlin (the plant's zone and shifts, a rotation and a holiday) with a line `can` on its
// own night shift, and Tokyo in its own zone with its own day shift; planned-downtime windows on a
// line, a machine (recurring) and the Tokyo line, one of them opening before its shift does.
const char* kSchedulePlant = R"(timezone: Europe/Berlin
shifts:
  - {name: early, start: "06:00", end: "14:00", breaks: [{start: "10:00", end: "10:15"}]}
  - {name: late, start: "14:00", end: "22:00"}
holidays: [2026-11-13]
rotation:
  start: 2026-11-09
  pattern: [{shift: early, days: 2}, {off: 1}, {shift: late, days: 2}, {off: 1}]
  crews: [{name: A}, {name: B, offset_days: 3}]
sites:
  - id: berlin
    areas:
      - id: a
        lines:
          - id: pet
            machines:
              - {id: filler, ideal_cycle_time_s: 0.5, micro_stop_threshold_s: 60, products: {cola: 0.5, water: 0.45}}
              - {id: capper, ideal_cycle_time_s: 0.4, micro_stop_threshold_s: 60}
          - id: can
            shifts:
              - {name: night, start: "22:00", end: "06:00", breaks: [{start: "02:00", end: "02:30"}]}
            machines:
              - {id: seamer, ideal_cycle_time_s: 0.3, micro_stop_threshold_s: 60}
  - id: tokyo
    timezone: Asia/Tokyo
    shifts:
      - {name: day, start: "08:00", end: "17:00", breaks: [{start: "12:00", end: "13:00"}]}
    areas:
      - id: a
        lines:
          - id: l1
            machines:
              - {id: press, ideal_cycle_time_s: 2, micro_stop_threshold_s: 120}
downtime:
  - {name: PM, target: berlin/a/pet, start: "2026-11-09 09:00", end: "2026-11-09 12:30"}
  - {name: cleaning, target: berlin/a/pet/capper, start: "13:00", end: "15:00", days: [mon, tue, wed, thu, fri]}
  - {name: sanitation, target: berlin/a/can, start: "04:00", end: "05:00"}
  - {name: retooling, target: tokyo/a/l1, start: "2026-11-10 07:00", end: "2026-11-10 10:00"}
)";

// The state a machine is in at t, and the reason it was given with.
StateChange state_at(const std::vector<StateChange>& changes, TimeMs t) {
  auto it = std::upper_bound(changes.begin(), changes.end(), t, [](TimeMs x, const StateChange& c) { return x < c.ts; });
  return it == changes.begin() ? StateChange{t, State::unknown, ""} : *std::prev(it);
}

DurationMs length(const std::vector<Interval>& intervals) {
  DurationMs sum = 0;
  for (const Interval& iv : intervals) sum += iv.end - iv.start;
  return sum;
}

// Every machine plans by its own calendar: off-plan it is in planned_stop and makes nothing, in
// plan it is never in planned_stop, so the engine's planned production time of every node is
// exactly the calendar's and nothing runs unscheduled.
TEST(PlantSimulator, EachMachineFollowsItsSiteZoneLineShiftsAndDowntimeWindows) {
  const auto loaded = plant::load_plant_yaml(kSchedulePlant, "plant.yaml");
  const PlantModel& plant = loaded.model;
  const ShiftCalendar calendar(plant, *loaded.zone);
  const TimeMs from = *parse_timestamp("2026-11-09T00:00:00+01:00"), to = from + 6 * kMsPerDay;  // Mon-Sat
  const auto events = simulate(plant, calendar, 4, from, to);
  expect_planned_stop_exactly_outside_planned_time(plant, calendar, events, from, to);
  std::map<EventType, int> types;
  expect_valid_for_plant(plant, events, types);

  const PlantHistory history = PlantHistory::build(plant, events);
  auto totals = [&](std::string_view node) {
    const auto kpis = history.node_kpis(calendar, node, Grouping::none, from, to, to);
    EXPECT_EQ(kpis.size(), 1u) << node;
    return kpis.empty() ? KpiTotals{} : kpis.front().totals;
  };
  std::map<std::string, DurationMs> planned_of;  // node -> the calendars' planned time of its machines
  for (const MachineSpec* m : plant.machines()) {
    const DurationMs planned = length(calendar.for_machine(*m).planned_intervals(from, to));
    for (std::string node = m->path;; node = node.substr(0, node.rfind('/'))) {
      planned_of[node] += planned;
      if (node.find('/') == std::string::npos) break;
    }
    planned_of[""] += planned;
    const KpiTotals t = totals(m->path);
    EXPECT_GT(t.total_count(), 0) << m->path;
    EXPECT_GT(t.downtime_ms(), 0) << m->path;
  }
  ASSERT_EQ(planned_of.size(), 1u + 2u + 2u + 3u + 4u);  // plant, sites, areas, lines, machines
  for (const auto& [node, planned] : planned_of) {
    SCOPED_TRACE(node);
    const KpiTotals t = totals(node);
    EXPECT_GT(planned, 0);
    EXPECT_EQ(t.planned_production_ms(), planned);
    EXPECT_EQ(t.unscheduled_running_ms, 0);
    EXPECT_EQ(t.unknown_ms, 0);
    EXPECT_EQ(t.no_data_ms, 0);
  }

  // By hand: the line's window stops its machines inside the early shift, named after the window;
  // the capper's cleaning (13:00-15:00) spans the shift change and ends in the late shift; the
  // seamer runs nights only; Tokyo's retooling opens before its shift, so its day begins at 10:00.
  const auto filler = states_of(plant, events, "berlin/a/pet/filler");
  const auto capper = states_of(plant, events, "berlin/a/pet/capper");
  const auto seamer = states_of(plant, events, "berlin/a/can/seamer");
  const auto press = states_of(plant, events, "tokyo/a/l1/press");
  const auto at = [](const char* local) { return *parse_timestamp(local); };
  for (const auto* machine : {&filler, &capper}) {
    const StateChange pm = state_at(*machine, at("2026-11-09T09:00:00+01:00"));
    EXPECT_EQ(pm.ts, at("2026-11-09T09:00:00+01:00"));
    EXPECT_EQ(pm.state, State::planned_stop);
    EXPECT_EQ(pm.reason, "PM");
    EXPECT_NE(state_at(*machine, at("2026-11-09T12:30:00+01:00")).state, State::planned_stop);
  }
  const StateChange cleaning = state_at(capper, at("2026-11-10T13:00:00+01:00"));
  EXPECT_EQ(cleaning.ts, at("2026-11-10T13:00:00+01:00"));
  EXPECT_EQ(cleaning.reason, "cleaning");
  EXPECT_EQ(state_at(capper, at("2026-11-10T14:30:00+01:00")).ts, cleaning.ts) << "still cleaning in the late shift";
  EXPECT_NE(state_at(filler, at("2026-11-10T13:30:00+01:00")).state, State::planned_stop) << "the window is the capper's";
  EXPECT_EQ(state_at(seamer, at("2026-11-09T12:00:00+01:00")).state, State::planned_stop);
  EXPECT_NE(state_at(seamer, at("2026-11-09T23:00:00+01:00")).state, State::planned_stop);
  EXPECT_EQ(state_at(seamer, at("2026-11-10T04:00:00+01:00")).reason, "sanitation");
  EXPECT_EQ(state_at(press, at("2026-11-10T09:59:59+09:00")).state, State::planned_stop);
  EXPECT_EQ(state_at(press, at("2026-11-10T09:59:59+09:00")).reason, "") << "off shift before the window opened";
  EXPECT_EQ(state_at(press, at("2026-11-10T10:00:00+09:00")).ts, at("2026-11-10T10:00:00+09:00"));
  EXPECT_EQ(state_at(press, at("2026-11-10T10:00:00+09:00")).state, State::running);
  EXPECT_NE(state_at(press, at("2026-11-11T08:00:00+09:00")).state, State::planned_stop);
  // The holiday (Friday 13th, Berlin) has no shift of the plant's; the rotation leaves days 2 and 5
  // (Wednesday 11th, Saturday 14th) without a crew. Berlin's lines plan nothing on them.
  for (const char* day : {"2026-11-11T00:00:00+01:00", "2026-11-13T00:00:00+01:00"}) {
    const TimeMs d = at(day);
    EXPECT_EQ(length(calendar.for_machine(*plant.find_machine("berlin/a/pet/filler")).planned_intervals(d, d + kMsPerDay)), 0) << day;
  }
}

// FNV-1a 64 over the JSON lines of the events (src, seq and every field): one number for a stream.
std::uint64_t stream_digest(const std::vector<Event>& events) {
  std::uint64_t h = 14695981039346656037ULL;
  std::string line;
  for (const Event& e : events) {
    line.clear();
    codec::append_event_json(line, e);
    line.push_back('\n');
    for (const char c : line) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  }
  return h;
}

// A plant with one schedule for every machine (no site zone, no line shifts, no downtime windows)
// gives, event for event, the stream it gave before machines planned with their own calendars:
// the digests below were taken from the simulator of commit 8d7b69f, which planned every machine
// with the plant-wide calendar. A change to them changes every existing demo's and edge's stream
// (their seq numbers would name other events after a restart).
TEST(PlantSimulator, APlantWideScheduleGivesTheSameStreamAsBefore) {
  Fixture f;
  SimulatorOptions o;
  o.heartbeat_ms = kDefaultHeartbeatMs;
  const auto fixture_days = run(f, 42, kMonday, kMonday + 3 * kMsPerDay, o);
  EXPECT_EQ(fixture_days.size(), 364'841u);
  EXPECT_EQ(stream_digest(fixture_days), 14508495370475501051ULL);

  const auto loaded = plant::load_plant_file(OEE_DEMO_PLANT_FILE);
  const ShiftCalendar calendar(loaded.model, *loaded.zone);
  const auto demo = demo_day(loaded, calendar, 0);
  EXPECT_EQ(demo.size(), 318'140u) << "simulator/README.md gives this figure";
  EXPECT_EQ(stream_digest(demo), 11653819299342599583ULL);
}
#endif

}  // namespace
}  // namespace oee::simulator
