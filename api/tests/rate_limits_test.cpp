// Rate limits and the login back-off against the real server over loopback, with clients on
// several 127.0.0.x addresses: a brute force across many user names, the trusted-proxy case, the
// per-token and per-address API limits with Retry-After, and the bounded table.
#include "api_fixture.h"

namespace oee::api {
namespace {

class RateLimitsTest : public Api {
 protected:
  void SetUp() override {
    Api::SetUp();
    accounts_->create_user("boss", "the real admin password", auth::Role::admin);
  }
  void limit(RateLimitOptions o) {
    rates_ = std::make_unique<RateLimits>(o);
    access_->set_limits(&proxies_, rates_.get());
  }
  testing::HttpReply login_from(const char* source, const std::string& user, const std::string& password,
                                const std::string& forwarded_for = {}) {
    const std::string body = "{\"user\":\"" + user + "\",\"password\":\"" + password + "\"}";
    const std::string headers = forwarded_for.empty() ? "" : "X-Forwarded-For: " + forwarded_for + "\r\n";
    return testing::HttpConnection(http_->port(), source).request("POST", "/api/v1/login", body, headers);
  }
  testing::HttpReply get_from(const char* source, const std::string& target, const std::string& token) {
    return testing::HttpConnection(http_->port(), source).request("GET", target, "", "Authorization: Bearer " + token + "\r\n");
  }
  static std::string retry_after(const testing::HttpReply& r) {
    const std::size_t at = r.headers.find("Retry-After: ");
    return at == std::string::npos ? "" : r.headers.substr(at + 13, r.headers.find("\r\n", at) - at - 13);
  }
  // Bad logins from `source`, each with another user name, until the first 429; how many got 401.
  int failures_until_held_up(const char* source, const std::string& forwarded_for = {}) {
    for (int i = 0; i < 100; ++i) {
      const auto r = login_from(source, "user" + std::to_string(i), "wrong password", forwarded_for);
      if (r.status == 429) {
        EXPECT_NE(retry_after(r), "") << r.headers;
        EXPECT_NE(r.body.find("too_many_attempts"), std::string::npos) << r.body;
        return i;
      }
      EXPECT_EQ(r.status, 401) << r.body;
    }
    return -1;
  }
  TrustedProxies proxies_;
  std::unique_ptr<RateLimits> rates_;
};

TEST_F(RateLimitsTest, ABruteForceAcrossUserNamesIsHeldUpPerAddressNotPerAccount) {
  // The default back-off: 10 failures a minute per address, whatever user names they try.
  EXPECT_EQ(failures_until_held_up("127.0.0.2"), 10);
  EXPECT_EQ(login_from("127.0.0.2", "boss", "the real admin password").status, 429);
  // The attacker aimed at the admin and every other name: the admin from elsewhere still logs in.
  const auto ok = login_from("127.0.0.3", "boss", "the real admin password");
  EXPECT_EQ(ok.status, 200) << ok.body;
  // The back-off ends with its window.
  now_ += kMsPerMinute;
  EXPECT_EQ(login_from("127.0.0.2", "boss", "the real admin password").status, 200);
}

TEST_F(RateLimitsTest, ForwardedForIsBelievedOnlyFromATrustedProxy) {
  proxies_.add("127.0.0.4/32");
  limit({.address_per_s = 0, .token_per_s = 0});
  // Behind the proxy, each client has its own back-off: one attacker does not lock out the others.
  EXPECT_EQ(failures_until_held_up("127.0.0.4", "198.51.100.7"), 10);
  EXPECT_EQ(login_from("127.0.0.4", "boss", "the real admin password", "198.51.100.8").status, 200);
  // The proxy appends the peer it saw: an address the client put in front does not help it.
  EXPECT_EQ(login_from("127.0.0.4", "boss", "the real admin password", "203.0.113.1, 198.51.100.7").status, 429);
  // From a peer that is not a trusted proxy the header is ignored: the peer's address counts.
  EXPECT_EQ(login_from("127.0.0.5", "boss", "the real admin password", "198.51.100.7").status, 200);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(login_from("127.0.0.5", "u" + std::to_string(i), "wrong password", "10.9.9." + std::to_string(i)).status, 401);
  EXPECT_EQ(login_from("127.0.0.5", "boss", "the real admin password", "10.9.9.99").status, 429);
}

TEST_F(RateLimitsTest, TrustedProxyNetworksAndBadInput) {
  proxies_.add("10.1.0.0/16");
  proxies_.add("fd00::/8");
  EXPECT_TRUE(proxies_.contains("10.1.200.3"));
  EXPECT_FALSE(proxies_.contains("10.2.0.1"));
  EXPECT_TRUE(proxies_.contains("::ffff:10.1.0.9"));  // as a dual-stack socket reports IPv4
  EXPECT_TRUE(proxies_.contains("fd12::1"));
  EXPECT_FALSE(proxies_.contains("fe80::1"));
  EXPECT_FALSE(proxies_.contains("not an address"));
  server::HttpRequest r;
  r.remote_address = "10.1.0.1";
  r.headers["x-forwarded-for"] = "192.0.2.9, 198.51.100.1, 10.1.0.2";
  EXPECT_EQ(proxies_.client_address(r), "198.51.100.1");  // right-most hop not a trusted proxy
  r.remote_address = "192.0.2.200";
  EXPECT_EQ(proxies_.client_address(r), "192.0.2.200");
  EXPECT_THROW(proxies_.add("10.0.0.0/33"), TrustedProxyError);
  EXPECT_THROW(proxies_.add("10.0.0.0/x"), TrustedProxyError);
  EXPECT_THROW(proxies_.add("proxy.example"), TrustedProxyError);
  EXPECT_THROW(proxies_.add("::1/129"), TrustedProxyError);
}

TEST_F(RateLimitsTest, EachTokenHasItsRateWithRetryAfter) {
  limit({.address_per_s = 0, .token_per_s = 1, .token_burst = 3});
  for (int i = 0; i < 3; ++i) EXPECT_EQ(get("/api/v1/me").status, 200);
  const auto limited = get("/api/v1/me");
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(retry_after(limited), "1");
  EXPECT_NE(limited.body.find("\"too_many_requests\""), std::string::npos) << limited.body;
  // Another token from the same address is not held up; the first refills with time.
  EXPECT_EQ(request("GET", "/api/v1/me", "", operator_token_).status, 200);
  now_ += kMsPerSecond;
  EXPECT_EQ(get("/api/v1/me").status, 200);
  EXPECT_EQ(get("/api/v1/me").status, 429);
}

TEST_F(RateLimitsTest, EachAddressHasItsRateAcrossTokensAndOnLogin) {
  limit({.address_per_s = 0.5, .address_burst = 2, .token_per_s = 0});
  EXPECT_EQ(get_from("127.0.0.6", "/api/v1/me", viewer_token_).status, 200);
  EXPECT_EQ(get_from("127.0.0.6", "/api/v1/me", operator_token_).status, 200);
  const auto limited = get_from("127.0.0.6", "/api/v1/me", kAdminToken);
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(retry_after(limited), "2");
  EXPECT_EQ(login_from("127.0.0.6", "boss", "the real admin password").status, 429);
  EXPECT_EQ(get_from("127.0.0.7", "/api/v1/me", viewer_token_).status, 200);
}

TEST_F(RateLimitsTest, AFullTableEvictsTheLeastRecentlySeenAndNeverResets) {
  limit({.address_per_s = 0.001, .address_burst = 1, .token_per_s = 0, .keys_max = 3});
  EXPECT_EQ(get_from("127.0.0.10", "/api/v1/me", viewer_token_).status, 200);
  EXPECT_EQ(get_from("127.0.0.10", "/api/v1/me", viewer_token_).status, 429);
  // Many more addresses than the table holds, while .10 keeps coming: its count survives them all.
  for (int i = 11; i < 40; ++i) {
    const std::string other = "127.0.0." + std::to_string(i);
    EXPECT_EQ(get_from(other.c_str(), "/api/v1/me", viewer_token_).status, 200);
    EXPECT_EQ(get_from("127.0.0.10", "/api/v1/me", viewer_token_).status, 429) << "after " << other;
    EXPECT_LE(rates_->tracked_addresses(), 3u);
  }
  EXPECT_EQ(rates_->tracked_addresses(), 3u);
  // An evicted address starts afresh (a full bucket), which is the price of the bound.
  EXPECT_EQ(get_from("127.0.0.11", "/api/v1/me", viewer_token_).status, 200);
}

}  // namespace
}  // namespace oee::api
