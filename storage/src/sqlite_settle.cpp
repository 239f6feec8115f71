// The in-memory tail of each machine and its settled hours: late events recompute from where they
// change the rollups; settled hours are written as rollups, state changes and contexts.
#include "sqlite_event_store.h"

#include "correction_ranges.h"
#include "event_block_codec.h"
#include "oee/core/history_corrections.h"
#include "signs_of_life.h"
#include "store_helpers.h"

namespace oee::storage::sqlite {

// The tail from `from` (an hour start): the context at it, for no-data detection the last sign of
// life before it (where a silence running into the tail starts), then every event since.
void SqliteEventStore::load_tail(MachineState& m, TimeMs from) {
  m.context.clear();
  load_context(m, from, m.context);
  if (const DurationMs nd = m.spec->no_data_after_ms; nd > 0) m.context.push_back(heartbeat_at(m.path, sign_before(m, from, nd)));
  std::vector<Event> events;
  load_events(m, from, kTimeMax, events);
  std::vector<std::int64_t> src_ids;
  src_ids.reserve(events.size());
  for (const Event& e : events) src_ids.push_back(e.src.empty() ? 0 : source_for(e.src, e.inc).id);
  m.tail.clear();
  m.tail.append(events, src_ids, m.spec->no_data_after_ms);
  m.corrections.clear();
  load_corrections(m, std::min(from, earliest_ts(m.context)), kTimeMax, m.corrections);  // the tail's are from `from` on
  Statement any(db_, "SELECT EXISTS(SELECT 1 FROM correction_events WHERE machine_id=?1)");
  any.bind(1, m.id);
  m.has_corrections = any.step() && any.int_at(0) != 0;
}

// The context and the tail as the engine reads them.
std::vector<Event> SqliteEventStore::tail_events(const MachineState& m) const {
  std::vector<Event> events;
  events.reserve(m.context.size() + m.tail.size() + 1);  // + 1: room for the total marker
  events = m.context;
  m.tail.decode(events, [this](std::int64_t id) { return source_of(id); });
  return events;
}

// The tail's history, and without its corrections when it has any (raw_tail_history).
const MachineHistory& SqliteEventStore::tail_history(MachineState& m) {
  if (m.history) return *m.history;
  std::vector<Event> events = tail_events(m);
  return tail_history(m, events);
}

// `events`: tail_events(m), when the caller has them.
const MachineHistory& SqliteEventStore::tail_history(MachineState& m, std::vector<Event>& events) {
  if (!m.history) {
    const std::size_t n = events.size();
    add_total_marker(m, events);
    m.raw_history.reset();
    if (!m.corrections.empty()) m.raw_history = MachineHistory::build(*m.spec, events);
    events.insert(events.end(), m.corrections.begin(), m.corrections.end());
    m.history = MachineHistory::build(*m.spec, events);
    events.resize(n);
  }
  return *m.history;
}

const MachineHistory& SqliteEventStore::raw_tail_history(MachineState& m) {
  const MachineHistory& h = tail_history(m);
  return m.raw_history ? *m.raw_history : h;
}

void SqliteEventStore::track(MachineState& m, const Event& e) {
  m.any = true;
  m.max_ts = std::max(m.max_ts, e.ts);
  if (e.type != EventType::state) return;
  const auto s = m.spec->resolve_state(e.state);
  if (!s || *s == State::unknown) return;
  if (!m.has_state || *s != m.last_state) {
    m.has_state = true;
    m.last_state = *s;
    m.last_state_start = e.ts;
  }
}

void SqliteEventStore::rebuild_tracking(MachineState& m) {
  m.history.reset();
  m.any = !m.tail.empty();
  m.max_ts = m.tail.max_ts();
  const MachineHistory& h = raw_tail_history(m);  // as track() follows the events
  m.has_state = !h.intervals().empty();
  if (m.has_state) {
    m.last_state = h.intervals().back().state;
    m.last_state_start = h.intervals().back().start;
  }
}

// Hours ending at or before this instant can no longer change without a late event: after the
// last event nothing is known, and a short unplanned stop still open may yet turn out a small stop.
// With no-data detection, hours end a threshold before the last event: an event after the settled
// hour then never splits a silence that began before it into one no longer no data (a late event
// recomputes from a threshold before it, ingest_pending).
TimeMs SqliteEventStore::settled_point(const MachineState& m) const {
  const TimeMs last = m.max_ts - m.spec->no_data_after_ms;
  if (m.has_state && is_unplanned_stop(m.last_state) &&
      m.max_ts - m.last_state_start < m.spec->micro_stop_threshold_ms)
    return std::min(last, m.last_state_start);
  return last;
}

// Where a late event (ts before the settled hour) starts to change the rollups: the start of the
// state interval containing it (its length, hence its stop class, may change), by whole hours.
TimeMs SqliteEventStore::late_start(MachineState& m, TimeMs ts) {
  select_change_at_or_before_.bind(1, m.id).bind(2, ts);
  TimeMs start = ts;
  if (select_change_at_or_before_.step() && !select_change_at_or_before_.is_null(0))
    start = std::min(start, select_change_at_or_before_.int_at(0));
  select_change_at_or_before_.reset();
  return floor_hour(start);
}

// Whether the state interval containing `at` begins before the tail (in settled hours).
bool SqliteEventStore::names_settled_stop(MachineState& m, TimeMs at) {
  if (at < m.base) return true;
  const MachineHistory& h = raw_tail_history(m);  // reasons and corrections name the events' intervals
  const std::ptrdiff_t i = h.interval_at(at);
  return i >= 0 && h.intervals()[static_cast<std::size_t>(i)].start < m.base;
}

void SqliteEventStore::recompute_from(MachineState& m, TimeMs from) {
  delete_rollups_from_.bind(1, m.id).bind(2, from).run();
  delete_changes_from_.bind(1, m.id).bind(2, from).run();
  delete_contexts_after_.bind(1, m.id).bind(2, from).run();
  m.context_at_base = stored_context(m, from);
  if (from - kMsPerHour < m.zero_hour) {  // earlier than every kept rollup: a new zero point
    m.zero_hour = from - kMsPerHour;
    m.zero = KpiTotals{};
    delete_zero_.bind(1, m.id).run();
  }
  m.cumulative = cumulative_at(m, from - kMsPerHour);
  load_tail(m, from);
  m.base = from;
  m.row_dirty = true;
  rebuild_tracking(m);
}

// The first hour to recompute because the machine's first total counter arrived (kTimeMax: none).
TimeMs SqliteEventStore::total_counter_start(MachineState& m, const std::vector<Event>& pending) {
  TimeMs recompute = kTimeMax;
  if (!m.has_total_counter) {
    for (const Event& e : pending)
      if (e.type == EventType::counter && e.counter == CounterName::total) {
        // Reject counters already settled were counted as good; they turn into part of the total.
        m.has_total_counter = true;
        m.row_dirty = true;
        m.history.reset();
        std::vector<Event> settled;  // once per machine: a scan of its settled events is fine
        load_events(m, kTimeMin, m.base, settled);
        for (const Event& r : settled)
          if (r.type == EventType::counter && r.counter == CounterName::reject)
            recompute = std::min(recompute, floor_hour(r.ts));
        break;
      }
  }
  return recompute;
}

// Whether every new state event (in time order) comes after the previous one and every stored event.
bool SqliteEventStore::states_in_order(const MachineState& m, const std::vector<Event>& pending,
                                       const std::vector<std::size_t>& order) {
  bool in_order = true;
  TimeMs previous_state_ts = m.any ? m.max_ts : kTimeMin;
  for (std::size_t k = 0; in_order && k < order.size(); ++k) {
    const Event& e = pending[order[k]];
    if (e.type != EventType::state) continue;
    in_order = e.ts > previous_state_ts;
    previous_state_ts = e.ts;
  }
  return in_order;
}

// Out of order but after the settled hour: only a state event splitting an unplanned stop that
// began before it can change a settled hour (the stop may become a small stop). Returns the first
// hour to recompute (kTimeMax: none).
TimeMs SqliteEventStore::split_stop_start(MachineState& m, const std::vector<Event>& pending,
                                          const std::vector<std::size_t>& order) {
  TimeMs recompute = kTimeMax;
  // The stops of the events and of the corrected history (a correction may make or end one).
  for (const MachineHistory* h : {&tail_history(m), &raw_tail_history(m)})
    for (std::size_t i : order) {
      if (pending[i].ts > m.max_ts) break;
      if (pending[i].type != EventType::state) continue;  // only a state event splits an interval
      const std::ptrdiff_t at = h->interval_at(pending[i].ts);
      if (at < 0) continue;
      const StateInterval& iv = h->intervals()[static_cast<std::size_t>(at)];
      if (iv.start < m.base && is_unplanned_stop(iv.state)) recompute = std::min(recompute, floor_hour(iv.start));
    }
  return recompute;
}

// No settled hour changes: the new events join the tail.
void SqliteEventStore::add_to_tail(MachineState& m, std::vector<Event>& pending, std::span<const std::int64_t> src_ids,
                                   const std::vector<std::size_t>& order, bool in_order) {
  m.history.reset();
  if (in_order)
    for (std::size_t i : order) track(m, pending[i]);
  m.tail.append(pending, src_ids, m.spec->no_data_after_ms);  // consumes pending
  if (!in_order) rebuild_tracking(m);
}

void SqliteEventStore::ingest_pending(MachineState& m) {
  std::vector<Event> pending = std::move(m.pending);
  m.pending.clear();
  std::vector<std::int64_t> pending_src = std::move(m.pending_src);
  m.pending_src.clear();
  // The buffer goes back emptied: its capacity serves the next batch, which then does not move
  // every event again while the vector grows (an Event is a dozen strings).
  struct GiveBack {
    std::vector<Event>& buffer;
    std::vector<Event>& owner;
    ~GiveBack() {
      buffer.clear();
      if (owner.empty()) owner.swap(buffer);
    }
  } give_back{pending, m.pending};
  if (!m.spec || pending.empty()) return;
  drop_correction_sources(pending, pending_src);  // the corrections leave `pending` next
  const TimeMs corrected = take_new_corrections(m, pending);
  if (pending.empty()) {  // corrections only
    if (corrected != kTimeMax) recompute_from(m, corrected);
    settle(m);
    write_machine_row(m);
    return;
  }
  // In order (the common case): every new state event after every stored event and no two at one
  // instant (else the engine's tie-break decides). Other events may fall anywhere after the settled
  // hour: they do not change the state intervals the settled point is judged on.
  std::vector<std::size_t> order(pending.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return pending[a].ts < pending[b].ts; });
  const TimeMs first_ts = pending[order.front()].ts;
  const bool had_base = m.base != kNoBase;

  if (m.base == kNoBase) {
    m.base = floor_hour(first_ts);
    m.zero_hour = m.base - kMsPerHour;
    m.row_dirty = true;
    m.corrections.clear();  // those stored before the machine's first event (this batch's included)
    load_corrections(m, kTimeMin, kTimeMax, m.corrections);
  }
  TimeMs recompute = std::min(corrected, total_counter_start(m, pending));
  if (first_ts < m.base) recompute = std::min(recompute, late_start(m, first_ts));
  // With a reason tree a reason may change its stop's loss, and the stop may begin in settled hours;
  // with corrections whether a corrected piece joins it.
  if (m.spec->reasons || m.has_corrections)
    for (const Event& e : pending)
      if (e.type == EventType::reason && names_settled_stop(m, e.at)) recompute = std::min(recompute, late_start(m, e.at));
  // A new sign of life splits the silence around it: the part before it stops being no data only
  // when it is now at most a threshold long, so hours from a threshold before it on may change.
  if (const DurationMs nd = m.spec->no_data_after_ms; had_base && nd > 0 && first_ts - nd < m.base)
    recompute = std::min(recompute, floor_hour(first_ts - nd));
  const bool in_order = states_in_order(m, pending, order);
  if (recompute == kTimeMax && !in_order) recompute = split_stop_start(m, pending, order);
  // Hours at or before the zero point are answered as unknown (before the machine's first event, or
  // cut by retention, their events gone): events after it recompute from the hour after it at most.
  if (recompute != kTimeMax && first_ts >= m.zero_hour + kMsPerHour) recompute = std::max(recompute, m.zero_hour + kMsPerHour);
  if (recompute != kTimeMax) {
    recompute_from(m, recompute);  // reloads every event from `recompute` on, the new ones included
  } else {
    add_to_tail(m, pending, pending_src, order, in_order);
  }
  settle(m);
  write_machine_row(m);
}

// The cumulative rollups of the hours [base, settled_hour).
void SqliteEventStore::write_rollups(MachineState& m, const MachineHistory& h, TimeMs settled_hour) {
  std::vector<Interval> hours;
  hours.reserve(static_cast<std::size_t>((settled_hour - m.base) / kMsPerHour));
  for (TimeMs t = m.base; t < settled_hour; t += kMsPerHour) hours.push_back({t, t + kMsPerHour});
  const std::vector<KpiTotals> totals = machine_bucket_totals(h, calendar_, hours, kTimeMax);
  for (std::size_t i = 0; i < hours.size(); ++i) {
    m.cumulative += totals[i];
    upsert_rollup_.bind(1, m.id).bind(2, hours[i].start);
    int c = 3;
    for (std::int64_t* f : kpi_fields(m.cumulative)) upsert_rollup_.bind(c++, *f);
    upsert_rollup_.run();
  }
}

// The starts of the state intervals beginning in [base, settled_hour).
void SqliteEventStore::write_state_changes(const MachineState& m, const MachineHistory& h, TimeMs settled_hour) {
  const auto& intervals = h.intervals();
  for (std::size_t i = 0; i < intervals.size(); ++i) {
    const StateInterval& iv = intervals[i];
    if (iv.start < m.base || iv.start >= settled_hour) continue;
    std::int64_t ord = 0;
    for (std::size_t j = i; j > 0 && intervals[j - 1].start == iv.start; --j) ++ord;
    insert_change_.bind(1, m.id).bind(2, iv.start).bind(3, ord).bind(4, static_cast<std::int64_t>(iv.state)).run();
  }
}

// The state part of the context at settled_hour: the interval containing settled_hour - 1 and those
// ending within the start-up window before it, as synthetic state events (load_context).
std::vector<Event> SqliteEventStore::state_context(const MachineState& m, const MachineHistory& h, TimeMs settled_hour) {
  const MachineSpec& spec = *m.spec;
  const auto& intervals = h.intervals();
  std::vector<Event> next;
  const std::ptrdiff_t at = h.interval_at(settled_hour - 1);
  if (at >= 0) {
    std::size_t first = static_cast<std::size_t>(at);
    while (spec.startup_window_ms > 0 && first > 0 && intervals[first - 1].end > settled_hour - spec.startup_window_ms)
      --first;
    for (std::size_t i = first; i <= static_cast<std::size_t>(at); ++i) {
      Event e;
      e.ts = intervals[i].start;
      e.type = EventType::state;
      e.state = state_token(spec, intervals[i].state);
      e.reason = intervals[i].reason;  // its loss (reason tree) goes on in the tail
      e.machine = m.path;
      next.push_back(std::move(e));
    }
  }
  return next;
}

// The product in effect and each counter's last reading at every hour start up to settled_hour
// (the canonical-last of each before it): stored where it changed, and the new context. Returns
// the indexes in `events` (tail_events) of those at settled_hour (-1: none).
std::array<std::ptrdiff_t, 4> SqliteEventStore::carry_contexts(MachineState& m, const std::vector<Event>& events,
                                                               TimeMs settled_hour) {
  std::vector<std::pair<CanonicalOrderKey, std::size_t>> carried;
  std::vector<const Event*> corrections;
  for (const Event& c : m.corrections) corrections.push_back(&c);
  const VoidedReadings voided(corrections);  // a voided reading is no counter's last
  for (std::size_t i = 0; i < events.size(); ++i) {
    const Event& e = events[i];
    if (e.ts < settled_hour && (e.type == EventType::product || e.type == EventType::counter) && !voided.contains(e))
      carried.emplace_back(canonical_order_key(e), i);
  }
  std::sort(carried.begin(), carried.end());
  std::array<std::ptrdiff_t, 4> latest{-1, -1, -1, -1};
  std::size_t next_carried = 0;
  BlockWriter context;
  for (TimeMs hour = m.base + kMsPerHour; hour <= settled_hour; hour += kMsPerHour) {
    bool changed = false;
    for (; next_carried < carried.size() && carried[next_carried].first.ts < hour; ++next_carried) {
      const Event& e = events[carried[next_carried].second];
      latest[e.type == EventType::product ? 0 : 1 + static_cast<std::size_t>(e.counter)] =
          static_cast<std::ptrdiff_t>(carried[next_carried].second);
      changed = true;
    }
    if (!changed) continue;
    context.clear();
    for (std::ptrdiff_t i : latest)
      if (i >= 0) {
        const Event& e = events[static_cast<std::size_t>(i)];
        context.event(e, e.src.empty() ? 0 : source_for(e.src, e.inc).id);
      }
    if (context.bytes() != m.context_at_base) {
      insert_context_.bind(1, m.id).bind(2, hour).bind_blob(3, context.bytes()).run();
      m.context_at_base = context.bytes();
    }
  }
  return latest;
}

void SqliteEventStore::settle(MachineState& m) {
  if (!m.any) return;
  const TimeMs settled_hour = floor_hour(settled_point(m));
  if (settled_hour <= m.base) return;
  const MachineSpec& spec = *m.spec;
  std::vector<Event> events = tail_events(m);
  const MachineHistory& h = tail_history(m, events);
  write_rollups(m, h, settled_hour);
  // State changes and the context are the events' intervals: a history rebuilt from them takes
  // the corrections again.
  const MachineHistory& raw = raw_tail_history(m);
  write_state_changes(m, raw, settled_hour);

  // The new context at settled_hour, then the tail from settled_hour on.
  std::vector<Event> next = state_context(m, raw, settled_hour);
  for (std::ptrdiff_t i : carry_contexts(m, events, settled_hour))
    if (i >= 0) next.push_back(events[static_cast<std::size_t>(i)]);
  if (spec.no_data_after_ms > 0) {  // the last sign of life before settled_hour (load_tail)
    TimeMs sign = sign_search_start(settled_hour, spec.no_data_after_ms);
    for (const Event& e : events)
      if (e.ts < settled_hour) sign = std::max(sign, e.ts);
    next.push_back(heartbeat_at(m.path, sign));
  }
  m.context = std::move(next);
  m.tail.keep_from(settled_hour);
  m.base = settled_hour;
  m.row_dirty = true;
  m.history.reset();
  const TimeMs lo = std::min(settled_hour, earliest_ts(m.context));  // the tail's are from settled_hour on
  std::erase_if(m.corrections, [&](const Event& c) { return corrected_until(c) <= lo; });
}

}  // namespace oee::storage::sqlite
