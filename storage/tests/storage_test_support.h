#pragma once
// Shared by the storage tests: a temporary directory, a small plant with shifts, breaks, a
// non-production day and start-up windows, and a random but plausible event stream per machine
// (the last two from oee_synthetic).
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "oee/core/kpi.h"
#include "oee/core/plant_model.h"
#include "oee/core/time_zone.h"
#include "oee/synthetic/generators.h"

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

// An event of machine `m` from source "plc" with `seq`, of `type`; the caller fills the rest.
inline Event event(const MachineSpec& m, TimeMs ts, EventType type, std::int64_t seq) {
  Event e;
  e.machine = m.path;
  e.ts = ts;
  e.type = type;
  e.src = "plc";
  e.seq = seq;
  return e;
}

// The plant and the event streams (oee/synthetic/generators.h, shared with the benchmarks).
using ::oee::synthetic::GeneratorOptions;
using ::oee::synthetic::plant_events;
using ::oee::synthetic::random_events;
using ::oee::synthetic::test_plant;

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
