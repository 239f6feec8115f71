#pragma once
// Synthetic plants and event streams for the benchmarks and the tests: one generator each, so a
// benchmark's figures and a test's data come from the same code (same seed, same events).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "oee/core/event.h"
#include "oee/core/plant_model.h"

namespace oee::synthetic {

// The benchmarks' plant: one site, `lines` lines of `per_line` machines (s1/a1/l<i>/m<j> from 0),
// two shifts with a break, product cycle times, a micro-stop threshold and a start-up window: the
// engine does its full work. no_data_after_ms: set on every machine (0: off).
PlantModel bench_plant(int lines, int per_line, DurationMs no_data_after_ms = 0);

// The benchmarks' stream: `n` events of every machine interleaved round-robin, each machine's clock
// advancing by a random step (mean `mean_step_ms`): states (mostly running, stops, setups), counts,
// counter readings, products. Every event carries src and seq as an edge agent assigns them: one
// source per line (the edge agent serving its machines), or per machine; seq increasing per source.
std::vector<Event> interleaved_events(const PlantModel& plant, std::size_t n, TimeMs start, DurationMs mean_step_ms,
                                      std::uint64_t seed, bool source_per_machine = false);

// The tests' plant: one site, `lines` lines of `machines_per_line` machines (from 1), three shifts
// with breaks, a non-production day (2026-11-12), start-up windows and a raw state map.
// no_data_after_ms: set on the second machine of each line (the others keep 0: off).
PlantModel test_plant(int lines = 2, int machines_per_line = 2, DurationMs no_data_after_ms = 0);

struct GeneratorOptions {
  DurationMs max_step_ms = 90'000;
  bool counters = true;   // cumulative total/good/reject counters besides increments
  bool anonymous = true;  // some events without src+seq (identified by their content)
  std::string src = "gen";
  // Silent gaps (no event for up to 3 h, a dead PLC or network) and heartbeat events.
  bool silences = false;
};

// One machine's random but plausible events over [start, end): states (also raw values), counts,
// good/reject counters, products, reasons, and events without identity.
std::vector<Event> random_events(std::uint64_t seed, TimeMs start, TimeMs end, const std::string& machine,
                                 const GeneratorOptions& o = {});

// Every machine of the plant over [start, end), one source per machine (src_prefix + path), seeds
// from `seed` on, interleaved in time order as a plant's edges deliver them.
std::vector<Event> plant_events(const PlantModel& plant, std::uint64_t seed, TimeMs start, TimeMs end,
                                DurationMs max_step_ms, bool silences = false, const std::string& src_prefix = "edge-");

}  // namespace oee::synthetic
