#include <gtest/gtest.h>

#include <vector>

#include "oee/core/alert_conditions.h"

namespace oee {

namespace {
constexpr TimeMs kMin = kMsPerMinute;
Event state(TimeMs ts, const char* s) {
  Event e;
  e.ts = ts;
  e.state = s;
  return e;
}
MachineHistory history(std::vector<Event> events) {
  static MachineSpec m = [] {
    MachineSpec s;
    s.id = s.path = "s/a/l/m";
    return s;
  }();
  return MachineHistory::build(m, events);
}
}  // namespace

TEST(AlertConditions, MachineDownOnlyAfterItsDurationAndOnlyForUnplannedStops) {
  const auto h = history({state(0, "running"), state(10 * kMin, "stopped"), state(30 * kMin, "running"),
                          state(40 * kMin, "planned_stop")});
  EXPECT_FALSE(machine_down_at(h, 5 * kMin, 15 * kMin));    // running
  EXPECT_FALSE(machine_down_at(h, 24 * kMin, 15 * kMin));   // down 14 min
  EXPECT_TRUE(machine_down_at(h, 25 * kMin, 15 * kMin));    // down 15 min
  EXPECT_FALSE(machine_down_at(h, 35 * kMin, 15 * kMin));   // running again
  EXPECT_FALSE(machine_down_at(h, 90 * kMin, 15 * kMin));   // a planned stop is no alert
  EXPECT_FALSE(machine_down_at(history({}), 90 * kMin, 0));  // never heard from
}

TEST(AlertConditions, NoDataAfterASilenceLongerThanTheRule) {
  EXPECT_FALSE(no_data_at(kTimeMin, 100 * kMin, 5 * kMin));
  EXPECT_FALSE(no_data_at(10 * kMin, 15 * kMin, 5 * kMin));
  EXPECT_TRUE(no_data_at(10 * kMin, 15 * kMin + 1, 5 * kMin));
}

TEST(AlertConditions, ShiftOeeBelowTargetOnlyFromItsMinute) {
  const TimeMs start = 6 * 60 * kMin;
  EXPECT_FALSE(oee_below_target_at(0.40, start, start + 59 * kMin, 60, 0.65));  // too early
  EXPECT_TRUE(oee_below_target_at(0.40, start, start + 60 * kMin, 60, 0.65));
  EXPECT_FALSE(oee_below_target_at(0.70, start, start + 60 * kMin, 60, 0.65));
  EXPECT_FALSE(oee_below_target_at(std::nullopt, start, start + 60 * kMin, 60, 0.65));
  EXPECT_FALSE(oee_below_target_at(0.40, start, start + 60 * kMin, 60, 0.0));  // no target
}

TEST(AlertConditions, EdgeQueueGrowingOnlyWhenItNeverFellOverTheWholeWindow) {
  const std::vector<QueueDepthReport> rising = {{0, 10}, {5 * kMin, 20}, {10 * kMin, 20}, {15 * kMin, 30}};
  EXPECT_TRUE(edge_queue_growing_at(rising, 15 * kMin, 10 * kMin));
  EXPECT_FALSE(edge_queue_growing_at(rising, 15 * kMin, 20 * kMin));  // not watched that long
  const std::vector<QueueDepthReport> draining = {{0, 10}, {5 * kMin, 50}, {10 * kMin, 5}, {15 * kMin, 30}};
  EXPECT_FALSE(edge_queue_growing_at(draining, 15 * kMin, 15 * kMin));  // fell at 10 min
  EXPECT_TRUE(edge_queue_growing_at(draining, 15 * kMin, 5 * kMin));    // rising since 10 min
  const std::vector<QueueDepthReport> flat = {{0, 10}, {5 * kMin, 10}, {10 * kMin, 10}};
  EXPECT_FALSE(edge_queue_growing_at(flat, 10 * kMin, 10 * kMin));
}

TEST(AlertConditions, KindNamesRoundTrip) {
  for (AlertKind k : {AlertKind::machine_down, AlertKind::oee_below_target, AlertKind::no_data,
                      AlertKind::edge_queue_growing})
    EXPECT_EQ(parse_alert_kind(alert_kind_name(k)), k);
  EXPECT_FALSE(parse_alert_kind("machine_up"));
}

}  // namespace oee
