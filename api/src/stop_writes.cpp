#include "stop_writes.h"

#include <stdexcept>

#include "body_json.h"
#include "query_params.h"
#include "stop_list.h"

namespace oee::api::detail {

bool find_stop(server::PlantService& s, const nlohmann::json& body, const MachineSpec*& m, StateInterval& stop,
               server::HttpResponse& error) {
  std::string machine, at_text;
  if (!string_member(body, "machine", 512, machine, error) || !string_member(body, "at", 64, at_text, error)) return false;
  if (!(m = machine_param(s, machine, error))) return false;
  const auto at = parse_timestamp(at_text);
  if (!at) {
    error = server::HttpResponse::error(400, "bad_body", "'at': '" + at_text + "' is not an RFC 3339 timestamp");
    return false;
  }
  const MachineHistory h = window_history(s, *m, *at, *at + 1);
  const auto i = h.interval_at(*at);
  if (i < 0 || !is_unplanned_stop(h.intervals()[static_cast<std::size_t>(i)].state) || *at > s.now()) {
    error = server::HttpResponse::error(400, "not_a_stop", "'" + machine + "' has no unplanned stop at " + at_text);
    return false;
  }
  stop = h.intervals()[static_cast<std::size_t>(i)];
  return true;
}

bool corrected_within(server::PlantService& s, const MachineSpec& m, TimeMs from, TimeMs until) {
  const auto found = s.read_store([&](storage::EventStore& st) { return st.machine_corrections(m.path, from, until); });
  for (const Event& e : found)
    if (e.correction == CorrectionKind::reclassify && e.at < until && e.until > from) return true;
  return false;
}

Event reason_correction(server::PlantService& s, const MachineSpec& m, TimeMs from, TimeMs until, std::string reason,
                        std::string by, std::string why) {
  Event e;
  e.type = EventType::correction;
  e.correction = CorrectionKind::reclassify;
  e.machine = m.path;
  e.ts = s.now();
  e.at = from;
  e.until = until;
  e.reason = std::move(reason);
  e.by = std::move(by);
  e.why = std::move(why);
  return e;
}

void store_corrections(server::PlantService& s, const std::vector<Event>& corrections) {
  const server::IngestReport report = s.ingest(corrections, "api");
  if (report.accepted != corrections.size()) throw std::runtime_error("a correction was not accepted");
}

}  // namespace oee::api::detail
