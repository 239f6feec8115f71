// Rejects an operator reports at the machine: POST /api/v1/rejects, a count event through the one
// ingest path (as a PLC's count over MQTT), audited.
#include <nlohmann/json.hpp>

#include "body_json.h"
#include "query_params.h"
#include "oee/api/routes.h"
#include "oee/codec/event_json.h"
#include "oee/server/failure_response.h"

namespace oee::api {

using server::HttpRequest;
using server::HttpResponse;
using namespace detail;

namespace {

// `{"machine","reject","ts"?}`: `reject` parts the machine did not count (thrown out by hand). `ts`
// (defaults to now) set by a client that queues its reports makes a retry of a report whose answer
// was lost a duplicate (an event without src+seq is identified by its content), never a second report.
HttpResponse post_rejects(server::PlantService& s, const Access& access, const HttpRequest& r, const auth::Principal& who) {
  HttpResponse error;
  auto body = json_body(r, error);
  if (!body) return error;
  const auto reject = body->find("reject");
  if (reject == body->end() || !reject->is_number_integer() || reject->get<std::int64_t>() < 1)
    return HttpResponse::error(400, "bad_body", "'reject' must be a whole number of parts, at least 1");
  nlohmann::json event = {{"type", "count"}, {"good", 0}, {"reject", *reject}, {"machine", body->value("machine", nlohmann::json())}};
  event["ts"] = body->contains("ts") ? (*body)["ts"] : nlohmann::json(s.now());
  Event e;
  std::string why;
  if (!codec::parse_event(event.dump(), e, why)) return HttpResponse::error(400, "bad_body", why);
  if (!machine_param(s, e.machine, error)) return error;
  try {
    if (s.ingest({e}, "api").accepted != 1) return HttpResponse::error(400, "bad_body", "the count event was not accepted (dead-lettered)");
  } catch (const std::exception& ex) {
    return server::failure_response(503, "storage_unavailable", "the rejects could not be stored, try again", r, ex.what());
  }
  access.audit(who, "rejects.report", e.machine, "", codec::event_to_json(e));
  return HttpResponse::json(codec::event_to_json(e), 201);
}

}  // namespace

void add_reject_routes(server::Router& router, server::PlantService& service, const Access& access) {
  auto& s = service;
  router.add("POST", "/api/v1/rejects", access.require(auth::Role::operator_, [&s, &access](const HttpRequest& r, const auth::Principal& who) {
    return post_rejects(s, access, r, who);
  }));
}

}  // namespace oee::api
