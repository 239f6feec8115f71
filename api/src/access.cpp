#include "oee/api/access.h"

namespace oee::api {

using server::HttpRequest;
using server::HttpResponse;

std::optional<auth::Principal> Access::principal(const HttpRequest& r) const {
  if (const auto h = r.header("authorization")) {
    constexpr std::string_view scheme = "Bearer ";
    if (h->size() <= scheme.size() || h->substr(0, scheme.size()) != scheme) return std::nullopt;
    return accounts_.authenticate(h->substr(scheme.size()));
  }
  if (const auto t = r.query_value("access_token")) return accounts_.authenticate(*t);
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
  const auto p = principal(r);
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
  for (const auto& [name, value] : r.query)
    if (name != "access_token") key += '&' + name + '=' + value;
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
        return HttpResponse::error(503, "storage_unavailable", std::string("storage is unavailable, try again: ") + e.what());
      }
    }
    const std::string key = request_key(r);
    try {
      HttpResponse out = handler(r, who);
      if (out.status == 200 && out.body.size() <= 1024 * 1024) {
        // Kept at most once a second per request, so hot endpoints do not copy every answer.
        const TimeMs now = accounts_.now();
        std::lock_guard lock(stale_mutex_);
        auto it = last_good_.find(key);
        if (it == last_good_.end()) {
          if (last_good_.size() >= kStaleResponsesMax) last_good_.erase(last_good_.begin());
          last_good_.emplace(key, StaleEntry{out, now});
        } else if (now - it->second.kept_at >= kMsPerSecond || now < it->second.kept_at) {
          it->second = StaleEntry{out, now};
        }
      }
      return out;
    } catch (const std::exception& e) {
      // Storage failed (the store throws with its reason): the last good answer, marked stale.
      std::lock_guard lock(stale_mutex_);
      auto it = last_good_.find(key);
      if (it == last_good_.end())
        return HttpResponse::error(503, "storage_unavailable", std::string("storage is unavailable: ") + e.what());
      HttpResponse out = it->second.response;
      out.headers.emplace_back("Warning", "110 - \"Response is Stale\"");
      out.headers.emplace_back("X-OEE-Stale", "true");
      return out;
    }
  };
}

void Access::audit(const auth::Principal& who, std::string_view action, std::string_view target, std::string_view before,
                   std::string_view after) const {
  audit_.append(accounts_.now(), who.user, action, target, before, after);
}

}  // namespace oee::api
