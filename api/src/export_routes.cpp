// CSV exports: GET /api/v1/export/kpis.csv (KPIs per bucket) and /api/v1/export/stops.csv.
#include "query_params.h"
#include "stop_list.h"
#include "oee/api/routes.h"

namespace oee::api {

using server::HttpRequest;
using server::HttpResponse;
using auth::Principal;
using auth::Role;
using namespace detail;

namespace {

std::string csv_cell(std::string_view text) {
  if (text.find_first_of(",\"\n\r") == std::string_view::npos) return std::string(text);
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + '"';
}

std::string csv_ratio(const std::optional<double>& v) { return v ? std::to_string(*v) : std::string(); }

HttpResponse csv(std::string body, const char* file) {
  HttpResponse r;
  r.content_type = "text/csv; charset=utf-8";
  r.body = std::move(body);
  r.headers.emplace_back("Content-Disposition", std::string("attachment; filename=\"") + file + "\"");
  return r;
}

HttpResponse kpis_csv(server::PlantService& s, const HttpRequest& r) {
  HttpResponse error;
  BucketedQuery q;
  if (!bucketed_query(s, r, q, error)) return error;
  const std::string& node = q.node;
  std::string out = "node,from,to,shift,availability,performance,quality,oee,planned_production_time_s,run_time_s,downtime_s,good_count,reject_count\n";
  for (const auto& row : s.node_kpis(node, q.by, q.from, q.to)) {
    const KpiFigures f = derive_figures(row.totals);
    out += csv_cell(node.empty() ? "plant" : node) + ',' + time_text(s, row.bucket.range.start) + ',' +
           time_text(s, row.bucket.range.end) + ',' + csv_cell(row.bucket.shift) + ',' + csv_ratio(f.availability) + ',' +
           csv_ratio(f.performance) + ',' + csv_ratio(f.quality) + ',' + csv_ratio(f.oee) + ',' +
           std::to_string(row.totals.planned_production_ms() / 1000.0) + ',' + std::to_string(row.totals.run_ms() / 1000.0) +
           ',' + std::to_string(row.totals.downtime_ms() / 1000.0) + ',' + std::to_string(row.totals.good_count) + ',' +
           std::to_string(row.totals.reject_count) + '\n';
  }
  return csv(std::move(out), "kpis.csv");
}

HttpResponse stops_csv(server::PlantService& s, const HttpRequest& r) {
  HttpResponse error;
  std::string node;
  if (!node_param(s, r, "node", node, error)) return error;
  TimeMs from = 0, to = 0;
  std::string why;
  if (!window_params(s, r, from, to, kStopsReportWindowDaysMax, why)) return HttpResponse::error(400, "bad_parameter", why);
  std::string out = "machine,from,to,duration_s,state,kind,reason\n";
  for (const Stop& stop : stops_of(s, s.plant().machines_under(node), from, to))
    out += csv_cell(stop.machine->path) + ',' + time_text(s, stop.interval.start) + ',' +
           (stop.interval.end == kTimeMax ? std::string() : time_text(s, stop.interval.end)) + ',' +
           std::to_string(stop.duration_ms / 1000.0) + ',' + std::string(state_name(stop.interval.state)) + ',' +
           std::string(stop.kind) + ',' + csv_cell(stop.interval.reason) + '\n';
  return csv(std::move(out), "stops.csv");
}

}  // namespace

void add_export_routes(server::Router& router, server::PlantService& service, const Access& access) {
  auto& s = service;
  router.add("GET", "/api/v1/export/kpis.csv", access.require(Role::viewer, [&s](const HttpRequest& r, const Principal&) { return kpis_csv(s, r); }));
  router.add("GET", "/api/v1/export/stops.csv", access.require(Role::viewer, [&s](const HttpRequest& r, const Principal&) { return stops_csv(s, r); }));
}

}  // namespace oee::api
