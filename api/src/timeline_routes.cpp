// GET /api/v1/timeline: a machine's state intervals in a window, paged, with what its counts data
// does not say consistently.
#include <algorithm>

#include "paging.h"
#include "query_params.h"
#include "stop_list.h"
#include "oee/api/routes.h"

namespace oee::api {

using server::HttpRequest;
using server::HttpResponse;
using namespace detail;

namespace {

// What the machine's counts data does not say consistently within [from, to) (docs/oee-model.md,
// "Data quality"): counter mismatches, resets read from a decrease, out-of-range values.
void data_quality_field(JsonWriter& json, server::PlantService& s, const MachineHistory& h, TimeMs from, TimeMs to) {
  json.key("data_quality").begin_array();
  for (const DataQualityIssue& d : h.data_quality()) {
    if (d.ts < from || d.ts >= to) continue;
    json.begin_object().string_field("ts", time_text(s, d.ts)).string_field("kind", data_quality_kind_name(d.kind));
    json.string_field("counter", counter_name(d.counter)).int_field("amount", d.amount).end_object();
  }
  json.end_array();
}

void write_interval(JsonWriter& json, server::PlantService& s, const MachineHistory& h, const StateInterval& iv, TimeMs from,
                    TimeMs to, TimeMs now) {
  json.begin_object();
  json.string_field("from", time_text(s, std::max(iv.start, from)));
  json.string_field("to", time_text(s, std::min({iv.end, to, now})));
  json.string_field("state", state_name(iv.state));
  if (!iv.reason.empty()) json.string_field("reason", iv.reason);
  if (is_unplanned_stop(iv.state)) json.string_field("kind", loss_kind(h, iv, now));
  json.end_object();
}

HttpResponse timeline(server::PlantService& s, const HttpRequest& r) {
  HttpResponse error;
  const MachineSpec* m = machine_param(s, r.query_value("machine").value_or(""), error);
  if (!m) return error;
  TimeMs from = 0, to = 0;
  Page page;
  std::int64_t after = kTimeMin;
  std::string why;
  if (!window_params(s, r, from, to, kRawWindowDaysMax, why) || !page_params(r, kPageLimitMax, page, why) ||
      (page.cursor && !integer_cursor(*page.cursor, after, why)))
    return HttpResponse::error(400, "bad_parameter", why);
  const TimeMs now = s.now();
  const MachineHistory h = window_history(s, *m, from, to);
  std::string out;
  JsonWriter json(out);
  json.begin_object().string_field("machine", m->path);
  json.string_field("from", time_text(s, from)).string_field("to", time_text(s, to));
  json.key("intervals").begin_array();
  std::int64_t taken = 0;
  std::string next;  // the start (ms) of the first interval left out
  for (const StateInterval& iv : h.intervals()) {
    if (iv.end <= from || iv.start >= to || iv.start >= now || iv.start < after) continue;
    if (taken++ == page.limit) {
      next = std::to_string(iv.start);
      break;
    }
    write_interval(json, s, h, iv, from, to, now);
  }
  json.end_array();
  // The data-quality issues of the window come whole with every page (few, and not paged).
  data_quality_field(json, s, h, from, std::min(to, now));
  return close_cursor_page(json, r, next);
}

}  // namespace

void add_timeline_routes(server::Router& router, server::PlantService& service, const Access& access) {
  router.add("GET", "/api/v1/timeline", access.require(auth::Role::viewer, [&service](const HttpRequest& r, const auth::Principal&) {
    return timeline(service, r);
  }));
}

}  // namespace oee::api
