#pragma once
// Failed logins counted per client address, across user names: an address that failed too often
// within the window waits before it may try again. Not a lock per account, so nobody can lock the
// real admin out from another address, and guessing many user names from one address is held up
// as much as guessing one. The table is bounded: a flood of addresses evicts the least recently
// seen, never the counters of the others. Not thread-safe (Accounts holds its lock around it).
#include <string>
#include <vector>

#include "oee/core/lru_map.h"
#include "oee/core/time.h"

namespace oee::auth {

struct LoginBackoffOptions {
  int failures_max = 10;  // per client address within the window
  DurationMs window_ms = kMsPerMinute;
  std::size_t addresses_max = 100'000;  // tracked addresses
};

class LoginBackoff {
 public:
  explicit LoginBackoff(LoginBackoffOptions options) : options_(options), table_(options.addresses_max) {}

  // 0 when `address` may try now, else how long it must wait. Checks still running count as
  // failures, so concurrent guesses cannot all slip in before the first failure is recorded.
  DurationMs wait_ms(const std::string& address, TimeMs now);
  void check_started(const std::string& address) { ++table_.touch(address).checking; }
  void check_ended(const std::string& address);
  // A success does not clear the address's failures: else one valid login (any user's) would
  // reset the count for guessing another user's password.
  void failed(const std::string& address, TimeMs now);
  std::size_t tracked() const { return table_.size(); }

 private:
  struct Entry {
    std::vector<TimeMs> failures;  // within the window, oldest first
    int checking = 0;              // password checks in progress
  };
  LoginBackoffOptions options_;
  LruMap<Entry> table_;
};

}  // namespace oee::auth
