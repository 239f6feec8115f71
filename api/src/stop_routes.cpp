// A machine's state timeline, stops with durations, reasons and comments, assigning reasons (an
// event through the one ingest path, so KPIs and the Pareto see it at once), loss Pareto, counts
// and rate, tag history, and CSV exports.
#include <algorithm>
#include <map>
#include <thread>

#include "body_json.h"
#include "json_text.h"
#include "paging.h"
#include "oee/api/routes.h"

namespace oee::api {

using server::HttpRequest;
using server::HttpResponse;
using auth::Principal;
using auth::Role;
using namespace detail;

namespace {

constexpr std::size_t kReasonBytesMax = 128;
constexpr std::size_t kCommentBytesMax = 2000;
constexpr std::int64_t kBucketsMax = 10'000;
// The longest window per request (docs/api.md): the routes that read raw events (timeline, stops,
// tags) a month, the stop Pareto and export a quarter, the routes served from rollups a year.
constexpr std::int64_t kRawWindowDaysMax = 31;
constexpr std::int64_t kStopsReportWindowDaysMax = 92;
constexpr std::int64_t kRollupWindowDaysMax = 366;

// The history of a machine able to answer for [from, to), with every reason given so far: it
// reaches back to the start of the state in effect at `from` (reasons name a stop by an instant in
// it) and up to now (a reason is an event stamped when it was given).
MachineHistory window_history(server::PlantService& s, const MachineSpec& m, TimeMs from, TimeMs to) {
  const TimeMs upper = std::max(to, s.now()) + kMsPerMinute;  // reasons just given are stamped a little after now
  return s.read_store([&](storage::EventStore& store) {
    MachineHistory h = store.machine_history(m, from, upper);
    const auto i = h.interval_at(from);
    if (i >= 0 && h.intervals()[static_cast<std::size_t>(i)].start < from)
      h = store.machine_history(m, h.intervals()[static_cast<std::size_t>(i)].start, upper);
    return h;
  });
}

// What the machine's counts data does not say consistently within [from, to) (docs/oee-model.md,
// "Data quality"): counter mismatches, resets read from a decrease, out-of-range values.
void data_quality_field(std::string& out, server::PlantService& s, const MachineHistory& h, TimeMs from, TimeMs to) {
  out += "\"data_quality\":[";
  for (const DataQualityIssue& d : h.data_quality()) {
    if (d.ts < from || d.ts >= to) continue;
    out += '{';
    string_field(out, "ts", time_text(s, d.ts));
    string_field(out, "kind", data_quality_kind_name(d.kind));
    string_field(out, "counter", counter_name(d.counter));
    int_field(out, "amount", d.amount);
    close_object(out);
    out += ',';
  }
  close_array(out);
}

std::string_view loss_kind(const MachineHistory& h, const StateInterval& iv, TimeMs now) {
  if (h.is_small_stop(iv, now)) return "small_stop";
  if (iv.state == State::stopped) return "breakdown";
  return state_name(iv.state);
}

struct Stop {
  const MachineSpec* machine;
  StateInterval interval;
  std::string_view kind;
  DurationMs duration_ms;
};

// The part of a stop inside planned production time (what counts as a loss), up to now.
DurationMs planned_part_ms(const StateInterval& iv, const std::vector<Interval>& planned, TimeMs now) {
  DurationMs ms = 0;
  for (const Interval& p : planned)
    ms += std::max<DurationMs>(0, std::min({iv.end, p.end, now}) - std::max(iv.start, p.start));
  return ms;
}

std::vector<Stop> stops_of(server::PlantService& s, const std::vector<const MachineSpec*>& machines, TimeMs from, TimeMs to) {
  const TimeMs now = s.now();
  std::vector<Stop> out;
  for (const MachineSpec* m : machines) {
    const MachineHistory h = window_history(s, *m, from, to);
    for (const StateInterval& iv : h.intervals()) {
      if (iv.end <= from || iv.start >= to || iv.state == State::running || iv.state == State::unknown) continue;
      const DurationMs d = std::max<DurationMs>(0, std::min(iv.end, now) - iv.start);
      out.push_back({m, iv, loss_kind(h, iv, now), d});
    }
  }
  std::sort(out.begin(), out.end(), [](const Stop& a, const Stop& b) {
    return a.interval.start != b.interval.start ? a.interval.start > b.interval.start : a.machine->path < b.machine->path;
  });
  return out;
}

// Closes an object response (`out` ends with a field and its comma, or with '{'): adds `next` and
// the Link header when there is a next page.
HttpResponse with_next(std::string out, const HttpRequest& r, const std::string& next) {
  if (!next.empty()) string_field(out, "next", next);
  close_object(out);
  HttpResponse response = HttpResponse::json(std::move(out));
  if (!next.empty()) link_next(response, r, next);
  return response;
}

// The first stop after the stop a cursor names ("<start ms>,<machine>"), in the list's order
// (newest first, then by machine).
bool first_after_cursor(const std::vector<Stop>& list, const std::string& cursor, std::size_t& first, std::string& why) {
  const std::size_t comma = cursor.find(',');
  std::int64_t start = 0;
  if (comma == std::string::npos || !integer_cursor(cursor.substr(0, comma), start, why)) {
    why = "'cursor' must be the 'next' of a previous page of this route";
    return false;
  }
  const std::string_view machine = std::string_view(cursor).substr(comma + 1);
  first = static_cast<std::size_t>(std::find_if(list.begin(), list.end(), [&](const Stop& st) {
                                     return st.interval.start < start || (st.interval.start == start && st.machine->path > machine);
                                   }) - list.begin());
  return true;
}

bool node_param(const server::PlantService& s, const HttpRequest& r, const char* name, std::string& node, HttpResponse& error) {
  node = std::string(r.query_value(name).value_or(""));
  if (!s.plant().has_node(node)) {
    error = HttpResponse::error(400, "unknown_node", "'" + node.substr(0, 200) + "' is not a node of the plant");
    return false;
  }
  return true;
}

const MachineSpec* machine_param(const server::PlantService& s, std::string_view path, HttpResponse& error) {
  const MachineSpec* m = s.plant().find_machine(path);
  if (!m) error = HttpResponse::error(400, "unknown_machine", "'" + std::string(path.substr(0, 200)) + "' is not a machine of the plant");
  return m;
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
  std::string out = "{";
  string_field(out, "machine", m->path);
  string_field(out, "from", time_text(s, from));
  string_field(out, "to", time_text(s, to));
  out += "\"intervals\":[";
  std::int64_t taken = 0;
  std::string next;  // the start (ms) of the first interval left out
  for (const StateInterval& iv : h.intervals()) {
    if (iv.end <= from || iv.start >= to || iv.start >= now || iv.start < after) continue;
    if (taken++ == page.limit) {
      next = std::to_string(iv.start);
      break;
    }
    out += '{';
    string_field(out, "from", time_text(s, std::max(iv.start, from)));
    string_field(out, "to", time_text(s, std::min({iv.end, to, now})));
    string_field(out, "state", state_name(iv.state));
    if (!iv.reason.empty()) string_field(out, "reason", iv.reason);
    if (is_unplanned_stop(iv.state)) string_field(out, "kind", loss_kind(h, iv, now));
    close_object(out);
    out += ',';
  }
  close_array(out);
  out += ',';
  // The data-quality issues of the window come whole with every page (few, and not paged).
  data_quality_field(out, s, h, from, std::min(to, now));
  out += ',';
  return with_next(std::move(out), r, next);
}

HttpResponse stops(server::PlantService& s, StopComments& comments, const HttpRequest& r) {
  HttpResponse error;
  std::string node;
  if (!node_param(s, r, "node", node, error)) return error;
  TimeMs from = 0, to = 0;
  std::int64_t offset = 0;
  Page page;
  std::string why;
  if (!window_params(s, r, from, to, kRawWindowDaysMax, why) || !page_params(r, 100, page, why) ||
      !int_param(r, "offset", 0, 0, INT64_MAX / 2, offset, why))
    return HttpResponse::error(400, "bad_parameter", why);
  const std::int64_t limit = page.limit;
  const auto machines = s.plant().machines_under(node);
  const auto list = stops_of(s, machines, from, to);
  std::size_t first = std::min(list.size(), static_cast<std::size_t>(offset));
  if (page.cursor && !first_after_cursor(list, *page.cursor, first, why)) return HttpResponse::error(400, "bad_parameter", why);
  const TimeMs now = s.now();
  const auto planned = s.calendar().planned_intervals(from, std::max(from, std::min(to, now)));
  std::string out = "{\"total\":" + std::to_string(list.size()) + ",\"items\":[";
  const std::size_t last = std::min(list.size(), first + static_cast<std::size_t>(limit));
  std::map<std::string, std::vector<StopComment>> by_machine;
  for (std::size_t i = first; i < last; ++i) {
    const Stop& stop = list[i];
    auto [it, inserted] = by_machine.try_emplace(stop.machine->path);
    if (inserted) it->second = comments.of_machine(stop.machine->path, list[last - 1].interval.start, list[first].interval.start + 1);
    out += '{';
    string_field(out, "machine", stop.machine->path);
    string_field(out, "from", time_text(s, stop.interval.start));
    if (stop.interval.end != kTimeMax) string_field(out, "to", time_text(s, stop.interval.end));
    number_field(out, "duration_s", static_cast<double>(stop.duration_ms) / 1000.0);
    number_field(out, "planned_s", static_cast<double>(planned_part_ms(stop.interval, planned, now)) / 1000.0);
    string_field(out, "state", state_name(stop.interval.state));
    string_field(out, "kind", stop.kind);
    string_field(out, "reason", stop.interval.reason);
    out += "\"comments\":[";
    for (const StopComment& c : it->second) {
      if (c.stop_start != stop.interval.start) continue;
      out += '{';
      string_field(out, "author", c.author);
      string_field(out, "at", time_text(s, c.created));
      string_field(out, "text", c.text);
      close_object(out);
      out += ',';
    }
    close_array(out);
    out += "},";
  }
  close_array(out);
  out += ",\"offset\":" + std::to_string(first) + ",\"limit\":" + std::to_string(limit) + ",";
  // The cursor names the last stop given (start and machine), so stops that begin meanwhile do not
  // shift the next page as an offset would.
  const std::string next = last < list.size() ? std::to_string(list[last - 1].interval.start) + "," + list[last - 1].machine->path : "";
  return with_next(std::move(out), r, next);
}

// The reason events this API writes: src "api" under this server's incarnation (servers sharing a
// store each number their own), a seq continuing what the store has, and timestamps that only
// grow, so the reason given last wins.
class ReasonWriter {
 public:
  explicit ReasonWriter(server::PlantService& s) : service_(s) {}
  server::IngestReport write(const std::string& machine, TimeMs at, const std::string& reason) {
    std::lock_guard lock(mutex_);
    if (next_seq_ < 0) {
      next_seq_ = 0;
      for (const auto& src : service_.read_store([](storage::EventStore& st) { return st.sources(); }))
        if (src.src == "api" && src.incarnation == service_.instance_id()) next_seq_ = src.seq_max + 1;
    }
    Event e;
    e.ts = std::max(service_.now(), last_ts_ + 1);
    e.machine = machine;
    e.type = EventType::reason;
    e.reason = reason;
    e.at = at;
    e.src = "api";
    e.inc = service_.instance_id();
    e.seq = next_seq_++;
    last_ts_ = e.ts;
    // Storage briefly unavailable: try again (the same src+seq, so a write that did commit is not
    // taken twice); the caller answers 503 when it still fails.
    for (int attempt = 0;; ++attempt) {
      try {
        return service_.ingest({e}, "api");
      } catch (const std::exception&) {
        if (attempt == 3) throw;
        std::this_thread::sleep_for(std::chrono::milliseconds(100 << attempt));
      }
    }
  }

 private:
  server::PlantService& service_;
  std::mutex mutex_;
  std::int64_t next_seq_ = -1;
  TimeMs last_ts_ = 0;
};

// The stop a write names by machine and an instant in it; a 400 in `error` when there is none.
bool find_stop(server::PlantService& s, const nlohmann::json& body, const MachineSpec*& m, StateInterval& stop, HttpResponse& error) {
  std::string machine, at_text;
  if (!string_member(body, "machine", 512, machine, error) || !string_member(body, "at", 64, at_text, error)) return false;
  if (!(m = machine_param(s, machine, error))) return false;
  const auto at = parse_timestamp(at_text);
  if (!at) {
    error = HttpResponse::error(400, "bad_body", "'at': '" + at_text + "' is not an RFC 3339 timestamp");
    return false;
  }
  const MachineHistory h = window_history(s, *m, *at, *at + 1);
  const auto i = h.interval_at(*at);
  if (i < 0 || !is_unplanned_stop(h.intervals()[static_cast<std::size_t>(i)].state) || *at > s.now()) {
    error = HttpResponse::error(400, "not_a_stop", "'" + machine + "' has no unplanned stop at " + at_text);
    return false;
  }
  stop = h.intervals()[static_cast<std::size_t>(i)];
  return true;
}

HttpResponse assign_reason(server::PlantService& s, const Access& access, ReasonWriter& writer, const HttpRequest& r,
                           const Principal& who) {
  HttpResponse error;
  const auto body = json_body(r, error);
  const MachineSpec* m = nullptr;
  StateInterval stop;
  std::string reason;
  if (!body || !string_member(*body, "reason", kReasonBytesMax, reason, error) || !find_stop(s, *body, m, stop, error)) return error;
  if (reason.empty()) return HttpResponse::error(400, "bad_body", "'reason' must not be empty");
  server::IngestReport report;
  try {
    report = writer.write(m->path, stop.start, reason);
  } catch (const std::exception& e) {
    return HttpResponse::error(503, "storage_unavailable", std::string("the reason could not be stored, try again: ") + e.what());
  }
  if (report.accepted != 1) return HttpResponse::error(500, "internal", "the reason event was not accepted");
  const std::string target = m->path + "@" + format_rfc3339(stop.start);
  access.audit(who, "reason.assign", target, "{\"reason\":" + nlohmann::json(stop.reason).dump() + "}",
               "{\"reason\":" + nlohmann::json(reason).dump() + "}");
  std::string out = "{";
  string_field(out, "machine", m->path);
  string_field(out, "from", time_text(s, stop.start));
  string_field(out, "reason", reason);
  string_field(out, "previous_reason", stop.reason);
  close_object(out);
  return HttpResponse::json(std::move(out));
}

HttpResponse add_comment(server::PlantService& s, const Access& access, StopComments& comments, const HttpRequest& r,
                         const Principal& who) {
  HttpResponse error;
  const auto body = json_body(r, error);
  const MachineSpec* m = nullptr;
  StateInterval stop;
  std::string text;
  if (!body || !string_member(*body, "text", kCommentBytesMax, text, error) || !find_stop(s, *body, m, stop, error)) return error;
  if (text.empty()) return HttpResponse::error(400, "bad_body", "'text' must not be empty");
  const std::int64_t id = comments.add(m->path, stop.start, s.now(), who.user, text);
  access.audit(who, "comment.add", m->path + "@" + format_rfc3339(stop.start), "", "{\"text\":" + nlohmann::json(text).dump() + "}");
  return HttpResponse::json("{\"id\":" + std::to_string(id) + "}", 201);
}

struct ParetoBar {
  std::string name;
  double seconds = 0;
  std::int64_t stops = 0;
};

HttpResponse pareto(server::PlantService& s, const HttpRequest& r) {
  HttpResponse error;
  std::string node;
  if (!node_param(s, r, "node", node, error)) return error;
  TimeMs from = 0, to = 0;
  std::string why;
  if (!window_params(s, r, from, to, kStopsReportWindowDaysMax, why)) return HttpResponse::error(400, "bad_parameter", why);
  const std::string by(r.query_value("by").value_or("reason"));
  std::vector<ParetoBar> bars;
  if (by == "kind") {
    const auto rows = s.node_kpis(node, Grouping::none, from, to);
    const KpiFigures f = derive_figures(rows.front().totals);
    bars = {{"breakdowns", f.breakdowns_s, rows.front().totals.breakdown_count},
            {"setup", f.setup_s, 0},
            {"starved", f.starved_s, 0},
            {"blocked", f.blocked_s, 0},
            {"small_stops", f.small_stops_s, 0},
            {"speed_loss", f.speed_loss_s, 0},
            {"production_rejects", f.production_rejects_s, 0},
            {"startup_rejects", f.startup_rejects_s, 0}};
  } else if (by == "reason") {
    // Unplanned stop time inside planned production time (breaks and planned stops excluded).
    const TimeMs now = s.now();
    const auto planned = s.calendar().planned_intervals(from, std::min(to, now));
    std::map<std::string, ParetoBar> by_reason;
    for (const Stop& stop : stops_of(s, s.plant().machines_under(node), from, std::min(to, now))) {
      if (!is_unplanned_stop(stop.interval.state)) continue;
      const DurationMs ms = planned_part_ms(stop.interval, planned, now);
      if (ms <= 0) continue;
      const std::string name = stop.interval.reason.empty() ? "(unassigned)" : stop.interval.reason;
      ParetoBar& bar = by_reason[name];
      bar.name = name;
      bar.seconds += static_cast<double>(ms) / 1000.0;
      ++bar.stops;
    }
    for (auto& [name, bar] : by_reason) bars.push_back(std::move(bar));
  } else {
    return HttpResponse::error(400, "bad_parameter", "'by' must be reason or kind");
  }
  std::stable_sort(bars.begin(), bars.end(), [](const ParetoBar& a, const ParetoBar& b) { return a.seconds > b.seconds; });
  double total = 0;
  for (const auto& b : bars) total += b.seconds;
  std::string out = "{";
  string_field(out, "node", node.empty() ? "plant" : node);
  string_field(out, "by", by);
  string_field(out, "from", time_text(s, from));
  string_field(out, "to", time_text(s, to));
  number_field(out, "total_s", total);
  out += "\"bars\":[";
  double cumulative = 0;
  for (const auto& b : bars) {
    cumulative += b.seconds;
    out += '{';
    string_field(out, "name", b.name);
    number_field(out, "seconds", b.seconds);
    if (by == "reason") int_field(out, "stops", b.stops);
    number_field(out, "cumulative_share", total > 0 ? cumulative / total : 0.0);
    close_object(out);
    out += ',';
  }
  close_array(out);
  out += '}';
  return HttpResponse::json(std::move(out));
}

// The node, window and grouping of a bucketed request; false with a 400 in `error`.
struct BucketedQuery {
  std::string node;
  TimeMs from = 0, to = 0;
  Grouping by = Grouping::none;
};
bool bucketed_query(server::PlantService& s, const HttpRequest& r, BucketedQuery& q, HttpResponse& error) {
  if (!node_param(s, r, "node", q.node, error)) return false;
  std::string why;
  const auto g = parse_grouping(r.query_value("by").value_or(""));
  if (!window_params(s, r, q.from, q.to, kRollupWindowDaysMax, why)) {
  } else if (!g) {
    why = "'by' must be hour, day or shift";
  } else if ((*g == Grouping::hour && (q.to - q.from) / kMsPerHour > kBucketsMax) ||
             (*g != Grouping::none && (q.to - q.from) / kMsPerDay > kBucketsMax / 3)) {
    why = "at most 10000 buckets per request";
  } else {
    q.by = *g;
    return true;
  }
  error = HttpResponse::error(400, "bad_parameter", why);
  return false;
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
  std::string out = "[";
  std::int64_t taken = 0;
  std::string next;  // the start (ms) of the first bucket left out
  for (const auto& row : s.node_kpis(q.node, q.by, q.from, q.to)) {
    if (row.bucket.range.start < after) continue;
    if (taken++ == page.limit) {
      next = std::to_string(row.bucket.range.start);
      break;
    }
    const KpiTotals& t = row.totals;
    out += '{';
    string_field(out, "from", time_text(s, row.bucket.range.start));
    string_field(out, "to", time_text(s, row.bucket.range.end));
    if (!row.bucket.shift.empty()) string_field(out, "shift", row.bucket.shift);
    int_field(out, "good_count", t.good_count);
    int_field(out, "reject_count", t.reject_count);
    int_field(out, "total_count", t.total_count());
    // Units per hour of run time, and what the ideal cycle times would have made in it.
    const double run_h = static_cast<double>(t.run_ms()) / kMsPerHour;
    key(out, "rate_per_hour");
    out += run_h > 0 ? std::to_string(static_cast<double>(t.total_count()) / run_h) : "null";
    out += ',';
    key(out, "ideal_time_s");
    codec::append_json_number(out, static_cast<double>(t.ideal_us) / 1e6);
    out += "},";
  }
  close_array(out);
  HttpResponse response = HttpResponse::json(std::move(out));
  if (!next.empty()) link_next(response, r, next);  // a bare array: the cursor is in the header only
  return response;
}

// A machine's raw readings (tag): counter values, count increments or the samples of a named
// process value (sample.NAME, from edge tags mapped to `sample:NAME`), min/max/avg per bucket.
HttpResponse tag_history(server::PlantService& s, const HttpRequest& r) {
  HttpResponse error;
  const MachineSpec* m = machine_param(s, r.query_value("machine").value_or(""), error);
  if (!m) return error;
  const std::string tag(r.query_value("tag").value_or("counter.total"));
  static const std::map<std::string, std::pair<EventType, int>, std::less<>> kTags = {
      {"counter.total", {EventType::counter, 0}}, {"counter.good", {EventType::counter, 1}},
      {"counter.reject", {EventType::counter, 2}}, {"count.good", {EventType::count, 0}},
      {"count.reject", {EventType::count, 1}}};
  const auto which = kTags.find(tag);
  const bool sample = tag.starts_with("sample.") && tag.size() > 7;
  if (which == kTags.end() && !sample)
    return HttpResponse::error(400, "bad_parameter",
                               "'tag' must be counter.total, counter.good, counter.reject, count.good, count.reject or sample.NAME");
  const std::string_view sample_name = sample ? std::string_view(tag).substr(7) : std::string_view();
  TimeMs from = 0, to = 0;
  std::int64_t bucket_s = 0, after = kTimeMin;
  Page page;
  std::string why;
  if (!window_params(s, r, from, to, kRawWindowDaysMax, why) || !int_param(r, "bucket_s", 60, 1, 31 * 86400, bucket_s, why) ||
      !page_params(r, kPageLimitMax, page, why) || (page.cursor && !integer_cursor(*page.cursor, after, why)))
    return HttpResponse::error(400, "bad_parameter", why);
  if ((to - from) / (bucket_s * 1000) > kBucketsMax) return HttpResponse::error(400, "too_many_buckets", "at most 10000 buckets per request");
  const auto events = s.read_store([&](storage::EventStore& st) { return st.machine_events(m->path, from, to); });
  struct Agg { double min = 0, max = 0, sum = 0; std::int64_t n = 0; };
  std::map<TimeMs, Agg> buckets;
  const DurationMs width = bucket_s * 1000;
  for (const Event& e : events) {
    double v = 0;
    if (sample) {
      if (e.type != EventType::sample || e.sample_name != sample_name) continue;
      v = e.sample_value;
    } else if (e.type != which->second.first) {
      continue;
    } else if (e.type == EventType::counter) {
      if (static_cast<int>(e.counter) != which->second.second) continue;
      v = static_cast<double>(e.value);
    } else {
      v = static_cast<double>(which->second.second == 0 ? e.good : e.reject);
    }
    Agg& a = buckets[from + (e.ts - from) / width * width];
    a.min = a.n ? std::min(a.min, v) : v;
    a.max = a.n ? std::max(a.max, v) : v;
    a.sum += v;
    ++a.n;
  }
  std::string out = "{";
  string_field(out, "machine", m->path);
  string_field(out, "tag", tag);
  int_field(out, "bucket_s", bucket_s);
  out += "\"buckets\":[";
  std::int64_t taken = 0;
  std::string next;  // the start (ms) of the first bucket left out
  for (auto it = buckets.lower_bound(after); it != buckets.end(); ++it) {
    const auto& [start, a] = *it;
    if (taken++ == page.limit) {
      next = std::to_string(start);
      break;
    }
    out += '{';
    string_field(out, "from", time_text(s, start));
    number_field(out, "min", a.min);
    number_field(out, "max", a.max);
    number_field(out, "avg", a.sum / static_cast<double>(a.n));
    int_field(out, "samples", a.n);
    close_object(out);
    out += ',';
  }
  close_array(out);
  out += ',';
  return with_next(std::move(out), r, next);
}

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

void add_stop_routes(server::Router& router, server::PlantService& service, const Access& access, StopComments& comments) {
  auto writer = std::make_shared<ReasonWriter>(service);
  auto& s = service;
  router.add("GET", "/api/v1/timeline", access.require(Role::viewer, [&s](const HttpRequest& r, const Principal&) { return timeline(s, r); }));
  router.add("GET", "/api/v1/stops", access.require(Role::viewer, [&s, &comments](const HttpRequest& r, const Principal&) { return stops(s, comments, r); }));
  router.add("POST", "/api/v1/stops/reason", access.require(Role::operator_, [&s, &access, writer](const HttpRequest& r, const Principal& who) {
    return assign_reason(s, access, *writer, r, who);
  }));
  router.add("POST", "/api/v1/stops/comment", access.require(Role::operator_, [&s, &access, &comments](const HttpRequest& r, const Principal& who) {
    return add_comment(s, access, comments, r, who);
  }));
  router.add("GET", "/api/v1/pareto", access.require(Role::viewer, [&s](const HttpRequest& r, const Principal&) { return pareto(s, r); }));
  router.add("GET", "/api/v1/counts", access.require(Role::viewer, [&s](const HttpRequest& r, const Principal&) { return counts(s, r); }));
  router.add("GET", "/api/v1/tags", access.require(Role::viewer, [&s](const HttpRequest& r, const Principal&) { return tag_history(s, r); }));
  router.add("GET", "/api/v1/export/kpis.csv", access.require(Role::viewer, [&s](const HttpRequest& r, const Principal&) { return kpis_csv(s, r); }));
  router.add("GET", "/api/v1/export/stops.csv", access.require(Role::viewer, [&s](const HttpRequest& r, const Principal&) { return stops_csv(s, r); }));
}

void add_api_routes(server::Router& router, server::PlantService& service, const Access& access, StopComments& comments,
                    std::function<std::optional<bool>()> mqtt_connected) {
  add_plant_routes(router, service, access);
  add_access_routes(router, access);
  add_stop_routes(router, service, access, comments);
  add_openapi_route(router, access);
  add_observability_routes(router, service, access, std::move(mqtt_connected));
}

}  // namespace oee::api
