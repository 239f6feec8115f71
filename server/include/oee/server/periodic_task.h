#pragma once
// A background thread that runs `work` every `interval_ms` until stopped (the live feed's KPI tick,
// the live-state refresh from a shared store). `stop` wakes it at once and joins; an exception
// from `work` goes to `on_error` and the next round runs as usual.
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "oee/core/time.h"

namespace oee::server {

class PeriodicTask {
 public:
  PeriodicTask(DurationMs interval_ms, std::function<void()> work,
               std::function<void(const std::exception&)> on_error = {});
  ~PeriodicTask();
  PeriodicTask(const PeriodicTask&) = delete;
  PeriodicTask& operator=(const PeriodicTask&) = delete;
  void start();  // once; a no-op when running
  void stop();   // idempotent

 private:
  DurationMs interval_ms_;
  std::function<void()> work_;
  std::function<void(const std::exception&)> on_error_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace oee::server
