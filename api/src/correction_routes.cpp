// Corrections of history (docs/oee-model.md, "Corrections"): POST /api/v1/corrections (supervisor)
// stores a correction event through the one ingest path and audits it; GET /api/v1/corrections
// lists those whose range overlaps a window, under a node.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "body_json.h"
#include "query_params.h"
#include "oee/api/routes.h"
#include "oee/codec/event_json.h"
#include "oee/core/count_bounds.h"
#include "oee/core/history_corrections.h"
#include "oee/server/failure_response.h"

namespace oee::api {

using server::HttpRequest;
using server::HttpResponse;
using auth::Principal;
using auth::Role;
using namespace detail;

namespace {

constexpr std::size_t kWhyBytesMax = 2000;

HttpResponse bad_body(std::string why) { return HttpResponse::error(400, "bad_body", std::move(why)); }

// A required instant member (RFC 3339 or epoch milliseconds).
bool instant_member(const nlohmann::json& j, const char* name, TimeMs& out, HttpResponse& error) {
  const auto it = j.find(name);
  std::optional<TimeMs> t;
  if (it != j.end() && it->is_string()) t = parse_timestamp(it->get<std::string>());
  if (it != j.end() && it->is_number_integer()) t = it->get<TimeMs>();
  if (!t) error = bad_body(std::string("'") + name + "' must be an RFC 3339 timestamp or epoch milliseconds");
  if (t) out = *t;
  return t.has_value();
}

// reclassify: [at, until) with a state of the machine and/or a code of the reason tree.
bool read_reclassify(const server::PlantService& s, const MachineSpec& m, const nlohmann::json& j, Event& e,
                     HttpResponse& error) {
  if (!instant_member(j, "until", e.until, error)) return false;
  if (e.until <= e.at) return error = bad_body("the range is empty: 'until' must be after 'at'"), false;
  if (!string_member(j, "state", 64, e.state, error, "") || !string_member(j, "reason", 256, e.reason, error, "")) return false;
  if (e.state.empty() && e.reason.empty()) return error = bad_body("a reclassification needs 'state', 'reason' or both"), false;
  if (const auto st = e.state.empty() ? std::optional<State>(State::running) : m.resolve_state(e.state); !st || *st == State::unknown)
    return error = HttpResponse::error(400, "unknown_state", "'" + e.state.substr(0, 64) + "' is neither canonical nor in " +
                                                                 m.path + "'s states map"),
           false;
  if (const ReasonTree* tree = s.plant().reasons.get(); tree && !e.reason.empty() && !tree->find(e.reason))
    return error = HttpResponse::error(400, "unknown_reason",
                                       "'" + e.reason + "' is not a code of the plant's reason tree (GET /api/v1/reasons)"),
           false;
  return true;
}

bool read_kind_fields(const server::PlantService& s, const MachineSpec& m, const nlohmann::json& j, Event& e,
                      HttpResponse& error) {
  switch (e.correction) {
    case CorrectionKind::reclassify: return read_reclassify(s, m, j, e, error);
    case CorrectionKind::rejects: {
      const auto it = j.find("reject");
      if (it == j.end() || !it->is_number_integer() || it->get<std::int64_t>() < 1 || it->get<std::int64_t>() > kMaxCount)
        return error = bad_body("'reject' must be a count from 1 to " + std::to_string(kMaxCount)), false;
      e.reject = it->get<std::int64_t>();
      return true;
    }
    case CorrectionKind::void_reading: {
      std::string name;
      if (!string_member(j, "name", 16, name, error)) return false;
      if (name == "total") e.counter = CounterName::total;
      else if (name == "good") e.counter = CounterName::good;
      else if (name == "reject") e.counter = CounterName::reject;
      else return error = bad_body("'name' must be the counter: total, good or reject"), false;
      return true;
    }
  }
  return false;
}

// The correction a body describes, made now by `by`; false with a 400 in `error`.
bool read_correction(const server::PlantService& s, const nlohmann::json& j, const std::string& by, Event& e,
                     HttpResponse& error) {
  std::string machine, kind;
  if (!string_member(j, "machine", 512, machine, error)) return false;
  const MachineSpec* m = machine_param(s, machine, error);
  if (!m || !string_member(j, "kind", 32, kind, error)) return false;
  if (kind == "reclassify") e.correction = CorrectionKind::reclassify;
  else if (kind == "rejects") e.correction = CorrectionKind::rejects;
  else if (kind == "void_reading") e.correction = CorrectionKind::void_reading;
  else return error = bad_body("'kind' must be reclassify, rejects or void_reading"), false;
  if (!string_member(j, "why", kWhyBytesMax, e.why, error)) return false;
  if (e.why.empty()) return error = bad_body("'why' must say why the history is corrected"), false;
  e.type = EventType::correction;
  e.machine = m->path;
  e.ts = s.now();
  e.by = by;
  if (!instant_member(j, "at", e.at, error) || !read_kind_fields(s, *m, j, e, error)) return false;
  if (!correction_is_applicable(*m, e)) return error = bad_body("the correction says nothing the engine can apply"), false;
  return true;
}

HttpResponse post_correction(server::PlantService& s, const Access& access, const HttpRequest& r, const Principal& who) {
  HttpResponse error;
  const auto body = json_body(r, error);
  Event e;
  if (!body || !read_correction(s, *body, access.actor(who), e, error)) return error;
  server::IngestReport report;
  try {
    report = s.ingest({e}, "api");
  } catch (const std::exception& ex) {
    return server::failure_response(503, "storage_unavailable", "the correction could not be stored, try again", r, ex.what());
  }
  if (report.accepted != 1) return HttpResponse::error(500, "internal", "the correction was not accepted");
  // Who and why are in the event: the audit chain keeps it whole.
  const std::string json = codec::event_to_json(e);
  access.audit(who, "correction." + body->value("kind", std::string()), e.machine + "@" + format_rfc3339(e.at), "", json);
  return HttpResponse::json(json, 201);
}

// The corrections of the machines under `node` whose range overlaps [from, to), in the order they
// were made.
HttpResponse get_corrections(server::PlantService& s, const HttpRequest& r) {
  HttpResponse error;
  std::string node;
  if (!node_param(s, r, "node", node, error)) return error;
  TimeMs from = 0, to = 0;
  std::string why;
  if (!window_params(s, r, from, to, kRollupWindowDaysMax, why)) return HttpResponse::error(400, "bad_parameter", why);
  std::vector<Event> found;
  s.read_store([&](storage::EventStore& st) {
    for (const MachineSpec* m : s.plant().machines_under(node)) {
      std::vector<Event> of = st.machine_corrections(m->path, from, to);
      std::move(of.begin(), of.end(), std::back_inserter(found));
    }
    return 0;
  });
  std::stable_sort(found.begin(), found.end(), [](const Event& a, const Event& b) {
    return a.ts != b.ts ? a.ts < b.ts : canonical_order_key(a) < canonical_order_key(b);
  });
  std::string out = "{\"corrections\":[";
  for (std::size_t i = 0; i < found.size(); ++i) {
    if (i) out += ',';
    codec::append_event_json(out, found[i]);
  }
  out += "]}";
  return HttpResponse::json(std::move(out));
}

}  // namespace

void add_correction_routes(server::Router& router, server::PlantService& service, const Access& access) {
  auto& s = service;
  router.add("GET", "/api/v1/corrections",
             access.require(Role::viewer, [&s](const HttpRequest& r, const Principal&) { return get_corrections(s, r); }));
  router.add("POST", "/api/v1/corrections", access.require(Role::supervisor, [&s, &access](const HttpRequest& r, const Principal& who) {
    return post_correction(s, access, r, who);
  }));
}

}  // namespace oee::api
