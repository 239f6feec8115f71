// How much faster than real time the simulator runs: simulated events generated per second of CPU,
// beside the real-time event rate of the same plant (events per simulated second), so the ratio in
// the table is the speed-up over real time on one core.
//
// Rows: the demo plant (12 machines) over a simulated week; a 1,000-machine plant (the report's
// scale) over a simulated day; the demo plant again with each event encoded as a JSON line, which is
// what `oee simulate` does besides writing the file.
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "oee/codec/event_json.h"
#include "oee/core/shift_calendar.h"
#include "oee/plant/plant_file.h"
#include "oee/simulator/plant_simulator.h"

namespace {

using namespace oee;

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

struct Run {
  std::uint64_t events = 0;
  std::uint64_t json_bytes = 0;
  double cpu_s = 0;
  DurationMs simulated_ms = 0;
  double per_cpu_second() const { return static_cast<double>(events) / cpu_s; }
  double real_time_rate() const { return static_cast<double>(events) / (static_cast<double>(simulated_ms) / 1000.0); }
};

// Generates [from, from + span) a minute at a time (as a real-time caller or `oee simulate` would
// slice it), optionally encoding every event as a JSON line.
Run simulate(const PlantModel& plant, const TimeZone& zone, TimeMs from, DurationMs span, bool encode) {
  const ShiftCalendar calendar(plant, zone);
  Run run;
  run.simulated_ms = span;
  std::vector<Event> events;
  std::string json;
  const double start = cpu_seconds();
  simulator::PlantSimulator sim(plant, calendar, 1, from);
  for (TimeMs t = from; t < from + span;) {
    t += kMsPerMinute;
    events.clear();
    sim.advance_to(t, events);
    run.events += events.size();
    if (encode) {
      json.clear();
      for (const Event& e : events) {
        codec::append_event_json(json, e);
        json.push_back('\n');
      }
      run.json_bytes += json.size();
    }
  }
  run.cpu_s = cpu_seconds() - start;
  return run;
}

// The demo plant's lines, repeated until there are `machines_wanted` machines (1,000: 250 lines).
PlantModel scaled_plant(const PlantModel& demo, std::size_t machines_wanted) {
  PlantModel plant = demo;
  AreaSpec& area = plant.sites.at(0).areas.at(0);
  const std::vector<LineSpec> templates = area.lines;
  area.lines.clear();
  std::size_t machines = 0;
  for (int copy = 0; machines < machines_wanted; ++copy) {
    for (const LineSpec& tpl : templates) {
      if (machines >= machines_wanted) break;
      LineSpec line = tpl;
      line.id = tpl.id + "-" + std::to_string(copy);
      line.path = area.path + "/" + line.id;
      line.machines.clear();
      for (const MachineSpec& m : tpl.machines) {
        if (machines >= machines_wanted) break;
        MachineSpec copy_of = m;
        copy_of.path = line.path + "/" + m.id;
        line.machines.push_back(std::move(copy_of));
        ++machines;
      }
      area.lines.push_back(std::move(line));
    }
  }
  return plant;
}

void report(const char* row, const Run& r, const char* goal) {
  std::printf("BENCH\t%s\t%.0f\tevents/s\treal time (events/s simulated)\t%.2f\thigher\t%s\n", row, r.per_cpu_second(),
              r.real_time_rate(), goal);
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = std::getenv("BENCH_QUICK") != nullptr;
  const std::string plant_file = argc > 1 ? argv[1] : OEE_DEMO_PLANT_FILE;
  plant::LoadedPlant demo;
  try {
    demo = plant::load_plant_file(plant_file);
  } catch (const plant::PlantFileError& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 2;
  }
  const TimeMs monday = days_from_civil(2026, 3, 2) * kMsPerDay;

  const Run week = simulate(demo.model, *demo.zone, monday, (quick ? 1 : 7) * kMsPerDay, false);
  std::printf("demo plant: %llu events over %lld simulated days in %.3f s CPU\n",
              static_cast<unsigned long long>(week.events), static_cast<long long>(week.simulated_ms / kMsPerDay),
              week.cpu_s);
  report("simulator: demo plant (12 machines), events/s per core", week, ">= 1000000");

  const PlantModel big = scaled_plant(demo.model, 1000);
  const Run day = simulate(big, *demo.zone, monday, (quick ? 2 : 24) * kMsPerHour, false);
  std::printf("1,000 machines: %llu events over %lld simulated hours in %.3f s CPU\n",
              static_cast<unsigned long long>(day.events), static_cast<long long>(day.simulated_ms / kMsPerHour),
              day.cpu_s);
  report("simulator: 1,000 machines, events/s per core", day, ">= 1000000");

  const Run json = simulate(demo.model, *demo.zone, monday, (quick ? 1 : 7) * kMsPerDay, true);
  std::printf("demo plant as JSON lines: %llu events, %.1f MB in %.3f s CPU\n",
              static_cast<unsigned long long>(json.events), static_cast<double>(json.json_bytes) / 1e6, json.cpu_s);
  report("simulator + JSON lines (oee simulate), events/s per core", json, ">= 1000000");
  return 0;
}
