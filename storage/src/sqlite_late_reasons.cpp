// Late reasons: with a reason tree a stop's loss follows the reason given last, however long after
// the stop. A window's history is read up to its end, so the reasons given after that end come from
// reason_events (the reason events again, by the instant they name).
#include <algorithm>

#include "event_block_codec.h"
#include "late_reasons.h"
#include "signs_of_life.h"
#include "sqlite_event_store.h"
#include "store_helpers.h"

namespace oee::storage::sqlite {

// Each new reason event of the machine beside its block (before ingest_pending clears pending_src).
void SqliteEventStore::write_reason_events(const MachineState& m) {
  BlockWriter w;
  for (std::size_t i = 0; i < m.pending.size(); ++i) {
    const Event& e = m.pending[i];
    if (!gives_reason(e)) continue;
    w.clear();
    w.event(e, m.pending_src[i]);
    insert_reason_event_.bind(1, m.id).bind(2, named_instant(e)).bind(3, e.ts).bind_blob(4, w.bytes()).run();
  }
}

// A file from before reason_events (migration 9): its reasons copied in once, from the blocks.
void SqliteEventStore::fill_reason_events() {
  copy_block_events_once("reason_events_filled", gives_reason, [this](std::int64_t machine_id, const Event& e, std::string_view bytes) {
    insert_reason_event_.bind(1, machine_id).bind(2, named_instant(e)).bind(3, e.ts).bind_blob(4, bytes).run();
  });
}

// The start of the first state interval after the one `last_state` begins: from the settled state
// changes, else from the state events since the settled hour; kTimeMax when it is still running.
TimeMs SqliteEventStore::next_change_after(MachineState& m, const MachineSpec& spec, const Event& last_state) {
  Statement& s = q().select_next_change;
  s.bind(1, m.id).bind(2, last_state.ts);
  const TimeMs settled = s.step() ? s.int_at(0) : kTimeMax;
  s.reset();
  if (settled != kTimeMax || m.base == kNoBase) return settled;
  std::vector<Event> events;
  load_events(m, std::max(last_state.ts, m.base), kTimeMax, events);
  std::erase_if(events, [&](const Event& e) { return e.type != EventType::state || e.ts <= last_state.ts; });
  return first_change_after(spec, last_state, std::move(events));
}

void SqliteEventStore::add_late_reasons(MachineState& m, const MachineSpec& spec, TimeMs to, std::vector<Event>& events) {
  const auto [first_state, last_state] = state_range(events);
  if (!first_state) return;
  std::vector<Event> late;
  Statement& s = q().select_late_reasons;
  s.bind(1, m.id).bind(2, first_state->ts).bind(3, to);
  while (s.step()) decode_block(s.blob_at(0), m, kTimeMin, kTimeMax, late);
  s.reset();
  if (late.empty()) return;
  // A reason naming an instant after the last state read names the interval it begins only up to
  // the machine's next change; later ones name stops the window does not hold.
  const TimeMs bound = named_instant(late.back()) > last_state->ts ? next_change_after(m, spec, *last_state) : kTimeMax;
  add_reasons_before(late, bound, later_by(to, look_ahead_ms(spec)), events);
}

}  // namespace oee::storage::sqlite
