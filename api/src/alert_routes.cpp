// GET /api/v1/alerts, POST /api/v1/alerts/acknowledge, GET /api/v1/alerts/rules and GET
// /api/v1/edges (docs/api.md, "Alerts").
#include <algorithm>

#include <nlohmann/json.hpp>

#include "body_json.h"
#include "oee/api/routes.h"
#include "oee/codec/json_writer.h"
#include "oee/server/alert_json.h"

namespace oee::api {

using detail::json_body;
using detail::string_member;
using server::HttpRequest;
using server::HttpResponse;
using auth::Principal;
using auth::Role;

namespace {

constexpr std::size_t kAlertIdBytesMax = 1024;

HttpResponse list_alerts(server::AlertMonitor& monitor) {
  std::string out;
  codec::JsonWriter json(out);
  json.begin_array();
  for (const Alert& a : monitor.alerts()) server::write_alert_json(json, a);
  json.end_array();
  return HttpResponse::json(std::move(out));
}

// The plant file's rules as configured (docs/configuration.md, "Alerts"): what each watches.
HttpResponse list_rules(const server::AlertMonitor& monitor) {
  std::string out;
  codec::JsonWriter json(out);
  json.begin_array();
  for (const AlertRule& r : monitor.rules()) {
    json.begin_object().string_field("name", r.name).string_field("kind", alert_kind_name(r.kind));
    json.string_field(r.kind == AlertKind::edge_queue_growing ? "edge" : "node", r.node);
    json.int_field("for_s", r.for_ms / 1000);
    if (r.kind == AlertKind::oee_below_target) {
      json.key("target");
      if (r.target > 0) json.number(r.target); else json.null();  // null: the machine's own targets.oee
      json.int_field("after_shift_start_s", std::int64_t{r.at_minute} * 60);
    }
    json.end_object();
  }
  json.end_array();
  return HttpResponse::json(std::move(out));
}

// The newest status report of each edge (docs/mqtt.md) as it sent it, by edge id; one that is not a
// JSON object (the ingest dead-letters it too, and keeps it) is named with its problem.
HttpResponse list_edges(const server::AlertMonitor& monitor) {
  std::string out;
  codec::JsonWriter json(out);
  json.begin_array();
  for (const auto& [edge, payload] : monitor.edge_statuses()) {
    const auto status = nlohmann::json::parse(payload, nullptr, false);
    json.begin_object().string_field("edge", edge).key("status");
    if (!status.is_discarded() && status.is_object()) json.raw(status.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    else json.null().string_field("problem", "the last status report is not a JSON object");
    json.end_object();
  }
  json.end_array();
  return HttpResponse::json(std::move(out));
}

// `fired_at` (optional, as GET /api/v1/alerts gives it): the episode of `id` to acknowledge, so that
// one that fired after the client listed it is not acknowledged unseen. Without it: the newest.
bool episode_member(const nlohmann::json& body, std::string& text, std::optional<TimeMs>& fired, HttpResponse& error) {
  if (!body.contains("fired_at")) return true;
  if (!string_member(body, "fired_at", 64, text, error)) return false;
  fired = parse_timestamp(text);
  if (!fired) error = HttpResponse::error(400, "bad_body", "'fired_at' must be an RFC 3339 time, as GET /api/v1/alerts gives it");
  return fired.has_value();
}

HttpResponse acknowledge(server::AlertMonitor& monitor, const Access& access, const HttpRequest& r, const Principal& who) {
  HttpResponse error;
  const auto body = json_body(r, error);
  std::string id, fired_text;
  std::optional<TimeMs> fired;
  if (!body || !string_member(*body, "id", kAlertIdBytesMax, id, error) || !episode_member(*body, fired_text, fired, error))
    return error;
  const std::string user = access.actor(who);
  const auto change = monitor.acknowledge(id, fired, user);
  if (!change) {
    const auto all = monitor.alerts();
    const bool known = std::any_of(all.begin(), all.end(), [&](const Alert& a) { return a.id == id && (!fired || a.fired_ts == *fired); });
    const std::string alert = "alert '" + id + "'" + (fired ? " fired at " + fired_text : "");
    return known ? HttpResponse::error(409, "already_acknowledged", "the " + alert + " is acknowledged already")
                 : HttpResponse::error(404, "unknown_alert", "no " + alert + " (GET /api/v1/alerts)");
  }
  access.audit(who, "alert.acknowledge", id, "", "");
  std::string out;
  codec::JsonWriter json(out);
  server::write_alert_json(json, change->alert);
  return HttpResponse::json(std::move(out));
}

}  // namespace

void add_alert_routes(server::Router& router, server::AlertMonitor& monitor, const Access& access) {
  router.add("GET", "/api/v1/alerts", access.require(Role::viewer, [&monitor](const HttpRequest&, const Principal&) {
    return list_alerts(monitor);
  }));
  router.add("GET", "/api/v1/alerts/rules", access.require(Role::viewer, [&monitor](const HttpRequest&, const Principal&) {
    return list_rules(monitor);
  }));
  router.add("GET", "/api/v1/edges", access.require(Role::viewer, [&monitor](const HttpRequest&, const Principal&) {
    return list_edges(monitor);
  }));
  router.add("POST", "/api/v1/alerts/acknowledge", access.require(Role::operator_, [&monitor, &access](const HttpRequest& r, const Principal& who) {
    return acknowledge(monitor, access, r, who);
  }));
}

}  // namespace oee::api
