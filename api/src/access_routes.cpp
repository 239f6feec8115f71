// Login, sessions, users, API tokens and the audit trail.
#include "body_json.h"
#include "json_text.h"
#include "paging.h"
#include "oee/api/routes.h"

namespace oee::api {

using server::HttpRequest;
using server::HttpResponse;
using auth::Principal;
using auth::Role;
using namespace detail;

namespace {

std::string utc(TimeMs t) { return t == 0 ? std::string() : format_rfc3339(t); }

std::string role_json(Role role) {
  std::string out;
  codec::append_json_string(out, auth::role_name(role));
  return out;
}

HttpResponse login(const Access& access, const HttpRequest& r) {
  if (auto limited = access.limit_address(r)) return std::move(*limited);
  HttpResponse error;
  const auto body = json_body(r, error);
  std::string user, password;
  if (!body || !string_member(*body, "user", 64, user, error) || !string_member(*body, "password", 1024, password, error))
    return error;
  const auth::LoginResult result = access.accounts().login(user, password, access.client_address(r));
  if (result.outcome == auth::LoginOutcome::rate_limited)
    return too_many_requests(result.retry_after_ms, "too_many_attempts", "too many failed logins from this address; try again later");
  if (result.outcome != auth::LoginOutcome::ok) return HttpResponse::error(401, "bad_credentials", "wrong user name or password");
  std::string out = "{";
  string_field(out, "token", result.session.token);
  string_field(out, "token_id", result.session.id);
  string_field(out, "user", user);
  string_field(out, "role", auth::role_name(result.role));
  string_field(out, "expires", utc(result.session.expires));
  close_object(out);
  return HttpResponse::json(std::move(out));
}

HttpResponse me(const Principal& who) {
  std::string out = "{";
  string_field(out, "user", who.user);
  string_field(out, "role", auth::role_name(who.role));
  string_field(out, "token_id", who.token_id);
  key(out, "session");
  out += who.session ? "true" : "false";
  out += '}';
  return HttpResponse::json(std::move(out));
}

HttpResponse list_users(const Access& access) {
  std::string out = "[";
  for (const auto& u : access.accounts().users()) {
    out += '{';
    string_field(out, "name", u.name);
    string_field(out, "role", auth::role_name(u.role));
    string_field(out, "created", utc(u.created));
    close_object(out);
    out += ',';
  }
  close_array(out);
  return HttpResponse::json(std::move(out));
}

bool role_member(const nlohmann::json& j, std::optional<Role>& out, HttpResponse& error) {
  const auto it = j.find("role");
  if (it == j.end()) return true;
  if (!it->is_string() || !(out = auth::parse_role(it->get<std::string>()))) {
    error = HttpResponse::error(400, "bad_body", "'role' must be viewer, operator or admin");
    return false;
  }
  return true;
}

HttpResponse create_user(const Access& access, const HttpRequest& r, const Principal& who) {
  HttpResponse error;
  const auto body = json_body(r, error);
  std::string name, password;
  std::optional<Role> role;
  if (!body || !string_member(*body, "name", 64, name, error) || !string_member(*body, "password", 1024, password, error) ||
      !role_member(*body, role, error))
    return error;
  try {
    access.accounts().create_user(name, password, role.value_or(Role::viewer));
  } catch (const auth::AccountsError& e) {
    return HttpResponse::error(400, "bad_body", e.what());
  }
  const std::string after = "{\"role\":" + role_json(role.value_or(Role::viewer)) + "}";
  access.audit(who, "user.create", name, "", after);
  return HttpResponse::json("{\"name\":" + nlohmann::json(name).dump() + ",\"role\":" + role_json(role.value_or(Role::viewer)) + "}", 201);
}

HttpResponse update_user(const Access& access, const HttpRequest& r, const Principal& who) {
  HttpResponse error;
  const auto body = json_body(r, error);
  std::string name, password;
  std::optional<Role> role;
  if (!body || !string_member(*body, "name", 64, name, error) || !string_member(*body, "password", 1024, password, error, "") ||
      !role_member(*body, role, error))
    return error;
  const auto before = access.accounts().user(name);
  if (!before) return HttpResponse::error(404, "unknown_user", "no user '" + name + "'");
  try {
    access.accounts().update_user(name, role, password);
  } catch (const auth::AccountsError& e) {
    return HttpResponse::error(400, "bad_body", e.what());
  }
  const Role now_role = role.value_or(before->role);
  std::string after = "{\"role\":" + role_json(now_role) + (password.empty() ? "" : ",\"password\":\"changed\"") + "}";
  access.audit(who, "user.update", name, "{\"role\":" + role_json(before->role) + "}", after);
  return HttpResponse::json("{\"name\":" + nlohmann::json(name).dump() + ",\"role\":" + role_json(now_role) + "}");
}

HttpResponse list_tokens(const Access& access) {
  std::string out = "[";
  for (const auto& t : access.accounts().tokens()) {
    out += '{';
    string_field(out, "id", t.id);
    string_field(out, "name", t.name);
    string_field(out, "user", t.user);
    string_field(out, "role", auth::role_name(t.role));
    string_field(out, "kind", t.session ? "session" : "api");
    string_field(out, "created", utc(t.created));
    if (t.expires) string_field(out, "expires", utc(t.expires));
    close_object(out);
    out += ',';
  }
  close_array(out);
  return HttpResponse::json(std::move(out));
}

HttpResponse create_token(const Access& access, const HttpRequest& r, const Principal& who) {
  HttpResponse error;
  const auto body = json_body(r, error);
  std::string name;
  std::optional<Role> role;
  if (!body || !string_member(*body, "name", 64, name, error) || !role_member(*body, role, error)) return error;
  auth::IssuedToken t;
  try {
    t = access.accounts().create_api_token(name, role.value_or(Role::viewer), who.user);
  } catch (const auth::AccountsError& e) {
    return HttpResponse::error(400, "bad_body", e.what());
  }
  access.audit(who, "token.create", t.id, "", "{\"name\":" + nlohmann::json(name).dump() + ",\"role\":" + role_json(role.value_or(Role::viewer)) + "}");
  std::string out = "{";
  string_field(out, "id", t.id);
  string_field(out, "name", name);
  string_field(out, "role", auth::role_name(role.value_or(Role::viewer)));
  string_field(out, "token", t.token);
  close_object(out);
  return HttpResponse::json(std::move(out), 201);
}

HttpResponse revoke_token(const Access& access, const HttpRequest& r, const Principal& who) {
  HttpResponse error;
  const auto body = json_body(r, error);
  std::string id;
  if (!body || !string_member(*body, "id", 64, id, error)) return error;
  if (!access.accounts().revoke_token(id)) return HttpResponse::error(404, "unknown_token", "no token with id '" + id + "'");
  access.audit(who, "token.revoke", id, "", "");
  return HttpResponse::json("{\"revoked\":" + nlohmann::json(id).dump() + "}");
}

HttpResponse audit_entries(const Access& access, const HttpRequest& r) {
  std::int64_t limit = 0, before = 0;
  std::string error;
  if (!id_page_params(r, limit, before, error)) return HttpResponse::error(400, "bad_parameter", error);
  const auto entries = access.audit_chain().entries(before, static_cast<std::size_t>(limit));
  std::string out = "{\"items\":[";
  for (const auto& e : entries) {
    out += '{';
    int_field(out, "id", e.id);
    string_field(out, "ts", utc(e.ts));
    string_field(out, "actor", e.actor);
    string_field(out, "action", e.action);
    string_field(out, "target", e.target);
    string_field(out, "before", e.before);
    string_field(out, "after", e.after);
    string_field(out, "hash", e.hash);
    close_object(out);
    out += ',';
  }
  close_array(out);
  const bool full = !entries.empty() && static_cast<std::int64_t>(entries.size()) == limit;
  return close_id_page(std::move(out), r, full ? std::optional(entries.back().id) : std::nullopt);
}

HttpResponse audit_verify(const Access& access) {
  const auto v = access.audit_chain().verify();
  std::string out = "{";
  key(out, "ok");
  out += v.ok ? "true," : "false,";
  int_field(out, "rows", v.rows);
  if (!v.ok) {
    int_field(out, "first_bad_id", v.first_bad_id);
    string_field(out, "problem", v.problem);
  }
  close_object(out);
  return HttpResponse::json(std::move(out));
}

}  // namespace

void add_access_routes(server::Router& router, const Access& access) {
  // The argon2id check takes tens of milliseconds of CPU: off the I/O threads.
  router.add_blocking("POST", "/api/v1/login", [&access](const HttpRequest& r) { return login(access, r); });
  router.add("POST", "/api/v1/logout", access.require(Role::viewer, [&access](const HttpRequest&, const Principal& who) {
    if (who.session) access.accounts().revoke_token(who.token_id);
    return HttpResponse::json("{\"logged_out\":true}");
  }));
  router.add("GET", "/api/v1/me", access.require(Role::viewer, [](const HttpRequest&, const Principal& who) { return me(who); }));
  router.add("GET", "/api/v1/users", access.require(Role::admin, [&access](const HttpRequest&, const Principal&) { return list_users(access); }));
  router.add("POST", "/api/v1/users", access.require(Role::admin, [&access](const HttpRequest& r, const Principal& who) { return create_user(access, r, who); }));
  router.add("POST", "/api/v1/users/update", access.require(Role::admin, [&access](const HttpRequest& r, const Principal& who) { return update_user(access, r, who); }));
  router.add("GET", "/api/v1/tokens", access.require(Role::admin, [&access](const HttpRequest&, const Principal&) { return list_tokens(access); }));
  router.add("POST", "/api/v1/tokens", access.require(Role::admin, [&access](const HttpRequest& r, const Principal& who) { return create_token(access, r, who); }));
  router.add("POST", "/api/v1/tokens/revoke", access.require(Role::admin, [&access](const HttpRequest& r, const Principal& who) { return revoke_token(access, r, who); }));
  router.add("GET", "/api/v1/audit", access.require(Role::admin, [&access](const HttpRequest& r, const Principal&) { return audit_entries(access, r); }));
  router.add("GET", "/api/v1/audit/verify", access.require(Role::admin, [&access](const HttpRequest&, const Principal&) { return audit_verify(access); }));
}

}  // namespace oee::api
