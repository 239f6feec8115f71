// GET /api/v1/tags: a machine's raw readings (tag) per bucket: counter values, count increments or
// the samples of a named process value (sample.NAME, from edge tags mapped to `sample:NAME`), with
// min/max/avg.
#include <map>

#include "paging.h"
#include "query_params.h"
#include "oee/api/routes.h"

namespace oee::api {

using server::HttpRequest;
using server::HttpResponse;
using namespace detail;

namespace {

// What a tag reads: the event type and which counter (counter.*) or count (count.*), or the name
// of a sample.
struct TagSelector {
  EventType type = EventType::sample;
  int which = 0;
  std::string_view sample_name;
};

bool tag_selector(const std::string& tag, TagSelector& out) {
  static const std::map<std::string, std::pair<EventType, int>, std::less<>> kTags = {
      {"counter.total", {EventType::counter, 0}}, {"counter.good", {EventType::counter, 1}},
      {"counter.reject", {EventType::counter, 2}}, {"count.good", {EventType::count, 0}},
      {"count.reject", {EventType::count, 1}}};
  if (const auto it = kTags.find(tag); it != kTags.end()) {
    out = {it->second.first, it->second.second, {}};
    return true;
  }
  if (!tag.starts_with("sample.") || tag.size() <= 7) return false;
  out = {EventType::sample, 0, std::string_view(tag).substr(7)};
  return true;
}

// The value the event gives the tag; false when it gives none.
bool tag_value(const Event& e, const TagSelector& tag, double& v) {
  if (e.type != tag.type) return false;
  if (e.type == EventType::sample) {
    v = e.sample_value;
    return e.sample_name == tag.sample_name;
  }
  if (e.type == EventType::counter) {
    v = static_cast<double>(e.value);
    return static_cast<int>(e.counter) == tag.which;
  }
  v = static_cast<double>(tag.which == 0 ? e.good : e.reject);
  return true;
}

struct Aggregate {
  double min = 0, max = 0, sum = 0;
  std::int64_t n = 0;
};

std::map<TimeMs, Aggregate> buckets_of(const std::vector<Event>& events, const TagSelector& tag, TimeMs from, DurationMs width) {
  std::map<TimeMs, Aggregate> buckets;
  for (const Event& e : events) {
    double v = 0;
    if (!tag_value(e, tag, v)) continue;
    Aggregate& a = buckets[from + (e.ts - from) / width * width];
    a.min = a.n ? std::min(a.min, v) : v;
    a.max = a.n ? std::max(a.max, v) : v;
    a.sum += v;
    ++a.n;
  }
  return buckets;
}

HttpResponse tag_history(server::PlantService& s, const HttpRequest& r) {
  HttpResponse error;
  const MachineSpec* m = machine_param(s, r.query_value("machine").value_or(""), error);
  if (!m) return error;
  const std::string tag(r.query_value("tag").value_or("counter.total"));
  TagSelector selector;
  if (!tag_selector(tag, selector))
    return HttpResponse::error(400, "bad_parameter",
                               "'tag' must be counter.total, counter.good, counter.reject, count.good, count.reject or sample.NAME");
  TimeMs from = 0, to = 0;
  std::int64_t bucket_s = 0, after = kTimeMin;
  Page page;
  std::string why;
  if (!window_params(s, r, from, to, kRawWindowDaysMax, why) || !int_param(r, "bucket_s", 60, 1, 31 * 86400, bucket_s, why) ||
      !page_params(r, kPageLimitMax, page, why) || (page.cursor && !integer_cursor(*page.cursor, after, why)))
    return HttpResponse::error(400, "bad_parameter", why);
  if ((to - from) / (bucket_s * 1000) > kBucketsMax) return HttpResponse::error(400, "too_many_buckets", "at most 10000 buckets per request");
  const auto events = s.read_store([&](storage::EventStore& st) { return st.machine_events(m->path, from, to); });
  const auto buckets = buckets_of(events, selector, from, bucket_s * 1000);
  std::string out;
  JsonWriter json(out);
  json.begin_object().string_field("machine", m->path).string_field("tag", tag).int_field("bucket_s", bucket_s);
  json.key("buckets").begin_array();
  std::int64_t taken = 0;
  std::string next;  // the start (ms) of the first bucket left out
  for (auto it = buckets.lower_bound(after); it != buckets.end(); ++it) {
    const auto& [start, a] = *it;
    if (taken++ == page.limit) {
      next = std::to_string(start);
      break;
    }
    json.begin_object().string_field("from", time_text(s, start)).number_field("min", a.min).number_field("max", a.max);
    json.number_field("avg", a.sum / static_cast<double>(a.n)).int_field("samples", a.n).end_object();
  }
  json.end_array();
  return close_cursor_page(json, r, next);
}

}  // namespace

void add_tag_routes(server::Router& router, server::PlantService& service, const Access& access) {
  router.add("GET", "/api/v1/tags", access.require(auth::Role::viewer, [&service](const HttpRequest& r, const auth::Principal&) {
    return tag_history(service, r);
  }));
}

}  // namespace oee::api
