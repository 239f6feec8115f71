// Splitting a stop (docs/api.md, "POST /api/v1/stops/split"): an operator at the station says that
// an ended stop had two causes, one before an instant and one after. Each part takes its reason by a
// reclassify correction (docs/oee-model.md, "Corrections"), made by the operator and audited, so
// each counts as a stop of its own. Corrections in general stay the supervisor's; this route makes
// only reason corrections, and only of one ended unplanned stop.
#include "body_json.h"
#include "query_params.h"
#include "stop_writes.h"
#include "oee/api/routes.h"
#include "oee/server/failure_response.h"

namespace oee::api {

using server::HttpRequest;
using server::HttpResponse;
using auth::Principal;
using auth::Role;
using namespace detail;

namespace {

constexpr std::size_t kReasonBytesMax = 128;

// A part's reason: not empty, and a code of the plant's reason tree when it has one.
bool part_reason(const server::PlantService& s, const nlohmann::json& body, const char* name, std::string& out,
                 HttpResponse& error) {
  if (!string_member(body, name, kReasonBytesMax, out, error)) return false;
  if (out.empty()) return error = HttpResponse::error(400, "bad_body", std::string("'") + name + "' must not be empty"), false;
  if (const ReasonTree* tree = s.plant().reasons.get(); tree && !tree->find(out))
    return error = HttpResponse::error(400, "unknown_reason", "'" + out + "' is not a code of the plant's reason tree (GET /api/v1/reasons)"),
           false;
  return true;
}

// The instant to split at: strictly inside the ended stop.
bool split_instant(const server::PlantService& s, const nlohmann::json& body, const StateInterval& stop, TimeMs& out,
                   HttpResponse& error) {
  if (stop.end == kTimeMax)
    return error = HttpResponse::error(400, "open_stop", "the stop from " + time_text(s, stop.start) +
                                                             " still lasts: split it once it has ended (its reason now: POST /api/v1/stops/reason)"),
           false;
  std::string text;
  if (!string_member(body, "split", 64, text, error)) return false;
  const auto t = parse_timestamp(text);
  if (!t || *t <= stop.start || *t >= stop.end)
    return error = HttpResponse::error(400, "bad_body", "'split' must be an RFC 3339 instant inside the stop, after " +
                                                            time_text(s, stop.start) + " and before " + time_text(s, stop.end)),
           false;
  out = *t;
  return true;
}

void write_part(JsonWriter& json, const server::PlantService& s, TimeMs from, TimeMs to, const std::string& reason) {
  json.begin_object().string_field("from", time_text(s, from)).string_field("to", time_text(s, to)).string_field("reason", reason).end_object();
}

HttpResponse split_stop(server::PlantService& s, const Access& access, const HttpRequest& r, const Principal& who) {
  HttpResponse error;
  const auto body = json_body(r, error);
  const MachineSpec* m = nullptr;
  StateInterval stop;
  std::string before, after;
  TimeMs split = 0;
  if (!body || !find_stop(s, *body, m, stop, error) || !split_instant(s, *body, stop, split, error) ||
      !part_reason(s, *body, "before", before, error) || !part_reason(s, *body, "after", after, error))
    return error;
  const std::string why = "split of the stop from " + time_text(s, stop.start) + " at " + time_text(s, split);
  try {
    store_corrections(s, {reason_correction(s, *m, stop.start, split, before, access.actor(who), why),
                          reason_correction(s, *m, split, stop.end, after, access.actor(who), why)});
  } catch (const std::exception& e) {
    return server::failure_response(503, "storage_unavailable", "the split could not be stored, try again", r, e.what());
  }
  std::string out;
  JsonWriter json(out);
  json.begin_object().string_field("machine", m->path).string_field("split", time_text(s, split));
  json.string_field("previous_reason", stop.reason).key("parts").begin_array();
  write_part(json, s, stop.start, split, before);
  write_part(json, s, split, stop.end, after);
  json.end_array().end_object();
  std::string was;
  JsonWriter(was).begin_object().string_field("reason", stop.reason).string_field("to", time_text(s, stop.end)).end_object();
  access.audit(who, "stop.split", m->path + "@" + format_rfc3339(stop.start), was, out);
  return HttpResponse::json(std::move(out), 201);
}

}  // namespace

void add_stop_split_route(server::Router& router, server::PlantService& service, const Access& access) {
  router.add("POST", "/api/v1/stops/split", access.require(Role::operator_, [&service, &access](const HttpRequest& r, const Principal& who) {
    return split_stop(service, access, r, who);
  }));
}

}  // namespace oee::api
