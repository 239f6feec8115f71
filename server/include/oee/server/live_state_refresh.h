#pragma once
// Live state of the machines another server ingests: when several `oee serve` share one database,
// each ingests only its share of the machines (docs/operations.md), yet every one serves the live
// state of the whole plant. This re-reads those machines' state from the store every interval and
// lets the plant service tell the live feed what changed.
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "oee/server/plant_service.h"

namespace oee::server {

class LiveStateRefresh {
 public:
  LiveStateRefresh(PlantService& service, std::vector<const MachineSpec*> machines, DurationMs interval_ms);
  ~LiveStateRefresh();
  LiveStateRefresh(const LiveStateRefresh&) = delete;
  LiveStateRefresh& operator=(const LiveStateRefresh&) = delete;
  void start();
  void stop();

 private:
  PlantService& service_;
  std::vector<const MachineSpec*> machines_;
  DurationMs interval_ms_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace oee::server
