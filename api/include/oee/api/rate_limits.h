#pragma once
// Request rate limits per client address and per token: a token bucket each (a steady rate and a
// burst), answered with 429 and Retry-After when empty. The tables are bounded and evict the least
// recently seen key, so a flood of addresses never resets the counters of the others.
#include <mutex>
#include <string>

#include "oee/core/lru_map.h"
#include "oee/core/time.h"
#include "oee/server/http.h"

namespace oee::api {

struct RateLimitOptions {
  // Generous for people and dashboards (a page load is about ten requests), tight for a flood.
  double address_per_s = 200;  // requests per second per client address (0: no limit)
  double address_burst = 400;  // requests one address may make at once
  double token_per_s = 100;    // requests per second per token (0: no limit)
  double token_burst = 200;
  std::size_t keys_max = 100'000;  // tracked addresses, and tracked tokens
};

// What is wrong with the options (empty when nothing).
std::string check_rate_limit_options(const RateLimitOptions& options);

class RateLimits {
 public:
  explicit RateLimits(const RateLimitOptions& options);
  // 0 when a request of this client address (or token id) may go ahead, and counts it; else how
  // long until it may.
  DurationMs take_address(const std::string& address, TimeMs now) { return address_.take(address, now); }
  DurationMs take_token(const std::string& token_id, TimeMs now) { return token_.take(token_id, now); }
  std::size_t tracked_addresses() const { return address_.size(); }

 private:
  class Buckets {
   public:
    Buckets(double per_s, double burst, std::size_t keys_max) : per_ms_(per_s / 1000), burst_(burst), table_(keys_max) {}
    DurationMs take(const std::string& key, TimeMs now);
    std::size_t size() const;

   private:
    struct Bucket {
      double tokens = 0;
      TimeMs at = 0;
      bool seen = false;
    };
    double per_ms_, burst_;
    mutable std::mutex mutex_;
    LruMap<Bucket> table_;
  };
  Buckets address_, token_;
};

// The 429 answer: `code`, `message` and Retry-After in whole seconds (at least 1).
server::HttpResponse too_many_requests(DurationMs retry_after_ms, std::string_view code, std::string_view message);

}  // namespace oee::api
