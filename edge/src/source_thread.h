#pragma once
// The thread a source reads its devices on: started once, asked to stop, joined.
#include <atomic>
#include <thread>
#include <utility>

namespace oee::edge {

class SourceThread {
 public:
  ~SourceThread() { stop(); }
  template <typename Body>
  void start(Body body) {
    running_ = true;
    thread_ = std::thread(std::move(body));
  }
  void stop() {
    running_ = false;
    if (thread_.joinable()) thread_.join();
  }
  bool running() const { return running_.load(); }

 private:
  std::atomic<bool> running_{false};
  std::thread thread_;
};

}  // namespace oee::edge
