// PostgreSQL store: appending a batch (dedup, COPY, the machines' rows and the rollups a late
// event invalidates, the sources and their gaps).
#include "postgres_event_store.h"

#include <algorithm>
#include <array>
#include <bit>
#include <ctime>
#include <optional>

#include "postgres_schema.h"
#include "correction_event_slots.h"
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

constexpr int kPartitionsAhead = 2;             // days created ahead of the server clock
constexpr std::size_t kCopySliceRows = 500;  // about 80 KB of COPY data per PQputCopyData

std::string partition_name(std::int64_t day) {
  std::string d = format_civil_date(day);
  return "events_" + d;
}

// COPY ... (FORMAT binary): the server reads integers as they are instead of parsing text, and
// nothing needs escaping. A row is a field count, then each field as its length and big-endian bytes.
void put_be(std::string& out, std::uint64_t v, int bytes) {
  char buf[8];
  for (int i = bytes - 1; i >= 0; --i, v >>= 8) buf[i] = static_cast<char>(v & 0xff);
  out.append(buf, static_cast<std::size_t>(bytes));
}
void copy_int(std::string& out, std::int64_t v, int bytes) {  // smallint 2, integer 4, bigint 8
  put_be(out, static_cast<std::uint64_t>(bytes), 4);
  put_be(out, static_cast<std::uint64_t>(v), bytes);
}
void copy_text(std::string& out, std::string_view s) {
  std::string clean;
  if (s.find('\0') != std::string_view::npos) {
    for (char c : s)
      if (c != '\0') clean += c;
    s = clean;
  }
  put_be(out, s.size(), 4);
  out.append(s);
}
constexpr std::string_view kCopyBinaryHeader{"PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0", 19};  // signature, flags, extension length
constexpr std::string_view kCopyBinaryTrailer{"\377\377", 2};

// A source's stored sequence numbers: its range minus its gaps (as read, and as changed here).
struct SeqRange {
  std::int64_t seq_min, seq_max;
  std::map<std::int64_t, std::int64_t> gaps, loaded;  // first -> last
};

// The range and gaps once `seqs` are stored too (as the SQLite store does).
void add_seqs(SeqRange& r, std::vector<std::int64_t> seqs) {
  std::sort(seqs.begin(), seqs.end());
  for (const std::int64_t q : seqs) {
    if (r.seq_max < 0) {
      r.seq_min = r.seq_max = q;
    } else if (q > r.seq_max) {
      if (q > r.seq_max + 1) r.gaps[r.seq_max + 1] = q - 1;
      r.seq_max = q;
    } else if (q < r.seq_min) {
      if (q < r.seq_min - 1) r.gaps[q + 1] = r.seq_min - 1;
      r.seq_min = q;
    } else {
      // Inside the known range: it fills (part of) a gap.
      auto it = r.gaps.upper_bound(q);
      if (it == r.gaps.begin()) continue;
      --it;
      const std::int64_t first = it->first, last = it->second;
      if (q > last) continue;
      r.gaps.erase(it);
      if (first < q) r.gaps[first] = q - 1;
      if (q < last) r.gaps[q + 1] = last;
    }
  }
}

}  // namespace

// Partitions for the days of a batch (and a few days ahead of the server clock), created under an
// advisory lock so that two servers creating the same day do not collide.
void PostgresEventStore::ensure_partitions(const std::set<std::int64_t>& days) {
  std::vector<std::int64_t> missing;
  for (std::int64_t d : days)
    if (!partitions_.count(d)) missing.push_back(d);
  if (missing.empty()) return;
  const std::int64_t today = floor_to(static_cast<TimeMs>(std::time(nullptr)) * 1000, kPartitionMs) / kPartitionMs;
  for (int i = 0; i <= kPartitionsAhead; ++i)
    if (!partitions_.count(today + i)) missing.push_back(today + i);
  Connection& c = conn();
  Transaction tx(c);
  c.exec("SELECT pg_advisory_xact_lock(7302650002)");
  for (std::int64_t d : missing) {
    c.exec("CREATE TABLE IF NOT EXISTS \"" + partition_name(d) + "\" PARTITION OF events FOR VALUES FROM (" +
           std::to_string(d * kPartitionMs) + ") TO (" + std::to_string((d + 1) * kPartitionMs) + ")");
  }
  tx.commit();
  partitions_.insert(missing.begin(), missing.end());
}

AppendResult PostgresEventStore::append(std::span<const Event> events, TimeMs received_at) {
  if (events.empty()) return {};
  return guarded([&] {
    try {
      return append_once(events, received_at);
    } catch (const PgError& e) {
      // A partition this server created may have been dropped since by retention (on any server),
      // whose cut then refuses what was meant for it.
      if (e.connection_lost() || std::string_view(e.what()).find("no partition of relation") == std::string_view::npos) throw;
      partitions_.clear();
      return append_once(events, received_at, true);
    }
  });
}

// One append's batch: each new event once, in COPY's binary format, and what it adds to the
// machines' and sources' rows.
struct PostgresEventStore::AppendBatch {
  struct Row {
    const Event* event;
    std::array<std::int64_t, 4> key;  // machine_id, ts, id_src, id_key
    std::int64_t sid;
  };
  // What the stored rows add to their machines' and sources' rows.
  struct MachineBatch {
    std::int64_t count = 0;
    TimeMs min_ts = kTimeMax, max_ts = kTimeMin;
    TimeMs reason_at_min = kTimeMax;  // the earliest stop a reason event names
    TimeMs correction_at_min = kTimeMax;  // the earliest instant a correction corrects
    bool total = false;
    std::int64_t kinds = 0;
  };
  std::vector<Row> batch;
  std::set<std::int64_t> days;
  TimeMs cut = kTimeMin;
  std::vector<const Event*> refused;  // older than the cut
  // The batch in COPY's binary format, formatted and sent in slices while the server already
  // inserts the first ones; kept whole for the staging path.
  std::string rows;
  std::size_t formatted = 0;
  bool trailer_added = false;  // (the last row's bytes may well end like the trailer)
  std::map<std::int64_t, MachineBatch> machines;
  std::map<std::int64_t, SourceBatch> sources;

  void format_rows(std::size_t count);
  void tally(TimeMs received_at, std::int64_t max_future_skew_ms);
  void list_identity_duplicates(std::span<const Event> events, AppendResult& result) const;
};

AppendResult PostgresEventStore::append_once(std::span<const Event> events, TimeMs received_at, bool ask_cut) {
  AppendBatch b;
  select_new_events(events, received_at, ask_cut, b);
  ensure_partitions(b.days);
  Connection& c = conn();
  std::optional<Transaction> tx;
  if (!direct_copy_paused_) copy_direct(c, b, received_at, tx);
  if (direct_copy_paused_) copy_staged(c, b, received_at, tx);
  AppendResult result;
  result.inserted = b.batch.size();
  result.older_than_retention = b.refused.size();
  result.duplicates = events.size() - result.inserted - b.refused.size();
  dead_letter_refused(c, b.refused, b.cut, received_at);
  for (const auto& [sid, s] : b.sources)
    if (s.seq_max >= 0) seq_max_seen_[sid] = std::max(seq_max_seen_[sid], s.seq_max);  // (a rollback only costs a look-up)
  if (result.duplicates > 0) b.list_identity_duplicates(events, result);
  if (result.inserted == 0) {
    tx->commit();
    return result;
  }
  invalidate_rollups(c, update_machine_rows(c, b), b);
  if (!b.sources.empty()) update_sources(c, b.sources, received_at);
  tx->commit();
  return result;
}

// Each event once (a batch may repeat one; the first copy is kept), in the order of the table's
// unique key (machine, time, identity): consecutive rows then land on the same index page.
void PostgresEventStore::select_new_events(std::span<const Event> events, TimeMs received_at, bool ask_cut,
                                           AppendBatch& b) {
  using Row = AppendBatch::Row;
  std::vector<Row>& batch = b.batch;
  batch.reserve(events.size());
  std::vector<std::int64_t> sids(events.size());
  for (std::size_t i = 0; i < events.size(); ++i) sids[i] = events[i].src.empty() ? 0 : source_id(events[i].src, events[i].inc);
  const std::vector<char> known = stored_identities(events, sids);
  b.cut = retention_cut(conn(), events, received_at, ask_cut);
  std::int64_t last_day = kTimeMin;
  std::set<std::pair<std::int64_t, std::int64_t>> identities;  // of this batch: the first of equal ones is kept
  for (const Event& e : events) {
    const std::size_t i = static_cast<std::size_t>(&e - events.data());
    if (known[i] || (e.has_identity() && !identities.emplace(sids[i], e.seq).second)) continue;
    if (e.ts < b.cut) {
      b.refused.push_back(&e);
      continue;
    }
    const std::int64_t mid = machine_id(e.machine);
    const std::int64_t sid = sids[i];
    const std::int64_t id_src = e.has_identity() ? sid : -mid;
    const std::int64_t id_key = e.has_identity() ? e.seq : static_cast<std::int64_t>(content_fingerprint(e));
    const std::int64_t day = floor_to(e.ts, kPartitionMs) / kPartitionMs;
    if (day != last_day) b.days.insert(last_day = day);
    batch.push_back({&e, {mid, e.ts, id_src, id_key}, sid});
  }
  std::stable_sort(batch.begin(), batch.end(), [](const Row& a, const Row& b) { return a.key < b.key; });
  batch.erase(std::unique(batch.begin(), batch.end(), [](const Row& a, const Row& b) { return a.key == b.key; }),
              batch.end());
  b.rows.reserve(batch.size() * 170 + 32);
  b.rows += kCopyBinaryHeader;
}

void PostgresEventStore::AppendBatch::format_rows(std::size_t count) {
  for (const std::size_t end = std::min(batch.size(), formatted + count); formatted < end; ++formatted) {
    const Row& row = batch[formatted];
    Event slotted;
    const Event& e = row.event->type == EventType::run          ? (slotted = run_in_slots(*row.event))
                     : row.event->type == EventType::correction ? (slotted = correction_in_slots(*row.event))
                                                                : *row.event;
    put_be(rows, 16, 2);  // fields, in the order of OEE_PG_EVENT_COLUMNS
    copy_int(rows, row.key[0], 4);
    copy_int(rows, e.ts, 8);
    copy_int(rows, row.key[2], 8);
    copy_int(rows, row.key[3], 8);
    copy_int(rows, static_cast<int>(e.type), 2);
    copy_int(rows, row.sid, 4);
    copy_int(rows, e.seq, 8);
    copy_text(rows, e.state);
    copy_text(rows, e.reason);
    copy_int(rows, e.good, 8);
    copy_int(rows, e.reject, 8);
    copy_int(rows, static_cast<int>(e.counter), 2);
    // A sample rides in the value (its double's bits) and product (its name) columns: no schema change.
    copy_int(rows, e.type == EventType::sample ? std::bit_cast<std::int64_t>(e.sample_value) : e.value, 8);
    copy_int(rows, e.rollover, 8);
    copy_text(rows, e.type == EventType::sample ? e.sample_name : e.product);
    copy_int(rows, e.at, 8);
  }
  if (formatted == batch.size() && !trailer_added) {
    rows += kCopyBinaryTrailer;
    trailer_added = true;
  }
}

void PostgresEventStore::AppendBatch::tally(TimeMs received_at, std::int64_t max_future_skew_ms) {
  machines.clear();
  sources.clear();
  for (const Row& row : batch) {
    const Event& e = *row.event;
    const TimeMs ts = e.ts;
    MachineBatch& m = machines[row.key[0]];
    ++m.count;
    m.min_ts = std::min(m.min_ts, ts);
    m.max_ts = std::max(m.max_ts, ts);
    if (e.type == EventType::counter && e.counter == CounterName::total) m.total = true;
    if (e.type == EventType::reason) m.reason_at_min = std::min(m.reason_at_min, e.at);
    if (e.type == EventType::correction) m.correction_at_min = std::min(m.correction_at_min, e.at);
    if (e.type == EventType::product) m.kinds |= 1;
    if (e.type == EventType::counter) m.kinds |= 2 << static_cast<int>(e.counter);
    if (row.sid == 0) continue;
    SourceBatch& s = sources[row.sid];
    ++s.count;
    s.offsets.push_back(ts - received_at);
    if (ts - received_at > max_future_skew_ms) ++s.future;
    if (e.seq >= 0) {
      s.seq_min = s.seq_min < 0 ? e.seq : std::min(s.seq_min, e.seq);
      s.seq_max = std::max(s.seq_max, e.seq);
      s.seqs.push_back(e.seq);
    }
  }
}

void PostgresEventStore::AppendBatch::list_identity_duplicates(std::span<const Event> events, AppendResult& result) const {
  std::vector<char> stored(events.size(), 0);
  for (const Row& row : batch) stored[static_cast<std::size_t>(row.event - events.data())] = 1;
  for (const Event* e : refused) stored[static_cast<std::size_t>(e - events.data())] = 1;  // (not a duplicate)
  for (std::size_t i = 0; i < events.size(); ++i)
    if (!stored[i] && events[i].has_identity()) result.identity_duplicates.push_back(i);
}

// Fast path: COPY straight into the events table (bulk inserts, no per-row ON CONFLICT). The
// unique key still guards against duplicates: a batch holding an event already stored fails
// with a unique violation, is rolled back whole, and takes the staging path (copy_staged). After
// such a batch (a redelivery is usually followed by more), the next ones take the staging path
// directly until one finds nothing already stored.
void PostgresEventStore::copy_direct(Connection& c, AppendBatch& b, TimeMs received_at, std::optional<Transaction>& tx) {
  tx.emplace(c);
  try {
    c.copy_begin("COPY events(" OEE_PG_EVENT_COLUMNS ") FROM STDIN (FORMAT binary)");
    for (std::size_t sent = 0; b.formatted < b.batch.size() || sent < b.rows.size(); sent = b.rows.size()) {
      b.format_rows(kCopySliceRows);
      c.copy_data(std::string_view(b.rows).substr(sent));
    }
    b.tally(received_at, options_.max_future_skew_ms);  // while the server inserts the last slices
    c.copy_end();
  } catch (const PgError& e) {
    if (e.connection_lost() || e.sqlstate() != "23505") throw;
    tx.reset();  // rolls the COPY back
    direct_copy_paused_ = true;
  }
}

void PostgresEventStore::copy_staged(Connection& c, AppendBatch& b, TimeMs received_at, std::optional<Transaction>& tx) {
  if (!staging_ready_) {
    // Per session; emptied by every commit.
    c.exec("CREATE TEMP TABLE IF NOT EXISTS staging_events (LIKE events) ON COMMIT DELETE ROWS");
    staging_ready_ = true;
  }
  b.format_rows(b.batch.size());
  tx.emplace(c);
  c.copy_begin("COPY staging_events(" OEE_PG_EVENT_COLUMNS ") FROM STDIN (FORMAT binary)");
  c.copy_data(b.rows);
  c.copy_end();
  // The unique key drops what is already stored (the batch has no duplicates left).
  Result inserted = c.prepared("insert_staged",
                               "INSERT INTO events SELECT * FROM staging_events ON CONFLICT DO NOTHING"
                               " RETURNING machine_id, ts, id_src, id_key",
                               Params());
  if (static_cast<std::size_t>(inserted.rows()) == b.batch.size()) {
    direct_copy_paused_ = false;
  } else {
    std::vector<std::array<std::int64_t, 4>> fresh;
    fresh.reserve(static_cast<std::size_t>(inserted.rows()));
    for (int i = 0; i < inserted.rows(); ++i)
      fresh.push_back({inserted.int_at(i, 0), inserted.int_at(i, 1), inserted.int_at(i, 2), inserted.int_at(i, 3)});
    std::sort(fresh.begin(), fresh.end());
    std::erase_if(b.batch, [&](const AppendBatch::Row& r) { return !std::binary_search(fresh.begin(), fresh.end(), r.key); });
  }
  b.tally(received_at, options_.max_future_skew_ms);
}

// The touched machines' rows, locked in id order (no deadlock between servers) and updated in one
// statement that returns what they were: which materialised rollup hours the new events may change.
Result PostgresEventStore::update_machine_rows(Connection& c, const AppendBatch& b) {
  std::vector<std::int64_t> ids, mins, maxs, counts, totals, kinds;
  for (const auto& [mid, m] : b.machines) {
    ids.push_back(mid);
    mins.push_back(m.min_ts);
    maxs.push_back(m.max_ts);
    counts.push_back(m.count);
    totals.push_back(m.total ? 1 : 0);
    kinds.push_back(m.kinds);
  }
  return c.prepared(
      "update_machines",
      "UPDATE machines m SET events = m.events + v.n, min_ts = LEAST(coalesce(m.min_ts, v.mn), v.mn),"
      " max_ts = GREATEST(coalesce(m.max_ts, v.mx), v.mx), has_total_counter = m.has_total_counter OR v.tot <> 0,"
      " version = m.version + 1, kinds = m.kinds | v.k"
      " FROM (SELECT id, max_ts, has_total_counter, rollup_end FROM machines WHERE id = ANY($1::int[]) ORDER BY id"
      " FOR UPDATE) o, unnest($1::int[], $2::bigint[], $3::bigint[], $4::bigint[], $5::int[], $6::int[]) v(id, n, mn, mx, tot, k)"
      " WHERE m.id = o.id AND m.id = v.id RETURNING o.id, o.max_ts, o.has_total_counter, o.rollup_end",
      Params().add_array(ids).add_array(counts).add_array(mins).add_array(maxs).add_array(totals).add_array(kinds));
}

// The materialised rollup hours the new events may change, from what the machines' rows were
// (`before`), are deleted.
void PostgresEventStore::invalidate_rollups(Connection& c, const Result& before, const AppendBatch& b) {
  std::vector<std::int64_t> invalid_ids, invalid_from;
  std::vector<StateWalk> walks;
  std::vector<TimeMs> walk_rollup_end;
  for (int i = 0; i < before.rows(); ++i) {
    const std::int64_t mid = before.int_at(i, 0);
    const AppendBatch::MachineBatch& m = b.machines.at(mid);
    const bool had_total = before.int_at(i, 2) != 0;
    const TimeMs rollup_end = before.int_at(i, 3);
    if (before.is_null(i, 1) || rollup_end == kTimeMin) continue;  // nothing materialised
    const MachineSpec* spec = plant_.find_machine(machine_path(mid));
    const bool reasons_count = spec && m.reason_at_min != kTimeMax && (spec->reasons || has_corrections(c, mid));
    const TimeMs changes_from =
        std::min(reasons_count ? std::min(m.min_ts, m.reason_at_min) : m.min_ts, m.correction_at_min);
    if (m.total && !had_total) {
      // Rejects already counted as good become part of the total.
      invalid_ids.push_back(mid);
      invalid_from.push_back(kTimeMin);
    } else if (spec && (changes_from < rollup_end + look_ahead_ms(*spec) || reasons_count || m.correction_at_min != kTimeMax)) {
      // A late event changes only later hours, and the hours of the state interval containing it
      // (its length, hence whether it is a small stop, may change): from a bound on its start. As a
      // sign of life it splits a silence, whose part before it stays no data unless it is now at
      // most a no-data threshold long: from that long before it. With a reason tree, a reason may
      // change its stop's loss: from the start of the stop it names, wherever the reason lies, and
      // with corrections whether a corrected piece joins that stop. A correction changes hours
      // from the start of the interval it corrects (correction_ranges.h).
      walks.push_back({mid, spec, changes_from});
      walk_rollup_end.push_back(rollup_end);
    }
  }
  run_start_bounds(walks);
  for (std::size_t n = 0; n < walks.size(); ++n) {
    const TimeMs from =
        floor_hour(std::min({walks[n].before, walks[n].bound, walks[n].before - walks[n].spec->no_data_after_ms}));
    if (from < walk_rollup_end[n]) {
      invalid_ids.push_back(walks[n].mid);
      invalid_from.push_back(from);
    }
  }
  if (invalid_ids.empty()) return;
  c.prepared("invalidate_rollups",
             "WITH v AS (SELECT * FROM unnest($1::int[], $2::bigint[]) v(id, h)),"
             " d AS (DELETE FROM rollups r USING v WHERE r.machine_id = v.id AND r.hour_start >= v.h),"
             " dd AS (DELETE FROM rollup_days r USING v WHERE r.machine_id = v.id AND r.day_start + 86400000 > v.h),"
             " dc AS (DELETE FROM machine_carry r USING v WHERE r.machine_id = v.id AND r.at > v.h)"
             " UPDATE machines m SET rollup_end = LEAST(m.rollup_end, v.h) FROM v WHERE m.id = v.id",
             Params().add_array(invalid_ids).add_array(invalid_from));
}

// Whether any correction of the machine is stored (migration 13's index answers).
bool PostgresEventStore::has_corrections(Connection& c, std::int64_t mid) {
  return c.prepared("has_corrections", "SELECT EXISTS(SELECT 1 FROM history_events WHERE machine_id=$1 AND type=8)",
                    Params().add(mid))
             .view_at(0, 0) == "t";
}

// The touched sources' rows: their gaps, counts, seq range, last sight and clock offset.
void PostgresEventStore::update_sources(Connection& c, std::map<std::int64_t, SourceBatch>& sources, TimeMs received_at) {
  update_source_gaps(sources);
  std::vector<std::int64_t> sids, n, smin, smax, fut, off;
  for (auto& [sid, s] : sources) {
    // The median offset of this batch: robust to a few events buffered long at the edge.
    auto mid = s.offsets.begin() + static_cast<std::ptrdiff_t>(s.offsets.size() / 2);
    std::nth_element(s.offsets.begin(), mid, s.offsets.end());
    sids.push_back(sid);
    n.push_back(s.count);
    smin.push_back(s.seq_min);
    smax.push_back(s.seq_max);
    fut.push_back(s.future);
    off.push_back(*mid);
  }
  c.prepared("update_sources",
             "UPDATE sources s SET events = s.events + v.n,"
             " seq_min = CASE WHEN v.smin < 0 THEN s.seq_min WHEN s.seq_min < 0 THEN v.smin ELSE LEAST(s.seq_min, v.smin) END,"
             " seq_max = GREATEST(s.seq_max, v.smax), last_seen = GREATEST(s.last_seen, $7::bigint),"
             " clock_offset_ms = v.off, future_events = s.future_events + v.fut"
             " FROM unnest($1::int[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[])"
             " v(id, n, smin, smax, fut, off) WHERE s.id = v.id",
             Params().add_array(sids).add_array(n).add_array(smin).add_array(smax).add_array(fut).add_array(off).add(
                 received_at));
}

std::vector<char> PostgresEventStore::stored_identities(std::span<const Event> events, const std::vector<std::int64_t>& sids) {
  std::vector<char> known(events.size(), 0);
  std::vector<std::int64_t> ask;
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (!events[i].has_identity()) continue;
    const auto it = seq_max_seen_.find(sids[i]);
    if (it == seq_max_seen_.end() || events[i].seq <= it->second) ask.push_back(sids[i]);
  }
  if (ask.empty()) return known;
  std::sort(ask.begin(), ask.end());
  ask.erase(std::unique(ask.begin(), ask.end()), ask.end());
  Connection& c = conn();
  struct Range {
    std::int64_t seq_min = -1, seq_max = -1;
    std::map<std::int64_t, std::int64_t> gaps;  // first -> last
  };
  std::unordered_map<std::int64_t, Range> ranges;
  Result r = c.prepared("source_ranges", "SELECT id, seq_min, seq_max FROM sources WHERE id = ANY($1::int[])",
                        Params().add_array(ask));
  for (int i = 0; i < r.rows(); ++i) ranges[r.int_at(i, 0)] = {r.int_at(i, 1), r.int_at(i, 2), {}};
  Result g = c.prepared("source_gaps_of", "SELECT src_id, first, last FROM source_gaps WHERE src_id = ANY($1::int[])",
                        Params().add_array(ask));
  for (int i = 0; i < g.rows(); ++i) ranges[g.int_at(i, 0)].gaps[g.int_at(i, 1)] = g.int_at(i, 2);
  for (const std::int64_t sid : ask) seq_max_seen_[sid] = ranges[sid].seq_max;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const auto it = events[i].has_identity() ? ranges.find(sids[i]) : ranges.end();
    if (it == ranges.end()) continue;
    const Range& range = it->second;
    const std::int64_t seq = events[i].seq;
    if (range.seq_max < 0 || seq < range.seq_min || seq > range.seq_max) continue;
    auto gap = range.gaps.upper_bound(seq);
    known[i] = gap == range.gaps.begin() || seq > std::prev(gap)->second;
  }
  return known;
}

// The gaps of the touched sources' sequence numbers, in source_gaps: the sources' rows are locked
// (in id order, after the machines'), the gaps the new numbers may fall into are read, changed
// here as the SQLite store does, and the difference written back.
void PostgresEventStore::update_source_gaps(const std::map<std::int64_t, SourceBatch>& sources) {
  Connection& c = conn();
  std::vector<std::int64_t> sids;
  for (const auto& [sid, s] : sources)
    if (!s.seqs.empty()) sids.push_back(sid);
  if (sids.empty()) return;
  Result known = c.prepared("lock_sources", "SELECT id, seq_min, seq_max FROM sources WHERE id = ANY($1::int[]) ORDER BY id FOR UPDATE",
                            Params().add_array(sids));
  std::map<std::int64_t, SeqRange> ranges;
  std::vector<std::int64_t> read_ids, read_lo, read_hi;
  for (int i = 0; i < known.rows(); ++i) {
    const std::int64_t sid = known.int_at(i, 0);
    SeqRange& r = ranges[sid];
    r.seq_min = known.int_at(i, 1);
    r.seq_max = known.int_at(i, 2);
    const SourceBatch& s = sources.at(sid);
    // Only numbers inside the known range can fall into a stored gap.
    if (r.seq_max >= 0 && s.seq_min <= r.seq_max && s.seq_max >= r.seq_min) {
      read_ids.push_back(sid);
      read_lo.push_back(s.seq_min);
      read_hi.push_back(s.seq_max);
    }
  }
  if (!read_ids.empty()) {
    Result g = c.prepared("read_gaps",
                          "SELECT g.src_id, g.first, g.last FROM source_gaps g JOIN unnest($1::int[], $2::bigint[], $3::bigint[])"
                          " v(id, lo, hi) ON g.src_id = v.id AND g.last >= v.lo AND g.first <= v.hi",
                          Params().add_array(read_ids).add_array(read_lo).add_array(read_hi));
    for (int i = 0; i < g.rows(); ++i) {
      SeqRange& r = ranges[g.int_at(i, 0)];
      r.gaps[g.int_at(i, 1)] = g.int_at(i, 2);
    }
    for (auto& [sid, r] : ranges) r.loaded = r.gaps;
  }
  std::vector<std::int64_t> del_ids, del_first, put_ids, put_first, put_last;
  for (auto& [sid, r] : ranges) {
    add_seqs(r, sources.at(sid).seqs);
    for (const auto& [first, last] : r.loaded)
      if (!r.gaps.count(first)) {
        del_ids.push_back(sid);
        del_first.push_back(first);
      }
    for (const auto& [first, last] : r.gaps) {
      const auto it = r.loaded.find(first);
      if (it != r.loaded.end() && it->second == last) continue;
      put_ids.push_back(sid);
      put_first.push_back(first);
      put_last.push_back(last);
    }
  }
  if (del_ids.empty() && put_ids.empty()) return;
  // The deleted and the written keys are disjoint: one statement does both.
  c.prepared("write_gaps",
             "WITH d AS (DELETE FROM source_gaps g USING unnest($1::int[], $2::bigint[]) v(id, f)"
             " WHERE g.src_id = v.id AND g.first = v.f)"
             " INSERT INTO source_gaps SELECT * FROM unnest($3::int[], $4::bigint[], $5::bigint[])"
             " ON CONFLICT (src_id, first) DO UPDATE SET last = EXCLUDED.last",
             Params().add_array(del_ids).add_array(del_first).add_array(put_ids).add_array(put_first).add_array(put_last));
}

}  // namespace oee::storage
