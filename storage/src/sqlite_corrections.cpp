// Corrections on SQLite (correction_ranges.h): kept in correction_events by the range they correct
// (migration 11), read into every history whose events they overlap; a correction reaching into
// settled hours recomputes them from the state interval it touches.
#include "correction_ranges.h"
#include "event_block_codec.h"
#include "sqlite_event_store.h"
#include "store_helpers.h"

namespace oee::storage::sqlite {

// Each new correction of the machine, in place of a place in its blocks (before ingest_pending
// clears pending_src).
void SqliteEventStore::write_correction_events(const MachineState& m) {
  BlockWriter w;
  for (std::size_t i = 0; i < m.pending.size(); ++i) {
    const Event& e = m.pending[i];
    if (e.type != EventType::correction) continue;
    w.clear();
    w.event(e, m.pending_src[i]);
    insert_correction_.bind(1, m.id).bind(2, e.at).bind(3, corrected_until(e)).bind(4, e.ts).bind_blob(5, w.bytes()).run();
  }
}

// The machine's corrections that overlap [lo, hi), added to `out`.
void SqliteEventStore::load_corrections(MachineState& m, TimeMs lo, TimeMs hi, std::vector<Event>& out) {
  Statement& s = q().select_corrections;
  s.bind(1, m.id).bind(2, lo).bind(3, hi);
  while (s.step()) decode_block(s.blob_at(0), m, kTimeMin, kTimeMax, out);
  s.reset();
}

// The new corrections of `pending` join the tail's; returns the first hour they change (kTimeMax:
// none settled): a correction of an instant in settled hours, or of a part of a stop that began
// in them (the rest of the stop gets shorter, which may change its class).
TimeMs SqliteEventStore::take_new_corrections(MachineState& m, std::vector<Event>& pending) {
  std::vector<Event> corrections = take_corrections(pending);
  TimeMs recompute = kTimeMax;
  if (!corrections.empty()) m.has_corrections = true;
  for (Event& c : corrections) {
    if (m.base != kNoBase && names_settled_stop(m, c.at)) recompute = std::min(recompute, late_start(m, c.at));
    m.corrections.push_back(std::move(c));
  }
  if (!corrections.empty()) m.history.reset();
  if (recompute != kTimeMax) recompute = std::max(recompute, m.zero_hour + kMsPerHour);
  return recompute;
}

}  // namespace oee::storage::sqlite

namespace oee::storage::sqlite {

std::vector<Event> SqliteEventStore::machine_corrections(std::string_view machine, TimeMs from, TimeMs to) {
  std::vector<Event> out;
  const std::string_view paths[] = {machine};
  ReadScope scope(*this, paths);
  if (MachineState* m = ReadScope::of(*this)->find(machine)) load_corrections(*m, from, to, out);
  return out;
}

}  // namespace oee::storage::sqlite
