#include "oee/api/routes.h"
#include "openapi_json.h"  // generated from api/openapi.json

namespace oee::api {

const std::string& openapi_document() {
  static const std::string document(kOpenApiJson);
  return document;
}

void add_openapi_route(server::Router& router, const Access& access) {
  router.add("GET", "/api/v1/openapi.json", access.require(auth::Role::viewer, [](const server::HttpRequest&, const auth::Principal&) {
    return server::HttpResponse::json(openapi_document());
  }));
}

}  // namespace oee::api
