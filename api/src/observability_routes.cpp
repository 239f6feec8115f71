// /readyz (open, for load balancers) and /metrics (Prometheus text format).
#include "query_params.h"
#include "oee/api/routes.h"
#include "oee/server/log.h"

namespace oee::api {

using server::HttpRequest;
using server::HttpResponse;

void add_observability_routes(server::Router& router, server::PlantService& service, const Access& access,
                              std::function<std::optional<bool>()> mqtt_connected) {
  router.add("GET", "/readyz", [&service, mqtt_connected](const HttpRequest&) {
    std::string problem;
    try {
      service.read_store([](storage::EventStore& store) { return store.event_count(); });
    } catch (const std::exception& e) {
      // /readyz answers anyone: the cause (which may name hosts or files) goes to the log only.
      problem = "storage: unavailable (the cause is in the server log)";
      server::log_line("warn", "readyz: storage unavailable", {{"error", e.what()}});
    }
    int mqtt = -1;  // not configured (an int: g++ 12 warns falsely on optional<bool> here)
    if (mqtt_connected)
      if (const auto connected = mqtt_connected()) mqtt = *connected ? 1 : 0;
    if (problem.empty() && mqtt == 0) problem = "mqtt: not connected";
    std::string out;
    codec::JsonWriter json(out);
    json.begin_object().string_field("status", problem.empty() ? "ready" : "not_ready");
    json.string_field("storage", problem.starts_with("storage") ? "unavailable" : "open");
    if (mqtt >= 0) json.string_field("mqtt", mqtt ? "connected" : "disconnected");
    if (!problem.empty()) json.string_field("problem", problem);
    json.end_object();
    return HttpResponse::json(std::move(out), problem.empty() ? 200 : 503);
  });
  router.add("GET", "/metrics", access.require(auth::Role::viewer, [&service](const HttpRequest&, const auth::Principal&) {
    std::string out = service.metrics().prometheus_text();
    try {
      const auto [events, dead] = service.read_store([](storage::EventStore& s) { return std::make_pair(s.event_count(), s.dead_letter_count()); });
      out += "# HELP oee_events_stored Events in the store\n# TYPE oee_events_stored gauge\noee_events_stored " + std::to_string(events) + "\n";
      out += "# HELP oee_dead_letters Dead letters in the store\n# TYPE oee_dead_letters gauge\noee_dead_letters " + std::to_string(dead) + "\n";
    } catch (const std::exception&) {
      out += "# storage unavailable\n";
    }
    out += "# HELP oee_machines Machines in the plant model\n# TYPE oee_machines gauge\noee_machines " +
           std::to_string(service.plant().machines().size()) + "\n";
    HttpResponse r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = std::move(out);
    return r;
  }));
}

}  // namespace oee::api
