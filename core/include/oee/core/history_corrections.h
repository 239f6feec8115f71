#pragma once
// Corrections (docs/oee-model.md, "Corrections"): a supervisor's events that change how a machine's
// history reads, never the events it was built from. They apply in the canonical event order, so a
// later correction of the same instant wins and the result is the same in any arrival order.
#include <cstdint>
#include <span>
#include <vector>

#include "oee/core/event.h"
#include "oee/core/plant_model.h"
#include "oee/core/reason_tree.h"
#include "oee/core/state.h"
#include "oee/core/time.h"

namespace oee {

struct StateInterval;
struct CountRecord;

// Whether a correction event says something the engine can apply (an interval with from < until
// and a canonical state or a reason; a positive reject count; an instant). The API refuses the
// others; the engine leaves out those that arrive by another path.
bool correction_is_applicable(const MachineSpec& machine, const Event& e);

// The counter readings voided by `corrections`, to be left out of the counts: (counter, instant).
class VoidedReadings {
 public:
  explicit VoidedReadings(std::span<const Event* const> corrections);
  bool contains(const Event& reading) const;

 private:
  std::vector<std::pair<TimeMs, CounterName>> voided_;  // sorted
};

// Reclassifications of `corrections` (in order) applied to `intervals` (contiguous, in time
// order): intervals are split at the corrected range's ends, the pieces inside take its state
// and/or reason, and neighbours left equal join again.
void apply_reclassifications(const MachineSpec& machine, std::span<const Event* const> corrections,
                             std::vector<StateInterval>& intervals);

// Rejects found later: each moves `reject` parts from good to reject at its instant.
void add_found_rejects(std::span<const Event* const> corrections, std::vector<CountRecord>& counts);

}  // namespace oee
