// Login, sessions, users, API tokens and the audit trail.
#include "body_json.h"
#include "query_params.h"
#include "paging.h"
#include "personal_members.h"
#include "oee/api/routes.h"
#include "oee/server/log.h"

namespace oee::api {

using server::HttpRequest;
using server::HttpResponse;
using auth::Principal;
using auth::Role;
using namespace detail;

namespace {

std::string utc(TimeMs t) { return t == 0 ? std::string() : format_rfc3339(t); }

// A small JSON object of string members: response bodies and an audit entry's before and after.
std::string object_text(std::initializer_list<std::pair<std::string_view, std::string_view>> members) {
  std::string out;
  JsonWriter json(out);
  json.begin_object();
  for (const auto& [name, value] : members) json.string_field(name, value);
  json.end_object();
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
  if (result.outcome == auth::LoginOutcome::rate_limited) {
    // The address masked to its network and no user name: the log holds no personal data.
    server::log_line("warn", "login refused: too many failed logins", {{"client", mask_address(access.client_address(r))}});
    return too_many_requests(result.retry_after_ms, "too_many_attempts", "too many failed logins from this address; try again later");
  }
  if (result.outcome != auth::LoginOutcome::ok) return HttpResponse::error(401, "bad_credentials", "wrong user name or password");
  return HttpResponse::json(object_text({{"token", result.session.token},
                                         {"token_id", result.session.id},
                                         {"user", user},
                                         {"role", auth::role_name(result.role)},
                                         {"expires", utc(result.session.expires)}}));
}

HttpResponse me(const Access& access, const Principal& who) {
  std::string out;
  JsonWriter json(out);
  json.begin_object().string_field("user", who.user).string_field("role", auth::role_name(who.role));
  json.string_field("token_id", who.token_id).bool_field("session", who.session);
  // The one place personal data shows whole: to the person it is about (a session of theirs).
  if (const auto u = who.session ? access.accounts().user(who.user) : std::nullopt) {
    if (!u->full_name.empty()) json.string_field("full_name", u->full_name);
    if (!u->email.empty()) json.string_field("email", u->email);
  }
  json.end_object();
  return HttpResponse::json(std::move(out));
}

HttpResponse list_users(const Access& access) {
  std::string out;
  JsonWriter json(out);
  json.begin_array();
  for (const auto& u : access.accounts().users()) {
    json.begin_object().string_field("name", u.name).string_field("role", auth::role_name(u.role)).string_field("created", utc(u.created));
    json.string_field("pseudonym", u.pseudonym);
    masked_personal_fields(json, u);
    json.end_object();
  }
  json.end_array();
  return HttpResponse::json(std::move(out));
}

bool role_member(const nlohmann::json& j, std::optional<Role>& out, HttpResponse& error) {
  const auto it = j.find("role");
  if (it == j.end()) return true;
  if (!it->is_string() || !(out = auth::parse_role(it->get<std::string>()))) {
    error = HttpResponse::error(400, "bad_body", "'role' must be display, viewer, operator or admin");
    return false;
  }
  return true;
}

HttpResponse create_user(const Access& access, const HttpRequest& r, const Principal& who) {
  HttpResponse error;
  const auto body = json_body(r, error);
  std::string name, password;
  std::optional<Role> role;
  auth::PersonalData personal;
  if (!body || !string_member(*body, "name", 64, name, error) || !string_member(*body, "password", 1024, password, error) ||
      !role_member(*body, role, error) || !personal_members(*body, personal, error))
    return error;
  try {
    access.accounts().create_user(name, password, role.value_or(Role::viewer), personal);
  } catch (const auth::AccountsError& e) {
    return HttpResponse::error(400, "bad_body", e.what());
  }
  const std::string_view role_name = auth::role_name(role.value_or(Role::viewer));
  // The chain names users by pseudonym only (docs/security.md, "Privacy").
  access.audit(who, "user.create", access.accounts().pseudonym(name), "", object_text({{"role", role_name}}));
  return HttpResponse::json(object_text({{"name", name}, {"role", role_name}}), 201);
}

HttpResponse update_user(const Access& access, const HttpRequest& r, const Principal& who) {
  HttpResponse error;
  const auto body = json_body(r, error);
  std::string name, password;
  std::optional<Role> role;
  auth::PersonalData personal;
  if (!body || !string_member(*body, "name", 64, name, error) || !string_member(*body, "password", 1024, password, error, "") ||
      !role_member(*body, role, error) || !personal_members(*body, personal, error))
    return error;
  const auto before = access.accounts().user(name);
  if (!before) return HttpResponse::error(404, "unknown_user", "no user '" + name + "'");
  try {
    access.accounts().update_user(name, role, password, personal);
  } catch (const auth::AccountsError& e) {
    return HttpResponse::error(400, "bad_body", e.what());
  }
  const Role now_role = role.value_or(before->role);
  std::string after;
  JsonWriter changed(after);
  changed.begin_object().string_field("role", auth::role_name(now_role));
  if (!password.empty()) changed.string_field("password", "changed");
  // That it changed, never the personal data itself.
  if (personal.full_name || personal.email) changed.string_field("personal_data", "changed");
  changed.end_object();
  access.audit(who, "user.update", before->pseudonym, object_text({{"role", auth::role_name(before->role)}}), after);
  return HttpResponse::json(object_text({{"name", name}, {"role", auth::role_name(now_role)}}));
}

HttpResponse list_tokens(const Access& access) {
  std::string out;
  JsonWriter json(out);
  json.begin_array();
  for (const auto& t : access.accounts().tokens()) {
    json.begin_object().string_field("id", t.id).string_field("name", t.name).string_field("user", t.user);
    json.string_field("role", auth::role_name(t.role)).string_field("kind", t.session ? "session" : "api");
    json.string_field("created", utc(t.created));
    if (t.expires) json.string_field("expires", utc(t.expires));
    json.end_object();
  }
  json.end_array();
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
  const std::string_view role_name = auth::role_name(role.value_or(Role::viewer));
  access.audit(who, "token.create", t.id, "", object_text({{"name", name}, {"role", role_name}}));
  return HttpResponse::json(object_text({{"id", t.id}, {"name", name}, {"role", role_name}, {"token", t.token}}), 201);
}

HttpResponse revoke_token(const Access& access, const HttpRequest& r, const Principal& who) {
  HttpResponse error;
  const auto body = json_body(r, error);
  std::string id;
  if (!body || !string_member(*body, "id", 64, id, error)) return error;
  if (!access.accounts().revoke_token(id)) return HttpResponse::error(404, "unknown_token", "no token with id '" + id + "'");
  access.audit(who, "token.revoke", id, "", "");
  return HttpResponse::json(object_text({{"revoked", id}}));
}

// overlap_s: whole seconds, 0 to 7 days; 1 hour when absent.
bool overlap_member(const nlohmann::json& j, DurationMs& overlap_ms, HttpResponse& error) {
  const auto it = j.find("overlap_s");
  std::int64_t seconds = 3600;
  if (it != j.end()) {
    if (!it->is_number_integer()) {
      error = HttpResponse::error(400, "bad_body", "'overlap_s' must be a whole number of seconds");
      return false;
    }
    seconds = it->get<std::int64_t>();
  }
  if (seconds < 0 || seconds > auth::Accounts::kRotationOverlapMaxMs / kMsPerSecond) {
    error = HttpResponse::error(400, "bad_body", "'overlap_s' must be 0 to 604800 (7 days)");
    return false;
  }
  overlap_ms = seconds * kMsPerSecond;
  return true;
}

HttpResponse rotate_token(const Access& access, const HttpRequest& r, const Principal& who) {
  HttpResponse error;
  const auto body = json_body(r, error);
  std::string id;
  DurationMs overlap_ms = 0;
  if (!body || !string_member(*body, "id", 64, id, error) || !overlap_member(*body, overlap_ms, error)) return error;
  std::optional<auth::RotatedToken> t;
  try {
    t = access.accounts().rotate_api_token(id, overlap_ms);
  } catch (const auth::AccountsError& e) {
    return HttpResponse::error(400, "bad_body", e.what());
  }
  if (!t) return HttpResponse::error(404, "unknown_token", "no token with id '" + id + "'");
  const std::string old_expires = utc(t->old_expires);
  access.audit(who, "token.rotate", id, "", object_text({{"new_id", t->issued.id}, {"old_expires", old_expires}}));
  return HttpResponse::json(
      object_text({{"id", t->issued.id}, {"token", t->issued.token}, {"old_id", id}, {"old_expires", old_expires}}), 201);
}

HttpResponse audit_entries(const Access& access, const HttpRequest& r) {
  std::int64_t limit = 0, before = 0;
  std::string error;
  if (!id_page_params(r, limit, before, error)) return HttpResponse::error(400, "bad_parameter", error);
  const auto entries = access.audit_chain().entries(before, static_cast<std::size_t>(limit));
  std::string out;
  JsonWriter json(out);
  json.begin_object().key("items").begin_array();
  for (const auto& e : entries) {
    json.begin_object().int_field("id", e.id).string_field("ts", utc(e.ts)).string_field("actor", e.actor);
    json.string_field("action", e.action).string_field("target", e.target).string_field("before", e.before);
    json.string_field("after", e.after).string_field("hash", e.hash).end_object();
  }
  json.end_array();
  const bool full = !entries.empty() && static_cast<std::int64_t>(entries.size()) == limit;
  return close_id_page(json, r, full ? std::optional(entries.back().id) : std::nullopt);
}

HttpResponse audit_verify(const Access& access) {
  const auto v = access.audit_chain().verify();
  std::string out;
  JsonWriter json(out);
  json.begin_object().bool_field("ok", v.ok).int_field("rows", v.rows);
  if (!v.ok) json.int_field("first_bad_id", v.first_bad_id).string_field("problem", v.problem);
  json.end_object();
  return HttpResponse::json(std::move(out));
}

}  // namespace

void add_access_routes(server::Router& router, const Access& access) {
  // The argon2id check takes tens of milliseconds of CPU: off the I/O threads.
  router.add_blocking("POST", "/api/v1/login", [&access](const HttpRequest& r) { return login(access, r); });
  router.add("POST", "/api/v1/logout", access.require(Role::display, [&access](const HttpRequest&, const Principal& who) {
    if (who.session) access.accounts().revoke_token(who.token_id);
    std::string out;
    JsonWriter(out).begin_object().bool_field("logged_out", true).end_object();
    return HttpResponse::json(std::move(out));
  }));
  router.add("GET", "/api/v1/me", access.require(Role::display, [&access](const HttpRequest&, const Principal& who) { return me(access, who); }));
  router.add("GET", "/api/v1/users", access.require(Role::admin, [&access](const HttpRequest&, const Principal&) { return list_users(access); }));
  router.add("POST", "/api/v1/users", access.require(Role::admin, [&access](const HttpRequest& r, const Principal& who) { return create_user(access, r, who); }));
  router.add("POST", "/api/v1/users/update", access.require(Role::admin, [&access](const HttpRequest& r, const Principal& who) { return update_user(access, r, who); }));
  router.add("GET", "/api/v1/tokens", access.require(Role::admin, [&access](const HttpRequest&, const Principal&) { return list_tokens(access); }));
  router.add("POST", "/api/v1/tokens", access.require(Role::admin, [&access](const HttpRequest& r, const Principal& who) { return create_token(access, r, who); }));
  router.add("POST", "/api/v1/tokens/revoke", access.require(Role::admin, [&access](const HttpRequest& r, const Principal& who) { return revoke_token(access, r, who); }));
  router.add("POST", "/api/v1/tokens/rotate", access.require(Role::admin, [&access](const HttpRequest& r, const Principal& who) { return rotate_token(access, r, who); }));
  router.add("GET", "/api/v1/audit", access.require(Role::admin, [&access](const HttpRequest& r, const Principal&) { return audit_entries(access, r); }));
  router.add("GET", "/api/v1/audit/verify", access.require(Role::admin, [&access](const HttpRequest&, const Principal&) { return audit_verify(access); }));
}

}  // namespace oee::api
