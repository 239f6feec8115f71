#pragma once
// The thread that runs the subscriber's handler (the server's ingest and commit), one batch at a
// time, so the connection's own thread stays free to keep the connection alive meanwhile: a commit
// that waits on a database lock must not make the broker drop us for silence (docs/mqtt.md,
// "Keepalive").
#include <chrono>
#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace oee::transport {

class HandlerThread {
 public:
  HandlerThread() : thread_([this] { loop(); }) {}
  ~HandlerThread() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    changed_.notify_all();
    thread_.join();
  }
  HandlerThread(const HandlerThread&) = delete;
  HandlerThread& operator=(const HandlerThread&) = delete;

  // Starts `job`; one at a time (the caller waits for it with wait() before posting the next).
  void post(std::function<void()> job) {
    {
      std::lock_guard lock(mutex_);
      job_ = std::move(job);
      result_.reset();
    }
    changed_.notify_all();
  }

  // Once the job has run, what it threw ("" when it returned); nothing while it still runs after
  // `timeout`.
  std::optional<std::string> wait(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, timeout, [this] { return result_.has_value(); });
    return result_;
  }

 private:
  void loop() {
    std::unique_lock lock(mutex_);
    while (true) {
      changed_.wait(lock, [this] { return stopping_ || job_; });
      if (!job_) return;  // stopping, and nothing left to run
      auto job = std::move(job_);
      job_ = nullptr;
      lock.unlock();
      std::string error;
      try {
        job();
      } catch (const std::exception& e) {
        error = e.what();
        if (error.empty()) error = "exception";
      } catch (...) {
        error = "unknown exception";
      }
      lock.lock();
      result_ = std::move(error);
      changed_.notify_all();
    }
  }

  std::mutex mutex_;
  std::condition_variable changed_;
  std::function<void()> job_;
  std::optional<std::string> result_;
  bool stopping_ = false;
  std::thread thread_;  // last: started once the members above exist
};

}  // namespace oee::transport
