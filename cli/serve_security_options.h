#pragma once
// `oee serve`'s flags for rate limits, trusted proxies, the login back-off and sessions.
#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "oee/api/rate_limits.h"
#include "oee/api/trusted_proxies.h"
#include "oee/auth/accounts.h"

namespace oee::cli {

struct SecurityOptions {
  std::vector<std::string> trusted_proxies;  // CIDRs
  api::RateLimitOptions rates;
  int login_failures_max = 10, login_window_s = 60;
  int session_idle_timeout_s = 3600, session_lifetime_s = 12 * 3600;
};

void add_security_options(CLI::App& app, SecurityOptions& o);
// What is wrong with the options (empty when nothing); fills `proxies` and `accounts`.
std::string check_security_options(const SecurityOptions& o, api::TrustedProxies& proxies, auth::AccountsOptions& accounts);

}  // namespace oee::cli
