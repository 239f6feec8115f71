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
  copy_block_events_once("run_events_filled", [](const Event& e) { return e.type == EventType::run; },
                         [this](std::int64_t machine_id, const Event& e, std::string_view bytes) {
                           insert_run_event_.bind(1, machine_id).bind(2, e.ts).bind_blob(3, bytes).run();
                         });
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
