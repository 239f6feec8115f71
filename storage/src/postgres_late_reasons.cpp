// Late reasons on PostgreSQL (late_reasons.h): the reasons given after each window's end that name
// one of its intervals, all windows in one query of the reasons index (migration 11).
#include <algorithm>

#include "late_reasons.h"
#include "postgres_event_store.h"
#include "postgres_schema.h"

namespace oee::storage {

void PostgresEventStore::add_late_reasons(std::vector<HistoryRequest>& requests) {
  std::vector<std::int64_t> idx, ids, los, tos;
  for (std::size_t k = 0; k < requests.size(); ++k) {
    const HistoryRequest& q = requests[k];
    // The reasons count with a reason tree, and where a corrected piece may join a neighbour.
    if (!q.spec->reasons &&
        std::none_of(q.events.begin(), q.events.end(), [](const Event& e) { return e.type == EventType::correction; }))
      continue;
    const auto [first_state, last_state] = state_range(q.events);
    if (!first_state) continue;
    idx.push_back(static_cast<std::int64_t>(k));
    ids.push_back(q.mid);
    los.push_back(first_state->ts);
    tos.push_back(q.to);
  }
  if (idx.empty()) return;
  pg::Result r = conn().prepared_binary(
      "late_reasons",
      "SELECT h.*, v.k FROM unnest($1::int[], $2::int[], $3::bigint[], $4::bigint[]) v(k, id, lo, hi)"
      " CROSS JOIN LATERAL (SELECT " OEE_PG_READ_COLUMNS " FROM events WHERE machine_id=v.id"
      " AND " OEE_PG_NAMED_INSTANT ">=v.lo AND ts>=v.hi AND " OEE_PG_GIVES_REASON " AND ts>=$5) h",
      // $5: the partitions before every window's end hold none of these (pruned at planning).
      pg::Params().add_array(idx).add_array(ids).add_array(los).add_array(tos).add(*std::min_element(tos.begin(), tos.end())));
  std::vector<std::vector<Event>> late(requests.size());
  for (int i = 0; i < r.rows(); ++i) {
    late[static_cast<std::size_t>(r.int_at(i, 14))].push_back(decode(r, i));
  }
  for (std::size_t k = 0; k < requests.size(); ++k)
    if (!late[k].empty()) add_late_reasons_of(requests[k], late[k]);
}

// One window's late reasons: those naming an instant after its last state name its last interval
// only up to the machine's next change (read from the state events after it).
void PostgresEventStore::add_late_reasons_of(HistoryRequest& q, std::vector<Event>& late) {
  const Event last_state = *state_range(q.events).second;
  TimeMs latest = kTimeMin;
  for (const Event& e : late) latest = std::max(latest, named_instant(e));
  TimeMs bound = kTimeMax;
  if (latest > last_state.ts) {
    std::vector<Event> states;
    load_range(q.mid, "history_events", last_state.ts + 1, latest + 1, true, states);
    bound = first_change_after(*q.spec, last_state, std::move(states));
  }
  const TimeMs read_end = later_by(q.to, look_ahead_ms(*q.spec));
  add_reasons_before(late, bound, read_end, q.events);
}

}  // namespace oee::storage
