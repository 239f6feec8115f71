#pragma once
// The HTTP API's routes (docs/api.md, and the OpenAPI document served at /api/v1/openapi.json).
// Handlers read the PlantService and write JSON; every route but /healthz, /readyz, login and the
// dashboard's files needs a bearer token (see access.h).
#include <functional>
#include <optional>
#include <string>

#include "oee/api/access.h"
#include "oee/api/stop_comments.h"
#include "oee/server/alert_monitor.h"
#include "oee/server/http.h"
#include "oee/server/plant_service.h"

namespace oee::api {

// GET /healthz, /api/v1/plant, /api/v1/kpis, /api/v1/dead-letters, /api/v1/sources.
void add_plant_routes(server::Router& router, server::PlantService& service, const Access& access);
// POST /api/v1/login, /api/v1/logout; GET /api/v1/me; users, tokens and the audit trail (admin).
void add_access_routes(server::Router& router, const Access& access);
// POST /api/v1/users/erase: GDPR erasure of a user (admin).
void add_privacy_routes(server::Router& router, const Access& access, StopComments& comments);
// GET /api/v1/timeline: a machine's state timeline.
void add_timeline_routes(server::Router& router, server::PlantService& service, const Access& access);
// GET /api/v1/stops; POST /api/v1/stops/reason and /api/v1/stops/comment.
void add_stop_routes(server::Router& router, server::PlantService& service, const Access& access, StopComments& comments);
// POST /api/v1/stops/split: an operator splits an ended stop in two, each part with its reason.
void add_stop_split_route(server::Router& router, server::PlantService& service, const Access& access);
// GET /api/v1/runs (a machine's production runs); POST /api/v1/runs (start or end one).
void add_run_routes(server::Router& router, server::PlantService& service, const Access& access);
void add_correction_routes(server::Router& router, server::PlantService& service, const Access& access);
// POST /api/v1/rejects: rejects an operator reports (a count event, audited).
void add_reject_routes(server::Router& router, server::PlantService& service, const Access& access);
// GET /api/v1/pareto (loss Pareto) and /api/v1/counts (counts and rate).
void add_pareto_count_routes(server::Router& router, server::PlantService& service, const Access& access);
// GET /api/v1/reasons (the plant's reason tree).
void add_reason_routes(server::Router& router, server::PlantService& service, const Access& access);
// GET /api/v1/tags: tag history.
void add_tag_routes(server::Router& router, server::PlantService& service, const Access& access);
// GET /api/v1/export/kpis.csv and /api/v1/export/stops.csv.
void add_export_routes(server::Router& router, server::PlantService& service, const Access& access);
// GET /api/v1/alerts (viewer); POST /api/v1/alerts/acknowledge (operator, audited).
void add_alert_routes(server::Router& router, server::AlertMonitor& monitor, const Access& access);
// GET /api/v1/openapi.json.
void add_openapi_route(server::Router& router, const Access& access);
const std::string& openapi_document();

// GET /readyz (open) and /metrics. `mqtt_connected` answers nullopt when MQTT is not configured.
void add_observability_routes(server::Router& router, server::PlantService& service, const Access& access,
                              std::function<std::optional<bool>()> mqtt_connected = {});

// The dashboard's static files under / (open).
void add_dashboard_routes(server::Router& router);

// Everything above but the dashboard (the live WebSocket is LiveFeed::add_route).
void add_api_routes(server::Router& router, server::PlantService& service, const Access& access, StopComments& comments,
                    std::function<std::optional<bool>()> mqtt_connected = {});

}  // namespace oee::api
