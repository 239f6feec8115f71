#pragma once
// Waiting on a condition rather than sleeping for it: shared by every suite that starts real peers
// (its own header, so suites with their own ChildProcess can include it too).
#include <chrono>
#include <thread>

namespace oee::testing {

// Polls `pred` every 10 ms until it holds or the timeout passes; returns its last value.
template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pred();
}

}  // namespace oee::testing
