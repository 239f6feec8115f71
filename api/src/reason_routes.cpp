// GET /api/v1/reasons: the plant's reason tree, for the operator's reason picker and the Pareto's
// levels.
#include "oee/api/routes.h"
#include "oee/codec/json_writer.h"

namespace oee::api {

using server::HttpRequest;
using server::HttpResponse;
using auth::Principal;
using auth::Role;

namespace {

HttpResponse reasons(const server::PlantService& s) {
  const ReasonTree* tree = s.plant().reasons.get();
  std::string out;
  codec::JsonWriter json(out);
  json.begin_object().bool_field("tree", tree != nullptr).int_field("depth", tree ? tree->depth() : 0);
  json.key("reasons").begin_array();
  if (tree)
    for (const ReasonNode& n : tree->nodes()) {
      json.begin_object().string_field("code", n.code).string_field("name", n.name).int_field("level", n.level);
      if (n.parent >= 0) json.string_field("parent", tree->nodes()[static_cast<std::size_t>(n.parent)].code);
      if (n.loss != ReasonLoss::none) json.string_field("loss", reason_loss_name(n.loss));
      json.end_object();
    }
  json.end_array().end_object();
  return HttpResponse::json(std::move(out));
}

}  // namespace

void add_reason_routes(server::Router& router, server::PlantService& service, const Access& access) {
  auto& s = service;
  router.add("GET", "/api/v1/reasons", access.require(Role::display, [&s](const HttpRequest&, const Principal&) { return reasons(s); }));
}

}  // namespace oee::api
