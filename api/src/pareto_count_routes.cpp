// GET /api/v1/pareto (losses by reason or kind, largest first) and GET /api/v1/counts (counts and
// rate per bucket).
#include <algorithm>
#include <map>

#include "paging.h"
#include "reason_coverage.h"
#include "query_params.h"
#include "stop_list.h"
#include "oee/api/routes.h"
#include "oee/core/line_stop_causes.h"
#include "oee/core/reason_losses.h"

namespace oee::api {

using server::HttpRequest;
using server::HttpResponse;
using auth::Principal;
using auth::Role;
using namespace detail;

namespace {

struct ParetoBar {
  std::string name;
  double seconds = 0;
  std::int64_t stops = 0;
};

std::vector<ParetoBar> kind_bars(server::PlantService& s, const std::string& node, TimeMs from, TimeMs to) {
  const auto rows = s.node_kpis(node, Grouping::none, from, to);
  const KpiFigures f = derive_figures(rows.front().totals);
  return {{"breakdowns", f.breakdowns_s, rows.front().totals.breakdown_count},
          {"setup", f.setup_s, 0},
          {"starved", f.starved_s, 0},
          {"blocked", f.blocked_s, 0},
          {"small_stops", f.small_stops_s, 0},
          {"speed_loss", f.speed_loss_s, 0},
          {"production_rejects", f.production_rejects_s, 0},
          {"startup_rejects", f.startup_rejects_s, 0}};
}

// Unplanned stop time inside planned production time (breaks and planned stops excluded), by
// reason or by the reason's ancestor at `level` of the tree (0: the reason itself); the coverage
// also counts the stops a reason made planned.
std::vector<ParetoBar> reason_bars(server::PlantService& s, const std::string& node, TimeMs from, TimeMs to, int level,
                                   ReasonCoverage& coverage) {
  const TimeMs now = s.now();
  MachinePlans plans(s.calendar(), from, std::min(to, now));
  const ReasonTree* tree = s.plant().reasons.get();
  std::map<std::string, ParetoBar> by_reason;
  for (const Stop& stop : stops_of(s, s.plant().machines_under(node), from, std::min(to, now))) {
    if (!is_unplanned_stop(stop.interval.state)) continue;
    const bool unplanned = is_unplanned_stop(loss_state(stop.interval));
    const DurationMs ms = planned_part_ms(stop.interval, plans.of(*stop.machine), now);
    coverage.add(stop.interval, ms);
    if (ms <= 0 || !unplanned) continue;
    const std::string& reason = stop.interval.reason;
    const std::string name = reason.empty() ? "(unassigned)" : level > 0 ? std::string(tree->at_level(reason, level)) : reason;
    ParetoBar& bar = by_reason[name];
    bar.name = name;
    bar.seconds += static_cast<double>(ms) / 1000.0;
    ++bar.stops;
  }
  std::vector<ParetoBar> bars;
  for (auto& [name, bar] : by_reason) bars.push_back(std::move(bar));
  return bars;
}

// A constraint-mode line's starved and blocked time by root-cause machine (line_stop_causes.h).
// Every machine's history reaches back to the start of the constraint's stop in effect at `from`,
// so that which machine went down first is judged on whole stops.
std::vector<ParetoBar> root_cause_bars(server::PlantService& s, const LineSpec& line, TimeMs from, TimeMs to) {
  std::map<std::string, MachineHistory, std::less<>> histories;
  const MachineHistory& constraint = histories.emplace(line.constraint_machine()->path,
                                                       window_history(s, *line.constraint_machine(), from, to)).first->second;
  const TimeMs since = constraint.intervals().empty() ? from : std::min(from, constraint.intervals().front().start);
  for (const MachineSpec& m : line.machines)
    if (&m != line.constraint_machine()) histories.emplace(m.path, window_history(s, m, since, to));
  const auto causes = line_stop_causes(line, s.calendar(), from, to, s.now(), [&](const std::string& path) {
    auto it = histories.find(path);
    return it == histories.end() ? nullptr : &it->second;
  });
  std::map<std::string, ParetoBar> by_machine;
  for (const LineStopCause& c : causes) {
    ParetoBar& bar = by_machine[c.machine];
    bar.name = c.machine;
    bar.seconds += static_cast<double>(c.loss_ms) / 1000.0;
    bar.stops += c.stop_count;
  }
  std::vector<ParetoBar> bars;
  for (auto& [name, bar] : by_machine) bars.push_back(std::move(bar));
  return bars;
}

// `level` (1 = the top of the reason tree) with by=reason; 0 when not given.
bool level_param(server::PlantService& s, const HttpRequest& r, const std::string& by, std::int64_t& level, std::string& why) {
  if (!r.query_value("level")) return true;
  const ReasonTree* tree = s.plant().reasons.get();
  if (by != "reason" || !tree || tree->empty()) {
    why = "'level' needs by=reason and a reason tree in the plant file";
    return false;
  }
  return int_param(r, "level", 0, 1, tree->depth(), level, why);
}

void write_bars(JsonWriter& json, const std::vector<ParetoBar>& bars, double total, bool with_stops) {
  json.key("bars").begin_array();
  double cumulative = 0;
  for (const auto& b : bars) {
    cumulative += b.seconds;
    json.begin_object().string_field("name", b.name).number_field("seconds", b.seconds);
    if (with_stops) json.int_field("stops", b.stops);
    json.number_field("cumulative_share", total > 0 ? cumulative / total : 0.0).end_object();
  }
  json.end_array();
}

HttpResponse pareto(server::PlantService& s, const HttpRequest& r) {
  HttpResponse error;
  std::string node;
  if (!node_param(s, r, "node", node, error)) return error;
  TimeMs from = 0, to = 0;
  std::string why;
  if (!window_params(s, r, from, to, kStopsReportWindowDaysMax, why)) return HttpResponse::error(400, "bad_parameter", why);
  const std::string by(r.query_value("by").value_or("reason"));
  if (by != "kind" && by != "reason" && by != "root_cause")
    return HttpResponse::error(400, "bad_parameter", "'by' must be reason, kind or root_cause");
  const LineSpec* line = s.plant().find_line(node);
  if (by == "root_cause" && !(line && line->constraint_machine()))
    return HttpResponse::error(400, "bad_parameter", "by=root_cause needs a line in kpi mode constraint as 'node'");
  std::int64_t level = 0;
  if (!level_param(s, r, by, level, why)) return HttpResponse::error(400, "bad_parameter", why);
  ReasonCoverage coverage;
  std::vector<ParetoBar> bars =
      by == "kind"         ? kind_bars(s, node, from, to)
      : by == "root_cause" ? root_cause_bars(s, *line, from, to)
                           : reason_bars(s, node, from, to, static_cast<int>(level), coverage);
  std::stable_sort(bars.begin(), bars.end(), [](const ParetoBar& a, const ParetoBar& b) { return a.seconds > b.seconds; });
  double total = 0;
  for (const auto& b : bars) total += b.seconds;
  std::string out;
  JsonWriter json(out);
  json.begin_object().string_field("node", node.empty() ? "plant" : node).string_field("by", by);
  json.string_field("from", time_text(s, from)).string_field("to", time_text(s, to)).number_field("total_s", total);
  if (level > 0) json.int_field("level", level);
  write_bars(json, bars, total, by != "kind");
  if (by == "reason") coverage.write(json.key("reason_coverage"));
  json.end_object();
  return HttpResponse::json(std::move(out));
}

void write_counts(JsonWriter& json, server::PlantService& s, const server::KpiRow& row) {
  const KpiTotals& t = row.totals;
  json.begin_object();
  json.string_field("from", time_text(s, row.bucket.range.start)).string_field("to", time_text(s, row.bucket.range.end));
  if (!row.bucket.shift.empty()) json.string_field("shift", row.bucket.shift);
  json.int_field("good_count", t.good_count).int_field("reject_count", t.reject_count).int_field("total_count", t.total_count());
  // Units per hour of run time (null without run time), and what the ideal cycle times would have
  // made in it.
  const double run_h = static_cast<double>(t.run_ms()) / kMsPerHour;
  json.key("rate_per_hour");
  if (run_h > 0) json.number(static_cast<double>(t.total_count()) / run_h);
  else json.null();
  json.number_field("ideal_time_s", static_cast<double>(t.ideal_us) / 1e6).end_object();
}

HttpResponse counts(server::PlantService& s, const HttpRequest& r) {
  HttpResponse error;
  BucketedQuery q;
  if (!bucketed_query(s, r, q, error)) return error;
  Page page;
  std::int64_t after = kTimeMin;
  std::string why;
  if (!page_params(r, kPageLimitMax, page, why) || (page.cursor && !integer_cursor(*page.cursor, after, why)))
    return HttpResponse::error(400, "bad_parameter", why);
  std::string out;
  JsonWriter json(out);
  json.begin_array();
  std::int64_t taken = 0;
  std::string next;  // the start (ms) of the first bucket left out
  for (const auto& row : s.node_kpis(q.node, q.by, q.from, q.to)) {
    if (row.bucket.range.start < after) continue;
    if (taken++ == page.limit) {
      next = std::to_string(row.bucket.range.start);
      break;
    }
    write_counts(json, s, row);
  }
  return close_array_page(json, r, next);
}

}  // namespace

void add_pareto_count_routes(server::Router& router, server::PlantService& service, const Access& access) {
  auto& s = service;
  router.add("GET", "/api/v1/pareto", access.require(Role::viewer, [&s](const HttpRequest& r, const Principal&) { return pareto(s, r); }));
  router.add("GET", "/api/v1/counts", access.require(Role::viewer, [&s](const HttpRequest& r, const Principal&) { return counts(s, r); }));
}

}  // namespace oee::api
