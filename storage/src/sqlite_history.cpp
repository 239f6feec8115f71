// History reads: events from the blocks, the context before a window, machine histories.
#include "sqlite_event_store.h"

#include "correction_ranges.h"
#include "event_block_codec.h"
#include "signs_of_life.h"
#include "store_helpers.h"

namespace oee::storage::sqlite {

const SourceName* SqliteEventStore::source_of(std::int64_t id) const {
  const ReadScope* scope = ReadScope::of(*this);
  const SourceNames& names = scope ? scope->names() : *source_names_;
  auto it = names.find(id);
  return it == names.end() ? nullptr : &it->second;
}

void SqliteEventStore::decode_block(std::string_view data, const MachineState& m, TimeMs from, TimeMs to,
                                    std::vector<Event>& out) const {
  BlockReader r(data);
  while (!r.done()) {
    std::int64_t src_id = 0;
    Event e = r.event(src_id);
    if (e.ts < from || e.ts >= to) continue;
    if (const SourceName* s = src_id != 0 ? source_of(src_id) : nullptr) {
      e.src = s->src;
      e.inc = s->inc;
    }
    e.machine = m.path;
    out.push_back(std::move(e));
  }
}

// Blocks are keyed by time: one seek per hour of the machine's known range (zero point to last hour).
void SqliteEventStore::load_events(MachineState& m, TimeMs from, TimeMs to, std::vector<Event>& out) {
  if (m.base == kNoBase) {  // not in the plant (or no events): rare, a scan of the range
    q().select_blocks_range.bind(1, m.id).bind(2, floor_hour(from)).bind(3, to);
    while (q().select_blocks_range.step()) decode_block(q().select_blocks_range.blob_at(0), m, from, to, out);
    q().select_blocks_range.reset();
    return;
  }
  const TimeMs last = std::min(to, m.last_hour + kMsPerHour);
  for (TimeMs hour = std::max(floor_hour(from), m.zero_hour + kMsPerHour); hour < last; hour += kMsPerHour) {
    q().select_blocks.bind(1, m.id).bind(2, hour);
    while (q().select_blocks.step()) decode_block(q().select_blocks.blob_at(0), m, from, to, out);
    q().select_blocks.reset();
  }
}

std::string SqliteEventStore::stored_context(const MachineState& m, TimeMs hour) {
  q().select_context.bind(1, m.id).bind(2, hour);
  std::string out = q().select_context.step() ? std::string(q().select_context.blob_at(0)) : std::string();
  q().select_context.reset();
  return out;
}

// Events before t that put the engine in the state it has at t for every later instant: the state
// interval containing t - 1 and those ending within the start-up window before t (as synthetic state
// events at their starts), the product in effect and each counter's last reading (the context
// stored at t's hour plus the product and counter events of that hour before t). t <= base.
void SqliteEventStore::load_context(MachineState& m, TimeMs t, std::vector<Event>& out, bool with_head) {
  const MachineSpec& spec = *m.spec;
  const DurationMs window = spec.startup_window_ms;
  std::vector<Event> states;
  q().select_changes_desc.bind(1, m.id).bind(2, t);
  TimeMs next_start = kTimeMax;  // start of the interval after the one read
  while (q().select_changes_desc.step()) {
    const TimeMs start = q().select_changes_desc.int_at(0);
    // The interval ends where the next starts; the first read is the one containing t - 1.
    if (next_start != kTimeMax && !(window > 0 && next_start > t - window)) break;
    Event e;
    e.ts = start;
    e.type = EventType::state;
    e.state = state_token(spec, static_cast<State>(q().select_changes_desc.int_at(1)));
    e.machine = m.path;
    states.push_back(std::move(e));
    next_start = start;
  }
  q().select_changes_desc.reset();
  if ((spec.reasons || m.has_corrections) && !states.empty()) add_context_reasons(m, t, states);
  out.insert(out.end(), std::make_move_iterator(states.rbegin()), std::make_move_iterator(states.rend()));
  const TimeMs hour = floor_hour(t);
  const std::string context = stored_context(m, hour);
  decode_block(context, m, kTimeMin, kTimeMax, out);
  if (with_head && hour < t) {
    std::vector<Event> head;
    load_events(m, hour, t, head);
    for (Event& e : head)
      if (e.type == EventType::product || e.type == EventType::counter) out.push_back(std::move(e));
  }
}

// state_changes keep states only; a reason's loss counts (reason tree), so the reasons of the
// context's intervals come from the engine over the events since the earliest of them.
void SqliteEventStore::add_context_reasons(MachineState& m, TimeMs t, std::vector<Event>& states) {
  std::vector<Event> events;
  load_events(m, floor_hour(states.back().ts), t, events);
  events.insert(events.end(), states.begin(), states.end());
  const MachineHistory h = MachineHistory::build(*m.spec, events);
  for (Event& e : states)
    if (const std::ptrdiff_t i = h.interval_at(e.ts); i >= 0) e.reason = h.intervals()[static_cast<std::size_t>(i)].reason;
}

// The last sign of life of the machine before t, or sign_search_start(t) when there is none after
// that (signs_of_life.h). Hours at or before the zero point count too: retention keeps one
// threshold of events before its cut for this (apply_retention).
TimeMs SqliteEventStore::sign_before(MachineState& m, TimeMs t, DurationMs no_data_after_ms) {
  const TimeMs lo = sign_search_start(t, no_data_after_ms);
  std::vector<Event> found;
  for (TimeMs hour = std::min(floor_hour(t - 1), m.last_hour); hour >= floor_hour(lo) && found.empty(); hour -= kMsPerHour) {
    q().select_blocks.bind(1, m.id).bind(2, hour);
    while (q().select_blocks.step()) decode_block(q().select_blocks.blob_at(0), m, lo, t, found);
    q().select_blocks.reset();
  }
  TimeMs last = lo;
  for (const Event& e : found) last = std::max(last, e.ts);
  return last;
}

// The engine decides "rejects are part of the total" on the whole set of a machine's events; a
// partial set gets a total-counter reading past every window so that it decides the same way. As
// the first reading of its counter it is only a baseline and adds no count.
void SqliteEventStore::add_total_marker(const MachineState& m, std::vector<Event>& events) const {
  if (!m.has_total_counter) return;
  for (const Event& e : events)
    if (e.type == EventType::counter && e.counter == CounterName::total) return;
  Event marker;
  marker.ts = kTimeMax - 1;
  marker.type = EventType::counter;
  marker.counter = CounterName::total;
  marker.machine = m.path;
  events.push_back(std::move(marker));
}

std::vector<Event> SqliteEventStore::machine_events(std::string_view machine, TimeMs from, TimeMs to) {
  std::vector<Event> out;
  const std::string_view paths[] = {machine};
  ReadScope scope(*this, paths);
  MachineState* m = ReadScope::of(*this)->find(machine);
  if (!m) return out;
  load_events(*m, from, to, out);
  // The corrections made in [from, to) (kept apart from the blocks).
  std::vector<Event> corrections;
  load_corrections(*m, kTimeMin, kTimeMax, corrections);
  for (Event& c : corrections)
    if (c.ts >= from && c.ts < to) out.push_back(std::move(c));
  std::stable_sort(out.begin(), out.end(), [](const Event& a, const Event& b) { return a.ts < b.ts; });
  return out;
}

MachineHistory SqliteEventStore::history_from_db(MachineState& m, const MachineSpec& spec, TimeMs from, TimeMs to,
                                                 std::vector<Event>* preloaded) {
  std::vector<Event> events;
  if (!m.spec || m.base == kNoBase) {
    load_events(m, kTimeMin, kTimeMax, events);
    load_corrections(m, kTimeMin, kTimeMax, events);
    return MachineHistory::build(spec, events);
  }
  // Before the settled hour the context comes from state_changes; after it, from the events since.
  const TimeMs start = std::min(from, m.base);
  load_context(m, start, events, false);
  // One read from start's hour to a threshold after `to`: the head of the hour before start gives
  // the product and counter readings since the stored context; after `to`, the state events tell
  // where a stop overlapping `to` ends (it is classified on its whole length), and with no-data
  // detection the signs of life where a silence overlapping `to` ends.
  const DurationMs nd = spec.no_data_after_ms;
  const TimeMs end = later_by(to, look_ahead_ms(spec));
  std::vector<Event> loaded;
  if (!preloaded) load_events(m, floor_hour(start), end, loaded);
  TimeMs sign = kTimeMin;  // the last sign of life before start in the range read
  for (Event& e : preloaded ? *preloaded : loaded) {
    if (e.ts < start) sign = std::max(sign, e.ts);
    const bool keep = e.ts < start ? (e.type == EventType::product || e.type == EventType::counter)
                                   : (e.ts < to || e.type == EventType::state);
    if (keep)
      events.push_back(std::move(e));
    else if (nd > 0 && e.ts >= to && e.ts < later_by(to, nd))
      events.push_back(heartbeat_at(m.path, e.ts));
  }
  if (nd > 0) events.push_back(heartbeat_at(m.path, sign != kTimeMin ? sign : sign_before(m, floor_hour(start), nd)));
  std::vector<Event> corrections;
  load_corrections(m, std::min(start, earliest_ts(events)), std::max(end, from + 1), corrections);
  // The reasons count with a reason tree, and where a corrected piece may join a neighbour.
  if (spec.reasons || !corrections.empty()) add_late_reasons(m, spec, to, events);
  std::move(corrections.begin(), corrections.end(), std::back_inserter(events));
  add_total_marker(m, events);
  return MachineHistory::build(spec, events);
}

MachineHistory SqliteEventStore::machine_history(const MachineSpec& machine, TimeMs from, TimeMs to) {
  const std::string_view paths[] = {machine.path};
  ReadScope scope(*this, paths);
  MachineState* m = ReadScope::of(*this)->find(machine.path);
  if (!m) return MachineHistory::build(machine, std::span<const Event>{});
  return history_from_db(*m, machine, from, to);
}

}  // namespace oee::storage::sqlite
