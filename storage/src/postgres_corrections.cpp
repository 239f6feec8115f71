// Corrections on PostgreSQL (correction_ranges.h): rows of the events table (type 8, their fields
// in slots, correction_event_slots.h) found by the range they correct (migration 13's index), all
// windows in one query, whenever they were made. Retention keeps those correcting past its cut in
// context_events (keep_corrections_at), so they are read from history_events.
#include <algorithm>
#include <array>
#include <string>

#include "correction_ranges.h"
#include "postgres_event_store.h"
#include "postgres_schema.h"
#include "signs_of_life.h"

namespace oee::storage {

void PostgresEventStore::add_corrections(std::vector<HistoryRequest>& requests) {
  std::vector<std::int64_t> idx, ids, los, his;
  for (std::size_t k = 0; k < requests.size(); ++k) {
    const HistoryRequest& q = requests[k];
    idx.push_back(static_cast<std::int64_t>(k));
    ids.push_back(q.mid);
    los.push_back(std::min(q.from, earliest_ts(q.events)));
    his.push_back(std::max(later_by(q.to, look_ahead_ms(*q.spec)), q.from + 1));
  }
  if (idx.empty()) return;
  pg::Result r = conn().prepared_binary(
      "corrections_of_windows",
      "SELECT h.*, v.k FROM unnest($1::int[], $2::int[], $3::bigint[], $4::bigint[]) v(k, id, lo, hi)"
      " CROSS JOIN LATERAL (SELECT " OEE_PG_READ_COLUMNS " FROM history_events WHERE machine_id=v.id AND type=8"
      " AND at<v.hi AND GREATEST(value, at + 1)>v.lo) h",
      pg::Params().add_array(idx).add_array(ids).add_array(los).add_array(his));
  std::vector<char> voids(requests.size(), 0);
  for (int i = 0; i < r.rows(); ++i) {
    const std::size_t k = static_cast<std::size_t>(r.int_at(i, 14));
    requests[k].events.push_back(decode(r, i));
    if (requests[k].events.back().correction == CorrectionKind::void_reading) voids[k] = 1;
  }
  for (std::size_t k = 0; k < requests.size(); ++k)
    if (voids[k]) add_reading_before_voided(requests[k]);
}

// A window's context holds each counter's last reading before it: when that reading is voided,
// the engine counts from the last reading before it that is not voided, however many voided ones
// lie between. Which are voided is asked of every stored correction, not of those read for the
// window: the void of an earlier reading names an instant before every event read, so it is not
// among them (two voided readings in a row made the window count from the first of them).
void PostgresEventStore::add_reading_before_voided(HistoryRequest& q) {
  static const std::string sql =
      "SELECT " OEE_PG_READ_COLUMNS " FROM history_events WHERE machine_id=$1 AND type=2 AND counter=$2 AND ts="
      "(SELECT x.ts FROM history_events x WHERE x.machine_id=$1 AND x.type=2 AND x.counter=$2 AND x.ts<$3"
      " AND NOT EXISTS (SELECT 1 FROM history_events v WHERE v.machine_id=$1 AND v.type=8 AND v.at=x.ts"
      " AND v.rollover=" + std::to_string(static_cast<int>(CorrectionKind::void_reading)) +
      " AND v.counter=$2) ORDER BY x.ts DESC LIMIT 1)";
  for (const CounterName c : {CounterName::total, CounterName::good, CounterName::reject}) {
    std::vector<TimeMs> voided;
    TimeMs earliest = kTimeMax;
    for (const Event& e : q.events) {
      if (e.type == EventType::correction && e.correction == CorrectionKind::void_reading && e.counter == c)
        voided.push_back(e.at);
      if (e.type == EventType::counter && e.counter == c) earliest = std::min(earliest, e.ts);
    }
    // (The void of the earliest reading is among those read: it names an instant of the events.)
    if (earliest == kTimeMax || std::find(voided.begin(), voided.end(), earliest) == voided.end()) continue;
    pg::Result r = conn().prepared_binary("reading_before_voided", sql.c_str(),
                                          pg::Params().add(q.mid).add(static_cast<std::int64_t>(c)).add(earliest));
    for (int i = 0; i < r.rows(); ++i) q.events.push_back(decode(r, i));
  }
}

}  // namespace oee::storage

namespace oee::storage {

std::vector<Event> PostgresEventStore::machine_corrections(std::string_view machine, TimeMs from, TimeMs to) {
  return guarded([&] {
    std::vector<Event> out;
    const std::int64_t mid = machine_id(machine);  // the cached id, or the machine's row made once
    pg::Result r = conn().prepared_binary("corrections_of_machine",
                                          "SELECT " OEE_PG_READ_COLUMNS " FROM history_events WHERE machine_id=$1 AND type=8"
                                          " AND at<$3 AND GREATEST(value, at + 1)>$2",
                                          pg::Params().add(mid).add(from).add(to));
    for (int i = 0; i < r.rows(); ++i) out.push_back(decode(r, i));
    return out;
  });
}

}  // namespace oee::storage
