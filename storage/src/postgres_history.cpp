// PostgreSQL store: history reads, the events the engine needs to answer for a window exactly.
#include "postgres_event_store.h"

#include <algorithm>
#include <bit>

#include "correction_event_slots.h"
#include "event_block_codec.h"
#include "run_event_slots.h"
#include "signs_of_life.h"

namespace oee::storage {

namespace {

using pg::Connection;
using pg::Params;
using pg::PgError;
using pg::Result;
using pg::Transaction;
using pg::kPartitionMs;

constexpr int kWalkChunk = 32;  // a few state changes back is the usual answer
// A group's windows are read with this much time before their start-up windows: usually enough to
// find where the state interval began and the context before it.
constexpr DurationMs kWindowLeadMs = 2 * kMsPerHour;
constexpr std::size_t kWindowLeadMinWindows = 8;  // below, a few index probes per machine are cheaper

// The kinds of context events (bits of machines.kinds): products, and each counter's readings.
constexpr struct {
  int bit, type, counter;
} kKinds[] = {{1, 3, 0}, {2, 2, 0}, {4, 2, 1}, {8, 2, 2}};

// Adds the state `raw` names on `spec` to `group`, unless unknown.
void resolve_into(const MachineSpec& spec, std::string_view raw, std::vector<State>& group) {
  const auto s = spec.resolve_state(raw);
  if (s && *s != State::unknown) group.push_back(*s);
}


}  // namespace

Event PostgresEventStore::decode(const Result& r, int i) {
  Event e;
  e.machine = machine_path(r.int_at(i, 0));
  e.ts = r.int_at(i, 1);
  e.type = static_cast<EventType>(r.int_at(i, 2));
  name_source(e, r.int_at(i, 3));
  e.seq = r.int_at(i, 4);
  e.state = r.text_at(i, 5);
  e.reason = r.text_at(i, 6);
  e.good = r.int_at(i, 7);
  e.reject = r.int_at(i, 8);
  e.counter = static_cast<CounterName>(r.int_at(i, 9));
  e.value = r.int_at(i, 10);
  e.rollover = r.int_at(i, 11);
  e.product = r.text_at(i, 12);
  e.at = r.int_at(i, 13);
  if (e.type == EventType::sample) {
    e.sample_name = std::move(e.product);
    e.sample_value = std::bit_cast<double>(e.value);
    e.product.clear();
    e.value = 0;
  }
  if (e.type == EventType::run) run_from_slots(e);
  if (e.type == EventType::correction) correction_from_slots(e);
  return e;
}

void PostgresEventStore::load_range(std::int64_t mid, const char* table, TimeMs from, TimeMs to, bool states_only,
                                    std::vector<Event>& out) {
  if (from >= to) return;
  // Prepared per variant: the partition pruning then happens at execution, not in a fresh plan.
  const bool history = std::string_view(table) == "history_events";
  const char* name = !history ? "load_events" : states_only ? "load_history_states" : "load_history";
  const std::string sql = std::string("SELECT " OEE_PG_READ_COLUMNS " FROM ") + table +
                          " WHERE machine_id=$1 AND ts>=$2 AND ts<$3" + (states_only ? " AND type=0" : "") +
                          " ORDER BY ts, id_src, id_key";
  Result r = conn().prepared_binary(name, sql.c_str(), Params().add(mid).add(from).add(to));
  for (int i = 0; i < r.rows(); ++i) out.push_back(decode(r, i));
}

// Where a walk of run_start_bounds is.
struct PostgresEventStore::WalkProgress {
  std::vector<State> latest;
  TimeMs cursor;
  DurationMs span = kPartitionMs;
  bool done = false;

  // Returns true when `group` (the states at one instant) ends the walk.
  bool visit(const std::vector<State>& group) {
    if (group.empty()) return false;
    if (latest.empty()) {
      latest = group;
      return false;
    }
    return std::none_of(group.begin(), group.end(),
                        [&](State s) { return std::find(latest.begin(), latest.end(), s) != latest.end(); });
  }
  TimeMs floor() const { return span >= 64 * kPartitionMs || cursor < kTimeMin + span ? kTimeMin : cursor - span; }
};

// A time L <= `before` such that the state interval containing `before` - 1 starts after L and the
// interval containing L ends before `before`: walking back over state events, the first instant
// whose states (all of them: ties resolve by the engine's canonical order) differ from every state
// at the latest instant before `before`. kTimeMin when there is none.
//
// The walks of several machines at once: each round reads the next chunk of every unfinished walk
// in one query. A walk starts a partition back and widens: a query touches the few partitions it
// needs, not every one before `before`.
void PostgresEventStore::run_start_bounds(std::vector<StateWalk>& walks) {
  std::vector<WalkProgress> progress;
  for (const StateWalk& w : walks) progress.push_back({{}, w.before});
  for (;;) {
    std::vector<std::int64_t> idx, ids, cursors, floors;
    for (std::size_t k = 0; k < walks.size(); ++k) {
      if (progress[k].done) continue;
      idx.push_back(static_cast<std::int64_t>(k));
      ids.push_back(walks[k].mid);
      cursors.push_back(progress[k].cursor);
      floors.push_back(progress[k].floor());
    }
    if (idx.empty()) return;
    Result r = conn().prepared_binary("walk_states",
                                      "SELECT v.k, x.ts, x.state FROM unnest($1::int[], $2::int[], $3::bigint[], $4::bigint[])"
                                      " v(k, id, cur, fl) CROSS JOIN LATERAL (SELECT ts, state FROM history_events"
                                      " WHERE machine_id=v.id AND type=0 AND ts<v.cur AND ts>=v.fl AND ts>=$5 AND ts<$6"
                                      " ORDER BY ts DESC LIMIT 32) x ORDER BY v.k, x.ts DESC",
                                      Params().add_array(idx).add_array(ids).add_array(cursors).add_array(floors)
                                          .add(*std::min_element(floors.begin(), floors.end()))
                                          .add(*std::max_element(cursors.begin(), cursors.end())));
    int row = 0;
    for (std::size_t n = 0; n < idx.size(); ++n) {
      const std::size_t k = static_cast<std::size_t>(idx[n]);
      const int begin = row;
      while (row < r.rows() && r.int_at(row, 0) == idx[n]) ++row;
      advance_walk(r, begin, row, walks[k], progress[k]);
    }
  }
}

// One walk's chunk (rows [begin, end) of `r`, latest first): the instants it holds whole are
// visited; then the walk ends, widens, or continues after the chunk.
void PostgresEventStore::advance_walk(const Result& r, int begin, int end, StateWalk& w, WalkProgress& p) {
  const int rows = end - begin;
  const bool full = rows == kWalkChunk;
  const TimeMs last = rows ? r.int_at(end - 1, 1) : p.cursor;
  for (int i = begin; i < end && !p.done;) {
    const TimeMs ts = r.int_at(i, 1);
    if (full && ts == last) break;  // this instant may continue in the next chunk
    std::vector<State> group;
    for (; i < end && r.int_at(i, 1) == ts; ++i) resolve_into(*w.spec, r.view_at(i, 2), group);
    if (p.visit(group)) {
      w.bound = ts;
      p.done = true;
    }
  }
  if (p.done) return;
  if (!full) {
    const TimeMs floor = p.floor();
    if (floor == kTimeMin) {
      w.bound = kTimeMin;
      p.done = true;
    } else {
      p.cursor = floor;  // everything in [floor, cursor) was seen
      p.span *= 4;
    }
  } else if (r.int_at(begin, 1) == last) {
    // One instant fills the chunk: read it whole.
    Result all = conn().query("SELECT state FROM history_events WHERE machine_id=$1 AND type=0 AND ts=$2",
                              Params().add(w.mid).add(last));
    std::vector<State> group;
    for (int i = 0; i < all.rows(); ++i) resolve_into(*w.spec, all.view_at(i, 0), group);
    if (p.visit(group)) {
      w.bound = last;
      p.done = true;
    }
    p.cursor = last;
  } else {
    p.cursor = last + 1;  // the next chunk starts with every event at `last`
  }
}

void PostgresEventStore::add_total_marker(std::int64_t, bool has_total, std::vector<Event>& events) const {
  if (!has_total) return;
  for (const Event& e : events)
    if (e.type == EventType::counter && e.counter == CounterName::total) return;
  Event marker;
  marker.ts = kTimeMax - 1;
  marker.type = EventType::counter;
  marker.counter = CounterName::total;
  events.push_back(std::move(marker));
}

// Every event the engine needs to answer for [from, to) exactly: the events from a bound on the
// start of the state interval in effect a start-up window before `from`, the product in effect and
// each counter's last reading before that bound, and the state events up to a micro-stop threshold
// after `to` (a stop overlapping `to` is classified on its whole length).
void PostgresEventStore::load_history_events(std::int64_t mid, const MachineSpec& spec, TimeMs from, TimeMs to,
                                             std::int64_t kinds, std::vector<Event>& out) {
  std::vector<HistoryRequest> request{{mid, &spec, from, to, kinds, {}}};
  load_histories(request);
  for (Event& e : request[0].events) out.push_back(std::move(e));
}

// A row of load_windows_with_lead's result: its time, type and counter, and its number.
struct PostgresEventStore::LeadRow {
  TimeMs ts;
  int type, counter, row;
};

// The windows of a group in one statement: each window's events together with a lead before it
// (kWindowLeadMs before its start-up window), instead of separate statements for the walks, the
// context and the windows, each probing every machine. Each walk, context lookup and window that
// the lead answers is done here, the rest is left to load_histories' queries. The answers are the
// same: a machine's rows hold every event at each instant of [lead, window end).
void PostgresEventStore::load_windows_with_lead(std::vector<HistoryRequest>& requests,
                                                std::vector<HistoryProgress>& progress) {
  if (requests.size() < kWindowLeadMinWindows) return;
  std::vector<std::int64_t> idx, ids, los, afters;
  for (std::size_t k = 0; k < requests.size(); ++k) {
    const HistoryRequest& q = requests[k];
    if (progress[k].lo_known || q.from <= kTimeMin + q.spec->startup_window_ms + kWindowLeadMs) continue;
    idx.push_back(static_cast<std::int64_t>(k));
    ids.push_back(q.mid);
    los.push_back(q.from - q.spec->startup_window_ms - kWindowLeadMs);
    afters.push_back(std::max(q.from, later_by(q.to, look_ahead_ms(*q.spec))));
  }
  if (idx.size() < kWindowLeadMinWindows) return;
  Result r = conn().prepared_binary("load_windows_with_lead",
                                    "SELECT h.*, v.k FROM unnest($1::int[], $2::int[], $3::bigint[], $4::bigint[])"
                                    " v(k, id, lo, aft) CROSS JOIN LATERAL (SELECT " OEE_PG_READ_COLUMNS
                                    " FROM history_events WHERE machine_id=v.id AND ts>=v.lo AND ts<v.aft AND ts>=$5 AND ts<$6) h",
                                    Params().add_array(idx).add_array(ids).add_array(los).add_array(afters)
                                        .add(*std::min_element(los.begin(), los.end()))
                                        .add(*std::max_element(afters.begin(), afters.end())));
  // LeadRow numbers per request, by time.
  std::vector<std::vector<LeadRow>> rows_of(requests.size());
  for (int i = 0; i < r.rows(); ++i)
    rows_of[static_cast<std::size_t>(r.int_at(i, 14))].push_back(
        {r.int_at(i, 1), static_cast<int>(r.int_at(i, 2)), static_cast<int>(r.int_at(i, 9)), i});
  for (std::int64_t k : idx) {
    auto& rows = rows_of[static_cast<std::size_t>(k)];
    std::sort(rows.begin(), rows.end(), [](const LeadRow& a, const LeadRow& b) { return a.ts < b.ts; });
  }
  for (std::int64_t kk : idx) {
    const std::size_t k = static_cast<std::size_t>(kk);
    answer_from_lead(r, rows_of[k], requests[k], progress[k]);
  }
}

// One request's walk, context and window from the rows of its lead (`rows`, rows of `r` by time).
void PostgresEventStore::answer_from_lead(const Result& r, const std::vector<LeadRow>& rows, HistoryRequest& q,
                                          HistoryProgress& p) {
  // The walk back from `before` (as run_start_bounds): the first instant whose states share
  // nothing with the latest states before `before`; unanswered when the lead's start is reached.
  const TimeMs before = q.from - q.spec->startup_window_ms;
  std::vector<State> latest_states;
  auto at_or_after = [&](TimeMs t) {
    return std::lower_bound(rows.begin(), rows.end(), t, [](const LeadRow& a, TimeMs v) { return a.ts < v; });
  };
  for (auto end = at_or_after(before); end != rows.begin() && !p.lo_known;) {
    const TimeMs ts = std::prev(end)->ts;
    std::vector<State> group;
    for (; end != rows.begin() && std::prev(end)->ts == ts; --end) {
      const LeadRow& x = *std::prev(end);
      if (x.type != 0) continue;
      const auto s = q.spec->resolve_state(r.view_at(x.row, 5));
      if (s && *s != State::unknown) group.push_back(*s);
    }
    if (group.empty()) continue;
    if (latest_states.empty()) {
      latest_states = group;
    } else if (std::none_of(group.begin(), group.end(), [&](State s) {
                 return std::find(latest_states.begin(), latest_states.end(), s) != latest_states.end();
               })) {
      p.lo = ts;
      p.lo_known = true;
    }
  }
  if (!p.lo_known) return;
  // The context before `lo`: for each kind, every event at the latest instant of that kind.
  p.wanted = q.kinds;
  for (const auto& kind : kKinds) {
    if (!(p.wanted & kind.bit)) continue;
    auto matches = [&](const LeadRow& x) { return x.type == kind.type && (kind.type == 3 || x.counter == kind.counter); };
    auto end = at_or_after(p.lo);
    while (end != rows.begin() && !matches(*std::prev(end))) --end;
    if (end == rows.begin()) continue;  // not in the lead: load_histories looks further back
    const TimeMs mts = std::prev(end)->ts;
    for (; end != rows.begin() && std::prev(end)->ts == mts; --end)
      if (matches(*std::prev(end))) q.events.push_back(decode(r, std::prev(end)->row));
    p.wanted &= ~static_cast<std::int64_t>(kind.bit);
  }
  // The window (as load_histories' window query).
  p.window_done = true;
  if (p.lo >= q.to && !(q.to < kTimeMax && look_ahead_ms(*q.spec) > 0)) return;
  const TimeMs after = std::max(later_by(q.to, look_ahead_ms(*q.spec)), p.lo);
  const TimeMs signs_end = later_by(q.to, q.spec->no_data_after_ms);
  for (auto x = at_or_after(p.lo); x != rows.end() && x->ts < after; ++x)
    if (x->ts < q.to || x->type == 0 || x->ts < signs_end) q.events.push_back(decode(r, x->row));
}

// The carry of `at` (machine_carry in postgres_schema.cpp): the events before `at` that the history
// of a window starting at `at` holds, in the compact block form.
std::string PostgresEventStore::carry_of(std::int64_t mid, const MachineSpec& spec, TimeMs at, std::int64_t kinds) {
  std::vector<HistoryRequest> request{{mid, &spec, at, at, kinds, {}}};
  load_histories(request);
  BlockWriter w;
  for (const Event& e : request[0].events)
    if (e.ts < at && e.type != EventType::correction) w.event(e, e.src.empty() ? 0 : source_id(e.src, e.inc));
  return w.bytes();
}

void PostgresEventStore::add_carry(HistoryRequest& q, std::string_view bytes) {
  for (BlockReader r(bytes); !r.done();) {
    std::int64_t sid = 0;
    Event e = r.event(sid);
    e.machine = q.spec->path;
    name_source(e, sid);
    q.events.push_back(std::move(e));
  }
  q.carried = true;
}

// The events of several windows (of several machines) in a few queries: the walks, the context
// before them, the windows.
void PostgresEventStore::load_histories(std::vector<HistoryRequest>& requests) {
  std::vector<HistoryProgress> progress(requests.size());
  for (std::size_t k = 0; k < requests.size(); ++k)
    if (requests[k].carried) progress[k] = {requests[k].from, true, 0, false};
  load_windows_with_lead(requests, progress);
  std::vector<StateWalk> walks;
  std::vector<std::size_t> walk_of;
  std::vector<TimeMs> lo(requests.size(), kTimeMin);
  for (std::size_t k = 0; k < requests.size(); ++k) {
    const HistoryRequest& q = requests[k];
    if (progress[k].lo_known) {
      lo[k] = progress[k].lo;
      continue;
    }
    if (q.from <= kTimeMin + q.spec->startup_window_ms) continue;
    walks.push_back({q.mid, q.spec, q.from - q.spec->startup_window_ms});
    walk_of.push_back(k);
  }
  run_start_bounds(walks);
  for (std::size_t n = 0; n < walks.size(); ++n) lo[walk_of[n]] = walks[n].bound;
  // The latest product events and the latest readings of each counter before `lo` (all events at
  // that instant: the engine's canonical order picks among them), for each kind the machine ever
  // had: first within a partition before `lo`, else anywhere before.
  std::vector<std::int64_t> wanted(requests.size(), 0);
  for (std::size_t k = 0; k < requests.size(); ++k)
    if (lo[k] > kTimeMin) wanted[k] = progress[k].lo_known ? progress[k].wanted : requests[k].kinds;
  load_context_before(requests, lo, wanted);
  load_windows(requests, progress, lo);
  // Corrections come by the range they correct (add_corrections), not by the instant they were
  // made: they are no sign of life either.
  for (HistoryRequest& q : requests) std::erase_if(q.events, [](const Event& e) { return e.type == EventType::correction; });
  add_signs_of_life(requests);
  add_corrections(requests);
  add_late_reasons(requests);
}

// For each request, every event at the latest instant of each kind in `wanted` before its `lo`.
void PostgresEventStore::load_context_before(std::vector<HistoryRequest>& requests, const std::vector<TimeMs>& lo,
                                             std::vector<std::int64_t>& wanted) {
  for (const bool near : {true, false}) {
    std::vector<std::int64_t> idx, ids, los, floors, types, counters;
    for (std::size_t k = 0; k < requests.size(); ++k)
      for (const auto& kind : kKinds)
        if (wanted[k] & kind.bit) {
          idx.push_back(static_cast<std::int64_t>(k));
          ids.push_back(requests[k].mid);
          los.push_back(lo[k]);
          floors.push_back(near ? lo[k] - kPartitionMs : kTimeMin);
          types.push_back(kind.type);
          counters.push_back(kind.counter);
        }
    if (idx.empty()) break;
    Result r = conn().prepared_binary(
        "context_before",
        "WITH k AS (SELECT * FROM unnest($1::int[], $2::int[], $3::bigint[], $4::bigint[], $5::smallint[], $6::smallint[])"
        " k(k, id, lo, fl, type, counter)),"
        " m AS (SELECT k.*, (SELECT max(ts) FROM history_events x WHERE x.machine_id=k.id AND x.ts<k.lo"
        " AND x.ts>=k.fl AND x.ts>=$7 AND x.ts<$8 AND x.type=k.type AND (k.type=3 OR x.counter=k.counter)) AS mts FROM k)"
        " SELECT h.machine_id, h.ts, h.type, h.src_id, h.seq, h.state, h.reason, h.good, h.reject, h.counter, h.value,"
        " h.rollover, h.product, h.at, m.k FROM m CROSS JOIN LATERAL (SELECT * FROM history_events h"
        " WHERE h.machine_id=m.id AND h.ts=m.mts AND h.ts>=$7 AND h.ts<$8 AND h.type=m.type"
        " AND (m.type=3 OR h.counter=m.counter)) h",
        Params().add_array(idx).add_array(ids).add_array(los).add_array(floors).add_array(types).add_array(counters)
            .add(*std::min_element(floors.begin(), floors.end()))
            .add(*std::max_element(los.begin(), los.end())));
    for (int i = 0; i < r.rows(); ++i) {
      const std::size_t k = static_cast<std::size_t>(r.int_at(i, 14));
      requests[k].events.push_back(decode(r, i));
      const Event& e = requests[k].events.back();
      for (const auto& kind : kKinds)
        if (static_cast<int>(e.type) == kind.type && (kind.type == 3 || static_cast<int>(e.counter) == kind.counter))
          wanted[k] &= ~static_cast<std::int64_t>(kind.bit);  // found: not looked for again
    }
  }
}

// The events of each window not loaded yet, from its `lo` on.
void PostgresEventStore::load_windows(std::vector<HistoryRequest>& requests, const std::vector<HistoryProgress>& progress,
                                      const std::vector<TimeMs>& lo) {
  std::vector<std::int64_t> idx, ids, los, tos, afters, signs_ends;
  for (std::size_t k = 0; k < requests.size(); ++k) {
    const HistoryRequest& q = requests[k];
    if (progress[k].window_done) continue;
    if (lo[k] >= q.to && !(q.to < kTimeMax && look_ahead_ms(*q.spec) > 0)) continue;
    idx.push_back(static_cast<std::int64_t>(k));
    ids.push_back(q.mid);
    los.push_back(lo[k]);
    tos.push_back(q.to);
    afters.push_back(std::max(later_by(q.to, look_ahead_ms(*q.spec)), lo[k]));
    signs_ends.push_back(later_by(q.to, q.spec->no_data_after_ms));
  }
  if (idx.empty()) return;
  // After `to`: the state events up to a micro-stop threshold, every event (a sign of life) up to
  // a no-data threshold.
  Result r = conn().prepared_binary(
      "load_window",
      "SELECT h.*, v.k FROM unnest($1::int[], $2::int[], $3::bigint[], $4::bigint[], $5::bigint[], $8::bigint[])"
      " v(k, id, lo, hi, aft, sig) CROSS JOIN LATERAL (SELECT " OEE_PG_READ_COLUMNS
      " FROM history_events WHERE machine_id=v.id AND ts>=v.lo AND ts<v.aft AND (ts<v.hi OR type=0 OR ts<v.sig)"
      " AND ts>=$6 AND ts<$7) h",
      Params().add_array(idx).add_array(ids).add_array(los).add_array(tos).add_array(afters)
          .add(*std::min_element(los.begin(), los.end()))
          .add(*std::max_element(afters.begin(), afters.end()))
          .add_array(signs_ends));
  for (int i = 0; i < r.rows(); ++i) requests[static_cast<std::size_t>(r.int_at(i, 14))].events.push_back(decode(r, i));
}

// For no-data detection (signs_of_life.h): the events after each window are only signs of life
// there, and each window needs the last sign before it. The events read hold every event from the
// walk's bound on and the latest context events before it, so a sign is looked up (all windows in
// one query) only when none of them is within a threshold before the window; none there, an older
// one read stands for it, else a heartbeat a threshold before the window does.
void PostgresEventStore::add_signs_of_life(std::vector<HistoryRequest>& requests) {
  std::vector<std::int64_t> idx, ids, los, froms;
  std::vector<char> older(requests.size(), 0);  // a sign older than the search was read
  for (std::size_t k = 0; k < requests.size(); ++k) {
    HistoryRequest& q = requests[k];
    const DurationMs nd = q.spec->no_data_after_ms;
    if (nd <= 0) continue;
    TimeMs sign = kTimeMin;
    for (Event& e : q.events) {
      if (e.ts < q.from) sign = std::max(sign, e.ts);
      if (e.ts >= q.to && e.type != EventType::state) e = heartbeat_at(q.spec->path, e.ts);
    }
    if (sign >= sign_search_start(q.from, nd)) continue;
    idx.push_back(static_cast<std::int64_t>(k));
    ids.push_back(q.mid);
    los.push_back(sign_search_start(q.from, nd));
    froms.push_back(q.from);
    older[k] = sign != kTimeMin;
  }
  if (idx.empty()) return;
  Result r = conn().prepared_binary(
      "last_signs",
      "SELECT v.k, (SELECT max(ts) FROM history_events WHERE machine_id=v.id AND ts>=v.lo AND ts<v.fr AND ts>=$5"
      " AND ts<$6 AND type<>8) FROM unnest($1::int[], $2::int[], $3::bigint[], $4::bigint[]) v(k, id, lo, fr)",
      Params().add_array(idx).add_array(ids).add_array(los).add_array(froms)
          .add(*std::min_element(los.begin(), los.end()))
          .add(*std::max_element(froms.begin(), froms.end())));
  for (int i = 0; i < r.rows(); ++i) {
    const std::size_t k = static_cast<std::size_t>(r.int_at(i, 0));
    HistoryRequest& q = requests[k];
    if (!r.is_null(i, 1))
      q.events.push_back(heartbeat_at(q.spec->path, r.int_at(i, 1)));
    else if (!older[k])
      q.events.push_back(heartbeat_at(q.spec->path, sign_search_start(q.from, q.spec->no_data_after_ms)));
  }
}

PostgresEventStore::MachineFacts PostgresEventStore::facts(std::int64_t mid) {
  Result row = conn().prepared("machine_row", "SELECT has_total_counter, max_ts, version, kinds FROM machines WHERE id=$1",
                               Params().add(mid));
  MachineFacts f;
  f.has_total = row.int_at(0, 0) != 0;
  f.max_ts = row.is_null(0, 1) ? std::nullopt : std::optional<TimeMs>(row.int_at(0, 1));
  f.version = row.int_at(0, 2);
  f.kinds = row.int_at(0, 3);
  return f;
}

MachineHistory PostgresEventStore::history(std::int64_t mid, const MachineSpec& spec, TimeMs from, TimeMs to,
                                           const MachineFacts& facts) {
  std::vector<Event> events;
  load_history_events(mid, spec, from, to, facts.kinds, events);
  add_total_marker(mid, facts.has_total, events);
  return MachineHistory::build(spec, events);
}

std::vector<Event> PostgresEventStore::machine_events(std::string_view machine, TimeMs from, TimeMs to) {
  return guarded([&] {
    std::vector<Event> out;
    const std::int64_t mid = machine_id(machine);  // the cached id, or the machine's row made once
    load_range(mid, "events", from, to, false, out);
    return out;
  });
}

MachineHistory PostgresEventStore::machine_history(const MachineSpec& machine, TimeMs from, TimeMs to) {
  return guarded([&] {
    const std::int64_t mid = machine_id(machine.path);
    return history(mid, machine, from, to, facts(mid));
  });
}

}  // namespace oee::storage
