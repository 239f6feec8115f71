// Engine throughput: events folded into histories and hourly KPI totals per second of one core,
// beside the time the same events take just to be copied and sorted by timestamp (the least any
// engine must do) in the same run.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>

#include "oee/core/kpi.h"
#include "oee/plant/plant_file.h"
#include "oee/simulator/plant_simulator.h"

using namespace oee;

namespace {
double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace

int main() {
  const bool quick = std::getenv("BENCH_QUICK") != nullptr;
  const plant::LoadedPlant plant = plant::load_plant_file(OEE_DEMO_PLANT_FILE);
  const ShiftCalendar calendar(plant.model, *plant.zone);
  const TimeMs from = *parse_timestamp("2026-11-02T00:00:00Z");
  const TimeMs to = from + (quick ? 2 : 14) * kMsPerDay;
  std::vector<Event> all;
  simulator::PlantSimulator sim(plant.model, calendar, 7, from);
  sim.advance_to(to, all);
  std::map<std::string, std::vector<Event>> by_machine;
  for (Event& e : all) by_machine[e.machine].push_back(std::move(e));
  std::size_t events = 0;
  for (auto& [path, list] : by_machine) {
    // Present them out of order, as a late-data worst case for the sort.
    std::reverse(list.begin() + static_cast<std::ptrdiff_t>(list.size() / 2), list.end());
    events += list.size();
  }
  std::vector<Interval> hours;
  for (TimeMs t = from; t < to; t += kMsPerHour) hours.push_back({t, t + kMsPerHour});

  const int rounds = quick ? 2 : 5;
  double engine_s = 1e9, sort_s = 1e9;
  std::int64_t checksum = 0;
  for (int round = 0; round < rounds; ++round) {
    auto t0 = std::chrono::steady_clock::now();
    for (const auto& [path, list] : by_machine) {
      const MachineHistory h = MachineHistory::build(*plant.model.find_machine(path), list);
      for (const KpiTotals& t : machine_bucket_totals(h, calendar, hours, to)) checksum += t.good_count;
    }
    engine_s = std::min(engine_s, seconds_since(t0));
    t0 = std::chrono::steady_clock::now();
    for (const auto& [path, list] : by_machine) {
      std::vector<Event> copy = list;
      std::sort(copy.begin(), copy.end(), [](const Event& a, const Event& b) { return a.ts < b.ts; });
      checksum += copy.front().ts & 1;
    }
    sort_s = std::min(sort_s, seconds_since(t0));
  }
  std::printf("engine: %zu events of %zu machines over %lld days, %zu hourly buckets each (checksum %lld)\n", events,
              by_machine.size(), static_cast<long long>((to - from) / kMsPerDay), hours.size(),
              static_cast<long long>(checksum));
  std::printf("BENCH\tengine: events -> histories + hourly KPIs, per core\t%.0f\tevents/s\tcopy+sort by ts of the same events\t%.0f\thigher\t>= 2000000\n",
              static_cast<double>(events) / engine_s, static_cast<double>(events) / sort_s);
  return 0;
}
