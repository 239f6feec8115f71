#pragma once
// `oee serve --retention-days N`: deletes the events, rollups and dead letters older than N days
// once at start (before ingest begins, so a long first run blocks nobody) and then every interval
// (an hour by default), each run then deleting about one interval's worth. Each run is logged and
// counted in /metrics (Metrics::add_retention_run); a failed run is logged and the next one retries.
#include <cstdint>

#include "oee/server/periodic_task.h"
#include "oee/server/plant_service.h"

namespace oee::server {

class RetentionRuns {
 public:
  RetentionRuns(PlantService& service, std::int64_t retention_days, DurationMs interval_ms);
  void run_once();  // never throws: a failure is logged and counted
  void start();     // the periodic runs; nothing to do when retention_days is 0
  void stop();

 private:
  PlantService& service_;
  std::int64_t retention_days_;
  PeriodicTask task_;  // last: stopped (joined) before the members it uses go
};

}  // namespace oee::server
