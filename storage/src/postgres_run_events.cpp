// Run events on PostgreSQL: rows of the events table (type 7, their fields in slots,
// run_event_slots.h) read by migration 15's partial index, without the machine's other events
// (GET /api/v1/kpis?by=run). As machine_events, from the events table: retention deletes them with
// their partitions.
#include "postgres_event_store.h"

namespace oee::storage {

std::vector<Event> PostgresEventStore::machine_run_events(std::string_view machine, TimeMs to) {
  return guarded([&] {
    std::vector<Event> out;
    const std::int64_t mid = machine_id(machine);  // the cached id, or the machine's row made once
    pg::Result r = conn().prepared_binary("run_events_of_machine",
                                          "SELECT " OEE_PG_READ_COLUMNS " FROM events WHERE machine_id=$1 AND type=7"
                                          " AND ts<$2 ORDER BY ts, id_src, id_key",
                                          pg::Params().add(mid).add(to));
    for (int i = 0; i < r.rows(); ++i) out.push_back(decode(r, i));
    return out;
  });
}

}  // namespace oee::storage
