// No data: a silence (no event at all) longer than the machine's no_data_after_ms is neither its
// last state nor planned time (docs/oee-model.md).
#include <gtest/gtest.h>

#include "oee/core/kpi.h"
#include "oee/core/time_zone.h"

namespace oee {

namespace {

constexpr TimeMs kMin = kMsPerMinute;

Event event_of(TimeMs ts, EventType type) {
  Event e;
  e.ts = ts;
  e.type = type;
  return e;
}
Event state(TimeMs ts, const char* s) {
  Event e = event_of(ts, EventType::state);
  e.state = s;
  return e;
}
Event heartbeat(TimeMs ts) { return event_of(ts, EventType::heartbeat); }

MachineSpec machine(DurationMs no_data_after_ms) {
  MachineSpec m;
  m.id = m.path = "s/a/l/m";
  m.no_data_after_ms = no_data_after_ms;
  return m;
}

struct NoDataFixture : ::testing::Test {
  PlantModel plant;  // no shifts: every hour is planned
  FixedOffsetZone utc;
  ShiftCalendar cal{plant, utc};
  KpiTotals totals(const MachineSpec& m, const std::vector<Event>& events, TimeMs from, TimeMs to, TimeMs horizon) {
    return machine_totals(MachineHistory::build(m, events), cal, from, to, horizon);
  }
};

// Running from 0, a heartbeat every minute up to 10 min, silent until 30 min, then running again
// with heartbeats up to 60 min.
std::vector<Event> silent_gap() {
  std::vector<Event> events{state(0, "running")};
  for (TimeMs t = kMin; t <= 10 * kMin; t += kMin) events.push_back(heartbeat(t));
  for (TimeMs t = 30 * kMin; t <= 60 * kMin; t += kMin) events.push_back(heartbeat(t));
  return events;
}

}  // namespace

TEST_F(NoDataFixture, AGapLongerThanTheThresholdIsNoDataFromSignToSign) {
  const KpiTotals t = totals(machine(60'000), silent_gap(), 0, 60 * kMin, 60 * kMin);
  EXPECT_EQ(t.no_data_ms, 20 * kMin);  // 10 min .. 30 min
  EXPECT_EQ(t.running_ms, 40 * kMin);
  EXPECT_EQ(t.planned_production_ms(), 40 * kMin);  // no data is not planned production time
  EXPECT_EQ(t.planned_downtime_ms, 0);
  EXPECT_EQ(t.all_ms, 60 * kMin);
  const KpiFigures f = derive_figures(t);
  EXPECT_DOUBLE_EQ(*f.availability, 1.0);
  EXPECT_DOUBLE_EQ(*f.utilization, 1.0);  // of the time with data
}

TEST_F(NoDataFixture, AGapNotLongerThanTheThresholdIsTheLastState) {
  const KpiTotals t = totals(machine(20 * kMin), silent_gap(), 0, 60 * kMin, 60 * kMin);
  EXPECT_EQ(t.no_data_ms, 0);
  EXPECT_EQ(t.running_ms, 60 * kMin);
}

TEST_F(NoDataFixture, ThresholdZeroIsOffAndGivesTodaysNumbers) {
  const KpiTotals off = totals(machine(0), silent_gap(), 0, 90 * kMin, 90 * kMin);
  EXPECT_EQ(off.no_data_ms, 0);
  EXPECT_EQ(off.running_ms, 90 * kMin);
  // Heartbeats change nothing else: the same totals as the state event alone.
  EXPECT_EQ(off, totals(machine(0), {state(0, "running")}, 0, 90 * kMin, 90 * kMin));
}

TEST_F(NoDataFixture, AfterTheLastSignTheTailToTheHorizonIsNoDataOnceBeyondTheThreshold) {
  const MachineSpec m = machine(5 * kMin);
  std::vector<Event> events{state(0, "running")};
  for (TimeMs t = kMin; t <= 10 * kMin; t += kMin) events.push_back(heartbeat(t));
  // Horizon 4 min after the last sign: not yet no data.
  EXPECT_EQ(totals(m, events, 0, kTimeMax, 14 * kMin).no_data_ms, 0);
  EXPECT_EQ(totals(m, events, 0, kTimeMax, 14 * kMin).running_ms, 14 * kMin);
  // Horizon 20 min after it: no data from the last sign on.
  const KpiTotals late = totals(m, events, 0, kTimeMax, 30 * kMin);
  EXPECT_EQ(late.no_data_ms, 20 * kMin);
  EXPECT_EQ(late.running_ms, 10 * kMin);
  // A window inside the silence.
  EXPECT_EQ(totals(m, events, 20 * kMin, 25 * kMin, 30 * kMin).no_data_ms, 5 * kMin);
}

TEST_F(NoDataFixture, AHorizonInsideAGapJudgesItOnItsLengthUpToTheHorizon) {
  const MachineSpec m = machine(5 * kMin);
  std::vector<Event> events{state(0, "running")};
  for (TimeMs t = kMin; t <= 10 * kMin; t += kMin) events.push_back(heartbeat(t));
  events.push_back(heartbeat(40 * kMin));
  EXPECT_EQ(totals(m, events, 0, kTimeMax, 13 * kMin).no_data_ms, 0);
  EXPECT_EQ(totals(m, events, 0, kTimeMax, 20 * kMin).no_data_ms, 10 * kMin);
}

TEST_F(NoDataFixture, EveryEventIsASignOfLife) {
  std::vector<Event> events{state(0, "running")};
  Event c = event_of(10 * kMin, EventType::count);
  c.good = 5;
  events.push_back(c);
  Event s = event_of(20 * kMin, EventType::sample);
  s.sample_name = "temp";
  events.push_back(s);
  events.push_back(state(30 * kMin, "stopped"));
  const KpiTotals t = totals(machine(11 * kMin), events, 0, 30 * kMin, 30 * kMin);
  EXPECT_EQ(t.no_data_ms, 0);
  EXPECT_EQ(t.running_ms, 30 * kMin);
  EXPECT_EQ(t.good_count, 5);
}

TEST_F(NoDataFixture, NoDataDuringPlannedDowntimeIsNotPlannedDowntimeEither) {
  plant.shifts.push_back({"day", 0, 30, {}});  // 00:00-00:30 planned, the rest of the day not
  const ShiftCalendar shifts(plant, utc);
  const MachineSpec m = machine(60'000);
  const KpiTotals t = machine_totals(MachineHistory::build(m, silent_gap()), shifts, 0, 60 * kMin, 60 * kMin);
  EXPECT_EQ(t.no_data_ms, 20 * kMin);
  EXPECT_EQ(t.running_ms, 10 * kMin);             // the shift's 0-10 (10-30 had no data)
  EXPECT_EQ(t.unscheduled_running_ms, 30 * kMin);  // 30-60 after the shift
  EXPECT_EQ(t.planned_downtime_ms, 30 * kMin);
  EXPECT_EQ(t.all_ms, t.unknown_ms + t.no_data_ms + t.planned_downtime_ms + t.planned_production_ms());
}

TEST_F(NoDataFixture, NoDataBeforeTheFirstStateIsUnknownOnly) {
  const std::vector<Event> events{heartbeat(0), state(30 * kMin, "running"), heartbeat(35 * kMin), heartbeat(40 * kMin)};
  const KpiTotals t = totals(machine(6 * kMin), events, 0, 40 * kMin, 40 * kMin);
  EXPECT_EQ(t.unknown_ms, 30 * kMin);
  EXPECT_EQ(t.no_data_ms, 0);
  EXPECT_EQ(t.running_ms, 10 * kMin);
}

TEST_F(NoDataFixture, WindowsStayAdditive) {
  const MachineSpec m = machine(60'000);
  const auto events = silent_gap();
  KpiTotals parts;
  for (TimeMs t = 0; t < 60 * kMin; t += 7 * kMin) parts += totals(m, events, t, std::min(t + 7 * kMin, 60 * kMin), 60 * kMin);
  KpiTotals whole = totals(m, events, 0, 60 * kMin, 60 * kMin);
  parts.machine_count = whole.machine_count;
  EXPECT_EQ(parts, whole);
}

}  // namespace oee
