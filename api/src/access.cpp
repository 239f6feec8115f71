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

std::optional<HttpResponse> Access::refuse(const HttpRequest& r, auth::Role role, auth::Principal& who) const {
  const auto p = principal(r);
  if (!p) {
    HttpResponse out = HttpResponse::error(401, "unauthenticated", "send a valid token as 'Authorization: Bearer TOKEN' (POST /api/v1/login gives one)");
    out.headers.emplace_back("WWW-Authenticate", "Bearer");
    return out;
  }
  if (p->role < role)
    return HttpResponse::error(403, "forbidden", std::string("this needs the role '") + std::string(auth::role_name(role)) +
                                                     "'; you have '" + std::string(auth::role_name(p->role)) + "'");
  who = *p;
  return std::nullopt;
}

server::HttpHandler Access::require(auth::Role role, Handler handler) const {
  return [this, role, handler = std::move(handler)](const HttpRequest& r) {
    auth::Principal who;
    if (auto refused = refuse(r, role, who)) return std::move(*refused);
    return handler(r, who);
  };
}

void Access::audit(const auth::Principal& who, std::string_view action, std::string_view target, std::string_view before,
                   std::string_view after) const {
  audit_.append(accounts_.now(), who.user, action, target, before, after);
}

}  // namespace oee::api
