// Stops and their reasons: GET /api/v1/stops (with durations, reasons and comments), and assigning
// a stop's reason (an event through the one ingest path, so KPIs and the Pareto see it at once) or
// commenting on it.
#include <algorithm>
#include <map>
#include <thread>

#include "body_json.h"
#include "paging.h"
#include "query_params.h"
#include "stop_list.h"
#include "stop_writes.h"
#include "oee/api/routes.h"
#include "oee/server/failure_response.h"

namespace oee::api {

using server::HttpRequest;
using server::HttpResponse;
using auth::Principal;
using auth::Role;
using namespace detail;

namespace {

constexpr std::size_t kReasonBytesMax = 128;
constexpr std::size_t kCommentBytesMax = 2000;

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

// The comments on `stop` among its machine's comments of the page.
// Comments keep their author's pseudonym: shown as the login name while the user exists, as the
// pseudonym once erased (`names`: login names by pseudonym).
void write_comments(JsonWriter& json, server::PlantService& s, const Stop& stop, const std::vector<StopComment>& of_machine,
                    const std::map<std::string, std::string>& names) {
  json.key("comments").begin_array();
  for (const StopComment& c : of_machine) {
    if (c.stop_start != stop.interval.start) continue;
    const auto name = names.find(c.author);
    json.begin_object().string_field("author", name == names.end() ? c.author : name->second).string_field("at", time_text(s, c.created));
    json.string_field("text", c.text).end_object();
  }
  json.end_array();
}

void write_stop(JsonWriter& json, server::PlantService& s, const Stop& stop, const std::vector<Interval>& planned, TimeMs now) {
  json.begin_object().string_field("machine", stop.machine->path);
  json.string_field("from", time_text(s, stop.interval.start));
  if (stop.interval.end != kTimeMax) json.string_field("to", time_text(s, stop.interval.end));
  json.number_field("duration_s", static_cast<double>(stop.duration_ms) / 1000.0);
  json.number_field("planned_s", static_cast<double>(planned_part_ms(stop.interval, planned, now)) / 1000.0);
  json.string_field("state", state_name(stop.interval.state)).string_field("kind", stop.kind);
  json.string_field("reason", stop.interval.reason);
}

HttpResponse stops(server::PlantService& s, const Access& access, StopComments& comments, const HttpRequest& r) {
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
  const auto list = stops_of(s, s.plant().machines_under(node), from, to);
  std::size_t first = std::min(list.size(), static_cast<std::size_t>(offset));
  if (page.cursor && !first_after_cursor(list, *page.cursor, first, why)) return HttpResponse::error(400, "bad_parameter", why);
  const TimeMs now = s.now();
  MachinePlans plans(s.calendar(), from, std::max(from, std::min(to, now)));
  std::string out;
  JsonWriter json(out);
  json.begin_object().int_field("total", static_cast<std::int64_t>(list.size())).key("items").begin_array();
  const std::size_t last = std::min(list.size(), first + static_cast<std::size_t>(page.limit));
  std::map<std::string, std::vector<StopComment>> by_machine;
  const auto names = access.accounts().names_by_pseudonym();
  for (std::size_t i = first; i < last; ++i) {
    auto [it, inserted] = by_machine.try_emplace(list[i].machine->path);
    if (inserted) it->second = comments.of_machine(list[i].machine->path, list[last - 1].interval.start, list[first].interval.start + 1);
    write_stop(json, s, list[i], plans.of(*list[i].machine), now);
    write_comments(json, s, list[i], it->second, names);
    json.end_object();
  }
  json.end_array().int_field("offset", static_cast<std::int64_t>(first)).int_field("limit", page.limit);
  // The cursor names the last stop given (start and machine), so stops that begin meanwhile do not
  // shift the next page as an offset would.
  const std::string next = last < list.size() ? std::to_string(list[last - 1].interval.start) + "," + list[last - 1].machine->path : "";
  return close_cursor_page(json, r, next);
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

// `{"name":"value"}`: the before and after of an audit entry.
std::string member_text(std::string_view name, std::string_view value) {
  std::string out;
  JsonWriter(out).begin_object().string_field(name, value).end_object();
  return out;
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
  if (const ReasonTree* tree = s.plant().reasons.get(); tree && !tree->find(reason))
    return HttpResponse::error(400, "unknown_reason", "'" + reason + "' is not a code of the plant's reason tree (GET /api/v1/reasons)");
  // A part of a stop a correction covers (a split) takes its reason as a correction of that part:
  // a reason event would lose to the correction, or name the whole stop as it was before.
  const bool corrected = stop.end != kTimeMax && corrected_within(s, *m, stop.start, stop.end);
  server::IngestReport report;
  try {
    if (corrected)
      store_corrections(s, {reason_correction(s, *m, stop.start, stop.end, reason, access.actor(who), "the reason of a part of a corrected stop")});
    else
      report = writer.write(m->path, stop.start, reason);
  } catch (const std::exception& e) {
    return server::failure_response(503, "storage_unavailable", "the reason could not be stored, try again", r, e.what());
  }
  if (!corrected && report.accepted != 1) return HttpResponse::error(500, "internal", "the reason event was not accepted");
  const std::string target = m->path + "@" + format_rfc3339(stop.start);
  access.audit(who, "reason.assign", target, member_text("reason", stop.reason), member_text("reason", reason));
  std::string out;
  JsonWriter json(out);
  json.begin_object().string_field("machine", m->path).string_field("from", time_text(s, stop.start));
  json.string_field("reason", reason).string_field("previous_reason", stop.reason).end_object();
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
  const std::int64_t id = comments.add(m->path, stop.start, s.now(), access.actor(who), text);
  access.audit(who, "comment.add", m->path + "@" + format_rfc3339(stop.start), "", member_text("text", text));
  std::string out;
  JsonWriter(out).begin_object().int_field("id", id).end_object();
  return HttpResponse::json(std::move(out), 201);
}

}  // namespace

void add_stop_routes(server::Router& router, server::PlantService& service, const Access& access, StopComments& comments) {
  auto writer = std::make_shared<ReasonWriter>(service);
  auto& s = service;
  router.add("GET", "/api/v1/stops", access.require(Role::viewer, [&s, &access, &comments](const HttpRequest& r, const Principal&) { return stops(s, access, comments, r); }));
  router.add("POST", "/api/v1/stops/reason", access.require(Role::operator_, [&s, &access, writer](const HttpRequest& r, const Principal& who) {
    return assign_reason(s, access, *writer, r, who);
  }));
  router.add("POST", "/api/v1/stops/comment", access.require(Role::operator_, [&s, &access, &comments](const HttpRequest& r, const Principal& who) {
    return add_comment(s, access, comments, r, who);
  }));
}

}  // namespace oee::api
