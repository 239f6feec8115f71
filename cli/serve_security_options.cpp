#include "serve_security_options.h"

namespace oee::cli {

void add_security_options(CLI::App& app, SecurityOptions& o) {
  auto* g = app.add_option_group("limits and sessions");
  g->add_option("--trusted-proxy", o.trusted_proxies, "CIDR (or address) of a reverse proxy whose X-Forwarded-For names the "
                "client (repeat); from other peers the header is ignored");
  g->add_option("--rate-limit-address-per-s", o.rates.address_per_s, "API requests per second per client address (0: no limit)")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  g->add_option("--rate-limit-address-burst", o.rates.address_burst, "API requests a client address may make at once")
      ->check(CLI::PositiveNumber)->capture_default_str();
  g->add_option("--rate-limit-token-per-s", o.rates.token_per_s, "API requests per second per token (0: no limit)")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  g->add_option("--rate-limit-token-burst", o.rates.token_burst, "API requests a token may make at once")
      ->check(CLI::PositiveNumber)->capture_default_str();
  g->add_option("--rate-limit-keys-max", o.rates.keys_max, "client addresses (and tokens) the rate limits track; beyond, "
                "the least recently seen is forgotten")->check(CLI::Range(1, 10'000'000))->capture_default_str();
  g->add_option("--login-failures-max", o.login_failures_max, "failed logins per client address within --login-window-s, "
                "whatever the user names; then 429 until the oldest leaves the window")->check(CLI::Range(1, 1000))->capture_default_str();
  g->add_option("--login-window-s", o.login_window_s, "window of --login-failures-max")->check(CLI::Range(1, 86400))->capture_default_str();
  g->add_option("--session-idle-timeout-s", o.session_idle_timeout_s, "a login session without a request this long ends "
                "(0: never)")->check(CLI::Range(0, 30 * 86400))->capture_default_str();
  g->add_option("--session-lifetime-s", o.session_lifetime_s, "a login session ends this long after the login, however busy")
      ->check(CLI::Range(1, 365 * 86400))->capture_default_str();
}

std::string check_security_options(const SecurityOptions& o, api::TrustedProxies& proxies, auth::AccountsOptions& accounts) {
  try {
    for (const std::string& cidr : o.trusted_proxies) proxies.add(cidr);
  } catch (const api::TrustedProxyError& e) {
    return e.what();
  }
  if (std::string why = api::check_rate_limit_options(o.rates); !why.empty()) return why;
  accounts.login.failures_max = o.login_failures_max;
  accounts.login.window_ms = o.login_window_s * kMsPerSecond;
  accounts.login.addresses_max = o.rates.keys_max;
  accounts.session_idle_ms = o.session_idle_timeout_s * kMsPerSecond;
  accounts.session_ttl_ms = static_cast<DurationMs>(o.session_lifetime_s) * kMsPerSecond;
  return {};
}

}  // namespace oee::cli
