#include "oee/server/periodic_task.h"

#include <chrono>
#include <exception>

namespace oee::server {

PeriodicTask::PeriodicTask(DurationMs interval_ms, std::function<void()> work,
                           std::function<void(const std::exception&)> on_error)
    : interval_ms_(interval_ms), work_(std::move(work)), on_error_(std::move(on_error)) {}

PeriodicTask::~PeriodicTask() { stop(); }

void PeriodicTask::start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      wake_.wait_for(lock, std::chrono::milliseconds(interval_ms_), [this] { return stopping_; });
      if (stopping_) break;
      lock.unlock();
      try {
        work_();
      } catch (const std::exception& e) {
        if (on_error_) on_error_(e);
      }
      lock.lock();
    }
  });
}

void PeriodicTask::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace oee::server
