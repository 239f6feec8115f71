// POST /api/v1/users/erase: a user's GDPR erasure (docs/security.md, "Privacy"). The name travels in
// the body, not the path, so it reaches no access log.
#include "body_json.h"
#include "query_params.h"
#include "oee/api/routes.h"
#include "oee/server/failure_response.h"
#include "oee/server/log.h"

namespace oee::api {

using server::HttpRequest;
using server::HttpResponse;
using auth::Principal;
using auth::Role;
using namespace detail;

namespace {

HttpResponse erase_user(const Access& access, StopComments& comments, const HttpRequest& r, const Principal& who) {
  HttpResponse error;
  const auto body = json_body(r, error);
  std::string name;
  if (!body || !string_member(*body, "name", 64, name, error)) return error;
  const std::string pseudonym = access.accounts().pseudonym(name);
  if (pseudonym.empty()) return HttpResponse::error(404, "unknown_user", "no such user");
  // Comments first: while the user exists they still show the name (pseudonyms are resolved), and
  // a store failure leaves the user to erase on a retry.
  std::int64_t comments_changed = 0;
  try {
    comments_changed = comments.pseudonymise_author(name, pseudonym);
  } catch (const std::exception& e) {
    return server::failure_response(503, "storage_unavailable", "the store is unavailable; nothing was erased, try again", r, e.what());
  }
  std::optional<auth::Erasure> erased;
  try {
    erased = access.accounts().erase_user(name);
  } catch (const auth::AccountsError& e) {
    return HttpResponse::error(409, "last_admin", e.what());
  }
  if (!erased) return HttpResponse::error(404, "unknown_user", "no such user");
  const std::int64_t legacy_rows = access.audit_chain().rows_naming(name);
  access.audit(who, "user.erase", erased->pseudonym, "", "");
  server::log_line("info", "user erased", {{"pseudonym", erased->pseudonym}, {"by", access.actor(who)}});
  std::string out;
  JsonWriter json(out);
  json.begin_object().string_field("pseudonym", erased->pseudonym).string_field("name", erased->tombstone);
  json.int_field("comments_pseudonymised", comments_changed).int_field("audit_rows_still_naming", legacy_rows).end_object();
  return HttpResponse::json(std::move(out));
}

}  // namespace

void add_privacy_routes(server::Router& router, const Access& access, StopComments& comments) {
  router.add("POST", "/api/v1/users/erase", access.require(Role::admin, [&access, &comments](const HttpRequest& r, const Principal& who) {
    return erase_user(access, comments, r, who);
  }));
}

}  // namespace oee::api
