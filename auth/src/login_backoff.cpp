#include "oee/auth/login_backoff.h"

#include <algorithm>

namespace oee::auth {

namespace {
// A running check ends within a hash's time: ask to come back soon rather than after the window.
constexpr DurationMs kRetryWhileCheckingMs = 1000;
}  // namespace

DurationMs LoginBackoff::wait_ms(const std::string& address, TimeMs now) {
  // Asking counts as being seen: an address that keeps trying keeps its place in the table.
  Entry* e = &table_.touch(address);
  auto& times = e->failures;
  times.erase(times.begin(), std::find_if(times.begin(), times.end(), [&](TimeMs t) { return t > now - options_.window_ms; }));
  const int failures = static_cast<int>(times.size());
  if (failures + e->checking < options_.failures_max) return 0;
  if (failures >= options_.failures_max) return std::max<DurationMs>(1, times[failures - options_.failures_max] + options_.window_ms - now);
  return kRetryWhileCheckingMs;
}

void LoginBackoff::check_ended(const std::string& address) {
  if (Entry* e = table_.find(address); e && e->checking > 0) --e->checking;
}

void LoginBackoff::failed(const std::string& address, TimeMs now) {
  auto& times = table_.touch(address).failures;
  times.push_back(now);
  // Only the newest failures_max decide the wait: older ones need not be kept.
  if (static_cast<int>(times.size()) > options_.failures_max) times.erase(times.begin());
}

}  // namespace oee::auth
