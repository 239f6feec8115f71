#include "oee/server/live_state_refresh.h"

#include <chrono>

#include "oee/server/log.h"

namespace oee::server {

LiveStateRefresh::LiveStateRefresh(PlantService& service, std::vector<const MachineSpec*> machines, DurationMs interval_ms)
    : service_(service), machines_(std::move(machines)), interval_ms_(interval_ms) {}

LiveStateRefresh::~LiveStateRefresh() { stop(); }

void LiveStateRefresh::start() {
  if (thread_.joinable() || machines_.empty()) return;
  thread_ = std::thread([this] {
    std::unique_lock lock(mutex_);
    bool failing = false;
    while (!stopping_) {
      wake_.wait_for(lock, std::chrono::milliseconds(interval_ms_), [this] { return stopping_; });
      if (stopping_) break;
      lock.unlock();
      try {
        service_.refresh_live_states(machines_);
        failing = false;
      } catch (const std::exception& e) {
        // Storage briefly unavailable: the states keep their last values; the next round retries.
        if (!failing) log_line("warn", "live state refresh from the store failed", {{"error", e.what()}});
        failing = true;
      }
      lock.lock();
    }
  });
}

void LiveStateRefresh::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace oee::server
