// The alert monitor over the store: a restarted server keeps its firing and acknowledged alerts
// and fires nothing again; evaluations at once on several threads (TSan's suite runs this) fire
// an alert once; a second server whose view is a moment old does not fire again what the first
// resolved, yet fires the next episode, also from a machine whose clock is behind the server's;
// the shift OEE rule follows the node's own shift; alerts of rules and machines removed from the
// plant file resolve.
#include <gtest/gtest.h>

#include <algorithm>
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
  rules:
    - {name: down1, kind: machine_down, node: s1/a1/l1, for_s: 60}
)";

// A server: its plant, its store (a file that outlives it) and its clock.
struct Server {
  Server(const std::string& store_file, std::atomic<TimeMs>& now, const std::string& plant_yaml = kPlant)
      : service(plant::load_plant_yaml(plant_yaml, "plant.yaml"),
                [store_file](const PlantModel& p, const ShiftCalendar& c) { return storage::open_sqlite_store(store_file, p, c); },
                [&now] { return now.load(); }),
        monitor(service) {}
  void ingest(const std::string& machine, const std::string& ts, const std::string& state) {
    ingest_at("s1/a1/l1/" + machine, ts, R"("type":"state","state":")" + state + "\"");
  }
  // An event of any machine: `body` is its members after ts and machine.
  void ingest_at(const std::string& machine, const std::string& ts, const std::string& body) {
    service.ingest({event(R"({"ts":")" + ts + R"(","machine":")" + machine + R"(",)" + body + "}")}, "test");
  }
  PlantService service;
  AlertMonitor monitor;
};

TimeMs at(const char* s) { return *parse_timestamp(s); }

// "transition id" of each change, sorted.
std::vector<std::string> summary(const std::vector<AlertChange>& changes) {
  std::vector<std::string> out;
  for (const AlertChange& c : changes)
    out.push_back(std::string(c.transition == AlertTransition::fired ? "fired " : c.transition == AlertTransition::resolved ? "resolved " : "acknowledged ") +
                  c.alert.id);
  std::sort(out.begin(), out.end());
  return out;
}

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
    ASSERT_TRUE(s.monitor.acknowledge("down1/s1/a1/l1/press", std::nullopt, "ann"));
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
  EXPECT_FALSE(s.monitor.acknowledge("down1/s1/a1/l1/press", std::nullopt, "bob"));  // acknowledged before the restart

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
        s.monitor.acknowledge("down1/s1/a1/l1/press", std::nullopt, "ann");
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

// The press's clock is five minutes behind the server's. Its first stop fires and resolves; its
// next stop begins (by its clock) before the server's time of that firing, yet it is a new episode
// and fires: the episodes are compared in the machine's clock, never against the server's.
TEST(AlertMonitor, AMachineClockBehindTheServersStillFiresItsNextEpisode) {
  testing::TempDir dir;
  std::atomic<TimeMs> now{at("2026-11-10T10:10:00Z")};
  Server one(dir.path + "/oee.sqlite", now), two(dir.path + "/oee.sqlite", now);
  one.ingest("press", "2026-11-10T10:03:00Z", "stopped");  // 10:08 by the server's clock
  two.service.refresh_live_states(two.service.plant().machines());
  const auto fired = one.monitor.evaluate();
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0].alert.fired_ts, at("2026-11-10T10:10:00Z"));
  EXPECT_EQ(fired[0].alert.since, at("2026-11-10T10:03:00Z"));

  one.ingest("press", "2026-11-10T10:05:30Z", "running");
  now = at("2026-11-10T10:10:40Z");
  ASSERT_EQ(summary(one.monitor.evaluate()), std::vector<std::string>{"resolved down1/s1/a1/l1/press"});
  // A server still seeing that stop (a moment behind: not refreshed since) does not fire it again.
  EXPECT_TRUE(summary(two.monitor.evaluate()).empty());

  one.ingest("press", "2026-11-10T10:06:00Z", "stopped");  // 10:11 by the server's clock
  now = at("2026-11-10T10:12:00Z");
  const auto again = one.monitor.evaluate();
  ASSERT_EQ(summary(again), std::vector<std::string>{"fired down1/s1/a1/l1/press"});
  EXPECT_EQ(again[0].alert.since, at("2026-11-10T10:06:00Z"));
  EXPECT_EQ(one.monitor.alerts().size(), 2u);
}

// The shift OEE rule over the node's own shift (hand-computed). The plant's shift is 06:00-14:00
// UTC; site s2 is in Tokyo (UTC+9) with its own shift 13:00-21:00 (04:00-12:00Z), and its line l1
// has its own 20:00-04:00 (11:00-19:00Z). Line l2 (the site's shift): the saw stopped from 04:00Z,
// ran from 08:00Z at its ideal speed (13,500 parts of 1 s by 11:45Z). Line l1: the press ran from
// 10:00Z, made 600 parts of 1 s in the ten minutes from 11:00Z, and stopped at 11:10Z.
TEST(AlertMonitor, ShiftOeeFollowsTheNodesOwnShiftInItsSitesZone) {
  const std::string plant = R"(timezone: UTC
shifts: [{name: day, start: "06:00", end: "14:00"}]
sites:
  - id: s2
    timezone: Asia/Tokyo
    shifts: [{name: early, start: "13:00", end: "21:00"}]
    areas: [{id: a1, lines: [
      {id: l1, shifts: [{name: late, start: "20:00", end: "04:00"}], machines: [{id: press, ideal_cycle_time_s: 1.0}]},
      {id: l2, machines: [{id: saw, ideal_cycle_time_s: 1.0}]}]}]
alerts:
  rules:
    - {name: press, kind: oee_below_target, node: s2/a1/l1/press, target: 0.5, after_shift_start_s: 3600}
    - {name: l1, kind: oee_below_target, node: s2/a1/l1, target: 0.5, after_shift_start_s: 3600}
    - {name: l2-tight, kind: oee_below_target, node: s2/a1/l2, target: 0.49, after_shift_start_s: 3600}
    - {name: l2-loose, kind: oee_below_target, node: s2/a1/l2, target: 0.48, after_shift_start_s: 3600}
)";
  testing::TempDir dir;
  std::atomic<TimeMs> now{at("2026-11-10T11:45:00Z")};
  Server s(dir.path + "/oee.sqlite", now, plant);
  s.ingest_at("s2/a1/l2/saw", "2026-11-10T04:00:00Z", R"("type":"state","state":"stopped")");
  s.ingest_at("s2/a1/l2/saw", "2026-11-10T08:00:00Z", R"("type":"state","state":"running")");
  s.ingest_at("s2/a1/l2/saw", "2026-11-10T11:44:59Z", R"("type":"count","good":13500)");
  s.ingest_at("s2/a1/l1/press", "2026-11-10T10:00:00Z", R"("type":"state","state":"running")");
  s.ingest_at("s2/a1/l1/press", "2026-11-10T11:09:59Z", R"("type":"count","good":600)");
  s.ingest_at("s2/a1/l1/press", "2026-11-10T11:10:00Z", R"("type":"state","state":"stopped")");

  // 11:45Z. l2 over its site's shift from 04:00Z: 225 min running of 465 planned at full speed and
  // quality, OEE 225/465 = 0.4839: below 0.49, not below 0.48. (Over the plant's shift from 06:00Z
  // it would be 225/345 = 0.652: no alert.) l1's shift began 45 min ago: not yet checked (the
  // plant's began 5 h 45 min ago, and the press's OEE over it, 10 min of 45 planned, is 0.22).
  EXPECT_EQ(summary(s.monitor.evaluate()), std::vector<std::string>{"fired l2-tight/s2/a1/l2"});

  // 15:00Z: the plant's and the site's shifts are over; l1's runs since 11:00Z: the press ran 10
  // min of 240 planned at full speed, OEE 0.042 for the press and its line. l2, between its
  // shifts, resolves.
  now = at("2026-11-10T15:00:00Z");
  EXPECT_EQ(summary(s.monitor.evaluate()),
            (std::vector<std::string>{"fired l1/s2/a1/l1", "fired press/s2/a1/l1/press", "resolved l2-tight/s2/a1/l2"}));
}

// A server restarted with a plant file without the rule "gone" and without the saw: their alerts,
// which no evaluation would resolve any more, resolve (rule_removed, node_removed) and are told;
// the press's alert of the kept rule fires on.
TEST(AlertMonitor, AlertsOfRulesAndMachinesRemovedFromThePlantFileResolve) {
  testing::TempDir dir;
  const std::string file = dir.path + "/oee.sqlite";
  std::atomic<TimeMs> now{at("2026-11-10T10:01:00Z")};
  {
    Server s(file, now, kPlant + "    - {name: gone, kind: no_data, node: s1/a1/l1/press, for_s: 60}\n");
    s.ingest("press", "2026-11-10T09:58:00Z", "stopped");
    s.ingest("saw", "2026-11-10T09:58:00Z", "stopped");
    EXPECT_EQ(summary(s.monitor.evaluate()),
              (std::vector<std::string>{"fired down1/s1/a1/l1/press", "fired down1/s1/a1/l1/saw", "fired gone/s1/a1/l1/press"}));
  }
  const std::string without_saw = R"(timezone: UTC
sites: [{id: s1, areas: [{id: a1, lines: [{id: l1, machines: [{id: press, ideal_cycle_time_s: 1.0}]}]}]}]
alerts:
  rules: [{name: down1, kind: machine_down, node: s1/a1/l1, for_s: 60}]
)";
  now = at("2026-11-10T10:02:00Z");
  Server s(file, now, without_saw);
  std::vector<AlertChange> told;
  s.monitor.add_listener([&](const AlertChange& c) { told.push_back(c); });
  const auto resolved = s.monitor.resolve_unwatched();
  EXPECT_EQ(summary(resolved), (std::vector<std::string>{"resolved down1/s1/a1/l1/saw", "resolved gone/s1/a1/l1/press"}));
  EXPECT_EQ(summary(told), summary(resolved));
  for (const AlertChange& c : resolved) {
    EXPECT_EQ(c.alert.resolution, c.alert.rule == "gone" ? AlertResolution::rule_removed : AlertResolution::node_removed) << c.alert.id;
    EXPECT_EQ(c.alert.resolved_ts, at("2026-11-10T10:02:00Z"));
  }
  EXPECT_TRUE(s.monitor.resolve_unwatched().empty());  // once
  EXPECT_TRUE(s.monitor.evaluate().empty());            // the press is down still: its alert fires on
  const auto listed = s.monitor.alerts();
  ASSERT_EQ(listed.size(), 3u);
  EXPECT_EQ(listed[0].id, "down1/s1/a1/l1/press");
  EXPECT_TRUE(listed[0].active());
}

// Without a call of its own, the first evaluation resolves them (and a store that failed at the
// server's start is tried again at each evaluation).
TEST(AlertMonitor, TheFirstEvaluationResolvesAlertsOfRemovedRules) {
  testing::TempDir dir;
  const std::string file = dir.path + "/oee.sqlite";
  std::atomic<TimeMs> now{at("2026-11-10T10:01:00Z")};
  {
    Server s(file, now, kPlant + "    - {name: gone, kind: no_data, node: s1/a1/l1/press, for_s: 60}\n");
    s.ingest("press", "2026-11-10T09:58:00Z", "stopped");
    EXPECT_EQ(s.monitor.evaluate().size(), 2u);
  }
  Server s(file, now);
  const auto changes = s.monitor.evaluate();
  ASSERT_EQ(summary(changes), std::vector<std::string>{"resolved gone/s1/a1/l1/press"});
  EXPECT_EQ(changes[0].alert.resolution, AlertResolution::rule_removed);
  EXPECT_TRUE(s.monitor.evaluate().empty());
}

}  // namespace oee::server
