#pragma once
// Shared by the storage tests: a temporary directory, a small plant with shifts, breaks, a
// non-production day and start-up windows, and a random but plausible event stream per machine.
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "oee/core/kpi.h"
#include "oee/core/plant_model.h"
#include "oee/core/time_zone.h"

namespace oee::storage::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "oee-storage-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }
  std::string file(const char* name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline TimeMs at(const char* s) { return *parse_timestamp(s); }

// no_data_after_ms: set on the second machine of each line (the others keep 0: off).
inline PlantModel test_plant(int lines = 2, int machines_per_line = 2, DurationMs no_data_after_ms = 0) {
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

struct GeneratorOptions {
  DurationMs max_step_ms = 90'000;
  bool counters = true;   // cumulative total/good/reject counters besides increments
  bool anonymous = true;  // some events without src+seq (identified by their content)
  std::string src = "gen";
  // Silent gaps (no event for up to 3 h, a dead PLC or network) and heartbeat events.
  bool silences = false;
};

// Like core/tests/engine_test.cpp's random_events, plus raw state values, good/reject counters
// and events without identity.
inline std::vector<Event> random_events(std::uint64_t seed, TimeMs start, TimeMs end, const std::string& machine,
                                        const GeneratorOptions& o = {}) {
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

// Every machine of the plant over [start, end), one source per machine ("edge-" + path), seeds
// from `seed` on, interleaved in time order as a plant's edges deliver them.
inline std::vector<Event> plant_events(const PlantModel& plant, std::uint64_t seed, TimeMs start, TimeMs end,
                                       DurationMs max_step_ms, bool silences = false) {
  std::vector<Event> all;
  for (const MachineSpec* m : plant.machines()) {
    GeneratorOptions o;
    o.src = "edge-" + m->path;
    o.max_step_ms = max_step_ms;
    o.silences = silences;
    auto e = random_events(seed++, start, end, m->path, o);
    all.insert(all.end(), e.begin(), e.end());
  }
  std::stable_sort(all.begin(), all.end(), [](const Event& a, const Event& b) { return a.ts < b.ts; });
  return all;
}

// A query window around [lo, hi): the i-th of a run mixes long and short windows, arbitrary and
// whole-hour edges, and horizons (none, at `to`, at the last event, anywhere, a little after it).
struct QueryWindow {
  TimeMs from, to, horizon;
};
inline QueryWindow random_query_window(TimeMs lo, TimeMs hi, TimeMs last_ts, int i, std::mt19937_64& rng) {
  auto rnd = [&](TimeMs a, TimeMs b) { return a + static_cast<TimeMs>(rng() % static_cast<std::uint64_t>(b - a)); };
  TimeMs from = rnd(lo - 3 * kMsPerHour, hi + 3 * kMsPerHour);
  TimeMs to = from + rnd(0, (hi - lo) / (i % 3 == 0 ? 1 : 8));
  if (i % 4 == 1) {  // whole hours: rollups only
    from = floor_to(from, kMsPerHour);
    to = floor_to(to, kMsPerHour);
  }
  TimeMs horizon;
  switch (i % 5) {
    case 0: horizon = kTimeMax; break;
    case 1: horizon = to; break;
    case 2: horizon = last_ts; break;
    case 3: horizon = rnd(from, to + kMsPerDay); break;
    default: horizon = last_ts + rnd(0, 10 * kMsPerMinute); break;
  }
  return {from, to, horizon};
}

inline std::vector<Event> of_machine(const std::vector<Event>& events, const std::string& path) {
  std::vector<Event> out;
  for (const Event& e : events)
    if (e.machine == path) out.push_back(e);
  return out;
}

}  // namespace oee::storage::testing
