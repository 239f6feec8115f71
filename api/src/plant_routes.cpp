#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>

#include "query_params.h"
#include "paging.h"
#include "oee/api/routes.h"
#include "oee/codec/kpi_json.h"
#include "oee/core/run_kpis.h"

namespace oee::api {

using server::HttpRequest;
using server::HttpResponse;

using namespace detail;

namespace {

void write_machine(JsonWriter& json, const server::PlantService& s, const MachineSpec& m) {
  const server::MachineLiveState live = s.live_state(m.path);
  json.begin_object().string_field("id", m.id).string_field("path", m.path).string_field("name", m.name);
  if (!m.description.empty()) json.string_field("description", m.description);
  json.string_field("state", state_name(live.state));
  if (!live.reason.empty()) json.string_field("reason", live.reason);
  if (live.since != 0) json.string_field("since", time_text(s, live.since));
  if (!live.product.empty()) json.string_field("product", live.product);
  if (live.last_event != 0) json.string_field("last_event", time_text(s, live.last_event));
  // Silent beyond its no_data_after_s: its state above is only the last one it sent.
  json.bool_field("no_data", server::is_silent(m, live, s.now()));
  json.number_field("ideal_cycle_time_s", static_cast<double>(m.ideal_cycle_us) / 1e6);
  json.key("targets").begin_object();
  const std::pair<const char*, double> targets[] = {{"oee", m.targets.oee},
                                                   {"availability", m.targets.availability},
                                                   {"performance", m.targets.performance},
                                                   {"quality", m.targets.quality}};
  for (const auto& [name, v] : targets)
    if (v > 0) json.number_field(name, v);
  json.end_object().end_object();
}

// The id, path and name a site, area and line share; the object stays open for its children.
template <class Node>
void begin_node(JsonWriter& json, const Node& n) {
  json.begin_object().string_field("id", n.id).string_field("path", n.path).string_field("name", n.name);
}

void write_site(JsonWriter& json, const server::PlantService& s, const SiteSpec& site) {
  begin_node(json, site);
  json.key("areas").begin_array();
  for (const AreaSpec& area : site.areas) {
    begin_node(json, area);
    json.key("lines").begin_array();
    for (const LineSpec& line : area.lines) {
      begin_node(json, line);
      json.key("machines").begin_array();
      for (const MachineSpec& m : line.machines) write_machine(json, s, m);
      json.end_array().end_object();
    }
    json.end_array().end_object();
  }
  json.end_array().end_object();
}

HttpResponse plant_tree(server::PlantService& s) {
  const PlantModel& p = s.plant();
  std::string out;
  JsonWriter json(out);
  json.begin_object();
  if (!p.name.empty()) json.string_field("name", p.name);
  json.string_field("timezone", p.timezone).string_field("now", time_text(s, s.now()));
  json.number_field("clock_rate", s.clock_rate());  // the demo's clock runs --speed times as fast
  ShiftOccurrence shift;
  if (s.current_shift(shift)) {
    json.key("current_shift").begin_object().string_field("name", shift.name);
    if (!shift.crew.empty()) json.string_field("crew", shift.crew);
    json.string_field("from", time_text(s, shift.start)).string_field("to", time_text(s, shift.end));
    json.key("breaks").begin_array();
    for (const ShiftBreak& b : shift.breaks) {
      json.begin_object().string_field("from", time_text(s, b.start)).string_field("to", time_text(s, b.end));
      if (!b.name.empty()) json.string_field("name", b.name);
      json.end_object();
    }
    json.end_array().end_object();
  }
  json.key("sites").begin_array();
  for (const SiteSpec& site : p.sites) write_site(json, s, site);
  json.end_array().end_object();
  return HttpResponse::json(std::move(out));
}


// The current shift's figures (the default window) are asked for constantly by dashboards and
// integrations: one computation serves them until the next ingest, for at most a second.
class CurrentShiftCache {
 public:
  static constexpr std::int64_t kMaxAgeMs = 1000;
  std::optional<std::string> find(const std::string& key, std::uint64_t generation) const {
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(mutex_);
    auto it = entries_.find(key);
    if (it == entries_.end() || it->second.generation != generation ||
        now - it->second.computed > std::chrono::milliseconds(kMaxAgeMs))
      return std::nullopt;
    return it->second.body;
  }
  void put(const std::string& key, std::uint64_t generation, const std::string& body) {
    std::lock_guard lock(mutex_);
    if (entries_.size() > 1000) entries_.clear();  // bounded: nodes x groupings
    entries_[key] = {generation, std::chrono::steady_clock::now(), body};
  }

 private:
  struct Entry {
    std::uint64_t generation;
    std::chrono::steady_clock::time_point computed;
    std::string body;
  };
  mutable std::mutex mutex_;
  std::map<std::string, Entry> entries_;
};

// KPIs are served from rollups: a year per request.
constexpr std::int64_t kKpiWindowDaysMax = 366;

// by=run: the runs of a machine or a line with a stretch in [from, to) (the one open at `from`
// included), each with its KPIs over its stretches up to min(to, now); a run's ideal cycle override
// counts for its performance (server/src/node_run_kpis.cpp).
HttpResponse kpis_by_run(server::PlantService& s, const HttpRequest& r) {
  const std::string node(r.query_value("node").value_or(""));
  if (!s.plant().find_machine(node) && !s.plant().find_line(node))
    return HttpResponse::error(400, "bad_parameter", "'by=run' needs a machine or a line as 'node'");
  TimeMs from = 0, to = 0;
  std::string why;
  if (!window_params(s, r, from, to, kStopsReportWindowDaysMax, why)) return HttpResponse::error(400, "bad_parameter", why);
  const auto runs = s.node_run_kpis(node, from, to);
  if (!runs) return HttpResponse::error(400, "bad_parameter", "'by=run' needs a machine or a line as 'node'");
  const TimeZone& zone = s.zone();
  std::string out;
  JsonWriter json(out);
  json.begin_array();
  for (const RunKpis& k : *runs)
    codec::write_kpi_json(json, k.totals, {node, k.start, k.end, {}, zone.offset_ms_at(k.start), {}, k.run, k.product});
  json.end_array();
  return HttpResponse::json(std::move(out));
}

HttpResponse kpis(server::PlantService& s, const HttpRequest& r, CurrentShiftCache* cache = nullptr) {
  if (r.query_value("by").value_or("") == "run") return kpis_by_run(s, r);
  const std::string node(r.query_value("node").value_or(""));
  if (!s.plant().has_node(node)) return HttpResponse::error(400, "unknown_node", "'" + node + "' is not a node of the plant");
  const std::string by_text(r.query_value("by").value_or(""));
  const auto by = parse_grouping(by_text);
  if (!by) return HttpResponse::error(400, "bad_parameter", "'by' must be hour, day, shift, crew or run");
  if (*by == Grouping::crew && s.plant().rotation.empty())
    return HttpResponse::error(400, "bad_parameter", "'by=crew' needs a rotation (crews) in the plant file");
  // Default window: the current shift so far (or the last 8 hours outside shifts).
  const TimeMs now = s.now();
  ShiftOccurrence shift;
  const TimeMs default_from = s.current_shift(shift, node) ? shift.start : now - 8 * kMsPerHour;
  TimeMs from = 0, to = 0;
  std::string error;
  if (!time_param(r, "from", default_from, from, error) || !time_param(r, "to", now, to, error))
    return HttpResponse::error(400, "bad_parameter", error);
  if (to <= from) return HttpResponse::error(400, "bad_parameter", "'to' must be after 'from'");
  if (*by == Grouping::hour && (to - from) / kMsPerHour > kBucketsMax)
    return HttpResponse::error(400, "too_many_buckets", "at most 10000 buckets per request");
  if (*by != Grouping::none && (to - from) / kMsPerDay > kBucketsMax / 3)
    return HttpResponse::error(400, "too_many_buckets", "at most 10000 buckets per request");
  if (!window_within(from, to, kKpiWindowDaysMax, error)) return HttpResponse::error(400, "bad_parameter", error);
  const bool default_window = !r.query_value("from") && !r.query_value("to");
  const std::string cache_key = node + '|' + by_text;
  const std::uint64_t generation = s.ingest_generation();
  if (cache && default_window)
    if (auto body = cache->find(cache_key, generation)) return HttpResponse::json(std::move(*body));
  const auto rows = s.node_kpis(node, *by, from, to);
  const std::string node_name = node.empty() ? "plant" : node;
  const ShiftCalendar node_calendar = s.calendar().for_node(node);  // its site's zone, or UTC across zones
  std::string out;
  JsonWriter json(out);
  if (*by != Grouping::none) json.begin_array();
  for (const auto& row : rows)
    codec::write_kpi_json(json, row.totals,
                          {node_name, row.bucket.range.start, row.bucket.range.end, row.bucket.shift,
                           node_calendar.zone().offset_ms_at(row.bucket.range.start), row.bucket.crew});
  if (*by != Grouping::none) json.end_array();
  if (cache && default_window) cache->put(cache_key, generation, out);
  return HttpResponse::json(std::move(out));
}

HttpResponse dead_letters(server::PlantService& s, const HttpRequest& r) {
  std::int64_t limit = 0, before = 0;
  std::string error;
  if (!id_page_params(r, limit, before, error)) return HttpResponse::error(400, "bad_parameter", error);
  const auto [letters, total] = s.read_store([&](storage::EventStore& store) {
    return std::make_pair(store.dead_letters(before, static_cast<std::size_t>(limit)), store.dead_letter_count());
  });
  std::string out;
  JsonWriter json(out);
  json.begin_object().int_field("total", total).key("items").begin_array();
  for (const auto& d : letters) {
    json.begin_object().int_field("id", d.id).string_field("received", time_text(s, d.received));
    json.string_field("topic", d.topic).string_field("reason", d.reason).string_field("payload", d.payload).end_object();
  }
  json.end_array();
  const bool full = !letters.empty() && static_cast<std::int64_t>(letters.size()) == limit;
  return close_id_page(json, r, full ? std::optional(letters.back().id) : std::nullopt);
}

// Conflicts, newest first: each received version of a stored identity that said something else,
// beside the stored version (JSON text of each; `stored` empty when it is not at the same machine
// and hour). Paged like the dead letters.
HttpResponse conflicts(server::PlantService& s, const HttpRequest& r) {
  std::int64_t limit = 0, before = 0;
  std::string error;
  if (!id_page_params(r, limit, before, error)) return HttpResponse::error(400, "bad_parameter", error);
  const auto [list, total] = s.read_store([&](storage::EventStore& store) {
    return std::make_pair(store.conflicts(before, static_cast<std::size_t>(limit)), store.conflict_count());
  });
  std::string out;
  JsonWriter json(out);
  json.begin_object().int_field("total", total).key("items").begin_array();
  for (const auto& c : list) {
    json.begin_object().int_field("id", c.id).string_field("received", time_text(s, c.received));
    json.string_field("src", c.src).string_field("incarnation", c.incarnation).int_field("seq", c.seq);
    json.string_field("machine", c.machine).string_field("stored", c.stored_json).string_field("version", c.received_json);
    json.end_object();
  }
  json.end_array();
  const bool full = !list.empty() && static_cast<std::int64_t>(list.size()) == limit;
  return close_id_page(json, r, full ? std::optional(list.back().id) : std::nullopt);
}

// A source incarnation's place in the list, and its paging cursor: src, a tab, the incarnation.
std::string source_cursor(const storage::SourceStats& s) { return s.src + '\t' + s.incarnation; }

void write_source(JsonWriter& json, const server::PlantService& s, const storage::SourceStats& src) {
  json.begin_object().string_field("src", src.src).string_field("incarnation", src.incarnation);
  json.int_field("events", src.events).int_field("seq_min", src.seq_min).int_field("seq_max", src.seq_max);
  json.key("gaps").begin_array();
  for (const auto& [first, last] : src.gaps) json.begin_array().integer(first).integer(last).end_array();
  json.end_array().string_field("last_seen", time_text(s, src.last_seen)).int_field("clock_offset_ms", src.clock_offset_ms);
  json.int_field("future_events", src.future_events).int_field("conflicts", src.conflicts).end_object();
}

HttpResponse sources(server::PlantService& s, const HttpRequest& r) {
  Page page;
  std::string error;
  if (!page_params(r, kPageLimitMax, page, error)) return HttpResponse::error(400, "bad_parameter", error);
  auto list = s.read_store([](storage::EventStore& store) { return store.sources(); });
  std::sort(list.begin(), list.end(), [](const auto& a, const auto& b) { return source_cursor(a) < source_cursor(b); });
  std::string out;
  JsonWriter json(out);
  json.begin_array();
  std::int64_t taken = 0;
  std::string next;  // the last source given, when more follow
  for (const auto& src : list) {
    if (page.cursor && source_cursor(src) <= *page.cursor) continue;
    if (taken == page.limit) {
      next = source_cursor(list[static_cast<std::size_t>(&src - list.data()) - 1]);
      break;
    }
    ++taken;
    write_source(json, s, src);
  }
  return close_array_page(json, r, next);
}

}  // namespace

void add_plant_routes(server::Router& router, server::PlantService& service, const Access& access) {
  using auth::Role;
  using auth::Principal;
  router.add("GET", "/healthz", [](const HttpRequest&) {
    std::string out;
    JsonWriter(out).begin_object().string_field("status", "ok").end_object();
    return HttpResponse::json(std::move(out));
  });
  router.add("GET", "/api/v1/plant", access.require(Role::display, [&service](const HttpRequest&, const Principal&) { return plant_tree(service); }));
  auto cache = std::make_shared<CurrentShiftCache>();
  router.add("GET", "/api/v1/kpis", access.require(Role::display, [&service, cache](const HttpRequest& r, const Principal&) {
    return kpis(service, r, cache.get());
  }));
  router.add("GET", "/api/v1/dead-letters", access.require(Role::viewer, [&service](const HttpRequest& r, const Principal&) { return dead_letters(service, r); }));
  router.add("GET", "/api/v1/conflicts", access.require(Role::viewer, [&service](const HttpRequest& r, const Principal&) { return conflicts(service, r); }));
  router.add("GET", "/api/v1/sources", access.require(Role::viewer, [&service](const HttpRequest& r, const Principal&) { return sources(service, r); }));
}

}  // namespace oee::api
