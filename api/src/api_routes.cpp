// The registrar: every route family of the API on one router.
#include "oee/api/routes.h"

namespace oee::api {

void add_api_routes(server::Router& router, server::PlantService& service, const Access& access, StopComments& comments,
                    std::function<std::optional<bool>()> mqtt_connected) {
  add_plant_routes(router, service, access);
  add_access_routes(router, access);
  add_privacy_routes(router, access, comments);
  add_timeline_routes(router, service, access);
  add_stop_routes(router, service, access, comments);
  add_stop_split_route(router, service, access);
  add_run_routes(router, service, access);
  add_correction_routes(router, service, access);
  add_reject_routes(router, service, access);
  add_pareto_count_routes(router, service, access);
  add_reason_routes(router, service, access);
  add_tag_routes(router, service, access);
  add_export_routes(router, service, access);
  add_openapi_route(router, access);
  add_observability_routes(router, service, access, std::move(mqtt_connected));
}

}  // namespace oee::api
