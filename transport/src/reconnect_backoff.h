#pragma once
// Waiting between failed rounds over the broker list: exponential from `min` to `max`, each wait
// with ±20 % jitter so that many clients cut off together do not come back together.
#include <algorithm>
#include <chrono>
#include <random>

namespace oee::transport {

class ReconnectBackoff {
 public:
  ReconnectBackoff(std::chrono::milliseconds min, std::chrono::milliseconds max)
      : min_(min), max_(max), next_(min), rng_(std::random_device{}()) {}
  std::chrono::milliseconds next() {
    std::uniform_real_distribution<double> jitter(0.8, 1.2);
    const auto wait = std::chrono::milliseconds(static_cast<long long>(static_cast<double>(next_.count()) * jitter(rng_)));
    next_ = std::min(next_ * 2, max_);
    return wait;
  }
  void reset() { next_ = min_; }

 private:
  std::chrono::milliseconds min_, max_, next_;
  std::mt19937_64 rng_;
};

}  // namespace oee::transport
