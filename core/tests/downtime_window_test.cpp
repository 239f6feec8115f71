// Planned-downtime windows (one-off and recurring) per line or machine, and shifts per line or site:
// hand-computed planned time of the engine.
#include <gtest/gtest.h>

#include "oee/core/kpi.h"
#include "oee/core/plant_history.h"

namespace oee {
namespace {

TimeMs at(const char* s) { return *parse_timestamp(s); }

Event state(TimeMs ts, const char* s) {
  Event e;
  e.ts = ts;
  e.type = EventType::state;
  e.state = s;
  return e;
}

MachineSpec machine(const std::string& line_path, const char* id) {
  MachineSpec m;
  m.id = id;
  m.path = line_path + "/" + id;
  return m;
}

// Site s, area a: line l1 (m1, m2) and line l2 (m3); one shift 06:00-14:00 with a break 10:00-10:30.
PlantModel plant() {
  PlantModel p;
  p.shifts.push_back({"early", 6 * 60, 14 * 60, {{10 * 60, 10 * 60 + 30}}});
  LineSpec l1{"l1", "s/a/l1", "l1", {machine("s/a/l1", "m1"), machine("s/a/l1", "m2")}};
  LineSpec l2{"l2", "s/a/l2", "l2", {machine("s/a/l2", "m3")}};
  p.sites.push_back({"s", "s", "s", {AreaSpec{"a", "s/a", "a", {l1, l2}}}});
  return p;
}

DowntimeWindow once(const char* target, const char* local_start, const char* local_end) {
  DowntimeWindow w;
  w.name = "maintenance";
  w.target = target;
  w.local_start_ms = at(local_start);  // a FixedOffsetZone(0) below: local = UTC
  w.local_end_ms = at(local_end);
  return w;
}

// The machine runs the whole window; its planned production time is what the calendar plans.
DurationMs planned_ms(const PlantModel& p, const char* machine_path, TimeMs from, TimeMs to) {
  const FixedOffsetZone utc;
  const ShiftCalendar cal(p, utc);
  const MachineSpec& m = *p.find_machine(machine_path);
  const std::vector<Event> events{state(from, "running")};
  const KpiTotals t = machine_totals(MachineHistory::build(m, events), cal, from, to, to);
  EXPECT_EQ(t.running_ms + t.planned_downtime_ms, to - from) << "running all along: in plan or out of it";
  return t.planned_production_ms();
}

const TimeMs kDay = at("2026-11-10T00:00:00Z");  // a Tuesday

}  // namespace

// A one-off window 09:00-11:00 on line l1 overlaps the break (10:00-10:30): 7.5 h planned less 1.5 h
// for l1's machines; line l2's machine keeps 7.5 h.
TEST(DowntimeWindows, AOneOffWindowOnALineCutsThePlannedTimeOfItsMachinesOnly) {
  PlantModel p = plant();
  p.downtime.push_back(once("s/a/l1", "2026-11-10T09:00:00Z", "2026-11-10T11:00:00Z"));
  EXPECT_EQ(planned_ms(p, "s/a/l1/m1", kDay, kDay + kMsPerDay), 6 * kMsPerHour);
  EXPECT_EQ(planned_ms(p, "s/a/l1/m2", kDay, kDay + kMsPerDay), 6 * kMsPerHour);
  EXPECT_EQ(planned_ms(p, "s/a/l2/m3", kDay, kDay + kMsPerDay), 7 * kMsPerHour + 30 * kMsPerMinute);
  // The next day is untouched; a window reaching past the query's end is clipped.
  EXPECT_EQ(planned_ms(p, "s/a/l1/m1", kDay + kMsPerDay, kDay + 2 * kMsPerDay), 7 * kMsPerHour + 30 * kMsPerMinute);
  EXPECT_EQ(planned_ms(p, "s/a/l1/m1", kDay, kDay + 9 * kMsPerHour + 30 * kMsPerMinute), 3 * kMsPerHour);
}

// A target names a node: "s/a/l1/m1" does not cover a machine "s/a/l1/m10".
TEST(DowntimeWindows, AWindowOnAMachineAppliesToThatMachineAndNoPrefixOfIt) {
  DowntimeWindow w = once("s/a/l1/m1", "2026-11-10T00:00:00Z", "2026-11-11T00:00:00Z");
  EXPECT_TRUE(w.applies_to("s/a/l1/m1"));
  EXPECT_FALSE(w.applies_to("s/a/l1/m10"));
  EXPECT_FALSE(w.applies_to("s/a/l1"));
  PlantModel p = plant();
  p.downtime.push_back(w);
  EXPECT_EQ(planned_ms(p, "s/a/l1/m1", kDay, kDay + kMsPerDay), 0);
  EXPECT_EQ(planned_ms(p, "s/a/l1/m2", kDay, kDay + kMsPerDay), 7 * kMsPerHour + 30 * kMsPerMinute);
}

// Recurring on Tuesdays and Thursdays 13:00-01:00 (crossing midnight): over Mon 9th to Mon 16th the
// shift loses its last hour (13:00-14:00) on two days: 7 x 7.5 h - 2 h.
TEST(DowntimeWindows, ARecurringWindowOnSomeWeekdaysCrossingMidnight) {
  PlantModel p = plant();
  DowntimeWindow w;
  w.name = "trial";
  w.target = "s/a/l2/m3";
  w.recurring = true;
  w.start_minute = 13 * 60;
  w.end_minute = 60;
  w.weekdays = {false, true, false, true, false, false, false};
  p.downtime.push_back(w);
  const TimeMs monday = kDay - kMsPerDay;
  EXPECT_EQ(planned_ms(p, "s/a/l2/m3", monday, monday + 7 * kMsPerDay), 7 * (7 * kMsPerHour + 30 * kMsPerMinute) - 2 * kMsPerHour);
  const FixedOffsetZone utc;
  const auto iv = w.occurrences(utc, kDay, kDay + kMsPerDay);
  ASSERT_EQ(iv.size(), 1u);
  EXPECT_EQ(iv[0], (Interval{kDay + 13 * kMsPerHour, kDay + 25 * kMsPerHour}));
  // Without shifts every hour is planned, and the window still cuts it: Tuesday loses 13:00-24:00
  // (Monday has no window to end on Tuesday at 01:00).
  p.shifts.clear();
  EXPECT_EQ(planned_ms(p, "s/a/l2/m3", kDay, kDay + kMsPerDay), 13 * kMsPerHour);
}

// Which window holds an instant (what a stop for it is named after): the machine's own calendar
// knows the windows on the machine and its line, in its site's zone, ends exclusive.
TEST(DowntimeWindows, TheWindowHoldingAnInstantIsOneOfTheMachines) {
  PlantModel p = plant();
  p.downtime.push_back(once("s/a/l1", "2026-11-10T09:00:00Z", "2026-11-10T11:00:00Z"));
  DowntimeWindow cleaning;
  cleaning.name = "cleaning";
  cleaning.target = "s/a/l1/m1";
  cleaning.recurring = true;
  cleaning.start_minute = 23 * 60;
  cleaning.end_minute = 60;  // crosses midnight
  p.downtime.push_back(cleaning);
  p.sites[0].zone = std::make_shared<FixedOffsetZone>(2 * kMsPerHour, "+02:00");  // the site's local times: UTC+2
  const FixedOffsetZone utc;
  const ShiftCalendar cal(p, utc);
  const ShiftCalendar m1 = cal.for_machine(*p.find_machine("s/a/l1/m1"));
  const ShiftCalendar m3 = cal.for_machine(*p.find_machine("s/a/l2/m3"));
  const TimeMs nine_local = kDay + 7 * kMsPerHour;  // 09:00 at UTC+2
  EXPECT_EQ(m1.downtime_window_at(nine_local - 1), nullptr);
  ASSERT_NE(m1.downtime_window_at(nine_local), nullptr);
  EXPECT_EQ(m1.downtime_window_at(nine_local)->name, "maintenance");
  EXPECT_EQ(m1.downtime_window_at(nine_local + 2 * kMsPerHour - 1)->name, "maintenance");
  EXPECT_EQ(m1.downtime_window_at(nine_local + 2 * kMsPerHour), nullptr);
  // 23:00-01:00 local = 21:00-23:00Z; the one that started the day before ends at 23:00Z on the 9th.
  EXPECT_EQ(m1.downtime_window_at(kDay + 21 * kMsPerHour)->name, "cleaning");
  EXPECT_EQ(m1.downtime_window_at(kDay - kMsPerHour - 1)->name, "cleaning");
  EXPECT_EQ(m1.downtime_window_at(kDay - kMsPerHour), nullptr);
  EXPECT_EQ(m3.downtime_window_at(nine_local), nullptr) << "another line's window";
  EXPECT_EQ(cal.downtime_window_at(nine_local), nullptr) << "the plant's calendar has no windows of its own";
}

// A line with its own shifts (22:00-06:00) plans by them; the plant's other line keeps the plant's.
TEST(LineSchedules, ALineWithItsOwnShiftsOverridesThePlants) {
  PlantModel p = plant();
  p.sites[0].areas[0].lines[0].shifts = std::vector<ShiftSpec>{{"night", 22 * 60, 6 * 60, {}}};
  EXPECT_EQ(planned_ms(p, "s/a/l1/m1", kDay, kDay + kMsPerDay), 8 * kMsPerHour);  // 00-06 and 22-24
  EXPECT_EQ(planned_ms(p, "s/a/l2/m3", kDay, kDay + kMsPerDay), 7 * kMsPerHour + 30 * kMsPerMinute);
  const FixedOffsetZone utc;
  const ShiftCalendar cal(p, utc);
  const auto shifts = make_buckets(cal.for_node("s/a/l1"), Grouping::shift, kDay, kDay + kMsPerDay);
  ASSERT_EQ(shifts.size(), 2u);
  EXPECT_EQ(shifts[0].shift, "night");
  EXPECT_EQ(shifts[0].range, (Interval{kDay, kDay + 6 * kMsPerHour}));
  EXPECT_EQ(make_buckets(cal.for_node("s/a/l2"), Grouping::shift, kDay, kDay + kMsPerDay)[0].shift, "early");
}

}  // namespace oee
