#pragma once
// Feeds the plant simulator into the ingest path: first the history since `start` as fast as the
// store takes it, then in step with the service's clock (the demo's: `--speed` times as fast as the
// wall clock, server/scaled_clock.h). The simulator is deterministic, so a
// restart with the same seed and start regenerates the same events and the store's deduplication
// makes the replay harmless.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include "oee/server/plant_service.h"

namespace oee::server {

struct SimulatorFeedOptions {
  std::uint64_t seed = 1;
  TimeMs start = 0;     // simulated time of the first event
  DurationMs tick_ms = 1000;
  DurationMs backfill_chunk_ms = 15 * kMsPerMinute;
};

class SimulatorFeed {
 public:
  SimulatorFeed(PlantService& service, SimulatorFeedOptions options);
  ~SimulatorFeed();
  void start();
  void stop();
  // True once the history up to the start of real-time feeding is stored.
  bool caught_up() const { return caught_up_; }
  std::int64_t events_fed() const { return events_fed_; }

 private:
  void run();

  PlantService& service_;
  SimulatorFeedOptions options_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::atomic<bool> caught_up_{false};
  std::atomic<std::int64_t> events_fed_{0};
};

}  // namespace oee::server
