#pragma once
// Authentication and roles in front of every route: a handler runs only for a bearer token
// (`Authorization: Bearer TOKEN`) of a user or API token with at least the route's role; 401
// without a valid token, 403 with too small a role, 429 over a rate limit (per client address,
// then per token: oee/api/rate_limits.h). Writes go to the audit chain through here.
#include <functional>
#include <map>
#include <mutex>

#include "oee/api/stale_responses.h"
#include "oee/auth/accounts.h"
#include "oee/api/rate_limits.h"
#include "oee/api/trusted_proxies.h"
#include "oee/auth/audit_chain.h"
#include "oee/server/http.h"

namespace oee::api {

class Access {
 public:
  // Reads keep working while storage is briefly unavailable: a GET whose handler fails with a
  // storage error gets the last good answer to the same request, marked stale (`Warning: 110` and
  // `X-OEE-Stale: true`), or 503 when there is none. The answers kept are bounded (the least
  // recently used go first).
  static constexpr std::size_t kStaleResponsesMax = 1024;
  static constexpr std::size_t kStaleResponseBytesMax = 64 * 1024 * 1024;

  Access(auth::Accounts& accounts, auth::AuditChain& audit) : accounts_(accounts), audit_(audit) {}

  using Handler = std::function<server::HttpResponse(const server::HttpRequest&, const auth::Principal&)>;
  // The handler wrapped in the token and role check.
  server::HttpHandler require(auth::Role role, Handler handler) const;
  // The principal of a request: the bearer token of its Authorization header.
  std::optional<auth::Principal> principal(const server::HttpRequest& request) const;
  // Rate limits and the proxies whose X-Forwarded-For is believed; none until set (`oee serve`
  // sets both from its flags). Both must outlive this.
  void set_limits(const TrustedProxies* proxies, RateLimits* rates) {
    proxies_ = proxies;
    rates_ = rates;
  }
  // The client's address: X-Forwarded-For from a trusted proxy, else the peer's.
  std::string client_address(const server::HttpRequest& request) const;
  // 429 when the request's client address is over its rate (and counts the request), else nullopt.
  std::optional<server::HttpResponse> limit_address(const server::HttpRequest& request) const;
  // 429 (address or token over its rate), 401 or 403 for a request that may not have `role`, or
  // nullopt when it may.  A token in the URL (`access_token`) is refused with 401 `token_in_url`:
  // URLs end up in proxy and access logs.
  std::optional<server::HttpResponse> refuse(const server::HttpRequest& request, auth::Role role,
                                             auth::Principal& who) const;
  // As refuse(), for a WebSocket upgrade: there the token may also come in Sec-WebSocket-Protocol
  // (`bearer.<base64url>`, the one header browsers may set on a WebSocket) or, deprecated, as
  // `?access_token=`.
  std::optional<server::HttpResponse> refuse_websocket(const server::HttpRequest& request, auth::Role role,
                                                       auth::Principal& who) const;
  // The principal of a WebSocket upgrade: its Authorization header, else its `bearer.` subprotocol,
  // else its `?access_token=`.
  std::optional<auth::Principal> websocket_principal(const server::HttpRequest& request) const;

  // Appends to the audit chain with actor(who) as its actor.
  void audit(const auth::Principal& who, std::string_view action, std::string_view target, std::string_view before,
             std::string_view after) const;
  // Who did it, as records keep it: a user's pseudonym (never the name, so an erasure leaves the
  // records verifiable and unlinkable), an API token's name (not a person).
  std::string actor(const auth::Principal& who) const;

  auth::Accounts& accounts() const { return accounts_; }
  auth::AuditChain& audit_chain() const { return audit_; }

 private:
  auth::Accounts& accounts_;
  std::optional<server::HttpResponse> refuse_principal(const std::optional<auth::Principal>& p, auth::Role role,
                                                       auth::Principal& who) const;

  auth::AuditChain& audit_;
  mutable StaleResponses last_good_{kStaleResponsesMax, kStaleResponseBytesMax};  // by path and query
  const TrustedProxies* proxies_ = nullptr;
  RateLimits* rates_ = nullptr;
};

}  // namespace oee::api
