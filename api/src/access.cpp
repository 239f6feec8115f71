#include "oee/api/access.h"

#include "live_subprotocols.h"
#include "oee/server/failure_response.h"

namespace oee::api {

using server::HttpRequest;
using server::HttpResponse;

std::optional<auth::Principal> Access::principal(const HttpRequest& r) const {
  if (const auto h = r.header("authorization")) {
    constexpr std::string_view scheme = "Bearer ";
    if (h->size() <= scheme.size() || h->substr(0, scheme.size()) != scheme) return std::nullopt;
    return accounts_.authenticate(h->substr(scheme.size()));
  }
  return std::nullopt;
}

std::string Access::client_address(const HttpRequest& r) const {
  return proxies_ ? proxies_->client_address(r) : r.remote_address;
}

std::optional<HttpResponse> Access::limit_address(const HttpRequest& r) const {
  if (!rates_) return std::nullopt;
  if (const DurationMs wait = rates_->take_address(client_address(r), accounts_.now()))
    return too_many_requests(wait, "too_many_requests", "too many requests from this address; retry after Retry-After seconds");
  return std::nullopt;
}

std::optional<HttpResponse> Access::refuse(const HttpRequest& r, auth::Role role, auth::Principal& who) const {
  if (auto limited = limit_address(r)) return limited;
  if (r.query_value("access_token")) {
    HttpResponse out = HttpResponse::error(401, "token_in_url", "access_token is accepted only on the WebSocket route /api/v1/live; send 'Authorization: Bearer TOKEN'");
    out.headers.emplace_back("WWW-Authenticate", "Bearer");
    return out;
  }
  return refuse_principal(principal(r), role, who);
}

std::optional<HttpResponse> Access::refuse_websocket(const HttpRequest& r, auth::Role role, auth::Principal& who) const {
  if (auto limited = limit_address(r)) return limited;
  return refuse_principal(websocket_principal(r), role, who);
}

std::optional<auth::Principal> Access::websocket_principal(const HttpRequest& r) const {
  if (r.header("authorization")) return principal(r);
  if (const auto protocols = r.header("sec-websocket-protocol")) {
    if (const auto t = bearer_subprotocol(*protocols)) return accounts_.authenticate(*t);
  }
  // Deprecated: a token in the URL ends up in proxy and access logs (kept for older clients).
  const auto t = r.query_value("access_token");
  return t ? accounts_.authenticate(*t) : std::nullopt;
}

std::optional<HttpResponse> Access::refuse_principal(const std::optional<auth::Principal>& p, auth::Role role,
                                                     auth::Principal& who) const {
  if (!p) {
    HttpResponse out = HttpResponse::error(401, "unauthenticated", "send a valid token as 'Authorization: Bearer TOKEN' (POST /api/v1/login gives one)");
    out.headers.emplace_back("WWW-Authenticate", "Bearer");
    return out;
  }
  if (const DurationMs wait = rates_ ? rates_->take_token(p->token_id, accounts_.now()) : 0)
    return too_many_requests(wait, "too_many_requests", "too many requests with this token; retry after Retry-After seconds");
  if (p->role < role)
    return HttpResponse::error(403, "forbidden", std::string("this needs the role '") + std::string(auth::role_name(role)) +
                                                     "'; you have '" + std::string(auth::role_name(p->role)) + "'");
  who = *p;
  return std::nullopt;
}

namespace {
std::string request_key(const HttpRequest& r) {
  std::string key = r.path;
  for (const auto& [name, value] : r.query) key += '&' + name + '=' + value;
  return key;
}
}  // namespace

server::HttpHandler Access::require(auth::Role role, Handler handler) const {
  return [this, role, handler = std::move(handler)](const HttpRequest& r) {
    auth::Principal who;
    if (auto refused = refuse(r, role, who)) return std::move(*refused);
    if (r.method != "GET") {
      try {
        return handler(r, who);
      } catch (const std::exception& e) {
        return server::failure_response(503, "storage_unavailable", "storage is unavailable, try again", r, e.what());
      }
    }
    const std::string key = request_key(r);
    try {
      HttpResponse out = handler(r, who);
      if (out.status == 200 && out.body.size() <= 1024 * 1024) last_good_.keep(key, out, accounts_.now());
      return out;
    } catch (const std::exception& e) {
      // Storage failed (the store throws with its reason): the last good answer, marked stale.
      auto kept = last_good_.find(key);
      if (!kept) return server::failure_response(503, "storage_unavailable", "storage is unavailable, try again", r, e.what());
      HttpResponse out = std::move(*kept);
      out.headers.emplace_back("Warning", "110 - \"Response is Stale\"");
      out.headers.emplace_back("X-OEE-Stale", "true");
      return out;
    }
  };
}

void Access::audit(const auth::Principal& who, std::string_view action, std::string_view target, std::string_view before,
                   std::string_view after) const {
  audit_.append(accounts_.now(), actor(who), action, target, before, after);
}

std::string Access::actor(const auth::Principal& who) const {
  if (!who.session) return who.user;
  std::string pseudonym = accounts_.pseudonym(who.user);
  return pseudonym.empty() ? who.user : pseudonym;
}

}  // namespace oee::api
