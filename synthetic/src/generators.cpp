#include "oee/synthetic/generators.h"

#include <algorithm>
#include <map>
#include <random>

#include "oee/core/kpi.h"
#include "oee/core/time_zone.h"

namespace oee::synthetic {

PlantModel bench_plant(int lines, int per_line, DurationMs no_data_after_ms) {
  PlantModel p;
  p.shifts.push_back({"early", 6 * 60, 14 * 60, {{9 * 60, 9 * 60 + 15}}});
  p.shifts.push_back({"late", 14 * 60, 22 * 60, {{18 * 60, 18 * 60 + 30}}});
  SiteSpec s{"s1", "s1", "Site", {}};
  AreaSpec a{"a1", "s1/a1", "Area", {}};
  for (int l = 0; l < lines; ++l) {
    LineSpec line{"l" + std::to_string(l), "s1/a1/l" + std::to_string(l), "Line", {}};
    for (int m = 0; m < per_line; ++m) {
      MachineSpec spec;
      spec.id = "m" + std::to_string(m);
      spec.path = line.path + "/" + spec.id;
      spec.ideal_cycle_us = 900'000;
      spec.product_cycle_us = {{"a", 800'000}, {"b", 1'200'000}};
      spec.micro_stop_threshold_ms = 60'000;
      spec.startup_window_ms = 300'000;
      spec.no_data_after_ms = no_data_after_ms;
      line.machines.push_back(spec);
    }
    a.lines.push_back(line);
  }
  s.areas.push_back(a);
  p.sites.push_back(s);
  return p;
}

std::vector<Event> interleaved_events(const PlantModel& plant, std::size_t n, TimeMs start, DurationMs mean_step_ms,
                                      std::uint64_t seed, bool source_per_machine) {
  const auto machines = plant.machines();
  std::mt19937_64 rng(seed);
  struct MachineClock {
    TimeMs ts;
    std::int64_t total = 0;
  };
  std::vector<MachineClock> clock(machines.size(), MachineClock{start});
  std::map<std::string, std::int64_t> seq;  // per source
  std::vector<Event> out;
  out.reserve(n);
  static const char* kStates[] = {"running", "running", "running", "stopped", "setup", "starved", "running"};
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t m = i % machines.size();
    clock[m].ts += 1 + static_cast<TimeMs>(rng() % static_cast<std::uint64_t>(2 * mean_step_ms));
    Event e;
    e.ts = clock[m].ts;
    e.machine = machines[m]->path;
    e.src = source_per_machine ? e.machine : e.machine.substr(0, e.machine.rfind('/'));
    e.seq = seq[e.src]++;
    const unsigned r = static_cast<unsigned>(rng() % 100);
    if (r < 25) {
      e.type = EventType::state;
      e.state = kStates[rng() % 7];
    } else if (r < 85) {
      e.type = EventType::count;
      e.good = 1 + static_cast<std::int64_t>(rng() % 10);
      e.reject = rng() % 8 == 0 ? 1 : 0;
    } else if (r < 97) {
      e.type = EventType::counter;
      clock[m].total = (clock[m].total + static_cast<std::int64_t>(rng() % 50)) % 65536;
      e.value = clock[m].total;
      e.rollover = 65536;
    } else {
      e.type = EventType::product;
      e.product = rng() % 2 ? "a" : "b";
    }
    out.push_back(std::move(e));
  }
  return out;
}

PlantModel test_plant(int lines, int machines_per_line, DurationMs no_data_after_ms) {
  PlantModel p;
  p.shifts.push_back({"early", 6 * 60, 14 * 60, {{9 * 60, 9 * 60 + 15}}});
  p.shifts.push_back({"late", 14 * 60, 22 * 60, {{18 * 60, 18 * 60 + 30}}});
  p.shifts.push_back({"night", 22 * 60, 6 * 60, {{2 * 60, 2 * 60 + 30}}});
  p.non_production_dates.push_back(*parse_civil_date("2026-11-12"));
  SiteSpec s{"s1", "s1", "Site", {}};
  AreaSpec a{"a1", "s1/a1", "Area", {}};
  for (int l = 1; l <= lines; ++l) {
    LineSpec line{"l" + std::to_string(l), "s1/a1/l" + std::to_string(l), "Line", {}};
    for (int m = 1; m <= machines_per_line; ++m) {
      MachineSpec spec;
      spec.id = "m" + std::to_string(m);
      spec.path = line.path + "/" + spec.id;
      spec.ideal_cycle_us = 800'000 + 100'000 * m;
      spec.product_cycle_us = {{"a", 500'000}, {"b", 2'000'000}};
      spec.micro_stop_threshold_ms = 120'000;
      spec.startup_window_ms = 300'000;
      spec.state_map = {{"1", State::running}, {"2", State::stopped}};
      if (m == 2) spec.no_data_after_ms = no_data_after_ms;
      line.machines.push_back(spec);
    }
    a.lines.push_back(line);
  }
  s.areas.push_back(a);
  p.sites.push_back(s);
  return p;
}


// Like core/tests/engine_test.cpp's random_events (another stream), plus raw state values,
// good/reject counters and events without identity.
std::vector<Event> random_events(std::uint64_t seed, TimeMs start, TimeMs end, const std::string& machine,
                                        const GeneratorOptions& o) {
  std::mt19937_64 rng(seed);
  std::vector<Event> out;
  const char* states[] = {"running", "running", "1", "stopped", "2", "setup", "starved", "blocked", "planned_stop"};
  const char* products[] = {"a", "b", "c"};
  std::int64_t seq = 0;
  std::int64_t total = 60000, reject = 100;
  for (TimeMs t = start; t < end; t += 1 + static_cast<TimeMs>(rng() % static_cast<std::uint64_t>(o.max_step_ms))) {
    if (o.silences && rng() % 40 == 0) t += static_cast<TimeMs>(rng() % (3 * kMsPerHour));
    if (t >= end) break;
    Event e;
    e.ts = t;
    switch (o.silences && rng() % 6 == 0 ? 8 : rng() % 8) {
      case 8:
        e.type = EventType::heartbeat;
        break;
      case 0:
      case 1:
        e.type = EventType::state;
        e.state = states[rng() % 9];
        if (rng() % 3 == 0) e.reason = "jam";
        break;
      case 2:
        e.type = EventType::count;
        e.good = static_cast<std::int64_t>(rng() % 20);
        e.reject = static_cast<std::int64_t>(rng() % 3);
        break;
      case 3:
        if (o.counters) {
          e.type = EventType::counter;
          if (rng() % 3 == 0) {
            reject = (reject + static_cast<std::int64_t>(rng() % 5)) % 1000;
            e.counter = CounterName::reject;
            e.value = reject;
            e.rollover = 1000;
          } else {
            total = (total + static_cast<std::int64_t>(rng() % 500)) % 65536;
            e.counter = CounterName::total;
            e.value = total;
            e.rollover = 65536;
          }
        } else {
          e.type = EventType::count;
          e.good = 1;
        }
        break;
      case 4:
        e.type = EventType::product;
        e.product = products[rng() % 3];
        break;
      case 5:
        e.type = EventType::reason;
        e.reason = "material";
        e.at = t - static_cast<TimeMs>(rng() % 600'000);
        break;
      default:
        e.type = EventType::count;
        e.good = 1;
        break;
    }
    e.machine = machine;
    if (!o.anonymous || rng() % 5 != 0) {
      e.src = o.src;
      e.seq = seq++;
    }
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<Event> plant_events(const PlantModel& plant, std::uint64_t seed, TimeMs start, TimeMs end,
                                       DurationMs max_step_ms, bool silences, const std::string& src_prefix) {
  std::vector<Event> all;
  for (const MachineSpec* m : plant.machines()) {
    GeneratorOptions o;
    o.src = src_prefix + m->path;
    o.max_step_ms = max_step_ms;
    o.silences = silences;
    auto e = random_events(seed++, start, end, m->path, o);
    all.insert(all.end(), e.begin(), e.end());
  }
  std::stable_sort(all.begin(), all.end(), [](const Event& a, const Event& b) { return a.ts < b.ts; });
  return all;
}

}  // namespace oee::synthetic
