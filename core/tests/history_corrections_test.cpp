// Corrections (history_corrections.h): hand-computed on the oee.com worked example's shift, and
// deterministic under shuffles and duplicates.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "oee/core/kpi.h"
#include "oee/core/machine_history.h"
#include "oee/core/plant_history.h"
#include "oee/synthetic/generators.h"
#include "test_events.h"

namespace oee {
namespace {

TimeMs at(const char* s) { return *parse_timestamp(s); }

Event state(const char* ts, const char* s, const char* reason = "") {
  Event e;
  e.ts = at(ts);
  e.type = EventType::state;
  e.state = s;
  e.reason = reason;
  return e;
}

Event count(const char* ts, std::int64_t good, std::int64_t reject) {
  Event e;
  e.ts = at(ts);
  e.type = EventType::count;
  e.good = good;
  e.reject = reject;
  return e;
}

Event correction(const char* made, CorrectionKind kind) {
  Event e;
  e.ts = at(made);
  e.type = EventType::correction;
  e.correction = kind;
  e.by = "sam";
  e.why = "shift report";
  return e;
}

Event reclassify(const char* made, const char* from, const char* until, const char* s, const char* reason) {
  Event e = correction(made, CorrectionKind::reclassify);
  e.at = at(from);
  e.until = at(until);
  e.state = s;
  e.reason = reason;
  return e;
}

MachineSpec machine() {
  MachineSpec m;
  m.id = m.path = "s/a/l/m";
  m.ideal_cycle_us = 1'000'000;
  return m;
}

// The oee.com example: 06:00-14:00 with two 30-minute breaks, down 07:00-07:47, 19,271 parts
// of which 423 rejects.
std::vector<Event> worked_example() {
  return {state("2026-11-10T06:00:00Z", "running"), state("2026-11-10T07:00:00Z", "stopped", "material"),
          state("2026-11-10T07:47:00Z", "running"), count("2026-11-10T13:00:00Z", 19271 - 423, 423)};
}

KpiTotals shift_totals(const MachineSpec& m, const std::vector<Event>& events) {
  PlantModel plant;
  plant.shifts.push_back({"day", 6 * 60, 14 * 60, {{9 * 60, 9 * 60 + 30}, {12 * 60, 12 * 60 + 30}}});
  const FixedOffsetZone utc;
  const ShiftCalendar cal(plant, utc);
  return machine_totals(MachineHistory::build(m, events), cal, at("2026-11-10T06:00:00Z"), at("2026-11-10T14:00:00Z"),
                        kTimeMax);
}

// Random states, counts and counter readings of one machine over [from, to), with src+seq, and
// corrections of every kind made after `to` about random instants of it (some voiding readings).
std::vector<Event> random_corrected_events(std::uint64_t seed, TimeMs from, TimeMs to, const std::string& path) {
  std::mt19937_64 rng(seed);
  const char* states[] = {"running", "running", "stopped", "setup", "starved", "planned_stop"};
  std::vector<Event> out;
  std::vector<TimeMs> readings;
  std::int64_t value = 0, seq = 0;
  for (TimeMs t = from; t < to; t += 1 + static_cast<TimeMs>(rng() % 300'000)) {
    Event e;
    e.ts = t;
    switch (rng() % 3) {
      case 0: e.type = EventType::state; e.state = states[rng() % 6]; break;
      case 1: e.type = EventType::count; e.good = static_cast<std::int64_t>(rng() % 40); break;
      default:
        e = counter(t, CounterName::total, value += static_cast<std::int64_t>(rng() % 60));
        readings.push_back(t);
    }
    e.machine = path, e.src = "plc", e.seq = seq++;
    out.push_back(std::move(e));
  }
  for (int i = 0; i < 200; ++i) {
    const TimeMs a = from + static_cast<TimeMs>(rng() % static_cast<std::uint64_t>(to - from));
    Event c;
    c.ts = to + static_cast<TimeMs>(rng() % 1000) * kMsPerMinute;
    c.machine = path, c.type = EventType::correction, c.by = "sam", c.why = "audit";
    c.correction = static_cast<CorrectionKind>(rng() % 3);
    c.at = c.correction == CorrectionKind::void_reading ? readings[rng() % readings.size()] : a;
    c.until = a + static_cast<TimeMs>(rng() % 7'200'000);
    if (rng() % 2) c.state = states[rng() % 6];
    c.reason = rng() % 2 ? "jam" : "";
    c.reject = static_cast<std::int64_t>(rng() % 5);  // 0: a correction the engine leaves out
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace

// The property of the engine (docs/oee-model.md, "Determinism") with corrections in the set: the
// same events and corrections in any order, with duplicates, give identical totals per hour.
TEST(HistoryCorrections, PlantTotalsIgnoreOrderAndDuplicatesOfCorrections) {
  const PlantModel plant = synthetic::test_plant(2, 2);
  const FixedOffsetZone utc;
  const ShiftCalendar cal(plant, utc);
  const TimeMs from = at("2026-11-10T00:00:00Z"), to = at("2026-11-12T00:00:00Z");
  std::vector<Event> events;
  std::uint64_t seed = 16;
  for (const MachineSpec* m : plant.machines()) {
    auto e = random_corrected_events(seed++, from, to, m->path);
    events.insert(events.end(), e.begin(), e.end());
  }
  auto totals = [&](const std::vector<Event>& set) {
    return PlantHistory::build(plant, set).node_kpis(cal, "", Grouping::hour, from, to, to);
  };
  const auto reference = totals(events);
  std::vector<Event> uncorrected = events;
  std::erase_if(uncorrected, [](const Event& e) { return e.type == EventType::correction; });
  const auto before = totals(uncorrected);
  ASSERT_EQ(reference.size(), before.size());
  std::size_t changed = 0;
  for (std::size_t i = 0; i < reference.size(); ++i) changed += reference[i].totals == before[i].totals ? 0 : 1;
  EXPECT_GT(changed, reference.size() / 2) << "the corrections should change most hours";
  std::mt19937_64 rng(42);
  for (int round = 0; round < 3; ++round) {
    std::vector<Event> disturbed = events;
    for (std::size_t i = 0; i < events.size() / 3; ++i) disturbed.push_back(events[rng() % events.size()]);
    std::shuffle(disturbed.begin(), disturbed.end(), rng);
    const auto again = totals(disturbed);
    ASSERT_EQ(again.size(), reference.size());
    for (std::size_t i = 0; i < again.size(); ++i) EXPECT_EQ(again[i].totals, reference[i].totals) << "hour " << i;
  }
}

// The 47-minute breakdown was planned maintenance: it becomes planned downtime, so availability is
// 373 / 373 = 1 instead of 373 / 420.
TEST(HistoryCorrections, ReclassifiedStopBecomesPlannedDowntime) {
  const MachineSpec m = machine();
  std::vector<Event> events = worked_example();
  events.push_back(reclassify("2026-11-11T08:00:00Z", "2026-11-10T07:00:00Z", "2026-11-10T07:47:00Z", "planned_stop",
                              "planned maintenance"));
  const KpiTotals t = shift_totals(m, events);
  EXPECT_EQ(t.breakdown_ms, 0);
  EXPECT_EQ(t.breakdown_count, 0);
  EXPECT_EQ(t.planned_downtime_ms, (60 + 47) * kMsPerMinute);
  EXPECT_EQ(t.planned_production_ms(), 373 * kMsPerMinute);
  const auto h = MachineHistory::build(m, events);
  ASSERT_EQ(h.intervals().size(), 3u);
  EXPECT_EQ(h.intervals()[1].state, State::planned_stop);
  EXPECT_EQ(h.intervals()[1].reason, "planned maintenance");
}

// A reason for 07:10-07:20 splits the stop in three: material, jam, material.
TEST(HistoryCorrections, ReasonForPartOfAStopSplitsIt) {
  const MachineSpec m = machine();
  std::vector<Event> events = worked_example();
  events.push_back(reclassify("2026-11-11T08:00:00Z", "2026-11-10T07:10:00Z", "2026-11-10T07:20:00Z", "", "jam"));
  const auto h = MachineHistory::build(m, events);
  ASSERT_EQ(h.intervals().size(), 5u);
  EXPECT_EQ(h.intervals()[1].reason, "material");
  EXPECT_EQ(h.intervals()[1].end, at("2026-11-10T07:10:00Z"));
  EXPECT_EQ(h.intervals()[2].reason, "jam");
  EXPECT_EQ(h.intervals()[2].state, State::stopped);
  EXPECT_EQ(h.intervals()[2].end, at("2026-11-10T07:20:00Z"));
  EXPECT_EQ(h.intervals()[3].reason, "material");
  EXPECT_EQ(h.intervals()[3].end, at("2026-11-10T07:47:00Z"));
  // The downtime is what it was; the running intervals the range touched are not split.
  EXPECT_EQ(shift_totals(m, events).breakdown_ms, 47 * kMsPerMinute);
}

// 100 good parts were found bad: quality (19,271 - 523) / 19,271, the total unchanged.
TEST(HistoryCorrections, RejectsFoundLaterMoveGoodToReject) {
  const MachineSpec m = machine();
  std::vector<Event> events = worked_example();
  Event found = correction("2026-11-11T08:00:00Z", CorrectionKind::rejects);
  found.at = at("2026-11-10T13:00:00Z");
  found.reject = 100;
  events.push_back(found);
  const KpiTotals t = shift_totals(m, events);
  EXPECT_EQ(t.good_count, 19271 - 523);
  EXPECT_EQ(t.reject_count, 523);
  EXPECT_NEAR(*derive_figures(t).quality, (19271.0 - 523) / 19271, 1e-12);
}

// A total counter read 99,999 at 08:00 by mistake: voided, 1,000 + 2,000 parts remain instead of
// 1,000 + 98,999 + a reset's 3,000.
TEST(HistoryCorrections, VoidedReadingIsLeftOutOfTheCounts) {
  const MachineSpec m = machine();
  std::vector<Event> events = {state("2026-11-10T06:00:00Z", "running"),
                               counter(at("2026-11-10T06:00:00Z"), CounterName::total, 0),
                               counter(at("2026-11-10T07:00:00Z"), CounterName::total, 1000),
                               counter(at("2026-11-10T08:00:00Z"), CounterName::total, 99999),
                               counter(at("2026-11-10T09:00:00Z"), CounterName::total, 3000)};
  EXPECT_EQ(shift_totals(m, events).good_count, 1000 + 98999 + 3000);
  Event void_it = correction("2026-11-11T08:00:00Z", CorrectionKind::void_reading);
  void_it.at = at("2026-11-10T08:00:00Z");
  void_it.counter = CounterName::total;
  events.push_back(void_it);
  EXPECT_EQ(shift_totals(m, events).good_count, 3000);
  EXPECT_TRUE(MachineHistory::build(m, events).data_quality().empty());
}

// Two corrections of the same stop: the one made later wins, whatever the arrival order; corrections
// are no sign of life; those that cannot apply are left out.
TEST(HistoryCorrections, LaterCorrectionWinsInAnyOrder) {
  const MachineSpec m = machine();
  std::vector<Event> events = worked_example();
  events.push_back(reclassify("2026-11-11T08:00:00Z", "2026-11-10T07:00:00Z", "2026-11-10T07:47:00Z", "", "jam"));
  events.push_back(reclassify("2026-11-11T09:00:00Z", "2026-11-10T07:00:00Z", "2026-11-10T07:47:00Z", "", "tooling"));
  events.push_back(reclassify("2026-11-11T10:00:00Z", "2026-11-10T07:47:00Z", "2026-11-10T07:00:00Z", "", "empty range"));
  events.push_back(reclassify("2026-11-11T10:00:00Z", "2026-11-10T07:00:00Z", "2026-11-10T07:47:00Z", "no_such_state", ""));
  const auto reference = MachineHistory::build(m, events);
  ASSERT_EQ(reference.intervals().size(), 3u);
  EXPECT_EQ(reference.intervals()[1].reason, "tooling");
  EXPECT_EQ(reference.ignored_events(), 2u);
  EXPECT_EQ(reference.last_event_ts(), at("2026-11-10T13:00:00Z"));
  std::mt19937_64 rng(16);
  for (int round = 0; round < 20; ++round) {
    std::vector<Event> disturbed = events;
    disturbed.push_back(events[rng() % events.size()]);
    std::shuffle(disturbed.begin(), disturbed.end(), rng);
    const auto again = MachineHistory::build(m, disturbed);
    EXPECT_EQ(again.intervals(), reference.intervals());
    EXPECT_EQ(again.counts(), reference.counts());
  }
}

}  // namespace oee
