#pragma once
// Live state of the machines another server ingests: when several `oee serve` share one database,
// each ingests only its share of the machines (docs/operations.md), yet every one serves the live
// state of the whole plant. This re-reads those machines' state from the store every interval and
// lets the plant service tell the live feed what changed.
#include <vector>

#include "oee/server/periodic_task.h"
#include "oee/server/plant_service.h"

namespace oee::server {

class LiveStateRefresh {
 public:
  LiveStateRefresh(PlantService& service, std::vector<const MachineSpec*> machines, DurationMs interval_ms);
  void start();  // nothing to do without machines
  void stop();

 private:
  std::vector<const MachineSpec*> machines_;
  bool failing_ = false;  // only the first failure of a run of them is logged (the task's thread)
  PeriodicTask task_;     // last: stopped (joined) before the members it uses go
};

}  // namespace oee::server
