// The PostgreSQL event store. docs/storage.md ("PostgreSQL") explains the schema, the dedup
// guarantee, how rollups are materialised and invalidated, and why several servers may share one
// database; the comments here say why each step is there.
#include <algorithm>
#include <charconv>
#include <ctime>
#include <array>
#include <bit>
#include <map>
#include <optional>
#include <mutex>
#include <set>
#include <unordered_map>

#include "oee/codec/event_json.h"
#include "oee/storage/postgres_store.h"
#include "oee/storage/resilient_store.h"
#include "event_block_codec.h"
#include "kpi_columns.h"
#include "rollup_rules.h"
#include "signs_of_life.h"
#include "source_identity.h"
#include "postgres_connection.h"
#include "postgres_schema.h"
#include "store_helpers.h"

namespace oee::storage {

namespace {

using pg::Connection;
using pg::Params;
using pg::PgError;
using pg::Result;
using pg::Transaction;

constexpr DurationMs kPartitionMs = kMsPerDay;  // one partition per UTC day of ts
constexpr int kPartitionsAhead = 2;             // days created ahead of the server clock
constexpr int kWalkChunk = 32;  // a few state changes back is the usual answer
// A group's windows are read with this much time before their start-up windows: usually enough to
// find where the state interval began and the context before it.
constexpr DurationMs kWindowLeadMs = 2 * kMsPerHour;
constexpr std::size_t kWindowLeadMinWindows = 8;  // below, a few index probes per machine are cheaper
constexpr std::size_t kCopySliceRows = 500;  // about 80 KB of COPY data per PQputCopyData

// The kinds of context events (bits of machines.kinds): products, and each counter's readings.
constexpr struct {
  int bit, type, counter;
} kKinds[] = {{1, 3, 0}, {2, 2, 0}, {4, 2, 1}, {8, 2, 2}};

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
    check_rules();
  }

  AppendResult append(std::span<const Event> events, TimeMs received_at) override;
  std::vector<Event> machine_events(std::string_view machine, TimeMs from, TimeMs to) override;
  MachineHistory machine_history(const MachineSpec& machine, TimeMs from, TimeMs to) override;
  KpiTotals machine_totals(const MachineSpec& machine, TimeMs from, TimeMs to, TimeMs horizon) override;
  KpiTotals machines_totals(std::span<const MachineSpec* const> machines, TimeMs from, TimeMs to,
                            TimeMs horizon) override;
  std::int64_t event_count() override;
  std::vector<SourceStats> sources() override;
  std::int64_t add_dead_letter(const DeadLetter& letter) override;
  std::vector<DeadLetter> dead_letters(std::int64_t before_id, std::size_t limit) override;
  std::int64_t dead_letter_count() override;
  void add_conflicts(std::span<const Conflict> conflicts) override;
  std::vector<Conflict> conflicts(std::int64_t before_id, std::size_t limit) override;
  std::int64_t conflict_count() override;
  std::int64_t add_stop_comment(const StopComment& comment) override;
  std::vector<StopComment> stop_comments(std::string_view machine, TimeMs from, TimeMs to) override;
  RetentionResult apply_retention(TimeMs now) override;
  std::string describe() const override;

 private:
  std::vector<std::string> partitions_before(Connection& c, TimeMs cut);
  void keep_context_at(Connection& c, TimeMs cut);
  std::int64_t drop_partitions(Connection& c, const std::vector<std::string>& drop);
  // A lost connection is replaced on the next call; the statement that saw it failed.
  Connection& conn();
  Connection& side_conn();
  template <class F>
  auto guarded(F&& f) -> decltype(f()) {
    try {
      return f();
    } catch (const PgError& e) {
      if (!e.connection_lost()) throw;
      db_.reset();
      side_.reset();
      throw StoreUnreachable(e.what());
    }
  }
  std::int64_t machine_id(std::string_view path);
  std::int64_t source_id(std::string_view src, std::string_view inc);
  const SourceName& source_name(std::int64_t id);
  // Sets the event's src and inc from a stored source id (0: none).
  void name_source(Event& e, std::int64_t id);
  const std::string& machine_path(std::int64_t id);
  void ensure_partitions(const std::set<std::int64_t>& days);
  void check_rules();
  AppendResult append_once(std::span<const Event> events, TimeMs received_at, bool ask_cut = false);
  TimeMs retention_cut(Connection& c, std::span<const Event> events, TimeMs received_at, bool ask);
  void dead_letter_refused(Connection& c, std::span<const Event* const> refused, TimeMs cut, TimeMs received_at);
  // What one append brings to a source.
  struct SourceBatch {
    std::int64_t count = 0, seq_min = -1, seq_max = -1, future = 0;
    std::vector<std::int64_t> offsets, seqs;
  };
  void update_source_gaps(const std::map<std::int64_t, SourceBatch>& sources);
  // Which events' identities (src+inc+seq) are stored already, under any time: a source's stored
  // seqs are its range minus its gaps, as on SQLite. Only seqs at or below the highest this server
  // has seen of their source are looked up, so a live stream costs nothing here.
  std::vector<char> stored_identities(std::span<const Event> events, const std::vector<std::int64_t>& sids);

  Event decode(const Result& r, int row);
  void load_range(std::int64_t mid, const char* table, TimeMs from, TimeMs to, bool states_only, std::vector<Event>& out);
  struct StateWalk {
    std::int64_t mid;
    const MachineSpec* spec;
    TimeMs before;
    TimeMs bound = kTimeMin;  // the answer
  };
  void run_start_bounds(std::vector<StateWalk>& walks);
  struct HistoryRequest {
    std::int64_t mid;
    const MachineSpec* spec;
    TimeMs from, to;
    std::int64_t kinds;
    std::vector<Event> events;  // the answer
    bool carried = false;       // `events` starts with the carry of `from`: only [from, …) is left to load
  };
  void load_histories(std::vector<HistoryRequest>& requests);
  void add_signs_of_life(std::vector<HistoryRequest>& requests);
  // What load_histories knows of each request so far.
  struct HistoryProgress {
    TimeMs lo = kTimeMin;        // the walk's bound
    bool lo_known = false;
    std::int64_t wanted = 0;     // context kinds still looked for (bits of machines.kinds)
    bool window_done = false;
  };
  void load_windows_with_lead(std::vector<HistoryRequest>& requests, std::vector<HistoryProgress>& progress);
  std::string carry_of(std::int64_t mid, const MachineSpec& spec, TimeMs at, std::int64_t kinds);
  void add_carry(HistoryRequest& q, std::string_view bytes);
  void load_history_events(std::int64_t mid, const MachineSpec& spec, TimeMs from, TimeMs to, std::int64_t kinds,
                           std::vector<Event>& out);
  void add_total_marker(std::int64_t mid, bool has_total, std::vector<Event>& events) const;
  MachineHistory history(std::int64_t mid, const MachineSpec& spec, TimeMs from, TimeMs to, const MachineFacts& facts);
  MachineFacts facts(std::int64_t mid);
  KpiTotals rollup_hours(std::int64_t mid, const MachineSpec& spec, TimeMs from, TimeMs to, const MachineFacts& facts,
                         bool fill_days = false);

  std::string url_;
  const PlantModel& plant_;
  const ShiftCalendar& calendar_;
  StoreOptions options_;
  std::unique_ptr<Connection> db_;
  std::unique_ptr<Connection> side_;  // a second session, for a statement run beside db_'s
  bool staging_ready_ = false;
  bool direct_copy_paused_ = false;  // the last batch held events already stored
  std::unordered_map<std::int64_t, std::int64_t> seq_max_seen_;  // source id -> highest seq known stored
  std::unordered_map<std::string, std::int64_t, StringHash, std::equal_to<>> machine_ids_, source_ids_;
  std::unordered_map<std::int64_t, std::string> machine_paths_;
  std::unordered_map<std::int64_t, SourceName> source_names_;
  std::string key_scratch_;  // source_id's lookup key, its capacity kept
  std::set<std::int64_t> partitions_;  // days known to have a partition
};

Connection& PostgresEventStore::side_conn() {
  if (!side_ || !side_->ok()) {
    side_.reset();
    side_ = std::make_unique<Connection>(url_);
    side_->exec("SET plan_cache_mode = force_generic_plan");  // as conn()
  }
  return *side_;
}

Connection& PostgresEventStore::conn() {
  if (!db_ || !db_->ok()) {
    db_.reset();
    staging_ready_ = false;
    db_ = std::make_unique<Connection>(url_);
    // Planning a statement over every partition costs more than running it; the generic plan
    // still prunes partitions by the parameters when it starts.
    db_->exec("SET plan_cache_mode = force_generic_plan");
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

std::int64_t PostgresEventStore::source_id(std::string_view src, std::string_view inc) {
  source_key(src, inc, key_scratch_);
  auto it = source_ids_.find(key_scratch_);
  if (it != source_ids_.end()) return it->second;
  return guarded([&] {
    Connection& c = conn();
    c.query("INSERT INTO sources(src, incarnation) VALUES($1, $2) ON CONFLICT (src, incarnation) DO NOTHING",
            Params().add(src).add(inc));
    const std::int64_t id =
        c.query("SELECT id FROM sources WHERE src=$1 AND incarnation=$2", Params().add(src).add(inc)).int_at(0, 0);
    source_ids_.emplace(source_key(src, inc), id);
    source_names_[id] = SourceName{std::string(src), std::string(inc)};
    return id;
  });
}

// Ids created by another server sharing the database are looked up on first sight.
const SourceName& PostgresEventStore::source_name(std::int64_t id) {
  static const SourceName kNone;
  if (id == 0) return kNone;
  auto it = source_names_.find(id);
  if (it != source_names_.end()) return it->second;
  Result r = conn().query("SELECT src, incarnation FROM sources WHERE id=$1", Params().add(id));
  if (r.rows() == 0) return kNone;
  SourceName name{r.text_at(0, 0), r.text_at(0, 1)};
  source_ids_[source_key(name.src, name.inc)] = id;
  return source_names_[id] = std::move(name);
}

void PostgresEventStore::name_source(Event& e, std::int64_t id) {
  if (id == 0) return;
  const SourceName& name = source_name(id);
  e.src = name.src;
  e.inc = name.inc;
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

// Rollups made with other rules than the plant's (a plant file changed since they were written)
// are dropped, to be materialised again with these rules. Rollups of unknown rules (written before
// machines.rules) are kept: no-data machines, the only ones whose rollups changed then, had none.
void PostgresEventStore::check_rules() {
  std::map<std::int64_t, std::string> rules;  // in id order: rows locked as appends lock them
  const std::string calendar = calendar_rules(plant_, calendar_.zone());
  for (const MachineSpec* spec : plant_.machines()) rules[machine_id(spec->path)] = rollup_rules(*spec, calendar);
  if (rules.empty()) return;
  std::vector<std::int64_t> ids;
  for (const auto& [id, r] : rules) ids.push_back(id);
  Connection& c = conn();
  Transaction tx(c);
  Result stored = c.query("SELECT id, rules FROM machines WHERE id = ANY($1::int[]) ORDER BY id FOR UPDATE",
                          Params().add_array(ids));
  for (int i = 0; i < stored.rows(); ++i) {
    const std::int64_t id = stored.int_at(i, 0);
    const std::string& want = rules[id];
    if (!stored.is_null(i, 1) && stored.text_at(i, 1) == want) continue;
    if (!stored.is_null(i, 1)) {
      c.query("DELETE FROM rollups WHERE machine_id=$1", Params().add(id));
      c.query("DELETE FROM rollup_days WHERE machine_id=$1", Params().add(id));
      c.query("DELETE FROM machine_carry WHERE machine_id=$1", Params().add(id));
    }
    c.query("UPDATE machines SET rules=$2, rollup_end=CASE WHEN rules IS NULL THEN rollup_end ELSE $3 END WHERE id=$1",
            Params().add(id).add(want).add(kTimeMin));
  }
  tx.commit();
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
      // A partition this server created may have been dropped since by retention (on any server),
      // whose cut then refuses what was meant for it.
      if (e.connection_lost() || std::string_view(e.what()).find("no partition of relation") == std::string_view::npos) throw;
      partitions_.clear();
      return append_once(events, received_at, true);
    }
  });
}

AppendResult PostgresEventStore::append_once(std::span<const Event> events, TimeMs received_at, bool ask_cut) {
  AppendResult result;
  std::set<std::int64_t> days;
  // Each event once (a batch may repeat one; the first copy is kept), in the order of the table's
  // unique key (machine, time, identity): consecutive rows then land on the same index page.
  struct Row {
    const Event* event;
    std::array<std::int64_t, 4> key;  // machine_id, ts, id_src, id_key
    std::int64_t sid;
  };
  std::vector<Row> batch;
  batch.reserve(events.size());
  std::vector<std::int64_t> sids(events.size());
  for (std::size_t i = 0; i < events.size(); ++i) sids[i] = events[i].src.empty() ? 0 : source_id(events[i].src, events[i].inc);
  const std::vector<char> known = stored_identities(events, sids);
  const TimeMs cut = retention_cut(conn(), events, received_at, ask_cut);
  std::vector<const Event*> refused;  // older than the cut
  std::int64_t last_day = kTimeMin;
  std::set<std::pair<std::int64_t, std::int64_t>> identities;  // of this batch: the first of equal ones is kept
  for (const Event& e : events) {
    const std::size_t i = static_cast<std::size_t>(&e - events.data());
    if (known[i] || (e.has_identity() && !identities.emplace(sids[i], e.seq).second)) continue;
    if (e.ts < cut) {
      refused.push_back(&e);
      continue;
    }
    const std::int64_t mid = machine_id(e.machine);
    const std::int64_t sid = sids[i];
    const std::int64_t id_src = e.has_identity() ? sid : -mid;
    const std::int64_t id_key = e.has_identity() ? e.seq : static_cast<std::int64_t>(content_fingerprint(e));
    const std::int64_t day = floor_to(e.ts, kPartitionMs) / kPartitionMs;
    if (day != last_day) days.insert(last_day = day);
    batch.push_back({&e, {mid, e.ts, id_src, id_key}, sid});
  }
  std::stable_sort(batch.begin(), batch.end(), [](const Row& a, const Row& b) { return a.key < b.key; });
  batch.erase(std::unique(batch.begin(), batch.end(), [](const Row& a, const Row& b) { return a.key == b.key; }),
              batch.end());
  // The batch in COPY's binary format, formatted and sent in slices while the server already
  // inserts the first ones; kept whole for the staging path.
  std::string rows;
  rows.reserve(batch.size() * 170 + 32);
  rows += kCopyBinaryHeader;
  std::size_t formatted = 0;
  bool trailer_added = false;  // (the last row's bytes may well end like the trailer)
  auto format_rows = [&](std::size_t count) {
    for (const std::size_t end = std::min(batch.size(), formatted + count); formatted < end; ++formatted) {
      const Row& row = batch[formatted];
      const Event& e = *row.event;
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
  };
  // What the stored rows add to their machines' and sources' rows.
  struct MachineBatch {
    std::int64_t count = 0;
    TimeMs min_ts = kTimeMax, max_ts = kTimeMin;
    bool total = false;
    std::int64_t kinds = 0;
  };
  std::map<std::int64_t, MachineBatch> machines;
  std::map<std::int64_t, SourceBatch> sources;
  auto tally = [&] {
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
      if (e.type == EventType::product) m.kinds |= 1;
      if (e.type == EventType::counter) m.kinds |= 2 << static_cast<int>(e.counter);
      if (row.sid == 0) continue;
      SourceBatch& s = sources[row.sid];
      ++s.count;
      s.offsets.push_back(ts - received_at);
      if (ts - received_at > options_.max_future_skew_ms) ++s.future;
      if (e.seq >= 0) {
        s.seq_min = s.seq_min < 0 ? e.seq : std::min(s.seq_min, e.seq);
        s.seq_max = std::max(s.seq_max, e.seq);
        s.seqs.push_back(e.seq);
      }
    }
  };
  ensure_partitions(days);
  Connection& c = conn();
  std::optional<Transaction> tx;
  // Fast path: COPY straight into the events table (bulk inserts, no per-row ON CONFLICT). The
  // unique key still guards against duplicates: a batch holding an event already stored fails
  // with a unique violation, is rolled back whole, and takes the staging path below. After such a
  // batch (a redelivery is usually followed by more), the next ones take the staging path directly
  // until one finds nothing already stored.
  if (!direct_copy_paused_) {
    tx.emplace(c);
    try {
      c.copy_begin("COPY events(" OEE_PG_EVENT_COLUMNS ") FROM STDIN (FORMAT binary)");
      for (std::size_t sent = 0; formatted < batch.size() || sent < rows.size(); sent = rows.size()) {
        format_rows(kCopySliceRows);
        c.copy_data(std::string_view(rows).substr(sent));
      }
      tally();  // while the server inserts the last slices
      c.copy_end();
    } catch (const PgError& e) {
      if (e.connection_lost() || e.sqlstate() != "23505") throw;
      tx.reset();  // rolls the COPY back
      direct_copy_paused_ = true;
    }
  }
  if (direct_copy_paused_) {
    if (!staging_ready_) {
      // Per session; emptied by every commit.
      c.exec("CREATE TEMP TABLE IF NOT EXISTS staging_events (LIKE events) ON COMMIT DELETE ROWS");
      staging_ready_ = true;
    }
    format_rows(batch.size());
    tx.emplace(c);
    c.copy_begin("COPY staging_events(" OEE_PG_EVENT_COLUMNS ") FROM STDIN (FORMAT binary)");
    c.copy_data(rows);
    c.copy_end();
    // The unique key drops what is already stored (the batch has no duplicates left).
    Result inserted = c.prepared("insert_staged",
                                 "INSERT INTO events SELECT * FROM staging_events ON CONFLICT DO NOTHING"
                                 " RETURNING machine_id, ts, id_src, id_key",
                                 Params());
    if (static_cast<std::size_t>(inserted.rows()) == batch.size()) {
      direct_copy_paused_ = false;
    } else {
      std::vector<std::array<std::int64_t, 4>> fresh;
      fresh.reserve(static_cast<std::size_t>(inserted.rows()));
      for (int i = 0; i < inserted.rows(); ++i)
        fresh.push_back({inserted.int_at(i, 0), inserted.int_at(i, 1), inserted.int_at(i, 2), inserted.int_at(i, 3)});
      std::sort(fresh.begin(), fresh.end());
      std::erase_if(batch, [&](const Row& r) { return !std::binary_search(fresh.begin(), fresh.end(), r.key); });
    }
    tally();
  }
  result.inserted = batch.size();
  result.older_than_retention = refused.size();
  result.duplicates = events.size() - result.inserted - refused.size();
  dead_letter_refused(c, refused, cut, received_at);
  for (const auto& [sid, s] : sources)
    if (s.seq_max >= 0) seq_max_seen_[sid] = std::max(seq_max_seen_[sid], s.seq_max);  // (a rollback only costs a look-up)
  if (result.duplicates > 0) {
    std::vector<char> stored(events.size(), 0);
    for (const Row& row : batch) stored[static_cast<std::size_t>(row.event - events.data())] = 1;
    for (const Event* e : refused) stored[static_cast<std::size_t>(e - events.data())] = 1;  // (not a duplicate)
    for (std::size_t i = 0; i < events.size(); ++i)
      if (!stored[i] && events[i].has_identity()) result.identity_duplicates.push_back(i);
  }
  if (result.inserted == 0) {
    tx->commit();
    return result;
  }
  // The touched machines' rows, locked in id order (no deadlock between servers) and updated in one
  // statement that returns what they were: which materialised rollup hours the new events may change.
  std::vector<std::int64_t> ids, mins, maxs, counts, totals, kinds, invalid_ids, invalid_from;
  for (const auto& [mid, m] : machines) {
    ids.push_back(mid);
    mins.push_back(m.min_ts);
    maxs.push_back(m.max_ts);
    counts.push_back(m.count);
    totals.push_back(m.total ? 1 : 0);
    kinds.push_back(m.kinds);
  }
  Result before = c.prepared(
      "update_machines",
      "UPDATE machines m SET events = m.events + v.n, min_ts = LEAST(coalesce(m.min_ts, v.mn), v.mn),"
      " max_ts = GREATEST(coalesce(m.max_ts, v.mx), v.mx), has_total_counter = m.has_total_counter OR v.tot <> 0,"
      " version = m.version + 1, kinds = m.kinds | v.k"
      " FROM (SELECT id, max_ts, has_total_counter, rollup_end FROM machines WHERE id = ANY($1::int[]) ORDER BY id"
      " FOR UPDATE) o, unnest($1::int[], $2::bigint[], $3::bigint[], $4::bigint[], $5::int[], $6::int[]) v(id, n, mn, mx, tot, k)"
      " WHERE m.id = o.id AND m.id = v.id RETURNING o.id, o.max_ts, o.has_total_counter, o.rollup_end",
      Params().add_array(ids).add_array(counts).add_array(mins).add_array(maxs).add_array(totals).add_array(kinds));
  std::vector<StateWalk> walks;
  std::vector<TimeMs> walk_rollup_end;
  for (int i = 0; i < before.rows(); ++i) {
    const std::int64_t mid = before.int_at(i, 0);
    const MachineBatch& m = machines[mid];
    const bool had_total = before.int_at(i, 2) != 0;
    const TimeMs rollup_end = before.int_at(i, 3);
    if (before.is_null(i, 1) || rollup_end == kTimeMin) continue;  // nothing materialised
    const MachineSpec* spec = plant_.find_machine(machine_path(mid));
    if (m.total && !had_total) {
      // Rejects already counted as good become part of the total.
      invalid_ids.push_back(mid);
      invalid_from.push_back(kTimeMin);
    } else if (spec && m.min_ts < rollup_end + look_ahead_ms(*spec)) {
      // A late event changes only later hours, and the hours of the state interval containing it
      // (its length, hence whether it is a small stop, may change): from a bound on its start. As a
      // sign of life it splits a silence, whose part before it stays no data unless it is now at
      // most a no-data threshold long: from that long before it.
      walks.push_back({mid, spec, m.min_ts});
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
  if (!invalid_ids.empty()) {
    c.prepared("invalidate_rollups",
               "WITH v AS (SELECT * FROM unnest($1::int[], $2::bigint[]) v(id, h)),"
               " d AS (DELETE FROM rollups r USING v WHERE r.machine_id = v.id AND r.hour_start >= v.h),"
               " dd AS (DELETE FROM rollup_days r USING v WHERE r.machine_id = v.id AND r.day_start + 86400000 > v.h),"
               " dc AS (DELETE FROM machine_carry r USING v WHERE r.machine_id = v.id AND r.at > v.h)"
               " UPDATE machines m SET rollup_end = LEAST(m.rollup_end, v.h) FROM v WHERE m.id = v.id",
               Params().add_array(invalid_ids).add_array(invalid_from));
  }
  if (!sources.empty()) {
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
  tx->commit();
  return result;
}

// The cut of the last retention run (on any server), asked only when the batch holds an event a
// day old or more (a cut is at least a day before the run that set it), or when `ask`.
TimeMs PostgresEventStore::retention_cut(Connection& c, std::span<const Event> events, TimeMs received_at, bool ask) {
  ask = ask || std::any_of(events.begin(), events.end(), [&](const Event& e) { return e.ts < received_at - kMsPerDay; });
  if (!ask) return kTimeMin;
  Result r = c.prepared("retention_cut", "SELECT cut FROM retention_cut", Params());
  return r.rows() == 0 ? kTimeMin : r.int_at(0, 0);
}

// In the append's transaction: an event older than the cut could only change history retention
// deleted (and the windows over it), so the store refuses it, visibly.
void PostgresEventStore::dead_letter_refused(Connection& c, std::span<const Event* const> refused, TimeMs cut,
                                             TimeMs received_at) {
  for (const Event* e : refused)
    c.prepared("refuse_event",
               "INSERT INTO dead_letters(received, topic, payload, reason) VALUES($1, $2::bytea, $3::bytea, $4::bytea)",
               Params()
                   .add(received_at)
                   .add(to_bytea_hex(kRetentionLetterTopic))
                   .add(to_bytea_hex(bounded(codec::event_to_json(*e), kMaxDeadLetterPayloadBytes)))
                   .add(to_bytea_hex(older_than_retention_reason(e->ts, cut))));
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
  struct Range {
    std::int64_t seq_min, seq_max;
    std::map<std::int64_t, std::int64_t> gaps, loaded;  // first -> last
  };
  std::map<std::int64_t, Range> ranges;
  std::vector<std::int64_t> read_ids, read_lo, read_hi;
  for (int i = 0; i < known.rows(); ++i) {
    const std::int64_t sid = known.int_at(i, 0);
    Range& r = ranges[sid];
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
      Range& r = ranges[g.int_at(i, 0)];
      r.gaps[g.int_at(i, 1)] = g.int_at(i, 2);
    }
    for (auto& [sid, r] : ranges) r.loaded = r.gaps;
  }
  std::vector<std::int64_t> del_ids, del_first, put_ids, put_first, put_last;
  for (auto& [sid, r] : ranges) {
    std::vector<std::int64_t> seqs = sources.at(sid).seqs;
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

#define OEE_PG_READ_COLUMNS "machine_id, ts, type, src_id, seq, state, reason, good, reject, counter, value, rollover, product, at"

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

// A time L <= `before` such that the state interval containing `before` - 1 starts after L and the
// interval containing L ends before `before`: walking back over state events, the first instant
// whose states (all of them: ties resolve by the engine's canonical order) differ from every state
// at the latest instant before `before`. kTimeMin when there is none.
//
// The walks of several machines at once: each round reads the next chunk of every unfinished walk
// in one query. A walk starts a partition back and widens: a query touches the few partitions it
// needs, not every one before `before`.
void PostgresEventStore::run_start_bounds(std::vector<StateWalk>& walks) {
  struct Progress {
    std::vector<State> latest;
    TimeMs cursor;
    DurationMs span = kPartitionMs;
    bool done = false;
  };
  std::vector<Progress> progress;
  for (const StateWalk& w : walks) progress.push_back({{}, w.before});
  auto resolve = [](const MachineSpec& spec, std::string_view raw, std::vector<State>& group) {
    const auto s = spec.resolve_state(raw);
    if (s && *s != State::unknown) group.push_back(*s);
  };
  // Returns true when `group` (the states at one instant) ends the walk.
  auto visit = [](Progress& p, const std::vector<State>& group) {
    if (group.empty()) return false;
    if (p.latest.empty()) {
      p.latest = group;
      return false;
    }
    return std::none_of(group.begin(), group.end(),
                        [&](State s) { return std::find(p.latest.begin(), p.latest.end(), s) != p.latest.end(); });
  };
  auto floor_of = [](const Progress& p) {
    return p.span >= 64 * kPartitionMs || p.cursor < kTimeMin + p.span ? kTimeMin : p.cursor - p.span;
  };
  for (;;) {
    std::vector<std::int64_t> idx, ids, cursors, floors;
    for (std::size_t k = 0; k < walks.size(); ++k) {
      if (progress[k].done) continue;
      idx.push_back(static_cast<std::int64_t>(k));
      ids.push_back(walks[k].mid);
      cursors.push_back(progress[k].cursor);
      floors.push_back(floor_of(progress[k]));
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
      StateWalk& w = walks[k];
      Progress& p = progress[k];
      const int begin = row;
      while (row < r.rows() && r.int_at(row, 0) == idx[n]) ++row;
      const int rows = row - begin;
      const bool full = rows == kWalkChunk;
      const TimeMs last = rows ? r.int_at(row - 1, 1) : p.cursor;
      for (int i = begin; i < row && !p.done;) {
        const TimeMs ts = r.int_at(i, 1);
        if (full && ts == last) break;  // this instant may continue in the next chunk
        std::vector<State> group;
        for (; i < row && r.int_at(i, 1) == ts; ++i) resolve(*w.spec, r.view_at(i, 2), group);
        if (visit(p, group)) {
          w.bound = ts;
          p.done = true;
        }
      }
      if (p.done) continue;
      if (!full) {
        const TimeMs floor = floor_of(p);
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
        for (int i = 0; i < all.rows(); ++i) resolve(*w.spec, all.view_at(i, 0), group);
        if (visit(p, group)) {
          w.bound = last;
          p.done = true;
        }
        p.cursor = last;
      } else {
        p.cursor = last + 1;  // the next chunk starts with every event at `last`
      }
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
  std::vector<HistoryRequest> request{{mid, &spec, from, to, kinds, {}}};
  load_histories(request);
  for (Event& e : request[0].events) out.push_back(std::move(e));
}

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
  // Row numbers per request, by time.
  struct Row {
    TimeMs ts;
    int type, counter, row;
  };
  std::vector<std::vector<Row>> rows_of(requests.size());
  for (int i = 0; i < r.rows(); ++i)
    rows_of[static_cast<std::size_t>(r.int_at(i, 14))].push_back(
        {r.int_at(i, 1), static_cast<int>(r.int_at(i, 2)), static_cast<int>(r.int_at(i, 9)), i});
  for (std::int64_t k : idx) {
    auto& rows = rows_of[static_cast<std::size_t>(k)];
    std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.ts < b.ts; });
  }
  for (std::int64_t kk : idx) {
    const std::size_t k = static_cast<std::size_t>(kk);
    HistoryRequest& q = requests[k];
    HistoryProgress& p = progress[k];
    const std::vector<Row>& rows = rows_of[k];
    // The walk back from `before` (as run_start_bounds): the first instant whose states share
    // nothing with the latest states before `before`; unanswered when the lead's start is reached.
    const TimeMs before = q.from - q.spec->startup_window_ms;
    std::vector<State> latest_states;
    auto at_or_after = [&](TimeMs t) {
      return std::lower_bound(rows.begin(), rows.end(), t, [](const Row& a, TimeMs v) { return a.ts < v; });
    };
    for (auto end = at_or_after(before); end != rows.begin() && !p.lo_known;) {
      const TimeMs ts = std::prev(end)->ts;
      std::vector<State> group;
      for (; end != rows.begin() && std::prev(end)->ts == ts; --end) {
        const Row& x = *std::prev(end);
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
    if (!p.lo_known) continue;
    // The context before `lo`: for each kind, every event at the latest instant of that kind.
    p.wanted = q.kinds;
    for (const auto& kind : kKinds) {
      if (!(p.wanted & kind.bit)) continue;
      auto matches = [&](const Row& x) { return x.type == kind.type && (kind.type == 3 || x.counter == kind.counter); };
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
    if (p.lo >= q.to && !(q.to < kTimeMax && look_ahead_ms(*q.spec) > 0)) continue;
    const TimeMs after = std::max(later_by(q.to, look_ahead_ms(*q.spec)), p.lo);
    const TimeMs signs_end = later_by(q.to, q.spec->no_data_after_ms);
    for (auto x = at_or_after(p.lo); x != rows.end() && x->ts < after; ++x)
      if (x->ts < q.to || x->type == 0 || x->ts < signs_end) q.events.push_back(decode(r, x->row));
  }
}

// The carry of `at` (machine_carry in postgres_schema.cpp): the events before `at` that the history
// of a window starting at `at` holds, in the compact block form.
std::string PostgresEventStore::carry_of(std::int64_t mid, const MachineSpec& spec, TimeMs at, std::int64_t kinds) {
  std::vector<HistoryRequest> request{{mid, &spec, at, at, kinds, {}}};
  load_histories(request);
  BlockWriter w;
  for (const Event& e : request[0].events)
    if (e.ts < at) w.event(e, e.src.empty() ? 0 : source_id(e.src, e.inc));
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
  if (!idx.empty()) {
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
  add_signs_of_life(requests);
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
      " AND ts<$6) FROM unnest($1::int[], $2::int[], $3::bigint[], $4::bigint[]) v(k, id, lo, fr)",
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

// Totals of the whole hours [from, to) (all settled): the materialised rows, and the engine for the
// hours not materialised yet, which are then written unless an append changed the machine meanwhile.
KpiTotals PostgresEventStore::rollup_hours(std::int64_t mid, const MachineSpec& spec, TimeMs from, TimeMs to,
                                           const MachineFacts& facts, bool fill_days) {
  Connection& c = conn();
  KpiTotals t;
  Result sum = c.prepared("sum_rollups",
                          "SELECT count(*), " OEE_KPI_SUMS_OR_ZERO
                          " FROM rollups WHERE machine_id=$1 AND hour_start>=$2 AND hour_start<$3",
                          Params().add(mid).add(from).add(to));
  const std::int64_t have = sum.int_at(0, 0);
  auto fields = kpi_fields(t);
  for (std::size_t i = 0; i < kKpiFieldCount; ++i) *fields[i] = sum.int_at(0, 1 + static_cast<int>(i));
  if (have == (to - from) / kMsPerHour) {
    if (fill_days) {
      // Every hour is there but not every day row (hours written before a day could be).
      Transaction tx(c);
      c.prepared("lock_machine", "SELECT 1 FROM machines WHERE id=$1 FOR UPDATE", Params().add(mid));
      c.prepared("fill_rollup_days", OEE_PG_FILL_ROLLUP_DAYS,
                 Params().add(mid).add(floor_to(from, kMsPerDay)).add(ceil_to(to, kMsPerDay)));
      tx.commit();
    }
    return t;
  }
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
  const TimeMs end = missing.back().end;
  const std::string carry = carry_of(mid, spec, end, facts.kinds);
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
               Params().add(mid).add(end));
    // The carry and the sums of the hours of its day before it (under the machine's row lock: no
    // other writer of this machine's carry meanwhile).
    c.prepared("drop_older_carry", "DELETE FROM machine_carry WHERE machine_id=$1 AND at<$2", Params().add(mid).add(end));
    c.prepared("write_carry",
               "INSERT INTO machine_carry SELECT $1, $2, $3::bytea, count(*), " OEE_KPI_SUMS_OR_ZERO
               " FROM rollups WHERE machine_id=$1 AND hour_start>=$4 AND hour_start<$2 ON CONFLICT DO NOTHING",
               Params().add(mid).add(end).add(to_bytea_hex(carry)).add(floor_to(end, kMsPerDay)));
    c.prepared("fill_rollup_days", OEE_PG_FILL_ROLLUP_DAYS,
               Params().add(mid).add(floor_to(missing.front().start, kMsPerDay)).add(ceil_to(missing.back().end, kMsPerDay)));
  }
  tx.commit();
  return t;
}

// The whole hours [r0, r1) of [from, end) that rollups serve: hours that can no longer change
// without a late event: before the last event by more than a micro-stop threshold (an open stop may
// still turn out small) and a no-data threshold (an event after the last may end a silence that
// began before it), and, for an earlier horizon, before it by as much (docs/storage.md).
// r1 <= r0 when there are none.
std::pair<TimeMs, TimeMs> settled_hours(const MachineSpec& machine, const PostgresEventStore::MachineFacts& f, TimeMs from,
                                        TimeMs end, TimeMs horizon) {
  const TimeMs r0 = ceil_to(from, kMsPerHour);
  if (!f.max_ts) return {r0, r0};
  return {r0, std::min({floor_hour(end), floor_hour(*f.max_ts - look_ahead_ms(machine)),
                        floor_hour(horizon - look_ahead_ms(machine))})};
}

KpiTotals PostgresEventStore::machine_totals(const MachineSpec& machine, TimeMs from, TimeMs to, TimeMs horizon) {
  return guarded([&] {
    KpiTotals t;
    t.machine_count = 1;
    const TimeMs end = std::min(to, horizon);
    if (from >= end) return t;
    const std::int64_t mid = machine_id(machine.path);
    const MachineFacts f = facts(mid);
    const auto [r0, r1] = plant_.find_machine(machine.path) == &machine ? settled_hours(machine, f, from, end, horizon)
                                                                         : std::pair{from, from};
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

// A group in a few queries: the machines' rows, one sum over the rollups of every machine's settled
// hours, then the walks, context and windows of every edge at once, and the engine here.
KpiTotals PostgresEventStore::machines_totals(std::span<const MachineSpec* const> machines, TimeMs from, TimeMs to,
                                              TimeMs horizon) {
  return guarded([&] {
    KpiTotals sum;
    const TimeMs end = std::min(to, horizon);
    // A spec that is not the plant's own (other rules than its rollups) takes the one-machine path.
    std::vector<const MachineSpec*> group;
    for (const MachineSpec* m : machines) {
      if (from >= end || plant_.find_machine(m->path) != m)
        sum += machine_totals(*m, from, to, horizon);
      else
        group.push_back(m);
    }
    if (group.empty()) return sum;
    std::vector<std::int64_t> ids;
    for (const MachineSpec* m : group) ids.push_back(machine_id(m->path));
    // The machines' rows and carries together (one snapshot).
    Result rows = conn().prepared_binary(
        "machines_rows",
        "SELECT m.id, m.has_total_counter, m.max_ts, m.version, m.kinds, c.at, c.events, c.partial_hours FROM machines m"
        " LEFT JOIN machine_carry c ON c.machine_id = m.id WHERE m.id = ANY($1::int[])",
        Params().add_array(ids));
    std::unordered_map<std::int64_t, MachineFacts> facts;
    struct Carry {
      TimeMs at;
      std::string_view events;
      bool day_complete;  // its partial day's hours are all there
    };
    std::unordered_map<std::int64_t, Carry> carries;
    for (int i = 0; i < rows.rows(); ++i) {
      MachineFacts& f = facts[rows.int_at(i, 0)];
      f.has_total = rows.int_at(i, 1) != 0;
      f.max_ts = rows.is_null(i, 2) ? std::nullopt : std::optional<TimeMs>(rows.int_at(i, 2));
      f.version = rows.int_at(i, 3);
      f.kinds = rows.int_at(i, 4);
      if (!rows.is_null(i, 5)) {
        const TimeMs at = rows.int_at(i, 5);
        carries[rows.int_at(i, 0)] = {at, rows.view_at(i, 6), rows.int_at(i, 7) == (at - floor_to(at, kMsPerDay)) / kMsPerHour};
      }
    }
    std::vector<KpiTotals> totals(group.size());
    std::vector<HistoryRequest> requests;
    std::vector<std::size_t> request_machine;
    std::vector<std::int64_t> sum_idx, sum_ids, sum_r0, sum_r1, sum_d0, sum_d1, sum_partial;
    for (std::size_t k = 0; k < group.size(); ++k) {
      const MachineSpec& m = *group[k];
      const MachineFacts& f = facts[ids[k]];
      const auto [r0, r1] = settled_hours(m, f, from, end, horizon);
      auto engine = [&](TimeMs a, TimeMs b) {
        requests.push_back({ids[k], &m, a, b, f.kinds, {}});
        request_machine.push_back(k);
      };
      if (r1 <= r0) {
        engine(from, to);
        continue;
      }
      sum_idx.push_back(static_cast<std::int64_t>(k));
      sum_ids.push_back(ids[k]);
      sum_r0.push_back(r0);
      sum_r1.push_back(r1);
      // The whole days [d0, d1) of the settled hours come from rollup_days, the hours around them from rollups.
      const TimeMs d0 = ceil_to(r0, kMsPerDay), d1 = floor_to(r1, kMsPerDay);
      sum_d0.push_back(d0 < d1 ? d0 : r1);
      sum_d1.push_back(d0 < d1 ? d1 : r1);
      // A carry written where the settled hours end: the hours [d1, r1) are its day part, and the
      // open tail after r1 reads only its own events.
      const auto found = carries.find(ids[k]);
      const Carry* carry = found != carries.end() && found->second.at == r1 ? &found->second : nullptr;
      sum_partial.push_back(d0 < d1 && d1 < r1 && carry && carry->day_complete);
      if (from < r0) engine(from, r0);
      if (r1 < end) {
        engine(r1, to);
        if (carry) add_carry(requests.back(), carry->events);
      }
    }
    // The sums over the settled hours run in the second session while this one loads the open
    // edges and the engine computes them: the two halves of the work overlap.
    Connection* side = sum_idx.empty() ? nullptr : &side_conn();
    if (side) {
      // count(hour_start) counts the hours covered: 24 for a day row.
      side->send_prepared(
          "sum_group_rollups",
          // Summed per machine inside the LATERAL: no sort and regrouping of every row afterwards.
          "SELECT v.k, r.* FROM unnest($1::int[], $2::int[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::int[])"
          " v(k, id, h0, h1, d0, d1, p) CROSS JOIN LATERAL (SELECT coalesce(sum(hour_start), 0), " OEE_KPI_SUMS_OR_ZERO
          // The first condition of each part only reads v: a one-time filter that skips an empty range's index probe.
          " FROM (SELECT 24 AS hour_start, " OEE_KPI_COLUMNS " FROM rollup_days"
          " WHERE v.d0<v.d1 AND machine_id=v.id AND day_start>=v.d0 AND day_start<v.d1"
          " UNION ALL SELECT 1, " OEE_KPI_COLUMNS " FROM rollups"
          " WHERE v.h0<v.d0 AND machine_id=v.id AND hour_start>=v.h0 AND hour_start<v.d0"
          " UNION ALL SELECT 1, " OEE_KPI_COLUMNS " FROM rollups"
          " WHERE v.p=0 AND v.d1<v.h1 AND machine_id=v.id AND hour_start>=v.d1 AND hour_start<v.h1"
          " UNION ALL SELECT partial_hours, " OEE_KPI_COLUMNS " FROM machine_carry WHERE v.p<>0 AND machine_id=v.id AND at=v.h1"
          ") x) r",
          Params().add_array(sum_idx).add_array(sum_ids).add_array(sum_r0).add_array(sum_r1).add_array(sum_d0)
              .add_array(sum_d1).add_array(sum_partial),
          false);
    }
    try {
      load_histories(requests);
      for (std::size_t n = 0; n < requests.size(); ++n) {
        HistoryRequest& q = requests[n];
        add_total_marker(q.mid, facts[q.mid].has_total, q.events);
        const MachineHistory h = MachineHistory::build(*q.spec, q.events);
        totals[request_machine[n]] += oee::machine_totals(h, calendar_, q.from, q.to, horizon);
      }
      if (side) {
        Result s = side->receive("sum_group_rollups");
        side = nullptr;
        std::unordered_map<std::int64_t, int> row_of;
        for (int i = 0; i < s.rows(); ++i) row_of[s.int_at(i, 0)] = i;
        for (std::size_t n = 0; n < sum_idx.size(); ++n) {
          const std::size_t k = static_cast<std::size_t>(sum_idx[n]);
          const auto it = row_of.find(sum_idx[n]);
          if (it == row_of.end() || s.int_at(it->second, 1) != (sum_r1[n] - sum_r0[n]) / kMsPerHour) {
            // Hours not materialised yet: computed and written on the one-machine path.
            totals[k] += rollup_hours(ids[k], *group[k], sum_r0[n], sum_r1[n], facts[ids[k]], true);
            continue;
          }
          KpiTotals t;
          auto fields = kpi_fields(t);
          for (std::size_t i = 0; i < kKpiFieldCount; ++i) *fields[i] = s.int_at(it->second, 2 + static_cast<int>(i));
          totals[k] += t;
        }
      }
    } catch (...) {
      if (side) side_.reset();  // its result was never read
      throw;
    }
    for (KpiTotals& t : totals) {
      t.machine_count = 1;
      sum += t;
    }
    return sum;
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
        "SELECT id, src, events, seq_min, seq_max, last_seen, clock_offset_ms, future_events, incarnation FROM sources"
        " ORDER BY src, incarnation");
    std::unordered_map<std::int64_t, std::vector<std::pair<std::int64_t, std::int64_t>>> gaps_of;
    Result g = c.query("SELECT src_id, first, last FROM source_gaps ORDER BY src_id, first");
    for (int i = 0; i < g.rows(); ++i) gaps_of[g.int_at(i, 0)].emplace_back(g.int_at(i, 1), g.int_at(i, 2));
    std::map<std::pair<std::string, std::string>, std::int64_t> conflicts;
    Result k = c.query("SELECT src, incarnation, count(*) FROM conflicts GROUP BY 1, 2");
    for (int i = 0; i < k.rows(); ++i) conflicts[{k.text_at(i, 0), k.text_at(i, 1)}] = k.int_at(i, 2);
    for (int i = 0; i < r.rows(); ++i) {
      SourceStats s;
      s.src = r.text_at(i, 1);
      s.events = r.int_at(i, 2);
      s.seq_min = r.int_at(i, 3);
      s.seq_max = r.int_at(i, 4);
      s.last_seen = r.int_at(i, 5);
      s.clock_offset_ms = r.int_at(i, 6);
      s.future_events = r.int_at(i, 7);
      s.incarnation = r.text_at(i, 8);
      if (auto it = conflicts.find({s.src, s.incarnation}); it != conflicts.end()) s.conflicts = it->second;
      const auto it = gaps_of.find(r.int_at(i, 0));
      if (it != gaps_of.end()) s.gaps = std::move(it->second);
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

void PostgresEventStore::add_conflicts(std::span<const Conflict> list) {
  if (list.empty()) return;
  guarded([&] {
    Connection& c = conn();
    Transaction tx(c);
    for (const Conflict& k : list)
      c.query("INSERT INTO conflicts(received, src, incarnation, seq, machine, stored, version, fingerprint)"
              " VALUES($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
              Params().add(k.received).add(k.src).add(k.incarnation).add(k.seq).add(k.machine)
                  .add(bounded(k.stored_json, kMaxDeadLetterPayloadBytes)).add(bounded(k.received_json, kMaxDeadLetterPayloadBytes))
                  .add(k.fingerprint));
    tx.commit();
    return 0;
  });
}

std::vector<Conflict> PostgresEventStore::conflicts(std::int64_t before_id, std::size_t limit) {
  return guarded([&] {
    Result r = conn().query(
        "SELECT id, received, src, incarnation, seq, machine, stored, version FROM conflicts WHERE id<$1"
        " ORDER BY id DESC LIMIT $2",
        Params().add(before_id > 0 ? before_id : INT64_MAX).add(static_cast<std::int64_t>(std::min<std::size_t>(limit, 10000))));
    std::vector<Conflict> out;
    for (int i = 0; i < r.rows(); ++i)
      out.push_back({r.int_at(i, 0), r.int_at(i, 1), r.text_at(i, 2), r.text_at(i, 3), r.int_at(i, 4), r.text_at(i, 5),
                     r.text_at(i, 6), r.text_at(i, 7)});
    return out;
  });
}

std::int64_t PostgresEventStore::conflict_count() {
  return guarded([&] { return conn().query("SELECT count(*) FROM conflicts").int_at(0, 0); });
}

std::int64_t PostgresEventStore::add_stop_comment(const StopComment& c) {
  return guarded([&] {
    const auto params = Params().add(c.machine).add(c.stop_start).add(c.created).add(c.author).add(c.text);
    // Another server may add the same comment at once: the unique key keeps one, both get its id.
    conn().query("INSERT INTO stop_comments(machine, stop_start, created, author, text) VALUES($1, $2, $3, $4, $5)"
                 " ON CONFLICT DO NOTHING", params);
    return conn()
        .query("SELECT id FROM stop_comments WHERE machine=$1 AND stop_start=$2 AND created=$3 AND author=$4"
               " AND md5(text)=md5($5) AND text=$5", params)
        .int_at(0, 0);
  });
}

std::vector<StopComment> PostgresEventStore::stop_comments(std::string_view machine, TimeMs from, TimeMs to) {
  return guarded([&] {
    Result r = conn().query("SELECT id, machine, stop_start, created, author, text FROM stop_comments"
                            " WHERE machine=$1 AND stop_start>=$2 AND stop_start<$3 ORDER BY id",
                            Params().add(machine).add(from).add(to));
    std::vector<StopComment> out;
    for (int i = 0; i < r.rows(); ++i)
      out.push_back({r.int_at(i, 0), r.text_at(i, 1), r.int_at(i, 2), r.int_at(i, 3), r.text_at(i, 4), r.text_at(i, 5)});
    return out;
  });
}

// The day partitions wholly before `cut` (listed under the retention lock).
std::vector<std::string> PostgresEventStore::partitions_before(Connection& c, TimeMs cut) {
  Result parts = c.query(
      "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'events'::regclass");
  std::vector<std::string> drop;
  for (int i = 0; i < parts.rows(); ++i) {
    const std::string name = parts.text_at(i, 0);
    const auto day = parse_civil_date(std::string_view(name).substr(7));
    if (day && (*day + 1) * kPartitionMs <= cut) drop.push_back(name);
  }
  return drop;
}

// Each machine's context at the cut (what windows after it still need) goes to context_events.
void PostgresEventStore::keep_context_at(Connection& c, TimeMs cut) {
  Result ms = c.query("SELECT id, path, has_total_counter, kinds FROM machines ORDER BY id FOR UPDATE");
  c.exec("DELETE FROM machine_carry");  // recomputed from what is kept by the next rollups written
  for (int i = 0; i < ms.rows(); ++i) {
    const std::int64_t mid = ms.int_at(i, 0);
    const MachineSpec* spec = plant_.find_machine(ms.text_at(i, 1));
    if (!spec) continue;
    std::vector<Event> ctx;
    load_history_events(mid, *spec, cut, cut, ms.int_at(i, 3), ctx);
    // With no-data detection the last sign of life before the cut too (load_histories gives it;
    // as a heartbeat when it is an event not kept otherwise).
    TimeMs sign = kTimeMin;
    for (const Event& e : ctx)
      if (e.ts < cut && spec->no_data_after_ms > 0) sign = std::max(sign, e.ts);
    auto kept = [&](const Event& e) {
      return e.ts < cut && (e.type == EventType::state || e.type == EventType::product || e.type == EventType::counter ||
                            (e.type == EventType::heartbeat && e.ts == sign));
    };
    if (sign != kTimeMin &&
        std::none_of(ctx.begin(), ctx.end(), [&](const Event& e) { return e.ts == sign && kept(e); }))
      ctx.push_back(heartbeat_at(spec->path, sign));
    std::string rows;
    for (const Event& e : ctx) {
      if (!kept(e)) continue;
      const std::int64_t sid = e.src.empty() ? 0 : source_id(e.src, e.inc);
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
}

// Drops the partitions and their events' counts; returns the events dropped.
std::int64_t PostgresEventStore::drop_partitions(Connection& c, const std::vector<std::string>& drop) {
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
  return deleted;
}

// Drops every day partition wholly older than the retention, with the rollups, day rollups and
// carries of those days, and the dead letters received before the cut. Before that, each machine's
// context at the cut is kept. The rollups of the kept events (the rest of the cut's day) stay, so
// KPIs over them still come from rollups.
RetentionResult PostgresEventStore::apply_retention(TimeMs now) {
  if (options_.retention_days <= 0) return {};
  return guarded([&] {
    const TimeMs cutoff = now - options_.retention_days * kMsPerDay;
    const TimeMs cut = floor_to(cutoff, kPartitionMs);
    Connection& c = conn();
    Transaction tx(c);
    // Listed under the lock: another server applying retention at the same time waits, then finds
    // the partitions gone.
    c.exec("SELECT pg_advisory_xact_lock(7302650002)");
    RetentionResult out;
    if (const std::vector<std::string> drop = partitions_before(c, cut); !drop.empty()) {
      keep_context_at(c, cut);
      out.events = drop_partitions(c, drop);
      c.query("DELETE FROM rollups WHERE hour_start < $1", Params().add(cut));
      c.query("DELETE FROM rollup_days WHERE day_start < $1", Params().add(cut));
    }
    // From now on nothing older than the cut may change what it kept (dead_letter_refused).
    c.query("INSERT INTO retention_cut(cut) VALUES($1) ON CONFLICT (one) DO UPDATE SET cut = GREATEST(retention_cut.cut, $1)",
            Params().add(cut));
    out.dead_letters =
        c.query("WITH d AS (DELETE FROM dead_letters WHERE received < $1 RETURNING 1) SELECT count(*) FROM d",
                Params().add(cutoff))
            .int_at(0, 0);
    tx.commit();
    return out;
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
