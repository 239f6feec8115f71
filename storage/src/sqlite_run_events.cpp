// Run events on SQLite: kept again in run_events (migration 13) beside their blocks, so that a
// machine's runs are read by an index on (machine, ts) instead of every event of its history
// (GET /api/v1/kpis?by=run). Written in the append's transaction, they hold the tail's run
// events as well as the settled ones.
#include "event_block_codec.h"
#include "sqlite_event_store.h"
#include "store_helpers.h"

namespace oee::storage::sqlite {

// Each new run event of the machine beside its block (before ingest_pending clears pending_src).
void SqliteEventStore::write_run_events(const MachineState& m) {
  BlockWriter w;
  for (std::size_t i = 0; i < m.pending.size(); ++i) {
    const Event& e = m.pending[i];
    if (e.type != EventType::run) continue;
    w.clear();
    w.event(e, m.pending_src[i]);
    insert_run_event_.bind(1, m.id).bind(2, e.ts).bind_blob(3, w.bytes()).run();
  }
}

// A file from before run_events (migration 13): its run events copied in once, from the blocks.
void SqliteEventStore::fill_run_events() {
  Statement filled(db_, "SELECT value FROM meta WHERE key='run_events_filled'");
  if (!filled.step() || filled.int_at(0) != 0) return;
  filled.reset();
  Transaction tx(db_);
  Statement blocks(db_, "SELECT machine_id, data FROM event_blocks ORDER BY machine_id, hour_start, block");
  BlockWriter w;
  while (blocks.step()) {
    BlockReader r(blocks.blob_at(1));
    while (!r.done()) {
      std::int64_t src_id = 0;
      const Event e = r.event(src_id);
      if (e.type != EventType::run) continue;
      w.clear();
      w.event(e, src_id);
      insert_run_event_.bind(1, blocks.int_at(0)).bind(2, e.ts).bind_blob(3, w.bytes()).run();
    }
  }
  db_.exec("UPDATE meta SET value=1 WHERE key='run_events_filled'");
  tx.commit();
}

std::vector<Event> SqliteEventStore::machine_run_events(std::string_view machine, TimeMs to) {
  std::vector<Event> out;
  const std::string_view paths[] = {machine};
  ReadScope scope(*this, paths);
  MachineState* m = ReadScope::of(*this)->find(machine);
  if (!m) return out;
  Statement& s = q().select_run_events;
  s.bind(1, m->id).bind(2, to);
  while (s.step()) decode_block(s.blob_at(0), *m, kTimeMin, kTimeMax, out);
  s.reset();
  return out;
}

}  // namespace oee::storage::sqlite
