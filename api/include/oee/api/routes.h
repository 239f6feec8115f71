#pragma once
// The HTTP API's routes (docs/api.md). Handlers read the PlantService and write JSON.
#include "oee/server/http.h"
#include "oee/server/plant_service.h"

namespace oee::api {

// GET /healthz, /api/v1/plant, /api/v1/kpis, /api/v1/dead-letters, /api/v1/sources.
void add_plant_routes(server::Router& router, server::PlantService& service);

}  // namespace oee::api
