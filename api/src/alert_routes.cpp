// GET /api/v1/alerts and POST /api/v1/alerts/acknowledge (docs/api.md, "Alerts").
#include <algorithm>

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

HttpResponse acknowledge(server::AlertMonitor& monitor, const Access& access, const HttpRequest& r, const Principal& who) {
  HttpResponse error;
  const auto body = json_body(r, error);
  std::string id;
  if (!body || !string_member(*body, "id", kAlertIdBytesMax, id, error)) return error;
  const std::string user = access.actor(who);
  const auto change = monitor.acknowledge(id, user);
  if (!change) {
    const auto all = monitor.alerts();
    const bool known = std::any_of(all.begin(), all.end(), [&](const Alert& a) { return a.id == id; });
    return known ? HttpResponse::error(409, "already_acknowledged", "the alert '" + id + "' is acknowledged already")
                 : HttpResponse::error(404, "unknown_alert", "no alert '" + id + "' (GET /api/v1/alerts)");
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
  router.add("POST", "/api/v1/alerts/acknowledge", access.require(Role::operator_, [&monitor, &access](const HttpRequest& r, const Principal& who) {
    return acknowledge(monitor, access, r, who);
  }));
}

}  // namespace oee::api
