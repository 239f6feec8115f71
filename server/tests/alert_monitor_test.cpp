// The alert monitor over the store: a restarted server keeps its firing and acknowledged alerts
// and fires nothing again; evaluations at once on several threads (TSan's suite runs this) fire
// an alert once; a second server whose view is a moment old does not fire again what the first
// resolved, yet fires the next episode.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "mosquitto_process.h"
#include "oee/codec/event_json.h"
#include "oee/server/alert_monitor.h"
#include "oee/storage/event_store.h"

namespace oee::server {

namespace {

Event event(const std::string& json) {
  Event e;
  std::string error;
  if (!codec::parse_event(json, e, error)) throw std::runtime_error(error);
  return e;
}

const std::string kPlant = R"(timezone: UTC
sites: [{id: s1, areas: [{id: a1, lines: [{id: l1, machines: [{id: press, ideal_cycle_time_s: 1.0}, {id: saw, ideal_cycle_time_s: 1.0}]}]}]}]
alerts:
  rules: [{name: down1, kind: machine_down, node: s1/a1/l1, for_s: 60}]
)";

// A server: its plant, its store (a file that outlives it) and its clock.
struct Server {
  Server(const std::string& store_file, std::atomic<TimeMs>& now)
      : service(plant::load_plant_yaml(kPlant, "plant.yaml"),
                [store_file](const PlantModel& p, const ShiftCalendar& c) { return storage::open_sqlite_store(store_file, p, c); },
                [&now] { return now.load(); }),
        monitor(service) {}
  void ingest(const std::string& machine, const std::string& ts, const std::string& state) {
    service.ingest({event(R"({"ts":")" + ts + R"(","machine":"s1/a1/l1/)" + machine + R"(","type":"state","state":")" + state + "\"}")},
                   "test");
  }
  PlantService service;
  AlertMonitor monitor;
};

TimeMs at(const char* s) { return *parse_timestamp(s); }

}  // namespace

TEST(AlertMonitor, ARestartKeepsFiringAndAcknowledgedAlertsAndFiresNothingAgain) {
  testing::TempDir dir;
  const std::string file = dir.path + "/oee.sqlite";
  std::atomic<TimeMs> now{at("2026-11-10T10:01:00Z")};
  {
    Server s(file, now);
    s.ingest("press", "2026-11-10T09:58:00Z", "stopped");
    s.ingest("saw", "2026-11-10T10:00:30Z", "stopped");
    const auto fired = s.monitor.evaluate();
    ASSERT_EQ(fired.size(), 1u);  // the press, down 3 minutes; the saw only 30 s of the rule's 60
    EXPECT_EQ(fired[0].alert.id, "down1/s1/a1/l1/press");
    ASSERT_TRUE(s.monitor.acknowledge("down1/s1/a1/l1/press", "ann"));
  }
  now = at("2026-11-10T10:02:00Z");
  Server s(file, now);  // the restarted server: the same store, nothing in memory
  std::vector<AlertChange> told;
  s.monitor.add_listener([&](const AlertChange& c) { told.push_back(c); });
  const auto changes = s.monitor.evaluate();
  ASSERT_EQ(changes.size(), 1u);  // the saw now; the press fires still and is not fired again
  EXPECT_EQ(changes[0].alert.id, "down1/s1/a1/l1/saw");
  EXPECT_EQ(told.size(), 1u);
  auto listed = s.monitor.alerts();
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[1].id, "down1/s1/a1/l1/press");
  EXPECT_TRUE(listed[1].active());
  EXPECT_EQ(listed[1].fired_ts, at("2026-11-10T10:01:00Z"));
  EXPECT_EQ(listed[1].acknowledged_by, "ann");
  EXPECT_FALSE(s.monitor.acknowledge("down1/s1/a1/l1/press", "bob"));  // acknowledged before the restart

  s.ingest("press", "2026-11-10T10:02:10Z", "running");
  now = at("2026-11-10T10:02:20Z");
  const auto resolved = s.monitor.evaluate();
  ASSERT_EQ(resolved.size(), 1u);
  EXPECT_EQ(resolved[0].transition, AlertTransition::resolved);
  EXPECT_EQ(resolved[0].alert.acknowledged_by, "ann");
  EXPECT_TRUE(s.monitor.evaluate().empty());
}

TEST(AlertMonitor, EvaluationsOnSeveralThreadsAtOnceFireEachAlertOnce) {
  testing::TempDir dir;
  std::atomic<TimeMs> now{at("2026-11-10T10:00:00Z")};
  Server s(dir.path + "/oee.sqlite", now);
  std::atomic<int> fired{0}, resolved{0}, acknowledged{0};
  s.monitor.add_listener([&](const AlertChange& c) {
    (c.transition == AlertTransition::fired ? fired : c.transition == AlertTransition::resolved ? resolved : acknowledged)++;
  });
  for (int round = 0; round < 10; ++round) {
    const TimeMs t = now.load();
    s.ingest("press", format_rfc3339(t), "stopped");
    now = t + 61'000;
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i) threads.emplace_back([&] { s.monitor.evaluate(); });
    // Lists and acknowledgements beside the evaluations: none waits for another's store query.
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i) {
        s.monitor.alerts();
        s.monitor.acknowledge("down1/s1/a1/l1/press", "ann");
      }
    });
    for (auto& th : threads) th.join();
    s.ingest("press", format_rfc3339(now.load()), "running");
    now = now.load() + 1000;
    std::vector<std::thread> resolvers;
    for (int i = 0; i < 4; ++i) resolvers.emplace_back([&] { s.monitor.evaluate(); });
    for (auto& th : resolvers) th.join();
    now = now.load() + 1000;
    EXPECT_EQ(fired.load(), round + 1);
    EXPECT_EQ(resolved.load(), round + 1);
  }
  EXPECT_LE(acknowledged.load(), 10);
  EXPECT_EQ(s.monitor.alerts().size(), 10u);
}

// Two servers on one store: the first ingests, the second reads the live states from the store (as
// a server that does not ingest a machine does, LiveStateRefresh), so it hears of the end of a stop
// a moment after the first.
TEST(AlertMonitor, AServerAMomentBehindDoesNotFireAgainWhatAnotherResolved) {
  testing::TempDir dir;
  const std::string file = dir.path + "/oee.sqlite";
  std::atomic<TimeMs> now{at("2026-11-10T10:01:10Z")};
  Server one(file, now), two(file, now);
  auto catch_up = [&] { two.service.refresh_live_states(two.service.plant().machines()); };
  one.ingest("press", "2026-11-10T10:00:00Z", "stopped");
  catch_up();
  EXPECT_EQ(one.monitor.evaluate().size(), 1u);
  EXPECT_TRUE(two.monitor.evaluate().empty());  // fired already, by the first
  EXPECT_EQ(two.monitor.alerts().size(), 1u);

  one.ingest("press", "2026-11-10T10:01:20Z", "running");
  now = at("2026-11-10T10:01:25Z");
  ASSERT_EQ(one.monitor.evaluate().size(), 1u);  // resolved
  EXPECT_TRUE(two.monitor.evaluate().empty());   // still sees the stop, which was that alert's
  ASSERT_EQ(two.monitor.alerts().size(), 1u);
  EXPECT_FALSE(two.monitor.alerts()[0].active());

  // The next stop is a new episode: whichever server sees it first fires it.
  one.ingest("press", "2026-11-10T10:01:30Z", "stopped");
  now = at("2026-11-10T10:02:40Z");
  catch_up();
  const auto fired = two.monitor.evaluate();
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0].transition, AlertTransition::fired);
  EXPECT_TRUE(one.monitor.evaluate().empty());
  EXPECT_EQ(one.monitor.alerts().size(), 2u);
}

}  // namespace oee::server
