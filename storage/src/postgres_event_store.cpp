// The PostgreSQL event store. docs/storage.md ("PostgreSQL") explains the schema, the dedup
// guarantee, how rollups are materialised and invalidated, and why several servers may share one
// database; the comments here say why each step is there.
#include <algorithm>
#include <charconv>
#include <ctime>
#include <array>
#include <map>
#include <optional>
#include <mutex>
#include <set>
#include <unordered_map>

#include "oee/storage/postgres_store.h"
#include "oee/storage/resilient_store.h"
#include "postgres_connection.h"
#include "postgres_schema.h"

namespace oee::storage {

namespace {

using pg::Connection;
using pg::Params;
using pg::PgError;
using pg::Result;
using pg::Transaction;

constexpr DurationMs kPartitionMs = kMsPerDay;  // one partition per UTC day of ts
constexpr int kPartitionsAhead = 2;             // days created ahead of the server clock
constexpr std::size_t kMaxDeadLetterTextBytes = 1024;
constexpr int kWalkChunk = 32;  // a few state changes back is the usual answer

TimeMs floor_hour(TimeMs t) { return floor_to(t, kMsPerHour); }
TimeMs ceil_to(TimeMs t, DurationMs step) {
  const TimeMs f = floor_to(t, step);
  return f == t ? t : f + step;
}

std::string bounded(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  std::string out(text.substr(0, max_bytes));
  out += "...[truncated " + std::to_string(text.size() - max_bytes) + " bytes]";
  return out;
}

std::string to_bytea_hex(std::string_view bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out = "\\x";
  out.reserve(2 + bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

std::string from_bytea_hex(std::string_view text) {
  std::string out;
  if (text.size() < 2 || text[0] != '\\' || text[1] != 'x') return std::string(text);
  auto nibble = [](char c) { return c <= '9' ? c - '0' : (c | 32) - 'a' + 10; };
  for (std::size_t i = 2; i + 1 < text.size(); i += 2)
    out += static_cast<char>(nibble(text[i]) * 16 + nibble(text[i + 1]));
  return out;
}

std::string partition_name(std::int64_t day) {
  std::string d = format_civil_date(day);
  return "events_" + d;
}

// PostgreSQL text cannot hold NUL; an event string with one is stored without it.
void append_text(std::string& out, std::string_view s) {
  if (s.find('\0') == std::string_view::npos) {
    pg::append_copy_text(out, s);
    return;
  }
  std::string clean;
  for (char c : s)
    if (c != '\0') clean += c;
  pg::append_copy_text(out, clean);
}

void append_int(std::string& out, std::int64_t v) {
  char buf[24];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, p);
}

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

class PostgresEventStore final : public EventStore {
 public:
  // What a read needs to know of a machine's row.
  struct MachineFacts {
    bool has_total = false;
    std::optional<TimeMs> max_ts;
    std::int64_t version = 0;
    std::int64_t kinds = 0;
  };

  PostgresEventStore(const std::string& url, const PlantModel& plant, const ShiftCalendar& calendar,
                     const StoreOptions& options)
      : url_(url), plant_(plant), calendar_(calendar), options_(options) {
    pg::migrate(conn());
    for (const MachineSpec* spec : plant_.machines()) machine_id(spec->path);
  }

  AppendResult append(std::span<const Event> events, TimeMs received_at) override;
  std::vector<Event> machine_events(std::string_view machine, TimeMs from, TimeMs to) override;
  MachineHistory machine_history(const MachineSpec& machine, TimeMs from, TimeMs to) override;
  KpiTotals machine_totals(const MachineSpec& machine, TimeMs from, TimeMs to, TimeMs horizon) override;
  std::int64_t event_count() override;
  std::vector<SourceStats> sources() override;
  std::int64_t add_dead_letter(const DeadLetter& letter) override;
  std::vector<DeadLetter> dead_letters(std::int64_t before_id, std::size_t limit) override;
  std::int64_t dead_letter_count() override;
  std::int64_t apply_retention(TimeMs now) override;
  std::string describe() const override;

 private:
  // A lost connection is replaced on the next call; the statement that saw it failed.
  Connection& conn();
  template <class F>
  auto guarded(F&& f) -> decltype(f()) {
    try {
      return f();
    } catch (const PgError& e) {
      if (!e.connection_lost()) throw;
      db_.reset();
      throw StoreUnreachable(e.what());
    }
  }
  std::int64_t machine_id(std::string_view path);
  std::int64_t source_id(std::string_view src);
  const std::string& source_name(std::int64_t id);
  const std::string& machine_path(std::int64_t id);
  void ensure_partitions(const std::set<std::int64_t>& days);
  AppendResult append_once(std::span<const Event> events, TimeMs received_at);

  Event decode(const Result& r, int row);
  void load_range(std::int64_t mid, const char* table, TimeMs from, TimeMs to, bool states_only, std::vector<Event>& out);
  TimeMs run_start_bound(std::int64_t mid, const MachineSpec& spec, TimeMs before);
  void load_history_events(std::int64_t mid, const MachineSpec& spec, TimeMs from, TimeMs to, std::int64_t kinds,
                           std::vector<Event>& out);
  void add_total_marker(std::int64_t mid, bool has_total, std::vector<Event>& events) const;
  MachineHistory history(std::int64_t mid, const MachineSpec& spec, TimeMs from, TimeMs to, const MachineFacts& facts);
  MachineFacts facts(std::int64_t mid);
  KpiTotals rollup_hours(std::int64_t mid, const MachineSpec& spec, TimeMs from, TimeMs to, const MachineFacts& facts);

  std::string url_;
  const PlantModel& plant_;
  const ShiftCalendar& calendar_;
  StoreOptions options_;
  std::unique_ptr<Connection> db_;
  bool staging_ready_ = false;
  std::unordered_map<std::string, std::int64_t, StringHash, std::equal_to<>> machine_ids_, source_ids_;
  std::unordered_map<std::int64_t, std::string> machine_paths_, source_names_;
  std::set<std::int64_t> partitions_;  // days known to have a partition
};

Connection& PostgresEventStore::conn() {
  if (!db_ || !db_->ok()) {
    db_.reset();
    staging_ready_ = false;
    db_ = std::make_unique<Connection>(url_);
  }
  return *db_;
}

std::string PostgresEventStore::describe() const {
  // The URL without a password.
  std::string out = url_;
  const auto scheme = out.find("://");
  const auto at = out.find('@');
  if (scheme != std::string::npos && at != std::string::npos && at > scheme) {
    const auto colon = out.find(':', scheme + 3);
    if (colon != std::string::npos && colon < at) out.replace(colon, at - colon, ":***");
  }
  return out;
}

std::int64_t PostgresEventStore::machine_id(std::string_view path) {
  auto it = machine_ids_.find(path);
  if (it != machine_ids_.end()) return it->second;
  return guarded([&] {
    Connection& c = conn();
    c.query("INSERT INTO machines(path) VALUES($1) ON CONFLICT (path) DO NOTHING", Params().add(path));
    const std::int64_t id = c.query("SELECT id FROM machines WHERE path=$1", Params().add(path)).int_at(0, 0);
    machine_ids_.emplace(std::string(path), id);
    machine_paths_[id] = std::string(path);
    return id;
  });
}

std::int64_t PostgresEventStore::source_id(std::string_view src) {
  auto it = source_ids_.find(src);
  if (it != source_ids_.end()) return it->second;
  return guarded([&] {
    Connection& c = conn();
    c.query("INSERT INTO sources(src) VALUES($1) ON CONFLICT (src) DO NOTHING", Params().add(src));
    const std::int64_t id = c.query("SELECT id FROM sources WHERE src=$1", Params().add(src)).int_at(0, 0);
    source_ids_.emplace(std::string(src), id);
    source_names_[id] = std::string(src);
    return id;
  });
}

// Ids created by another server sharing the database are looked up on first sight.
const std::string& PostgresEventStore::source_name(std::int64_t id) {
  static const std::string kNone;
  if (id == 0) return kNone;
  auto it = source_names_.find(id);
  if (it != source_names_.end()) return it->second;
  Result r = conn().query("SELECT src FROM sources WHERE id=$1", Params().add(id));
  if (r.rows() == 0) return kNone;
  source_ids_[r.text_at(0, 0)] = id;
  return source_names_[id] = r.text_at(0, 0);
}

const std::string& PostgresEventStore::machine_path(std::int64_t id) {
  static const std::string kNone;
  auto it = machine_paths_.find(id);
  if (it != machine_paths_.end()) return it->second;
  Result r = conn().query("SELECT path FROM machines WHERE id=$1", Params().add(id));
  if (r.rows() == 0) return kNone;
  machine_ids_[r.text_at(0, 0)] = id;
  return machine_paths_[id] = r.text_at(0, 0);
}

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
      // A partition this server created may have been dropped since by retention (on any server).
      if (e.connection_lost() || std::string_view(e.what()).find("no partition of relation") == std::string_view::npos) throw;
      partitions_.clear();
      return append_once(events, received_at);
    }
  });
}

AppendResult PostgresEventStore::append_once(std::span<const Event> events, TimeMs received_at) {
  AppendResult result;
  std::set<std::int64_t> days;
  std::string rows;
  rows.reserve(events.size() * 96);
  for (const Event& e : events) {
    const std::int64_t mid = machine_id(e.machine);
    const std::int64_t sid = e.src.empty() ? 0 : source_id(e.src);
    days.insert(floor_to(e.ts, kPartitionMs) / kPartitionMs);
    append_int(rows, mid);
    rows += '\t';
    append_int(rows, e.ts);
    rows += '\t';
    if (e.has_identity()) {
      append_int(rows, sid);
      rows += '\t';
      append_int(rows, e.seq);
    } else {
      append_int(rows, -mid);
      rows += '\t';
      append_int(rows, static_cast<std::int64_t>(content_fingerprint(e)));
    }
    rows += '\t';
    append_int(rows, static_cast<int>(e.type));
    rows += '\t';
    append_int(rows, sid);
    rows += '\t';
    append_int(rows, e.seq);
    rows += '\t';
    append_text(rows, e.state);
    rows += '\t';
    append_text(rows, e.reason);
    rows += '\t';
    append_int(rows, e.good);
    rows += '\t';
    append_int(rows, e.reject);
    rows += '\t';
    append_int(rows, static_cast<int>(e.counter));
    rows += '\t';
    append_int(rows, e.value);
    rows += '\t';
    append_int(rows, e.rollover);
    rows += '\t';
    append_text(rows, e.product);
    rows += '\t';
    append_int(rows, e.at);
    rows += '\n';
  }
  ensure_partitions(days);
  Connection& c = conn();
  if (!staging_ready_) {
    // Per session; emptied by every commit.
    c.exec("CREATE TEMP TABLE IF NOT EXISTS staging_events (LIKE events) ON COMMIT DELETE ROWS");
    staging_ready_ = true;
  }
  Transaction tx(c);
  c.copy_begin("COPY staging_events(" OEE_PG_EVENT_COLUMNS ") FROM STDIN");
  c.copy_data(rows);
  c.copy_end();
  // The unique key drops what is already stored, and duplicates inside the batch.
  Result inserted = c.prepared(
      "insert_staged",
      "INSERT INTO events SELECT * FROM staging_events ON CONFLICT DO NOTHING RETURNING machine_id, ts, type, counter, src_id, seq",
      Params());
  result.inserted = static_cast<std::size_t>(inserted.rows());
  result.duplicates = events.size() - result.inserted;
  if (result.inserted == 0) {
    tx.commit();
    return result;
  }
  struct MachineBatch {
    std::int64_t count = 0;
    TimeMs min_ts = kTimeMax, max_ts = kTimeMin;
    bool total = false;
    std::int64_t kinds = 0;
  };
  struct SourceBatch {
    std::int64_t count = 0, seq_min = -1, seq_max = -1, future = 0;
    std::vector<std::int64_t> offsets;
  };
  std::map<std::int64_t, MachineBatch> machines;
  std::map<std::int64_t, SourceBatch> sources;
  for (int i = 0; i < inserted.rows(); ++i) {
    const std::int64_t mid = inserted.int_at(i, 0);
    const TimeMs ts = inserted.int_at(i, 1);
    MachineBatch& m = machines[mid];
    ++m.count;
    m.min_ts = std::min(m.min_ts, ts);
    m.max_ts = std::max(m.max_ts, ts);
    const std::int64_t type = inserted.int_at(i, 2), counter = inserted.int_at(i, 3);
    if (type == static_cast<int>(EventType::counter) && counter == static_cast<int>(CounterName::total)) m.total = true;
    if (type == static_cast<int>(EventType::product)) m.kinds |= 1;
    if (type == static_cast<int>(EventType::counter)) m.kinds |= 2 << counter;
    const std::int64_t sid = inserted.int_at(i, 4);
    if (sid == 0) continue;
    SourceBatch& s = sources[sid];
    ++s.count;
    s.offsets.push_back(ts - received_at);
    if (ts - received_at > options_.max_future_skew_ms) ++s.future;
    const std::int64_t seq = inserted.int_at(i, 5);
    if (seq >= 0) {
      s.seq_min = s.seq_min < 0 ? seq : std::min(s.seq_min, seq);
      s.seq_max = std::max(s.seq_max, seq);
    }
  }
  // The touched machines, locked in id order (no deadlock between servers): which materialised
  // rollup hours the new events may change.
  std::vector<std::int64_t> ids, mins, maxs, counts, totals, kinds, invalid_ids, invalid_from;
  for (const auto& [mid, m] : machines) ids.push_back(mid);
  Result rows_now = c.prepared("lock_machines",
                               "SELECT id, max_ts, has_total_counter, rollup_end FROM machines WHERE id = ANY($1::int[])"
                               " ORDER BY id FOR UPDATE",
                               Params().add_array(ids));
  for (int i = 0; i < rows_now.rows(); ++i) {
    const std::int64_t mid = rows_now.int_at(i, 0);
    const MachineBatch& m = machines[mid];
    const bool had_total = rows_now.int_at(i, 2) != 0;
    const TimeMs rollup_end = rows_now.int_at(i, 3);
    mins.push_back(m.min_ts);
    maxs.push_back(m.max_ts);
    counts.push_back(m.count);
    totals.push_back(m.total ? 1 : 0);
    kinds.push_back(m.kinds);
    if (rows_now.is_null(i, 1) || rollup_end == kTimeMin) continue;  // nothing materialised
    const MachineSpec* spec = plant_.find_machine(machine_path(mid));
    TimeMs from = kTimeMax;
    if (m.total && !had_total) {
      from = kTimeMin;  // rejects already counted as good become part of the total
    } else if (spec && m.min_ts < rollup_end + spec->micro_stop_threshold_ms) {
      // A late event changes only later hours, and the hours of the state interval containing it
      // (its length, hence whether it is a small stop, may change): from a bound on its start.
      from = floor_hour(std::min(m.min_ts, run_start_bound(mid, *spec, m.min_ts)));
    }
    if (from < rollup_end) {
      invalid_ids.push_back(mid);
      invalid_from.push_back(from);
    }
  }
  // ids (sorted) and the vectors filled above are in the same order: rows came back ORDER BY id.
  c.prepared("update_machines",
             "UPDATE machines m SET events = m.events + v.n, min_ts = LEAST(coalesce(m.min_ts, v.mn), v.mn),"
             " max_ts = GREATEST(coalesce(m.max_ts, v.mx), v.mx), has_total_counter = m.has_total_counter OR v.tot <> 0,"
             " version = m.version + 1, kinds = m.kinds | v.k"
             " FROM unnest($1::int[], $2::bigint[], $3::bigint[], $4::bigint[], $5::int[], $6::int[]) v(id, n, mn, mx, tot, k)"
             " WHERE m.id = v.id",
             Params().add_array(ids).add_array(counts).add_array(mins).add_array(maxs).add_array(totals).add_array(kinds));
  if (!invalid_ids.empty()) {
    c.prepared("invalidate_rollups",
               "WITH v AS (SELECT * FROM unnest($1::int[], $2::bigint[]) v(id, h)),"
               " d AS (DELETE FROM rollups r USING v WHERE r.machine_id = v.id AND r.hour_start >= v.h)"
               " UPDATE machines m SET rollup_end = LEAST(m.rollup_end, v.h) FROM v WHERE m.id = v.id",
               Params().add_array(invalid_ids).add_array(invalid_from));
  }
  if (!sources.empty()) {
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
  tx.commit();
  return result;
}

#define OEE_PG_READ_COLUMNS "machine_id, ts, type, src_id, seq, state, reason, good, reject, counter, value, rollover, product, at"

Event PostgresEventStore::decode(const Result& r, int i) {
  Event e;
  e.machine = machine_path(r.int_at(i, 0));
  e.ts = r.int_at(i, 1);
  e.type = static_cast<EventType>(r.int_at(i, 2));
  e.src = source_name(r.int_at(i, 3));
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
  Result r = conn().prepared(name, sql.c_str(), Params().add(mid).add(from).add(to));
  for (int i = 0; i < r.rows(); ++i) out.push_back(decode(r, i));
}

// A time L <= `before` such that the state interval containing `before` - 1 starts after L and the
// interval containing L ends before `before`: walking back over state events, the first instant
// whose states (all of them: ties resolve by the engine's canonical order) differ from every state
// at the latest instant before `before`. kTimeMin when there is none.
TimeMs PostgresEventStore::run_start_bound(std::int64_t mid, const MachineSpec& spec, TimeMs before) {
  std::vector<State> latest;
  // Returns true when `group` (the states at one instant) ends the walk.
  auto visit = [&](const std::vector<State>& group) {
    if (group.empty()) return false;
    if (latest.empty()) {
      latest = group;
      return false;
    }
    return std::none_of(group.begin(), group.end(),
                        [&](State s) { return std::find(latest.begin(), latest.end(), s) != latest.end(); });
  };
  auto resolve = [&](std::string_view raw, std::vector<State>& group) {
    const auto s = spec.resolve_state(raw);
    if (s && *s != State::unknown) group.push_back(*s);
  };
  // Walks back within a lower bound that starts a partition back and grows: a query touches the
  // few partitions it needs, not every one before `before`.
  TimeMs cursor = before;
  DurationMs span = kPartitionMs;
  for (;;) {
    const TimeMs floor = span >= 64 * kPartitionMs || cursor < kTimeMin + span ? kTimeMin : cursor - span;
    Result r = conn().prepared("walk_states",
                               "SELECT ts, state FROM history_events WHERE machine_id=$1 AND type=0 AND ts<$2 AND ts>=$3"
                               " ORDER BY ts DESC LIMIT 32",
                               Params().add(mid).add(cursor).add(floor));
    const bool full = r.rows() == kWalkChunk;
    const TimeMs last = r.rows() ? r.int_at(r.rows() - 1, 0) : cursor;
    int i = 0;
    while (i < r.rows()) {
      const TimeMs ts = r.int_at(i, 0);
      if (full && ts == last) break;  // this instant may continue in the next chunk
      std::vector<State> group;
      for (; i < r.rows() && r.int_at(i, 0) == ts; ++i) resolve(r.view_at(i, 1), group);
      if (visit(group)) return ts;
    }
    if (!full) {
      if (floor == kTimeMin) return kTimeMin;
      cursor = floor;  // everything in [floor, cursor) was seen
      span *= 4;
      continue;
    }
    if (r.int_at(0, 0) == last) {
      // One instant fills the chunk: read it whole.
      Result all = conn().query("SELECT state FROM history_events WHERE machine_id=$1 AND type=0 AND ts=$2",
                                Params().add(mid).add(last));
      std::vector<State> group;
      for (int k = 0; k < all.rows(); ++k) resolve(all.view_at(k, 0), group);
      if (visit(group)) return last;
      cursor = last;
    } else {
      cursor = last + 1;  // the next chunk starts with every event at `last`
    }
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
  const TimeMs lo = from <= kTimeMin + spec.startup_window_ms ? kTimeMin : run_start_bound(mid, spec, from - spec.startup_window_ms);
  if (lo > kTimeMin) {
    // The latest product events and the latest readings of each counter before `lo` (all events at
    // that instant: the engine's canonical order picks among them).
    // Each kind the machine ever had: first within a partition before `lo`, else anywhere before.
    static constexpr struct {
      int bit, type, counter;
    } kKinds[] = {{1, 3, 0}, {2, 2, 0}, {4, 2, 1}, {8, 2, 2}};
    for (TimeMs floor : {lo - kPartitionMs, kTimeMin}) {
      std::vector<std::int64_t> types, counters;
      for (const auto& k : kKinds)
        if (kinds & k.bit) {
          types.push_back(k.type);
          counters.push_back(k.counter);
        }
      if (types.empty()) break;
      Result r = conn().prepared(
          "context_before",
          "WITH k(type, counter) AS (SELECT * FROM unnest($4::smallint[], $5::smallint[])),"
          " m AS (SELECT k.type, k.counter, (SELECT max(ts) FROM history_events x WHERE x.machine_id=$1 AND x.ts<$2"
          " AND x.ts>=$3 AND x.type=k.type AND (k.type=3 OR x.counter=k.counter)) AS ts FROM k)"
          " SELECT h.machine_id, h.ts, h.type, h.src_id, h.seq, h.state, h.reason, h.good, h.reject, h.counter, h.value,"
          " h.rollover, h.product, h.at FROM history_events h JOIN m ON h.ts = m.ts AND h.type = m.type"
          " AND (m.type = 3 OR h.counter = m.counter) WHERE h.machine_id=$1 AND h.ts<$2 AND h.ts>=$3",
          Params().add(mid).add(lo).add(floor).add_array(types).add_array(counters));
      for (int i = 0; i < r.rows(); ++i) {
        out.push_back(decode(r, i));
        const Event& e = out.back();
        for (const auto& k : kKinds)
          if (static_cast<int>(e.type) == k.type && (k.type == 3 || static_cast<int>(e.counter) == k.counter))
            kinds &= ~static_cast<std::int64_t>(k.bit);  // found: not looked for again
      }
    }
  }
  if (lo >= to && !(to < kTimeMax && spec.micro_stop_threshold_ms > 0)) return;
  const TimeMs after = to < kTimeMax ? to + spec.micro_stop_threshold_ms : to;
  Result r = conn().prepared("load_window",
                             "SELECT " OEE_PG_READ_COLUMNS " FROM history_events WHERE machine_id=$1 AND ts>=$2 AND ts<$4"
                             " AND (ts<$3 OR type=0) ORDER BY ts, id_src, id_key",
                             Params().add(mid).add(lo).add(to).add(std::max(after, lo)));
  for (int i = 0; i < r.rows(); ++i) out.push_back(decode(r, i));
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
    auto it = machine_ids_.find(machine);
    const std::int64_t mid = it != machine_ids_.end() ? it->second : machine_id(machine);
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

#define OEE_PG_KPI_SUMS                                                                                        \
  "coalesce(sum(all_ms),0), coalesce(sum(unknown_ms),0), coalesce(sum(planned_downtime_ms),0),"              \
  " coalesce(sum(running_ms),0), coalesce(sum(small_stop_ms),0), coalesce(sum(breakdown_ms),0),"             \
  " coalesce(sum(setup_ms),0), coalesce(sum(starved_ms),0), coalesce(sum(blocked_ms),0),"                    \
  " coalesce(sum(unscheduled_running_ms),0), coalesce(sum(good_count),0), coalesce(sum(reject_count),0),"    \
  " coalesce(sum(startup_reject_count),0), coalesce(sum(ideal_us),0), coalesce(sum(reject_ideal_us),0),"     \
  " coalesce(sum(startup_reject_ideal_us),0), coalesce(sum(breakdown_count),0), coalesce(sum(stop_count),0)"

std::array<std::int64_t*, 18> kpi_fields(KpiTotals& t) {
  return {&t.all_ms,        &t.unknown_ms,   &t.planned_downtime_ms, &t.running_ms,
          &t.small_stop_ms, &t.breakdown_ms, &t.setup_ms,            &t.starved_ms,
          &t.blocked_ms,    &t.unscheduled_running_ms, &t.good_count, &t.reject_count,
          &t.startup_reject_count, &t.ideal_us, &t.reject_ideal_us, &t.startup_reject_ideal_us,
          &t.breakdown_count, &t.stop_count};
}

// Totals of the whole hours [from, to) (all settled): the materialised rows, and the engine for the
// hours not materialised yet, which are then written unless an append changed the machine meanwhile.
KpiTotals PostgresEventStore::rollup_hours(std::int64_t mid, const MachineSpec& spec, TimeMs from, TimeMs to,
                                           const MachineFacts& facts) {
  Connection& c = conn();
  KpiTotals t;
  Result sum = c.prepared("sum_rollups",
                          "SELECT count(*), " OEE_PG_KPI_SUMS
                          " FROM rollups WHERE machine_id=$1 AND hour_start>=$2 AND hour_start<$3",
                          Params().add(mid).add(from).add(to));
  const std::int64_t have = sum.int_at(0, 0);
  auto fields = kpi_fields(t);
  for (int i = 0; i < 18; ++i) *fields[static_cast<std::size_t>(i)] = sum.int_at(0, 1 + i);
  if (have == (to - from) / kMsPerHour) return t;
  // The missing hours, as ranges.
  Result hours = c.prepared("rollup_hours",
                            "SELECT hour_start FROM rollups WHERE machine_id=$1 AND hour_start>=$2 AND hour_start<$3"
                            " ORDER BY hour_start",
                            Params().add(mid).add(from).add(to));
  std::vector<Interval> missing;
  TimeMs next = from;
  for (int i = 0; i <= hours.rows(); ++i) {
    const TimeMs h = i < hours.rows() ? hours.int_at(i, 0) : to;
    for (TimeMs x = next; x < h; x += kMsPerHour) missing.push_back({x, x + kMsPerHour});
    next = h + kMsPerHour;
  }
  std::vector<KpiTotals> computed;
  computed.reserve(missing.size());
  for (std::size_t a = 0; a < missing.size();) {
    std::size_t b = a + 1;
    while (b < missing.size() && missing[b].start == missing[b - 1].end) ++b;
    const MachineHistory h = history(mid, spec, missing[a].start, missing[b - 1].end, facts);
    const auto part = oee::machine_bucket_totals(h, calendar_, std::span(missing).subspan(a, b - a), kTimeMax);
    computed.insert(computed.end(), part.begin(), part.end());
    a = b;
  }
  std::string rows;
  for (std::size_t i = 0; i < missing.size(); ++i) {
    t += computed[i];
    append_int(rows, mid);
    rows += '\t';
    append_int(rows, missing[i].start);
    KpiTotals copy = computed[i];
    for (std::int64_t* f : kpi_fields(copy)) {
      rows += '\t';
      append_int(rows, *f);
    }
    rows += '\n';
  }
  t.machine_count = 0;
  // Written only if no append touched the machine since `version` was read (the row lock orders
  // this against appends on every server).
  Transaction tx(c);
  Result v = c.prepared("lock_version", "SELECT version FROM machines WHERE id=$1 FOR UPDATE", Params().add(mid));
  if (v.int_at(0, 0) == facts.version) {
    c.exec("CREATE TEMP TABLE IF NOT EXISTS staging_rollups (LIKE rollups) ON COMMIT DELETE ROWS");
    c.copy_begin("COPY staging_rollups FROM STDIN");
    c.copy_data(rows);
    c.copy_end();
    c.exec("INSERT INTO rollups SELECT * FROM staging_rollups ON CONFLICT DO NOTHING");
    c.prepared("raise_rollup_end", "UPDATE machines SET rollup_end = GREATEST(rollup_end, $2) WHERE id=$1",
               Params().add(mid).add(missing.back().end));
  }
  tx.commit();
  return t;
}

KpiTotals PostgresEventStore::machine_totals(const MachineSpec& machine, TimeMs from, TimeMs to, TimeMs horizon) {
  return guarded([&] {
    KpiTotals t;
    t.machine_count = 1;
    const TimeMs end = std::min(to, horizon);
    if (from >= end) return t;
    const std::int64_t mid = machine_id(machine.path);
    const MachineFacts f = facts(mid);
    // Rollups serve whole hours that can no longer change without a late event: before the last
    // event by more than a micro-stop threshold (an open stop may still turn out small), and, for
    // an earlier horizon, before it by as much (docs/storage.md).
    const bool rollups = f.max_ts && plant_.find_machine(machine.path) == &machine;
    const TimeMs r0 = ceil_to(from, kMsPerHour);
    const TimeMs r1 = rollups ? std::min({floor_hour(end), floor_hour(*f.max_ts - machine.micro_stop_threshold_ms),
                                          floor_hour(horizon - machine.micro_stop_threshold_ms)})
                              : r0;
    if (r1 <= r0) {
      t = oee::machine_totals(history(mid, machine, from, to, f), calendar_, from, to, horizon);
      t.machine_count = 1;
      return t;
    }
    t = rollup_hours(mid, machine, r0, r1, f);
    if (from < r0) t += oee::machine_totals(history(mid, machine, from, r0, f), calendar_, from, r0, horizon);
    if (r1 < end) t += oee::machine_totals(history(mid, machine, r1, to, f), calendar_, r1, to, horizon);
    t.machine_count = 1;
    return t;
  });
}

std::int64_t PostgresEventStore::event_count() {
  return guarded([&] { return conn().query("SELECT coalesce(sum(events), 0) FROM machines").int_at(0, 0); });
}

std::vector<SourceStats> PostgresEventStore::sources() {
  return guarded([&] {
    std::vector<SourceStats> out;
    Connection& c = conn();
    Result r = c.query(
        "SELECT id, src, events, seq_min, seq_max, last_seen, clock_offset_ms, future_events FROM sources ORDER BY src");
    for (int i = 0; i < r.rows(); ++i) {
      SourceStats s;
      s.src = r.text_at(i, 1);
      s.events = r.int_at(i, 2);
      s.seq_min = r.int_at(i, 3);
      s.seq_max = r.int_at(i, 4);
      s.last_seen = r.int_at(i, 5);
      s.clock_offset_ms = r.int_at(i, 6);
      s.future_events = r.int_at(i, 7);
      // Gaps from the stored identities: the unique index is ordered by (source, seq).
      Result g = c.prepared("source_gaps",
                            "SELECT id_key + 1, next - 1 FROM (SELECT id_key, lead(id_key) OVER (ORDER BY id_key) AS next"
                            " FROM events WHERE id_src=$1) x WHERE next > id_key + 1 ORDER BY 1",
                            Params().add(r.int_at(i, 0)));
      for (int k = 0; k < g.rows(); ++k) s.gaps.emplace_back(g.int_at(k, 0), g.int_at(k, 1));
      out.push_back(std::move(s));
    }
    return out;
  });
}

std::int64_t PostgresEventStore::add_dead_letter(const DeadLetter& letter) {
  return guarded([&] {
    return conn()
        .query("INSERT INTO dead_letters(received, topic, payload, reason) VALUES($1, $2::bytea, $3::bytea, $4::bytea)"
               " RETURNING id",
               Params()
                   .add(letter.received)
                   .add(to_bytea_hex(bounded(letter.topic, kMaxDeadLetterTextBytes)))
                   .add(to_bytea_hex(bounded(letter.payload, kMaxDeadLetterPayloadBytes)))
                   .add(to_bytea_hex(bounded(letter.reason, kMaxDeadLetterTextBytes))))
        .int_at(0, 0);
  });
}

std::vector<DeadLetter> PostgresEventStore::dead_letters(std::int64_t before_id, std::size_t limit) {
  return guarded([&] {
    Result r = conn().query(
        "SELECT id, received, topic, payload, reason FROM dead_letters WHERE id<$1 ORDER BY id DESC LIMIT $2",
        Params().add(before_id > 0 ? before_id : INT64_MAX).add(static_cast<std::int64_t>(std::min<std::size_t>(limit, 10000))));
    std::vector<DeadLetter> out;
    for (int i = 0; i < r.rows(); ++i)
      out.push_back({r.int_at(i, 0), r.int_at(i, 1), from_bytea_hex(r.view_at(i, 2)), from_bytea_hex(r.view_at(i, 3)),
                     from_bytea_hex(r.view_at(i, 4))});
    return out;
  });
}

std::int64_t PostgresEventStore::dead_letter_count() {
  return guarded([&] { return conn().query("SELECT count(*) FROM dead_letters").int_at(0, 0); });
}

// Drops every day partition wholly older than the retention. Before that, each machine's context
// at the cut (what windows after it still need) is kept in context_events.
std::int64_t PostgresEventStore::apply_retention(TimeMs now) {
  if (options_.retention_days <= 0) return 0;
  return guarded([&] {
    const TimeMs cutoff = now - options_.retention_days * kMsPerDay;
    const TimeMs cut = floor_to(cutoff, kPartitionMs);
    Connection& c = conn();
    Transaction tx(c);
    // Listed under the lock: another server applying retention at the same time waits, then finds
    // the partitions gone.
    c.exec("SELECT pg_advisory_xact_lock(7302650002)");
    Result parts = c.query(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'events'::regclass");
    std::vector<std::string> drop;
    for (int i = 0; i < parts.rows(); ++i) {
      const std::string name = parts.text_at(i, 0);
      const auto day = parse_civil_date(std::string_view(name).substr(7));
      if (day && (*day + 1) * kPartitionMs <= cut) drop.push_back(name);
    }
    if (drop.empty()) {
      tx.commit();
      return std::int64_t{0};
    }
    Result ms = c.query("SELECT id, path, has_total_counter, kinds FROM machines ORDER BY id FOR UPDATE");
    for (int i = 0; i < ms.rows(); ++i) {
      const std::int64_t mid = ms.int_at(i, 0);
      const MachineSpec* spec = plant_.find_machine(ms.text_at(i, 1));
      if (!spec) continue;
      std::vector<Event> ctx;
      load_history_events(mid, *spec, cut, cut, ms.int_at(i, 3), ctx);
      std::string rows;
      for (const Event& e : ctx) {
        if (e.ts >= cut || !(e.type == EventType::state || e.type == EventType::product || e.type == EventType::counter))
          continue;
        const std::int64_t sid = e.src.empty() ? 0 : source_id(e.src);
        std::int64_t fields[] = {mid, e.ts, e.has_identity() ? sid : -mid,
                                 e.has_identity() ? e.seq : static_cast<std::int64_t>(content_fingerprint(e))};
        for (std::int64_t f : fields) {
          append_int(rows, f);
          rows += '\t';
        }
        append_int(rows, static_cast<int>(e.type));
        rows += '\t';
        append_int(rows, sid);
        rows += '\t';
        append_int(rows, e.seq);
        rows += '\t';
        append_text(rows, e.state);
        rows += '\t';
        append_text(rows, e.reason);
        rows += "\t0\t0\t";
        append_int(rows, static_cast<int>(e.counter));
        rows += '\t';
        append_int(rows, e.value);
        rows += '\t';
        append_int(rows, e.rollover);
        rows += '\t';
        append_text(rows, e.product);
        rows += '\t';
        append_int(rows, e.at);
        rows += '\n';
      }
      c.query("DELETE FROM context_events WHERE machine_id=$1", Params().add(mid));
      if (!rows.empty()) {
        c.copy_begin("COPY context_events(" OEE_PG_EVENT_COLUMNS ") FROM STDIN");
        c.copy_data(rows);
        c.copy_end();
      }
    }
    std::int64_t deleted = 0;
    for (const std::string& name : drop) {
      Result counts = c.query("SELECT machine_id, count(*) FROM \"" + name + "\" GROUP BY machine_id");
      for (int i = 0; i < counts.rows(); ++i) {
        deleted += counts.int_at(i, 1);
        c.query("UPDATE machines SET events = events - $2 WHERE id=$1", Params().add(counts.int_at(i, 0)).add(counts.int_at(i, 1)));
      }
      c.exec("DROP TABLE \"" + name + "\"");
      const auto day = parse_civil_date(std::string_view(name).substr(7));
      if (day) partitions_.erase(*day);
    }
    c.query("DELETE FROM rollups WHERE hour_start + 3600000 <= $1", Params().add(cutoff));
    tx.commit();
    return deleted;
  });
}

}  // namespace

bool is_postgres_url(std::string_view url) { return url.starts_with("postgresql://") || url.starts_with("postgres://"); }

int migrate_postgres(const std::string& url) {
  Connection c(url);
  return pg::migrate(c);
}

int postgres_schema_version(const std::string& url) {
  Connection c(url);
  return pg::schema_version(c);
}

int postgres_latest_schema_version() { return pg::kSchemaVersion; }

std::unique_ptr<EventStore> open_postgres_store(const std::string& url, const PlantModel& plant,
                                                const ShiftCalendar& calendar, const StoreOptions& options) {
  try {
    return std::make_unique<PostgresEventStore>(url, plant, calendar, options);
  } catch (const PgError& e) {
    if (e.connection_lost()) throw StoreUnreachable(e.what());
    throw;
  }
}

}  // namespace oee::storage
