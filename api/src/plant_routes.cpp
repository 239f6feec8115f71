#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>

#include "json_text.h"
#include "paging.h"
#include "oee/api/routes.h"

namespace oee::api {

using server::HttpRequest;
using server::HttpResponse;

using namespace detail;

namespace {

void append_machine(std::string& out, const server::PlantService& s, const MachineSpec& m) {
  const server::MachineLiveState live = s.live_state(m.path);
  out += '{';
  string_field(out, "id", m.id);
  string_field(out, "path", m.path);
  string_field(out, "name", m.name);
  string_field(out, "state", state_name(live.state));
  if (!live.reason.empty()) string_field(out, "reason", live.reason);
  if (live.since != 0) string_field(out, "since", time_text(s, live.since));
  if (!live.product.empty()) string_field(out, "product", live.product);
  if (live.last_event != 0) string_field(out, "last_event", time_text(s, live.last_event));
  // Silent beyond its no_data_after_s: its state above is only the last one it sent.
  key(out, "no_data");
  out += server::is_silent(m, live, s.now()) ? "true," : "false,";
  key(out, "ideal_cycle_time_s");
  codec::append_json_number(out, static_cast<double>(m.ideal_cycle_us) / 1e6);
  out += ',';
  key(out, "targets");
  out += '{';
  const std::pair<const char*, double> targets[] = {{"oee", m.targets.oee},
                                                   {"availability", m.targets.availability},
                                                   {"performance", m.targets.performance},
                                                   {"quality", m.targets.quality}};
  for (const auto& [name, v] : targets) {
    if (v <= 0) continue;
    key(out, name);
    codec::append_json_number(out, v);
    out += ',';
  }
  close_object(out);
  out += '}';
}

HttpResponse plant_tree(server::PlantService& s) {
  const PlantModel& p = s.plant();
  std::string out = "{";
  string_field(out, "timezone", p.timezone);
  string_field(out, "now", time_text(s, s.now()));
  ShiftOccurrence shift;
  if (s.current_shift(shift)) {
    key(out, "current_shift");
    out += '{';
    string_field(out, "name", shift.name);
    string_field(out, "from", time_text(s, shift.start));
    string_field(out, "to", time_text(s, shift.end));
    close_object(out);
    out += ',';
  }
  key(out, "sites");
  out += '[';
  for (const SiteSpec& site : p.sites) {
    out += '{';
    string_field(out, "id", site.id);
    string_field(out, "path", site.path);
    string_field(out, "name", site.name);
    key(out, "areas");
    out += '[';
    for (const AreaSpec& area : site.areas) {
      out += '{';
      string_field(out, "id", area.id);
      string_field(out, "path", area.path);
      string_field(out, "name", area.name);
      key(out, "lines");
      out += '[';
      for (const LineSpec& line : area.lines) {
        out += '{';
        string_field(out, "id", line.id);
        string_field(out, "path", line.path);
        string_field(out, "name", line.name);
        key(out, "machines");
        out += '[';
        for (const MachineSpec& m : line.machines) {
          append_machine(out, s, m);
          out += ',';
        }
        close_array(out);
        out += '}';
        out += ',';
      }
      close_array(out);
      out += "},";
    }
    close_array(out);
    out += "},";
  }
  close_array(out);
  out += '}';
  return HttpResponse::json(std::move(out));
}

constexpr std::size_t kBucketsMax = 10'000;

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

HttpResponse kpis(server::PlantService& s, const HttpRequest& r, CurrentShiftCache* cache = nullptr) {
  const std::string node(r.query_value("node").value_or(""));
  if (!s.plant().has_node(node)) return HttpResponse::error(400, "unknown_node", "'" + node + "' is not a node of the plant");
  const std::string by_text(r.query_value("by").value_or(""));
  const auto by = parse_grouping(by_text);
  if (!by) return HttpResponse::error(400, "bad_parameter", "'by' must be hour, day or shift");
  // Default window: the current shift so far (or the last 8 hours outside shifts).
  const TimeMs now = s.now();
  ShiftOccurrence shift;
  const TimeMs default_from = s.current_shift(shift) ? shift.start : now - 8 * kMsPerHour;
  TimeMs from = 0, to = 0;
  std::string error;
  if (!time_param(r, "from", default_from, from, error) || !time_param(r, "to", now, to, error))
    return HttpResponse::error(400, "bad_parameter", error);
  if (to <= from) return HttpResponse::error(400, "bad_parameter", "'to' must be after 'from'");
  if (*by == Grouping::hour && (to - from) / kMsPerHour > static_cast<TimeMs>(kBucketsMax))
    return HttpResponse::error(400, "too_many_buckets", "at most 10000 buckets per request");
  if (*by != Grouping::none && (to - from) / kMsPerDay > static_cast<TimeMs>(kBucketsMax / 3))
    return HttpResponse::error(400, "too_many_buckets", "at most 10000 buckets per request");
  if (!window_within(from, to, kKpiWindowDaysMax, error)) return HttpResponse::error(400, "bad_parameter", error);
  const bool default_window = !r.query_value("from") && !r.query_value("to");
  const std::string cache_key = node + '|' + by_text;
  const std::uint64_t generation = s.ingest_generation();
  if (cache && default_window)
    if (auto body = cache->find(cache_key, generation)) return HttpResponse::json(std::move(*body));
  const auto rows = s.node_kpis(node, *by, from, to);
  const std::string node_name = node.empty() ? "plant" : node;
  std::string out;
  if (*by != Grouping::none) out += '[';
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (i) out += ',';
    codec::append_kpi_json(out, rows[i].totals,
                           {node_name, rows[i].bucket.range.start, rows[i].bucket.range.end, rows[i].bucket.shift,
                            s.zone().offset_ms_at(rows[i].bucket.range.start)});
  }
  if (*by != Grouping::none) out += ']';
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
  std::string out = "{\"total\":" + std::to_string(total) + ",\"items\":[";
  for (const auto& d : letters) {
    out += "{\"id\":" + std::to_string(d.id) + ',';
    string_field(out, "received", time_text(s, d.received));
    string_field(out, "topic", d.topic);
    string_field(out, "reason", d.reason);
    string_field(out, "payload", d.payload);
    close_object(out);
    out += ',';
  }
  close_array(out);
  const bool full = !letters.empty() && static_cast<std::int64_t>(letters.size()) == limit;
  return close_id_page(std::move(out), r, full ? std::optional(letters.back().id) : std::nullopt);
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
  std::string out = "{\"total\":" + std::to_string(total) + ",\"items\":[";
  for (const auto& c : list) {
    out += "{\"id\":" + std::to_string(c.id) + ',';
    string_field(out, "received", time_text(s, c.received));
    string_field(out, "src", c.src);
    string_field(out, "incarnation", c.incarnation);
    out += "\"seq\":" + std::to_string(c.seq) + ',';
    string_field(out, "machine", c.machine);
    string_field(out, "stored", c.stored_json);
    string_field(out, "version", c.received_json);
    close_object(out);
    out += ',';
  }
  close_array(out);
  const bool full = !list.empty() && static_cast<std::int64_t>(list.size()) == limit;
  return close_id_page(std::move(out), r, full ? std::optional(list.back().id) : std::nullopt);
}

// A source incarnation's place in the list, and its paging cursor: src, a tab, the incarnation.
std::string source_cursor(const storage::SourceStats& s) { return s.src + '\t' + s.incarnation; }

HttpResponse sources(server::PlantService& s, const HttpRequest& r) {
  Page page;
  std::string error;
  if (!page_params(r, kPageLimitMax, page, error)) return HttpResponse::error(400, "bad_parameter", error);
  auto list = s.read_store([](storage::EventStore& store) { return store.sources(); });
  std::sort(list.begin(), list.end(), [](const auto& a, const auto& b) { return source_cursor(a) < source_cursor(b); });
  std::string out = "[";
  std::int64_t taken = 0;
  std::string next;  // the last source given, when more follow
  for (const auto& src : list) {
    if (page.cursor && source_cursor(src) <= *page.cursor) continue;
    if (taken == page.limit) {
      next = source_cursor(list[static_cast<std::size_t>(&src - list.data()) - 1]);
      break;
    }
    ++taken;
    out += '{';
    string_field(out, "src", src.src);
    string_field(out, "incarnation", src.incarnation);
    out += "\"events\":" + std::to_string(src.events) + ",\"seq_min\":" + std::to_string(src.seq_min) +
           ",\"seq_max\":" + std::to_string(src.seq_max) + ",\"gaps\":[";
    for (const auto& [first, last] : src.gaps) out += "[" + std::to_string(first) + "," + std::to_string(last) + "],";
    close_array(out);
    out += ',';
    string_field(out, "last_seen", time_text(s, src.last_seen));
    out += "\"clock_offset_ms\":" + std::to_string(src.clock_offset_ms) +
           ",\"future_events\":" + std::to_string(src.future_events) + ",\"conflicts\":" + std::to_string(src.conflicts) + "},";
  }
  close_array(out);
  HttpResponse response = HttpResponse::json(std::move(out));
  if (!next.empty()) link_next(response, r, next);  // a bare array: the cursor is in the header only
  return response;
}

}  // namespace

void add_plant_routes(server::Router& router, server::PlantService& service, const Access& access) {
  using auth::Role;
  using auth::Principal;
  router.add("GET", "/healthz", [](const HttpRequest&) { return HttpResponse::json("{\"status\":\"ok\"}"); });
  router.add("GET", "/api/v1/plant", access.require(Role::viewer, [&service](const HttpRequest&, const Principal&) { return plant_tree(service); }));
  auto cache = std::make_shared<CurrentShiftCache>();
  router.add("GET", "/api/v1/kpis", access.require(Role::viewer, [&service, cache](const HttpRequest& r, const Principal&) {
    return kpis(service, r, cache.get());
  }));
  router.add("GET", "/api/v1/dead-letters", access.require(Role::viewer, [&service](const HttpRequest& r, const Principal&) { return dead_letters(service, r); }));
  router.add("GET", "/api/v1/conflicts", access.require(Role::viewer, [&service](const HttpRequest& r, const Principal&) { return conflicts(service, r); }));
  router.add("GET", "/api/v1/sources", access.require(Role::viewer, [&service](const HttpRequest& r, const Principal&) { return sources(service, r); }));
}

}  // namespace oee::api
