#include "oee/api/rate_limits.h"

#include <algorithm>
#include <cmath>

namespace oee::api {

std::string check_rate_limit_options(const RateLimitOptions& o) {
  if (!(o.address_per_s >= 0) || !(o.token_per_s >= 0)) return "rate limits must be 0 (none) or more requests per second";
  if (o.address_per_s > 0 && !(o.address_burst >= 1)) return "--rate-limit-address-burst must be at least 1";
  if (o.token_per_s > 0 && !(o.token_burst >= 1)) return "--rate-limit-token-burst must be at least 1";
  if (o.keys_max < 1) return "--rate-limit-keys-max must be at least 1";
  return {};
}

RateLimits::RateLimits(const RateLimitOptions& o)
    : address_(o.address_per_s, o.address_burst, o.keys_max), token_(o.token_per_s, o.token_burst, o.keys_max) {}

DurationMs RateLimits::Buckets::take(const std::string& key, TimeMs now) {
  if (per_ms_ <= 0) return 0;
  std::lock_guard lock(mutex_);
  Bucket& b = table_.touch(key);
  if (!b.seen) b = Bucket{burst_, now, true};
  // A clock stepping back refills nothing rather than draining the bucket.
  if (now > b.at) b.tokens = std::min(burst_, b.tokens + static_cast<double>(now - b.at) * per_ms_);
  b.at = std::max(b.at, now);
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return 0;
  }
  return std::max<DurationMs>(1, static_cast<DurationMs>(std::ceil((1 - b.tokens) / per_ms_)));
}

std::size_t RateLimits::Buckets::size() const {
  std::lock_guard lock(mutex_);
  return table_.size();
}

server::HttpResponse too_many_requests(DurationMs retry_after_ms, std::string_view code, std::string_view message) {
  server::HttpResponse out = server::HttpResponse::error(429, code, message);
  out.headers.emplace_back("Retry-After", std::to_string(std::max<DurationMs>(1, (retry_after_ms + 999) / 1000)));
  return out;
}

}  // namespace oee::api
