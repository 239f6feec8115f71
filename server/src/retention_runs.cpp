#include "oee/server/retention_runs.h"

#include <chrono>

#include "oee/server/log.h"

namespace oee::server {

RetentionRuns::RetentionRuns(PlantService& service, std::int64_t retention_days, DurationMs interval_ms)
    : service_(service), retention_days_(retention_days), task_(interval_ms, [this] { run_once(); }) {}

void RetentionRuns::run_once() {
  if (retention_days_ <= 0) return;
  const TimeMs now = service_.now();
  const std::string cut = format_rfc3339(now - retention_days_ * kMsPerDay);
  const auto started = std::chrono::steady_clock::now();
  try {
    const storage::RetentionResult r =
        service_.with_store([now](storage::EventStore& s) { return s.apply_retention(now); });
    const auto duration_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
    service_.metrics().add_retention_run(r.events, r.dead_letters, now);
    log_line("info", "retention run",
             {{"cut", cut}, {"deleted_events", std::to_string(r.events)},
              {"deleted_dead_letters", std::to_string(r.dead_letters)}, {"duration_ms", std::to_string(duration_ms)}});
  } catch (const std::exception& e) {
    service_.metrics().add_retention_failure();
    log_line("warn", "retention run failed", {{"cut", cut}, {"error", e.what()}});
  }
}

void RetentionRuns::start() {
  if (retention_days_ > 0) task_.start();
}

void RetentionRuns::stop() { task_.stop(); }

}  // namespace oee::server
