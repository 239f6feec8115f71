#pragma once
// Production runs (work orders) of one machine or line, and how each went: its target against
// its good count, the expected finish at its current rate and the changeover before it
// (docs/oee-model.md, "Production runs"). A pure function of the run events and the counts.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "oee/core/event.h"
#include "oee/core/machine_history.h"
#include "oee/core/time.h"

namespace oee {

// One stretch of a run, from its start to its end (kTimeMax: still open).
struct ProductionRun {
  std::string run;  // the order id
  std::string product;
  std::int64_t quantity = 0;      // planned good parts
  std::int64_t cycle_us = 0;      // ideal cycle time override, 0: the product's
  TimeMs start = 0;
  TimeMs end = kTimeMax;
  bool operator==(const ProductionRun&) const = default;
};

// The runs of the run events (other types are skipped), in time order. Duplicates count once; the
// same events in any order give the same runs. A start while another run is open ends that one at
// the same instant; a start of the open run again, or an end of a run that is not open, changes
// nothing. A run started again after its end gets a second stretch.
std::vector<ProductionRun> production_runs(std::span<const Event> events);

struct RunReport {
  std::string run;
  std::string product;
  std::int64_t quantity = 0;
  std::int64_t cycle_us = 0;
  TimeMs start = 0;        // of its first stretch
  TimeMs end = kTimeMax;   // of its last stretch; kTimeMax: open
  TimeMs run_ms = 0;       // its stretches' time up to the horizon
  std::int64_t good = 0;
  std::int64_t reject = 0;
  std::int64_t remaining = 0;  // quantity - good, never below 0
  // When the good count reached the quantity, or, while open, the horizon plus the time the
  // remaining parts take at the run's rate so far (good parts per run_ms). Absent: no rate yet, or
  // the run ended short.
  std::optional<TimeMs> expected_finish;
  // From the last good part of the run before (on the same machine) to this run's first good part.
  std::optional<TimeMs> changeover_ms;
  bool operator==(const RunReport&) const = default;
};

// One report per order id, in the order of their first start; counts at or after `horizon` and
// the time after it are left out. A count belongs to the stretch whose [start, end) holds it.
std::vector<RunReport> run_reports(std::span<const ProductionRun> runs, std::span<const CountRecord> counts,
                                   TimeMs horizon);

}  // namespace oee
