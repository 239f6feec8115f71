// Reason trees in the stores (every backend): a reason whose loss is planned, given hours after
// its stop was settled into the rollups, moves the stop from downtime to planned downtime in every
// whole hour, also after the store is reopened.
#include <gtest/gtest.h>

#include <memory>

#include "oee/core/shift_calendar.h"
#include "oee/storage/event_store.h"
#include "storage_test_support.h"
#include "store_backends.h"

namespace oee::storage {
namespace {

using namespace testing;

class StoreReasons : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    auto tree = std::make_shared<ReasonTree>();
    const int org = tree->add("ORG", "Organisation", -1, ReasonLoss::none);
    tree->add("NO_ORDERS", "No orders", org, ReasonLoss::planned);
    plant.reasons = tree;
    plant.sites[0].areas[0].lines[0].machines[0].reasons = tree;
  }
  // Every whole hour of the day, and the day, against the engine over every event.
  void expect_engine(EventStore& s) {
    const MachineHistory ref = MachineHistory::build(m(), all);
    for (TimeMs h = day; h < day + kMsPerDay; h += kMsPerHour)
      ASSERT_EQ(s.machine_totals(m(), h, h + kMsPerHour, kTimeMax), oee::machine_totals(ref, cal, h, h + kMsPerHour, kTimeMax))
          << format_rfc3339(h);
    ASSERT_EQ(s.machine_totals(m(), day, day + kMsPerDay, kTimeMax), oee::machine_totals(ref, cal, day, day + kMsPerDay, kTimeMax));
  }
  const MachineSpec& m() const { return *plant.machines()[0]; }
  // Running all day but 03:20-05:40 (stopped), a sign of life every 10 min: the stop's hours settle.
  void append_day_with_a_stop(EventStore& s) {
    for (TimeMs t = day; t < day + 20 * kMsPerHour; t += 10 * kMsPerMinute) {
      Event e = event(m(), t, EventType::state, seq++);
      e.state = t >= day + 200 * kMsPerMinute && t < day + 340 * kMsPerMinute ? "stopped" : "running";
      all.push_back(e);
    }
    s.append(all, day + kMsPerDay);
  }
  // NO_ORDERS given at 19:00 for the stop (04:00 in it).
  void append_late_reason(EventStore& s) {
    Event reason = event(m(), day + 19 * kMsPerHour, EventType::reason, seq++);
    reason.reason = "NO_ORDERS";
    reason.at = day + 4 * kMsPerHour;
    s.append(std::vector<Event>{reason}, day + kMsPerDay);
    all.push_back(reason);
  }
  // [03:30, 04:30): no whole hour, both partial hours inside the stop, long before the reason.
  void expect_window_planned(EventStore& s) {
    const TimeMs from = day + 210 * kMsPerMinute, to = day + 270 * kMsPerMinute;
    const KpiTotals got = s.machine_totals(m(), from, to, kTimeMax);
    EXPECT_EQ(got, oee::machine_totals(MachineHistory::build(m(), all), cal, from, to, kTimeMax));
    EXPECT_EQ(got.planned_downtime_ms, 60 * kMsPerMinute);
    EXPECT_EQ(got.breakdown_ms, 0);
  }

  PlantModel plant = test_plant(1, 1);
  FixedOffsetZone zone;
  ShiftCalendar cal{plant, zone};
  TimeMs day = at("2026-11-10T00:00:00Z");
  std::vector<Event> all;
  std::int64_t seq = 0;
};

TEST_P(StoreReasons, ALateReasonMakesASettledStopPlannedDowntime) {
  auto backend = make_backend(GetParam());
  const std::string location = backend->new_location();
  auto store = backend->open(location, plant, cal);
  append_day_with_a_stop(*store);
  const KpiTotals before = store->machine_totals(m(), day, day + kMsPerDay, kTimeMax);
  ASSERT_GT(before.breakdown_ms, 0);
  ASSERT_NO_FATAL_FAILURE(expect_engine(*store));

  append_late_reason(*store);
  const KpiTotals after = store->machine_totals(m(), day, day + kMsPerDay, kTimeMax);
  // The stop's planned part leaves downtime for planned downtime; nothing else moves.
  EXPECT_EQ(after.breakdown_ms, 0);
  EXPECT_EQ(after.breakdown_count, 0);
  EXPECT_EQ(after.planned_downtime_ms, before.planned_downtime_ms + before.breakdown_ms);
  EXPECT_EQ(after.running_ms, before.running_ms);
  ASSERT_NO_FATAL_FAILURE(expect_engine(*store));
  store.reset();
  store = backend->open(location, plant, cal);
  ASSERT_NO_FATAL_FAILURE(expect_engine(*store));
}

// A window's partial hours are read from its events up to its end: a reason given hours after that
// end still makes the window's part of the stop planned, also after reopening.
TEST_P(StoreReasons, AReasonGivenAfterAWindowCountsInItsPartialHours) {
  auto backend = make_backend(GetParam());
  const std::string location = backend->new_location();
  auto store = backend->open(location, plant, cal);
  append_day_with_a_stop(*store);
  append_late_reason(*store);
  ASSERT_NO_FATAL_FAILURE(expect_window_planned(*store));
  store.reset();
  store = backend->open(location, plant, cal);
  ASSERT_NO_FATAL_FAILURE(expect_window_planned(*store));
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreReasons, ::testing::ValuesIn(kBackends), backend_name);

// A SQLite file from before reason_events (migration 9): its reasons are copied in from the event
// blocks when it is opened, so a window before a late reason sees it as with a newer file.
class SqliteReasonEvents : public StoreReasons {};
TEST_F(SqliteReasonEvents, AFileFromBeforeThemHasItsReasonsCopiedInOnOpen) {
  TempDir dir;
  const std::string file = dir.file("old.db");
  auto store = open_sqlite_store(file, plant, cal);
  append_day_with_a_stop(*store);
  append_late_reason(*store);
  store.reset();
  {
    sqlite::Database db(file);
    db.exec("DELETE FROM reason_events; UPDATE meta SET value=0 WHERE key='reason_events_filled'");
  }
  store = open_sqlite_store(file, plant, cal);
  ASSERT_NO_FATAL_FAILURE(expect_window_planned(*store));
  sqlite::Database db(file);
  sqlite::Statement n(db, "SELECT count(*) FROM reason_events");
  n.step();
  EXPECT_EQ(n.int_at(0), 1);
}

}  // namespace
}  // namespace oee::storage
