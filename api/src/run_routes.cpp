// Production runs (work orders): POST /api/v1/runs starts or ends one (for the ERP or an operator;
// a run event through the one ingest path), GET /api/v1/runs reports the runs of a machine.
#include <nlohmann/json.hpp>

#include "body_json.h"
#include "query_params.h"
#include "oee/api/routes.h"
#include "oee/codec/event_json.h"
#include "oee/codec/run_json.h"
#include "oee/core/production_run.h"
#include "oee/server/failure_response.h"

namespace oee::api {

using server::HttpRequest;
using server::HttpResponse;
using auth::Principal;
using auth::Role;
using namespace detail;

namespace {

// The body is a run event of docs/events.md without its type; `ts` defaults to now. The codec
// validates it, so the HTTP and MQTT paths refuse the same things with the same words.
HttpResponse post_run(server::PlantService& s, const Access& access, const HttpRequest& r, const Principal& who) {
  HttpResponse error;
  auto body = json_body(r, error);
  if (!body) return error;
  if (!body->is_object()) return HttpResponse::error(400, "bad_body", "the body must be a JSON object");
  (*body)["type"] = "run";
  if (!body->contains("ts")) (*body)["ts"] = s.now();
  Event e;
  std::string why;
  if (!codec::parse_event(body->dump(), e, why)) return HttpResponse::error(400, "bad_body", why);
  if (!machine_param(s, e.machine, error)) return error;
  server::IngestReport report;
  try {
    report = s.ingest({e}, "api");
  } catch (const std::exception& ex) {
    return server::failure_response(503, "storage_unavailable", "the run could not be stored, try again", r, ex.what());
  }
  if (report.accepted != 1) return HttpResponse::error(400, "bad_body", "the run event was not accepted (dead-lettered)");
  const std::string action = e.run_action == RunAction::start ? "start" : "end";
  access.audit(who, "run." + action, e.machine + "@" + e.run, "", codec::event_to_json(e));
  return HttpResponse::json(codec::event_to_json(e), 201);
}

// The runs of a machine that start in [from, to), each up to min(to, now).
HttpResponse get_runs(server::PlantService& s, const HttpRequest& r) {
  HttpResponse error;
  const MachineSpec* m = machine_param(s, r.query_value("machine").value_or(""), error);
  if (!m) return error;
  TimeMs from = 0, to = 0;
  std::string why;
  if (!window_params(s, r, from, to, kRawWindowDaysMax, why)) return HttpResponse::error(400, "bad_parameter", why);
  const auto events = s.read_store([&](storage::EventStore& st) { return st.machine_events(m->path, from, to); });
  const MachineHistory history = MachineHistory::build(*m, events);
  const std::vector<ProductionRun> runs = production_runs(events);
  const std::vector<RunReport> reports = run_reports(runs, history.counts(), std::min(to, s.now()));
  std::string out = "{\"machine\":";
  codec::append_json_string(out, m->path);
  out += ",\"runs\":";
  codec::append_run_reports_json(out, reports, s.zone().offset_ms_at(from));
  out += '}';
  return HttpResponse::json(std::move(out));
}

}  // namespace

void add_run_routes(server::Router& router, server::PlantService& service, const Access& access) {
  auto& s = service;
  router.add("GET", "/api/v1/runs", access.require(Role::viewer, [&s](const HttpRequest& r, const Principal&) { return get_runs(s, r); }));
  router.add("POST", "/api/v1/runs", access.require(Role::operator_, [&s, &access](const HttpRequest& r, const Principal& who) {
    return post_run(s, access, r, who);
  }));
}

}  // namespace oee::api
