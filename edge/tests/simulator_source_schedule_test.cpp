// The edge's simulator source plans every machine with its own calendar (its site's zone, its line's
// shifts, the downtime windows on it or its line), as the server's engine counts planned time: what
// the edge sends makes nothing out of plan and stops for nothing in plan (docs/edge.md).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>

#include "oee/core/kpi.h"
#include "oee/core/plant_history.h"
#include "oee/edge/event_source.h"
#include "oee/plant/plant_file.h"
#include "../../transport/tests/eventually.h"

namespace oee::edge {
namespace {

using namespace std::chrono_literals;
using oee::testing::eventually;

// Berlin's line `pack` has its own late shift and its wrapper a maintenance window on Tuesday
// morning, which is off its shift, and one in the afternoon, in it; Tokyo runs the plant's early
// shift in its own zone and cleans its line every day at 09:00-09:30 local time.
const char* kPlant = R"(timezone: Europe/Berlin
shifts:
  - {name: early, start: "06:00", end: "14:00"}
sites:
  - id: berlin
    areas:
      - id: a
        lines:
          - id: fill
            machines:
              - {id: filler, ideal_cycle_time_s: 0.5, micro_stop_threshold_s: 60}
          - id: pack
            shifts:
              - {name: late, start: "14:00", end: "22:00"}
            machines:
              - {id: wrapper, ideal_cycle_time_s: 1, micro_stop_threshold_s: 60}
  - id: tokyo
    timezone: Asia/Tokyo
    areas:
      - id: a
        lines:
          - id: l1
            machines:
              - {id: press, ideal_cycle_time_s: 2, micro_stop_threshold_s: 120}
downtime:
  - {name: overhaul, target: berlin/a/pack/wrapper, start: "2026-11-10 08:00", end: "2026-11-10 09:00"}
  - {name: PM, target: berlin/a/pack/wrapper, start: "2026-11-10 16:00", end: "2026-11-10 18:30"}
  - {name: cleaning, target: tokyo/a/l1, start: "09:00", end: "09:30"}
)";

// Everything the source hands its sink, and each machine's latest heartbeat.
struct Collected {
  std::mutex mutex;
  std::vector<Event> events;
  std::map<std::string, TimeMs> last_heartbeat;
  EventSink sink() {
    return [this](std::vector<Event>& batch) {
      std::lock_guard lock(mutex);
      for (const Event& e : batch) {
        if (e.type == EventType::heartbeat) last_heartbeat[e.machine] = e.ts;
        else events.push_back(e);
      }
    };
  }
  bool reached(std::size_t machines, TimeMs ts) {
    std::lock_guard lock(mutex);
    if (last_heartbeat.size() < machines) return false;
    return std::all_of(last_heartbeat.begin(), last_heartbeat.end(), [&](const auto& kv) { return kv.second >= ts; });
  }
};

DurationMs length(const std::vector<Interval>& intervals) {
  DurationMs sum = 0;
  for (const Interval& iv : intervals) sum += iv.end - iv.start;
  return sum;
}

}  // namespace

TEST(SimulatorSourceSchedule, EveryMachinePlansWithItsOwnCalendar) {
  const plant::LoadedPlant loaded = plant::load_plant_yaml(kPlant, "plant.yaml");
  const PlantModel& plant = loaded.model;
  const ShiftCalendar calendar(plant, *loaded.zone);  // the plant's, as the edge agent builds it
  SourceConfig config;
  config.seed = 9;
  config.speed = 200'000;  // two simulated days in about a second
  config.start_ms = *parse_timestamp("2026-11-09T00:00:00+01:00");
  config.until_ms = *config.start_ms + 2 * kMsPerDay;
  config.heartbeat_ms = kMsPerMinute;
  const TimeMs from = *config.start_ms, to = *config.until_ms;
  Collected got;
  auto source = make_simulator_source(config, plant, calendar, got.sink());
  source->start();
  // Heartbeats come after the other events of their instant: the last one says the stream is done.
  ASSERT_TRUE(eventually([&] { return got.reached(3, to - kMsPerMinute); }, 60s));
  source->stop();
  std::lock_guard lock(got.mutex);

  const PlantHistory history = PlantHistory::build(plant, got.events);
  DurationMs plant_planned = 0;
  for (const MachineSpec* m : plant.machines()) {
    SCOPED_TRACE(m->path);
    const auto planned = calendar.for_machine(*m).planned_intervals(from, to);
    plant_planned += length(planned);
    const auto kpis = history.node_kpis(calendar, m->path, Grouping::none, from, to, to);
    ASSERT_EQ(kpis.size(), 1u);
    EXPECT_EQ(kpis[0].totals.planned_production_ms(), length(planned)) << "never in planned_stop in plan";
    EXPECT_EQ(kpis[0].totals.unscheduled_running_ms, 0) << "never running out of plan";
    EXPECT_EQ(kpis[0].totals.unknown_ms, 0);
    EXPECT_GT(kpis[0].totals.total_count(), 0);
    // Every report of parts falls in planned time (one at its very end closes the run before).
    int reports = 0;
    for (const Event& e : got.events) {
      if (e.machine != m->path || (e.type != EventType::count && e.type != EventType::counter) || e.ts == from) continue;
      ++reports;
      EXPECT_TRUE(std::any_of(planned.begin(), planned.end(), [&](const Interval& iv) { return e.ts > iv.start && e.ts <= iv.end; }))
          << "parts reported at " << format_rfc3339(e.ts);
    }
    EXPECT_GT(reports, 0);
  }
  const auto whole = history.node_kpis(calendar, "", Grouping::none, from, to, to);
  ASSERT_EQ(whole.size(), 1u);
  EXPECT_EQ(whole[0].totals.planned_production_ms(), plant_planned);

  // The wrapper stops for its afternoon window at 16:00 with the window's name; at 18:30 it goes on.
  // Its morning window, off its shift, sends nothing.
  std::vector<Event> wrapper;
  for (const Event& e : got.events)
    if (e.machine == "berlin/a/pack/wrapper" && e.type == EventType::state) wrapper.push_back(e);
  const TimeMs pm = *parse_timestamp("2026-11-10T16:00:00+01:00");
  const auto at_pm = std::find_if(wrapper.begin(), wrapper.end(), [&](const Event& e) { return e.ts == pm; });
  ASSERT_NE(at_pm, wrapper.end());
  EXPECT_EQ(at_pm->state, "planned_stop");
  EXPECT_EQ(at_pm->reason, "PM");
  ASSERT_NE(at_pm + 1, wrapper.end());
  EXPECT_EQ((at_pm + 1)->ts, *parse_timestamp("2026-11-10T18:30:00+01:00"));
  EXPECT_EQ((at_pm + 1)->state, "running");
  EXPECT_TRUE(std::none_of(wrapper.begin(), wrapper.end(), [](const Event& e) { return e.reason == "overhaul"; }));
}

}  // namespace oee::edge
