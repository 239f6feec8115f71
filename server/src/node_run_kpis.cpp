// KPIs by run of a machine or a line (GET /api/v1/kpis?by=run, docs/oee-model.md "KPIs by run"):
// the runs from the store's run events alone (an index, not every event of the window), and each
// run's totals over its stretches from the store's rollups (node_totals: settled whole hours from
// rollups, the partial hours at a stretch's edges and the unsettled tail from events), all in one
// pinned read so that the runs and their totals are of the same commit.
#include "oee/core/line_runs.h"
#include "oee/core/production_run.h"
#include "oee/server/plant_service.h"

namespace oee::server {

namespace {

// The runs of each machine of `machines` (flow order) from its run events before `to`: those
// before the window find the run open at its start.
std::vector<std::vector<ProductionRun>> runs_of(storage::EventStore& store, std::span<const MachineSpec* const> machines,
                                                TimeMs to) {
  std::vector<std::vector<ProductionRun>> out;
  for (const MachineSpec* m : machines) out.push_back(production_runs(store.machine_run_events(m->path, to)));
  return out;
}

}  // namespace

std::optional<std::vector<RunKpis>> PlantService::node_run_kpis(std::string_view node, TimeMs from, TimeMs to) {
  const MachineSpec* machine = plant_.model.find_machine(node);
  const LineSpec* line = plant_.model.find_line(node);
  if (!machine && !line) return std::nullopt;
  const TimeMs horizon = now();
  const std::vector<const MachineSpec*> machines = machine ? std::vector{machine} : plant_.model.machines_under(node);
  return read_store([&](storage::EventStore& store) {
    const auto pinned = store.pin_reads();
    const auto per_machine = runs_of(store, machines, std::min(to, horizon));
    const std::vector<ProductionRun> runs = machine ? per_machine.front() : line_runs(per_machine);
    return run_kpis(runs, from, to, horizon, [&](TimeMs s, TimeMs e) { return node_totals(store, node, s, e, horizon); });
  });
}

}  // namespace oee::server
