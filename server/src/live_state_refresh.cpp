#include "oee/server/live_state_refresh.h"

#include "oee/server/log.h"

namespace oee::server {

LiveStateRefresh::LiveStateRefresh(PlantService& service, std::vector<const MachineSpec*> machines, DurationMs interval_ms)
    : machines_(std::move(machines)),
      task_(
          interval_ms,
          [this, &service] {
            service.refresh_live_states(machines_);
            failing_ = false;
          },
          [this](const std::exception& e) {
            // Storage briefly unavailable: the states keep their last values; the next round retries.
            if (!failing_) log_line("warn", "live state refresh from the store failed", {{"error", e.what()}});
            failing_ = true;
          }) {}

void LiveStateRefresh::start() {
  if (!machines_.empty()) task_.start();
}

void LiveStateRefresh::stop() { task_.stop(); }

}  // namespace oee::server
