// The embedded event store on SQLite (WAL). docs/storage.md explains the schema, the durability
// guarantee and the rollup algorithm; the comments here say why each step is there.
#include <algorithm>
#include <array>
#include <map>
#include <memory>
#include <optional>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <tuple>
#include <unordered_map>

#include "oee/codec/event_json.h"
#include "oee/storage/event_store.h"
#include "event_block_codec.h"
#include "kpi_columns.h"
#include "rollup_rules.h"
#include "signs_of_life.h"
#include "source_identity.h"
#include "sqlite_db.h"
#include "sqlite_schema.h"
#include "store_helpers.h"

namespace oee::storage {

namespace {

using sqlite::Database;
using sqlite::Statement;
using sqlite::Transaction;

constexpr TimeMs kNoBase = kTimeMin;  // machine without events: nothing settled yet

KpiTotals totals_from(const Statement& s, int first_column) {
  KpiTotals t;
  int c = first_column;
  for (std::int64_t* f : kpi_fields(t)) *f = s.int_at(c++);
  return t;
}

// Whether two specs of a machine give the same history and totals (the rollups were made with one).
bool same_rules(const MachineSpec& a, const MachineSpec& b) {
  return &a == &b || (a.path == b.path && a.ideal_cycle_us == b.ideal_cycle_us && a.product_cycle_us == b.product_cycle_us &&
                      a.micro_stop_threshold_ms == b.micro_stop_threshold_ms &&
                      a.startup_window_ms == b.startup_window_ms && a.no_data_after_ms == b.no_data_after_ms &&
                      a.state_map == b.state_map);
}

struct MachineState {
  std::int64_t id = 0;
  std::string path;
  const MachineSpec* spec = nullptr;  // nullptr: not in the plant; stored, but no rollups
  TimeMs base = kNoBase;              // rollups are authoritative for every hour before it
  bool has_total_counter = false;     // the engine's has_total_counter is a property of the whole set
  bool row_dirty = false;
  // events = context (ctx_count synthetic/real events before base that reproduce the engine's state
  // at base) followed by every stored event with ts >= base (the tail, in arrival order).
  std::vector<Event> events;
  std::size_t ctx_count = 0;
  // The canonical-last event and the last state interval, tracked as events arrive in order.
  bool any = false;
  TimeMs max_ts = kTimeMin;
  bool has_state = false;
  State last_state = State::unknown;
  TimeMs last_state_start = kTimeMin;
  std::optional<MachineHistory> history;  // of `events`, built on demand
  std::string context_at_base;            // encoded product/counter context at base (contexts table)
  std::vector<Event> pending;             // inserted by the append in progress
  std::vector<std::int64_t> pending_src;  // their source ids (0: none)
  // Cumulative rollups: the value of the row at base - 1 h (zero when there is none), and the hour
  // whose value is the zero point (rows after it and before base exist).
  KpiTotals cumulative;
  TimeMs zero_hour = kNoBase;
  TimeMs last_hour = kTimeMin;  // the latest hour holding an event block of the machine
  KpiTotals zero;  // the cumulative value at zero_hour (rollup_zero; zero until a retention)
  bool header_only = false;  // a read's copy (ReadScope): no tail, reads go to the database
};

// What a read needs of a machine, copied while no append is in flight (the tail stays behind).
MachineState header_of(const MachineState& m) {
  MachineState h;
  h.id = m.id;
  h.path = m.path;
  h.spec = m.spec;
  h.base = m.base;
  h.has_total_counter = m.has_total_counter;
  h.zero_hour = m.zero_hour;
  h.last_hour = m.last_hour;
  h.zero = m.zero;
  h.header_only = true;
  return h;
}

// The statements of the read paths, prepared on one connection: the writer's (an append reloads
// and recomputes through them) or a read connection's.
struct ReadStatements {
  Statement select_blocks, select_blocks_range, select_context, select_changes_desc, select_rollup, select_rollups_of_hour,
      select_blocks_of_hour;
  explicit ReadStatements(Database& db);
  void reset_all() {
    for (Statement* s : {&select_blocks, &select_blocks_range, &select_context, &select_changes_desc, &select_rollup,
                         &select_rollups_of_hour, &select_blocks_of_hour})
      s->reset();
  }
};

// A read-only connection of the pool: a WAL reader, so the writer never waits for it.
struct ReadConnection {
  Database db;
  ReadStatements q;
  explicit ReadConnection(const std::string& path) : db(path, true), q(db) {
    db.exec("PRAGMA cache_size=-16384");
    db.exec("PRAGMA mmap_size=2147418112");
  }
};

using SourceNames = std::unordered_map<std::int64_t, SourceName>;

struct SourceState {
  std::int64_t id = 0;
  SourceStats stats;
  std::map<std::int64_t, std::int64_t> gaps;  // first -> last
  bool dirty = false;
  std::vector<std::int64_t> batch_offsets;
};

constexpr const char* kInsertDeadLetter = "INSERT INTO dead_letters(received, topic, payload, reason) VALUES(?1,?2,?3,?4)";

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

class SqliteEventStore final : public EventStore {
 public:
  SqliteEventStore(const std::string& path, const PlantModel& plant, const ShiftCalendar& calendar,
                   const StoreOptions& options)
      : path_(path), plant_(plant), calendar_(calendar), options_(options), db_(path) {
    // WAL + synchronous=FULL: a commit returns after the WAL is fsynced, so an append that returned
    // survives a process kill and a power loss. Bigger pages and cache suit the append-heavy load.
    db_.exec("PRAGMA page_size=8192");
    db_.exec("PRAGMA journal_mode=WAL");
    db_.exec("PRAGMA synchronous=FULL");
    db_.exec("PRAGMA cache_size=-131072");
    db_.exec("PRAGMA temp_store=MEMORY");
    db_.exec("PRAGMA mmap_size=2147418112");  // SQLite's default ceiling: reads without pread copies
    db_.exec("PRAGMA wal_autocheckpoint=16384");
    sqlite::migrate(db_);
    prepare();
    load_state();
    // Reads build synthetic state events too: the token cache is filled here, so that they only
    // ever look it up.
    for (const MachineSpec* spec : plant_.machines()) state_token(*spec, State::unknown);
  }

  AppendResult append(std::span<const Event> events, TimeMs received_at) override;
  std::vector<Event> machine_events(std::string_view machine, TimeMs from, TimeMs to) override;
  MachineHistory machine_history(const MachineSpec& machine, TimeMs from, TimeMs to) override;
  KpiTotals machine_totals(const MachineSpec& machine, TimeMs from, TimeMs to, TimeMs horizon) override;
  KpiTotals machines_totals(std::span<const MachineSpec* const> machines, TimeMs from, TimeMs to,
                            TimeMs horizon) override;
  std::int64_t event_count() override { return event_count_.load(); }
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
  std::string describe() const override { return "sqlite:" + path_; }
  bool reads_beside_writes() const override { return true; }
  std::unique_ptr<PinnedReads> pin_reads() override;

 private:
  void prepare();
  void load_state();
  void check_rules();
  MachineState& machine_for(std::string_view path);
  SourceState& source_for(std::string_view src, std::string_view inc);
  // The source of a stored event's source id (nullptr: none), as the read in progress sees it.
  const SourceName* source_of(std::int64_t id) const;
  void note_source(SourceState& s, const Event& e, TimeMs received_at);
  static bool stored_seq(const SourceState& s, std::int64_t seq);
  void load_retention_cut();
  void refuse_before_cut(const Event& e, const SourceState* src, TimeMs received_at, AppendResult& result);
  void persist_sources();
  void decode_block(std::string_view data, const MachineState& m, TimeMs from, TimeMs to, std::vector<Event>& out) const;
  void write_blocks(MachineState& m);
  std::string stored_context(const MachineState& m, TimeMs hour);
  void load_events(MachineState& m, TimeMs from, TimeMs to, std::vector<Event>& out);
  // with_head: also load the product and counter events of t's hour before t (callers that load
  // that range anyway take them from there).
  void load_context(MachineState& m, TimeMs t, std::vector<Event>& out, bool with_head = true);
  TimeMs sign_before(MachineState& m, TimeMs t, DurationMs no_data_after_ms);
  void load_tail(MachineState& m, TimeMs from);
  void add_total_marker(const MachineState& m, std::vector<Event>& events) const;

  void ingest_pending(MachineState& m);
  TimeMs late_start(MachineState& m, TimeMs ts);
  void recompute_from(MachineState& m, TimeMs from);
  void rebuild_tracking(MachineState& m);
  void track(MachineState& m, const Event& e);
  TimeMs settled_point(const MachineState& m) const;
  void settle(MachineState& m);
  const MachineHistory& tail_history(MachineState& m);
  void write_machine_row(MachineState& m);
  KpiTotals cumulative_at(const MachineState& m, TimeMs hour);
  KpiTotals rollup_sum(MachineState& m, TimeMs from, TimeMs to);
  // range: the machine's events from start's hour up to `to` plus its micro-stop threshold, when
  // the caller read them already (a group's edges read the blocks of an hour for all machines).
  MachineHistory history_from_db(MachineState& m, const MachineSpec& spec, TimeMs from, TimeMs to,
                                 std::vector<Event>* range = nullptr);
  struct EngineEdge {
    MachineState* machine;
    const MachineSpec* spec;
    TimeMs from, to;
  };
  void add_engine_edges(std::span<const EngineEdge> edges, TimeMs horizon, KpiTotals& sum);
  void add_cumulative_rows(TimeMs hour, std::span<const std::pair<MachineState*, int>> wanted, KpiTotals& sum);
  KpiTotals engine_part(MachineState& m, const MachineSpec& spec, TimeMs from, TimeMs to, TimeMs horizon);
  const std::string& state_token(const MachineSpec& spec, State s);

  std::string path_;
  const PlantModel& plant_;
  const ShiftCalendar& calendar_;
  StoreOptions options_;
  Database db_;
  std::unordered_map<std::string, std::unique_ptr<MachineState>, StringHash, std::equal_to<>> machines_;
  std::unordered_map<std::int64_t, MachineState*> machines_by_id_;
  std::unordered_map<std::string, std::unique_ptr<SourceState>, StringHash, std::equal_to<>> sources_;
  std::unordered_map<std::int64_t, SourceState*> sources_by_id_;
  std::string key_scratch_;  // source_for's lookup key, its capacity kept (a lookup per appended event)
  std::unordered_map<const MachineSpec*, std::array<std::string, kStateCount>> tokens_;
  std::atomic<std::int64_t> event_count_ = 0;
  struct GapOp {
    std::int64_t src_id, first, last;
    bool insert;
  };
  std::vector<GapOp> gap_ops_;

  std::int64_t next_block_ = 1;
  // The cut of the last retention run (meta retention_cut): events before it are refused.
  TimeMs retention_cut_ = kTimeMin;

  // Reads run on a pool of read-only connections, each query in its own WAL snapshot, so that an
  // append never waits for a query (docs/storage.md). An append holds state_mutex_ from its first
  // change of the in-memory state to its commit; a read takes it only to copy what it needs of
  // that state (ReadScope) and to start its snapshot, so both are of the same commit.
  class ReadScope;
  struct Pinned;
  std::mutex state_mutex_;
  std::unique_ptr<ReadStatements> writer_reads_;
  std::shared_ptr<const SourceNames> source_names_;  // copied on write: a read keeps the one it took
  std::mutex pool_mutex_;
  std::condition_variable pool_free_;
  std::vector<std::unique_ptr<ReadConnection>> idle_readers_;
  std::size_t readers_open_ = 0;
  // One fewer than the cores (2 to 8): a query holds its connection while the engine runs, so the
  // queries leave the writer a core; two at least, so that a pinned read never stops all others.
  const std::size_t read_connections_max_ =
      std::clamp<std::size_t>(std::thread::hardware_concurrency(), 3, 9) - 1;
  std::unique_ptr<ReadConnection> acquire_reader();
  void release_reader(std::unique_ptr<ReadConnection> c);
  ReadStatements& q();
  std::size_t machine_count() const;
  void publish_source_names();
  static constexpr std::size_t kIdChunk = 100;
  // machines_totals reads a group's rows of an hour in one range from this many machines on, and
  // the edges' events by hour while they span at most this many hours.
  static constexpr std::size_t kGroupScanMin = 8;
  static constexpr TimeMs kGroupScanHoursMax = 3;
  Statement insert_ids_chunk_;
  Statement insert_id_, insert_block_, insert_context_, delete_contexts_after_,
      select_change_at_or_before_, insert_change_, delete_changes_from_, upsert_rollup_, delete_rollups_from_,
      delete_zero_, update_machine_, insert_machine_, upsert_source_,
      insert_source_, delete_gap_, insert_gap_, set_meta_, insert_dead_letter_;
};

// One read: a connection of the pool in a snapshot, with copies of the machines it asked for and
// the source names of that snapshot. The store's read helpers find them through q(). A read inside
// a read (machines_totals calling machine_totals) runs in the outer one.
class SqliteEventStore::ReadScope {
 public:
  // `every_machine`: copies all machines, not only those of `paths` (a pinned snapshot).
  ReadScope(SqliteEventStore& store, std::span<const std::string_view> paths, bool every_machine = false)
      : store_(store), outer_(current) {
    if (ReadScope::of(store)) return;
    connection_ = store.acquire_reader();
    try {
      std::lock_guard lock(store.state_mutex_);
      for (std::string_view path : paths) {
        auto it = store.machines_.find(path);
        if (it != store.machines_.end()) machines_.emplace(it->second->path, header_of(*it->second));
      }
      if (every_machine)
        for (const auto& [path, m] : store.machines_) machines_.emplace(path, header_of(*m));
      names_ = store.source_names_;
      machine_count_ = store.machines_.size();
      // The snapshot starts at the first read, here, so that it is of the commit the copies are of.
      connection_->db.exec("BEGIN");
      connection_->db.exec("SELECT 1 FROM machines LIMIT 1");
    } catch (...) {
      connection_.reset();  // closed, its place in the pool freed
      store.release_reader(nullptr);
      throw;
    }
    current = this;
  }
  ~ReadScope() {
    if (!connection_) return;
    current = outer_;
    connection_->q.reset_all();  // a read that threw may have left a statement running
    if (sqlite3_exec(connection_->db.handle(), "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) connection_.reset();
    store_.release_reader(std::move(connection_));
  }
  ReadScope(const ReadScope&) = delete;
  ReadScope& operator=(const ReadScope&) = delete;

  // The scope this thread reads in for `store`, or nullptr (the writer's own reads).
  static ReadScope* of(const SqliteEventStore& store) {
    ReadScope* s = current;
    while (s && (&s->store_ != &store || !s->connection_)) s = s->outer_;
    return s;
  }
  MachineState* find(std::string_view path) {
    auto it = machines_.find(path);
    return it == machines_.end() ? nullptr : &it->second;
  }
  ReadStatements& statements() { return connection_->q; }
  Database& db() { return connection_->db; }
  const SourceNames& names() const { return *names_; }
  std::size_t machine_count() const { return machine_count_; }

 private:
  static thread_local ReadScope* current;
  SqliteEventStore& store_;
  ReadScope* outer_;
  std::unique_ptr<ReadConnection> connection_;
  std::unordered_map<std::string, MachineState, StringHash, std::equal_to<>> machines_;
  std::shared_ptr<const SourceNames> names_;
  std::size_t machine_count_ = 0;
};

thread_local SqliteEventStore::ReadScope* SqliteEventStore::ReadScope::current = nullptr;

struct SqliteEventStore::Pinned final : PinnedReads {
  explicit Pinned(SqliteEventStore& store) : scope(store, {}, true) {}
  ReadScope scope;
};

std::unique_ptr<EventStore::PinnedReads> SqliteEventStore::pin_reads() { return std::make_unique<Pinned>(*this); }

std::unique_ptr<ReadConnection> SqliteEventStore::acquire_reader() {
  std::unique_lock lock(pool_mutex_);
  pool_free_.wait(lock, [this] { return !idle_readers_.empty() || readers_open_ < read_connections_max_; });
  if (!idle_readers_.empty()) {
    auto c = std::move(idle_readers_.back());
    idle_readers_.pop_back();
    return c;
  }
  ++readers_open_;
  lock.unlock();
  try {
    return std::make_unique<ReadConnection>(path_);
  } catch (...) {
    release_reader(nullptr);
    throw;
  }
}

// A null connection (broken, or never opened) frees its place in the pool.
void SqliteEventStore::release_reader(std::unique_ptr<ReadConnection> c) {
  {
    std::lock_guard lock(pool_mutex_);
    if (c) {
      idle_readers_.push_back(std::move(c));
    } else {
      --readers_open_;
    }
  }
  pool_free_.notify_one();
}

ReadStatements& SqliteEventStore::q() {
  ReadScope* scope = ReadScope::of(*this);
  return scope ? scope->statements() : *writer_reads_;
}

std::size_t SqliteEventStore::machine_count() const {
  const ReadScope* scope = ReadScope::of(*this);
  return scope ? scope->machine_count() : machines_.size();
}

void SqliteEventStore::publish_source_names() {
  auto names = std::make_shared<SourceNames>();
  for (const auto& [id, source] : sources_by_id_) names->emplace(id, SourceName{source->stats.src, source->stats.incarnation});
  source_names_ = std::move(names);
}

ReadStatements::ReadStatements(Database& db) {
  // INDEXED BY: without statistics SQLite would take the primary key on hour_start and read every
  // machine's blocks of that hour.
  select_blocks =
      Statement(db, "SELECT data FROM event_blocks INDEXED BY event_blocks_by_machine WHERE hour_start=?2 AND machine_id=?1");
  select_blocks_range = Statement(db, "SELECT data FROM event_blocks WHERE machine_id=?1 AND hour_start>=?2 AND hour_start<?3");
  select_context =
      Statement(db, "SELECT data FROM contexts WHERE machine_id=?1 AND hour_start<=?2 ORDER BY hour_start DESC LIMIT 1");
  select_changes_desc =
      Statement(db, "SELECT ts, state FROM state_changes WHERE machine_id=?1 AND ts<?2 ORDER BY ts DESC, ord DESC");
  select_rollup = Statement(db, "SELECT " OEE_KPI_COLUMNS " FROM rollups WHERE machine_id=?1 AND hour_start=?2");
  select_rollups_of_hour = Statement(db, "SELECT machine_id, " OEE_KPI_COLUMNS
                                         " FROM rollups INDEXED BY rollups_by_hour WHERE hour_start=?1 AND"
                                         " machine_id BETWEEN ?2 AND ?3");
  select_blocks_of_hour = Statement(db, "SELECT machine_id, data FROM event_blocks WHERE hour_start=?1");
}

void SqliteEventStore::prepare() {
  insert_id_ = Statement(db_, "INSERT OR IGNORE INTO event_ids(id_src, id_key, hour_start) VALUES(?1,?2,?3)");
  std::string chunk = "INSERT OR IGNORE INTO event_ids(id_src, id_key, hour_start) VALUES";
  for (std::size_t i = 0; i < kIdChunk; ++i) chunk += i ? ",(?,?,?)" : "(?,?,?)";
  insert_ids_chunk_ = Statement(db_, chunk + " RETURNING id_src, id_key");
  insert_block_ = Statement(db_, "INSERT INTO event_blocks(machine_id, hour_start, block, events, data) VALUES(?1,?2,?3,?4,?5)");
  writer_reads_ = std::make_unique<ReadStatements>(db_);
  insert_context_ = Statement(db_, "INSERT OR REPLACE INTO contexts(machine_id, hour_start, data) VALUES(?1,?2,?3)");
  delete_contexts_after_ = Statement(db_, "DELETE FROM contexts WHERE machine_id=?1 AND hour_start>?2");
  select_change_at_or_before_ =
      Statement(db_, "SELECT max(ts) FROM state_changes WHERE machine_id=?1 AND ts<=?2");
  insert_change_ = Statement(db_, "INSERT OR REPLACE INTO state_changes(machine_id, ts, ord, state) VALUES(?1,?2,?3,?4)");
  delete_changes_from_ = Statement(db_, "DELETE FROM state_changes WHERE machine_id=?1 AND ts>=?2");
  upsert_rollup_ = Statement(db_,
                             "INSERT OR REPLACE INTO rollups VALUES(?1,?2," OEE_KPI_PARAMS ")");
  delete_rollups_from_ = Statement(db_, "DELETE FROM rollups WHERE machine_id=?1 AND hour_start>=?2");
  delete_zero_ = Statement(db_, "DELETE FROM rollup_zero WHERE machine_id=?1");
  update_machine_ = Statement(
      db_, "UPDATE machines SET settled_hour=?2, has_total_counter=?3, rollup_zero_hour=?4, last_hour=?5 WHERE id=?1");
  insert_machine_ = Statement(db_, "INSERT INTO machines(path, settled_hour) VALUES(?1, ?2)");
  insert_source_ = Statement(db_, "INSERT INTO sources(src, incarnation) VALUES(?1, ?2)");
  upsert_source_ = Statement(db_,
                             "UPDATE sources SET events=?2, seq_min=?3, seq_max=?4, last_seen=?5, clock_offset_ms=?6,"
                             " future_events=?7 WHERE id=?1");
  delete_gap_ = Statement(db_, "DELETE FROM source_gaps WHERE src_id=?1 AND first=?2");
  insert_gap_ = Statement(db_, "INSERT OR REPLACE INTO source_gaps(src_id, first, last) VALUES(?1,?2,?3)");
  set_meta_ = Statement(db_, "INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)");
  insert_dead_letter_ = Statement(db_, kInsertDeadLetter);
}

const std::string& SqliteEventStore::state_token(const MachineSpec& spec, State s) {
  auto it = tokens_.find(&spec);
  if (it == tokens_.end()) {
    // A synthetic state event must resolve to its state through this machine's map; a map may
    // shadow a canonical name, then any raw value that maps to the state serves.
    std::array<std::string, kStateCount> t;
    for (int i = 0; i < kStateCount; ++i) {
      const State st = static_cast<State>(i);
      if (spec.resolve_state(state_name(st)) == st) {
        t[static_cast<std::size_t>(i)] = std::string(state_name(st));
        continue;
      }
      for (const auto& [raw, mapped] : spec.state_map)
        if (mapped == st && spec.resolve_state(raw) == st) {
          t[static_cast<std::size_t>(i)] = raw;
          break;
        }
    }
    it = tokens_.emplace(&spec, std::move(t)).first;
  }
  return it->second[static_cast<std::size_t>(s)];
}

void SqliteEventStore::load_state() {
  machines_.clear();
  machines_by_id_.clear();
  sources_.clear();
  sources_by_id_.clear();
  {
  Transaction tx(db_);
    for (const MachineSpec* spec : plant_.machines()) {
      Statement exists(db_, "SELECT count(*) FROM machines WHERE path=?1");
      exists.bind(1, spec->path);
      exists.step();
      if (exists.int_at(0) == 0) insert_machine_.bind(1, spec->path).bind(2, kNoBase).run();
    }
    tx.commit();
  }
  Statement rows(db_, "SELECT id, path, settled_hour, has_total_counter, rollup_zero_hour, last_hour FROM machines");
  while (rows.step()) {
    auto m = std::make_unique<MachineState>();
    m->id = rows.int_at(0);
    m->path = rows.text_at(1);
    m->base = rows.int_at(2);
    m->has_total_counter = rows.int_at(3) != 0;
    m->zero_hour = rows.int_at(4);
    m->last_hour = rows.int_at(5);
    Statement zero(db_, "SELECT " OEE_KPI_COLUMNS " FROM rollup_zero WHERE machine_id=?1");
    zero.bind(1, m->id);
    if (zero.step()) m->zero = totals_from(zero, 0);
    m->spec = plant_.find_machine(m->path);
    machines_by_id_[m->id] = m.get();
    machines_.emplace(m->path, std::move(m));
  }
  Statement srcs(db_,
                 "SELECT id, src, events, seq_min, seq_max, last_seen, clock_offset_ms, future_events, incarnation FROM sources");
  while (srcs.step()) {
    auto s = std::make_unique<SourceState>();
    s->id = srcs.int_at(0);
    s->stats.src = srcs.text_at(1);
    s->stats.events = srcs.int_at(2);
    s->stats.seq_min = srcs.int_at(3);
    s->stats.seq_max = srcs.int_at(4);
    s->stats.last_seen = srcs.int_at(5);
    s->stats.clock_offset_ms = srcs.int_at(6);
    s->stats.future_events = srcs.int_at(7);
    s->stats.incarnation = srcs.text_at(8);
    sources_by_id_[s->id] = s.get();
    sources_.emplace(source_key(s->stats.src, s->stats.incarnation), std::move(s));
  }
  Statement gaps(db_, "SELECT src_id, first, last FROM source_gaps");
  while (gaps.step()) {
    auto it = sources_by_id_.find(gaps.int_at(0));
    if (it != sources_by_id_.end()) it->second->gaps[gaps.int_at(1)] = gaps.int_at(2);
  }
  Statement count(db_, "SELECT value FROM meta WHERE key='event_count'");
  if (count.step()) {
    event_count_ = count.int_at(0);
  } else {
    Statement all(db_, "SELECT coalesce(sum(events), 0) FROM event_blocks");
    all.step();
    event_count_ = all.int_at(0);
  }
  publish_source_names();
  Statement block(db_, "SELECT value FROM meta WHERE key='next_block'");
  next_block_ = block.step() ? block.int_at(0) : 1;
  load_retention_cut();
  // The in-memory tail of each machine: the context at its settled hour and the events since.
  for (auto& [path, m] : machines_) {
    if (!m->spec || m->base == kNoBase) continue;
    m->context_at_base = stored_context(*m, m->base);
    m->cumulative = cumulative_at(*m, m->base - kMsPerHour);
    load_tail(*m, m->base);
    rebuild_tracking(*m);
  }
  check_rules();
}

// Rollups made with other rules than the plant's (a plant file changed since the last run) are
// recomputed from the machine's zero point. A file from before the rules were kept has those of its
// machines with no-data detection recomputed: they were made without the signs of life before
// each tail (and did not serve queries then).
// One transaction per machine: its rollups and rules change together, and the WAL stays small.
void SqliteEventStore::check_rules() {
  Statement get(db_, "SELECT value FROM meta WHERE key=?1");
  const std::string calendar = calendar_rules(plant_, calendar_.zone());
  for (auto& [path, m] : machines_) {
    if (!m->spec) continue;
    const std::string key = "rules:" + std::to_string(m->id);
    const std::string rules = rollup_rules(*m->spec, calendar);
    get.bind(1, key);
    const bool known = get.step();
    const std::string stored = known ? get.text_at(0) : std::string();
    get.reset();
    if (known && stored == rules) continue;
    Transaction tx(db_);
    if (m->base != kNoBase && (known || m->spec->no_data_after_ms > 0)) {
      recompute_from(*m, m->zero_hour + kMsPerHour);
      settle(*m);
      write_machine_row(*m);
    }
    set_meta_.bind(1, key).bind(2, rules).run();
    tx.commit();
  }
}

MachineState& SqliteEventStore::machine_for(std::string_view path) {
  auto it = machines_.find(path);
  if (it != machines_.end()) return *it->second;
  // A machine the plant does not know (the caller validates; tolerated): stored, no rollups.
  insert_machine_.bind(1, path).bind(2, kNoBase).run();
  auto m = std::make_unique<MachineState>();
  m->id = sqlite3_last_insert_rowid(db_.handle());
  m->path = std::string(path);
  m->spec = plant_.find_machine(path);
  machines_by_id_[m->id] = m.get();
  return *machines_.emplace(m->path, std::move(m)).first->second;
}

SourceState& SqliteEventStore::source_for(std::string_view src, std::string_view inc) {
  source_key(src, inc, key_scratch_);
  auto it = sources_.find(key_scratch_);
  if (it != sources_.end()) return *it->second;
  insert_source_.bind(1, src).bind(2, inc).run();
  auto s = std::make_unique<SourceState>();
  s->id = sqlite3_last_insert_rowid(db_.handle());
  s->stats.src = std::string(src);
  s->stats.incarnation = std::string(inc);
  sources_by_id_[s->id] = s.get();
  SourceState& added = *sources_.emplace(key_scratch_, std::move(s)).first->second;
  publish_source_names();  // new sources are rare: a copy of the names each time is cheap
  return added;
}

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

// The new events of a machine as one block per hour they fall in.
void SqliteEventStore::write_blocks(MachineState& m) {
  std::map<TimeMs, std::pair<BlockWriter, std::int64_t>> blocks;
  for (std::size_t i = 0; i < m.pending.size(); ++i) {
    auto& [w, n] = blocks[floor_hour(m.pending[i].ts)];
    w.event(m.pending[i], m.pending_src[i]);
    ++n;
  }
  m.pending_src.clear();
  if (!blocks.empty() && blocks.rbegin()->first > m.last_hour) {
    m.last_hour = blocks.rbegin()->first;
    m.row_dirty = true;
  }
  for (const auto& [hour, block] : blocks)
    insert_block_.bind(1, m.id).bind(2, hour).bind(3, next_block_++).bind(4, block.second).bind_blob(5, block.first.bytes()).run();
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

// The tail from `from` (an hour start): the context at it, for no-data detection the last sign of
// life before it (where a silence running into the tail starts), then every event since.
void SqliteEventStore::load_tail(MachineState& m, TimeMs from) {
  m.events.clear();
  load_context(m, from, m.events);
  if (const DurationMs nd = m.spec->no_data_after_ms; nd > 0) m.events.push_back(heartbeat_at(m.path, sign_before(m, from, nd)));
  m.ctx_count = m.events.size();
  load_events(m, from, kTimeMax, m.events);
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

const MachineHistory& SqliteEventStore::tail_history(MachineState& m) {
  if (!m.history) {
    const std::size_t n = m.events.size();
    add_total_marker(m, m.events);
    m.history = MachineHistory::build(*m.spec, m.events);
    m.events.resize(n);
  }
  return *m.history;
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
  m.any = m.events.size() > m.ctx_count;
  m.max_ts = kTimeMin;
  for (std::size_t i = m.ctx_count; i < m.events.size(); ++i) m.max_ts = std::max(m.max_ts, m.events[i].ts);
  const MachineHistory& h = tail_history(m);
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

void SqliteEventStore::ingest_pending(MachineState& m) {
  std::vector<Event> pending = std::move(m.pending);
  m.pending.clear();
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
  }
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
  if (first_ts < m.base) recompute = std::min(recompute, late_start(m, first_ts));
  // A new sign of life splits the silence around it: the part before it stops being no data only
  // when it is now at most a threshold long, so hours from a threshold before it on may change.
  if (const DurationMs nd = m.spec->no_data_after_ms; had_base && nd > 0 && first_ts - nd < m.base)
    recompute = std::min(recompute, floor_hour(first_ts - nd));
  bool in_order = true;
  TimeMs previous_state_ts = m.any ? m.max_ts : kTimeMin;
  for (std::size_t k = 0; in_order && k < order.size(); ++k) {
    const Event& e = pending[order[k]];
    if (e.type != EventType::state) continue;
    in_order = e.ts > previous_state_ts;
    previous_state_ts = e.ts;
  }
  if (recompute == kTimeMax && !in_order) {
    // Out of order but after the settled hour: only a state event splitting an unplanned stop that
    // began before it can change a settled hour (the stop may become a small stop).
    const MachineHistory& h = tail_history(m);
    for (std::size_t i : order) {
      if (pending[i].ts > m.max_ts) break;
      if (pending[i].type != EventType::state) continue;  // only a state event splits an interval
      const std::ptrdiff_t at = h.interval_at(pending[i].ts);
      if (at < 0) continue;
      const StateInterval& iv = h.intervals()[static_cast<std::size_t>(at)];
      if (iv.start < m.base && is_unplanned_stop(iv.state)) recompute = std::min(recompute, floor_hour(iv.start));
    }
  }
  // Hours at or before the zero point are answered as unknown (before the machine's first event, or
  // cut by retention, their events gone): events after it recompute from the hour after it at most.
  if (recompute != kTimeMax && first_ts >= m.zero_hour + kMsPerHour) recompute = std::max(recompute, m.zero_hour + kMsPerHour);
  if (recompute != kTimeMax) {
    recompute_from(m, recompute);  // reloads every event from `recompute` on, the new ones included
  } else {
    m.history.reset();
    if (in_order) {
      for (std::size_t i : order) track(m, pending[i]);
      for (Event& e : pending) m.events.push_back(std::move(e));
    } else {
      for (Event& e : pending) m.events.push_back(std::move(e));
      rebuild_tracking(m);
    }
  }
  settle(m);
  write_machine_row(m);
}

void SqliteEventStore::settle(MachineState& m) {
  if (!m.any) return;
  const TimeMs settled_hour = floor_hour(settled_point(m));
  if (settled_hour <= m.base) return;
  const MachineSpec& spec = *m.spec;
  const MachineHistory& h = tail_history(m);

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
  const auto& intervals = h.intervals();
  for (std::size_t i = 0; i < intervals.size(); ++i) {
    const StateInterval& iv = intervals[i];
    if (iv.start < m.base || iv.start >= settled_hour) continue;
    std::int64_t ord = 0;
    for (std::size_t j = i; j > 0 && intervals[j - 1].start == iv.start; --j) ++ord;
    insert_change_.bind(1, m.id).bind(2, iv.start).bind(3, ord).bind(4, static_cast<std::int64_t>(iv.state)).run();
  }

  // The new context at settled_hour, then the tail from settled_hour on.
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
      e.machine = m.path;
      next.push_back(std::move(e));
    }
  }
  // The product in effect and each counter's last reading at every hour start up to settled_hour
  // (the canonical-last of each before it): stored where it changed, and the new context.
  std::vector<std::pair<CanonicalOrderKey, std::size_t>> carried;
  for (std::size_t i = 0; i < m.events.size(); ++i) {
    const Event& e = m.events[i];
    if (e.ts < settled_hour && (e.type == EventType::product || e.type == EventType::counter))
      carried.emplace_back(canonical_order_key(e), i);
  }
  std::sort(carried.begin(), carried.end());
  std::array<std::ptrdiff_t, 4> latest{-1, -1, -1, -1};
  std::size_t next_carried = 0;
  BlockWriter context;
  for (TimeMs hour = m.base + kMsPerHour; hour <= settled_hour; hour += kMsPerHour) {
    bool changed = false;
    for (; next_carried < carried.size() && carried[next_carried].first.ts < hour; ++next_carried) {
      const Event& e = m.events[carried[next_carried].second];
      latest[e.type == EventType::product ? 0 : 1 + static_cast<std::size_t>(e.counter)] =
          static_cast<std::ptrdiff_t>(carried[next_carried].second);
      changed = true;
    }
    if (!changed) continue;
    context.clear();
    for (std::ptrdiff_t i : latest)
      if (i >= 0) {
        const Event& e = m.events[static_cast<std::size_t>(i)];
        context.event(e, e.src.empty() ? 0 : source_for(e.src, e.inc).id);
      }
    if (context.bytes() != m.context_at_base) {
      insert_context_.bind(1, m.id).bind(2, hour).bind_blob(3, context.bytes()).run();
      m.context_at_base = context.bytes();
    }
  }
  for (std::ptrdiff_t i : latest)
    if (i >= 0) next.push_back(m.events[static_cast<std::size_t>(i)]);
  if (spec.no_data_after_ms > 0) {  // the last sign of life before settled_hour (load_tail)
    TimeMs sign = sign_search_start(settled_hour, spec.no_data_after_ms);
    for (const Event& e : m.events)
      if (e.ts < settled_hour) sign = std::max(sign, e.ts);
    next.push_back(heartbeat_at(m.path, sign));
  }
  const std::size_t ctx = next.size();
  for (std::size_t i = m.ctx_count; i < m.events.size(); ++i)
    if (m.events[i].ts >= settled_hour) next.push_back(std::move(m.events[i]));
  m.events = std::move(next);
  m.ctx_count = ctx;
  m.base = settled_hour;
  m.row_dirty = true;
  m.history.reset();
}

// The cumulative rollup at the end of `hour`: its row, or the zero point's value.
KpiTotals SqliteEventStore::cumulative_at(const MachineState& m, TimeMs hour) {
  if (hour <= m.zero_hour) return m.zero;
  KpiTotals t;
  q().select_rollup.bind(1, m.id).bind(2, hour);
  if (q().select_rollup.step()) t = totals_from(q().select_rollup, 0);
  q().select_rollup.reset();
  return t;
}

void SqliteEventStore::write_machine_row(MachineState& m) {
  if (!m.row_dirty) return;
  update_machine_.bind(1, m.id).bind(2, m.base).bind(3, m.has_total_counter ? 1 : 0).bind(4, m.zero_hour);
  update_machine_.bind(5, m.last_hour).run();
  m.row_dirty = false;
}

void SqliteEventStore::note_source(SourceState& s, const Event& e, TimeMs received_at) {
  SourceStats& st = s.stats;
  s.dirty = true;
  ++st.events;
  st.last_seen = std::max(st.last_seen, received_at);
  s.batch_offsets.push_back(e.ts - received_at);
  if (e.ts - received_at > options_.max_future_skew_ms) ++st.future_events;
  if (e.seq < 0) return;
  const std::int64_t q = e.seq;
  auto add_gap = [&](std::int64_t first, std::int64_t last) {
    s.gaps[first] = last;
    gap_ops_.push_back({s.id, first, last, true});
  };
  if (st.seq_max < 0) {
    st.seq_min = st.seq_max = q;
  } else if (q > st.seq_max) {
    if (q > st.seq_max + 1) add_gap(st.seq_max + 1, q - 1);
    st.seq_max = q;
  } else if (q < st.seq_min) {
    if (q < st.seq_min - 1) add_gap(q + 1, st.seq_min - 1);
    st.seq_min = q;
  } else {
    // Inside the known range: it fills (part of) a gap.
    auto it = s.gaps.upper_bound(q);
    if (it == s.gaps.begin()) return;
    --it;
    const std::int64_t first = it->first, last = it->second;
    if (q > last) return;
    s.gaps.erase(it);
    gap_ops_.push_back({s.id, first, last, false});
    if (first < q) add_gap(first, q - 1);
    if (q < last) add_gap(q + 1, last);
  }
}

// Whether the source's event `seq` is stored: inside its range and in none of its gaps.
bool SqliteEventStore::stored_seq(const SourceState& s, std::int64_t seq) {
  if (s.stats.seq_max < 0 || seq < s.stats.seq_min || seq > s.stats.seq_max) return false;
  auto it = s.gaps.upper_bound(seq);
  if (it == s.gaps.begin()) return true;
  --it;
  return seq > it->second;
}

// A file from before the cut was kept: the retention runs so far left their zero points, whose next
// hour no event older may change (an undercount of the cut, never an overcount).
void SqliteEventStore::load_retention_cut() {
  Statement kept(db_, "SELECT value FROM meta WHERE key='retention_cut'");
  if (kept.step()) {
    retention_cut_ = kept.int_at(0);
    return;
  }
  Statement zeros(db_, "SELECT max(m.rollup_zero_hour) FROM machines m JOIN rollup_zero z ON z.machine_id=m.id");
  retention_cut_ = zeros.step() && !zeros.is_null(0) ? zeros.int_at(0) + kMsPerHour : kTimeMin;
}

// An event before the retention cut could only change the summarised hours before it (rollup_zero)
// and the windows they feed: it is dead-lettered in the append's transaction instead. Its source's
// statistics still hold its seq if it was stored before the cut: then it is a duplicate.
void SqliteEventStore::refuse_before_cut(const Event& e, const SourceState* src, TimeMs received_at,
                                         AppendResult& result) {
  if (src && e.has_identity() && stored_seq(*src, e.seq)) {
    ++result.duplicates;
    return;
  }
  ++result.older_than_retention;
  insert_dead_letter_.bind(1, received_at)
      .bind(2, kRetentionLetterTopic)
      .bind(3, bounded(codec::event_to_json(e), kMaxDeadLetterPayloadBytes))
      .bind(4, older_than_retention_reason(e.ts, retention_cut_))
      .run();
}

void SqliteEventStore::persist_sources() {
  for (const GapOp& op : gap_ops_) {
    if (op.insert)
      insert_gap_.bind(1, op.src_id).bind(2, op.first).bind(3, op.last).run();
    else
      delete_gap_.bind(1, op.src_id).bind(2, op.first).run();
  }
  gap_ops_.clear();
  for (auto& [name, s] : sources_) {
    if (!s->dirty) continue;
    if (!s->batch_offsets.empty()) {
      // The median offset of this batch: robust to a few events buffered long at the edge.
      auto mid = s->batch_offsets.begin() + static_cast<std::ptrdiff_t>(s->batch_offsets.size() / 2);
      std::nth_element(s->batch_offsets.begin(), mid, s->batch_offsets.end());
      s->stats.clock_offset_ms = *mid;
      s->batch_offsets.clear();
    }
    const SourceStats& st = s->stats;
    upsert_source_.bind(1, s->id).bind(2, st.events).bind(3, st.seq_min).bind(4, st.seq_max).bind(5, st.last_seen);
    upsert_source_.bind(6, st.clock_offset_ms).bind(7, st.future_events).run();
    s->dirty = false;
  }
}

AppendResult SqliteEventStore::append(std::span<const Event> events, TimeMs received_at) {
  AppendResult result;
  if (events.empty()) return result;
  std::vector<MachineState*> touched;
  std::lock_guard state_lock(state_mutex_);
  try {
  Transaction tx(db_);
    // Identities in key order: events without src+seq first (negative id_src), each source's
    // sequence numbers after them in order.
    struct Item {
      std::int64_t id_src, id_key;
      MachineState* machine;
      SourceState* source;  // nullptr: no src
      const Event* event;
    };
    std::vector<Item> items;
    items.reserve(events.size());
    // Events come in runs of one machine and one source: one lookup per run, not per event.
    const Event* previous = nullptr;
    MachineState* machine = nullptr;
    SourceState* src = nullptr;
    for (const Event& e : events) {
      if (!previous || e.machine != previous->machine) machine = &machine_for(e.machine);
      if (!previous || e.src != previous->src || e.inc != previous->inc)
        src = e.src.empty() ? nullptr : &source_for(e.src, e.inc);
      previous = &e;
      if (e.ts < retention_cut_) {
        refuse_before_cut(e, src, received_at, result);
        continue;
      }
      MachineState& m = *machine;
      if (e.has_identity())
        items.push_back({src->id, e.seq, &m, src, &e});
      else
        items.push_back({-m.id, static_cast<std::int64_t>(content_fingerprint(e)), &m, src, &e});
    }
    std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
      return a.id_src != b.id_src ? a.id_src < b.id_src : a.id_key < b.id_key;
    });
    // Events with src+seq: a source numbers its events, so the sequence numbers stored are the
    // source's range [seq_min, seq_max] minus its gaps (sources, source_gaps: kept for the
    // statistics anyway, in this transaction). The check is in memory, with no B-tree row per event;
    // of equal identities in the batch the first is inserted.
    std::vector<char> inserted(items.size(), 0);
    std::size_t anonymous = 0;
    while (anonymous < items.size() && items[anonymous].id_src < 0) ++anonymous;
    for (std::size_t k = anonymous; k < items.size(); ++k) {
      const Item& it = items[k];
      const bool repeated = k > anonymous && items[k - 1].id_src == it.id_src && items[k - 1].id_key == it.id_key;
      inserted[k] = !repeated && !stored_seq(*it.source, it.id_key);
    }
    // The others by content in event_ids: kIdChunk identities per statement; RETURNING names the
    // rows actually inserted (ignored duplicates return nothing), a statement execution per event saved.
    for (std::size_t first = 0; first < anonymous; first += kIdChunk) {
      const std::size_t n = std::min(kIdChunk, anonymous - first);
      Statement& ins = n == kIdChunk ? insert_ids_chunk_ : insert_id_;
      if (n == kIdChunk) {
        for (std::size_t i = 0; i < n; ++i) {
          const Item& it = items[first + i];
          const int p = static_cast<int>(3 * i);
          ins.bind(p + 1, it.id_src).bind(p + 2, it.id_key).bind(p + 3, floor_hour(it.event->ts));
        }
        while (ins.step()) {
          const std::int64_t src = ins.int_at(0), key = ins.int_at(1);
          // Items are sorted by identity: the first of equal ones is the one inserted.
          auto at = std::lower_bound(items.begin() + static_cast<std::ptrdiff_t>(first),
                                     items.begin() + static_cast<std::ptrdiff_t>(first + n), std::make_pair(src, key),
                                     [](const Item& a, const std::pair<std::int64_t, std::int64_t>& k) {
                                       return std::make_pair(a.id_src, a.id_key) < k;
                                     });
          inserted[static_cast<std::size_t>(at - items.begin())] = 1;
        }
        ins.reset();
      } else {
        for (std::size_t i = first; i < first + n; ++i) {
          insert_id_.bind(1, items[i].id_src).bind(2, items[i].id_key).bind(3, floor_hour(items[i].event->ts)).run();
          inserted[i] = sqlite3_changes(db_.handle()) > 0;
        }
      }
    }
    for (std::size_t k = 0; k < items.size(); ++k) {
      const Item& it = items[k];
      if (!inserted[k]) {
        ++result.duplicates;
        if (k >= anonymous) result.identity_duplicates.push_back(static_cast<std::size_t>(it.event - events.data()));
        continue;
      }
      ++result.inserted;
      MachineState& m = *it.machine;
      if (m.pending.empty()) touched.push_back(&m);
      m.pending.push_back(*it.event);
      m.pending_src.push_back(it.source ? it.source->id : 0);
      if (it.source) note_source(*it.source, *it.event, received_at);
    }
    for (MachineState* m : touched) {
      write_blocks(*m);
      ingest_pending(*m);
    }
    persist_sources();
    event_count_ += static_cast<std::int64_t>(result.inserted);
    set_meta_.bind(1, "event_count").bind(2, event_count_).run();
    set_meta_.bind(1, "next_block").bind(2, next_block_).run();
    tx.commit();
  } catch (...) {
    // Rolled back: the in-memory tails and statistics may hold what never committed.
    event_count_ = 0;
    gap_ops_.clear();
    load_state();
    throw;
  }
  return result;
}

std::vector<Event> SqliteEventStore::machine_events(std::string_view machine, TimeMs from, TimeMs to) {
  std::vector<Event> out;
  const std::string_view paths[] = {machine};
  ReadScope scope(*this, paths);
  MachineState* m = ReadScope::of(*this)->find(machine);
  if (!m) return out;
  load_events(*m, from, to, out);
  std::stable_sort(out.begin(), out.end(), [](const Event& a, const Event& b) { return a.ts < b.ts; });
  return out;
}

MachineHistory SqliteEventStore::history_from_db(MachineState& m, const MachineSpec& spec, TimeMs from, TimeMs to,
                                                 std::vector<Event>* preloaded) {
  std::vector<Event> events;
  if (!m.spec || m.base == kNoBase) {
    load_events(m, kTimeMin, kTimeMax, events);
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

KpiTotals SqliteEventStore::engine_part(MachineState& m, const MachineSpec& spec, TimeMs from, TimeMs to,
                                        TimeMs horizon) {
  if (!m.header_only && m.spec && m.base != kNoBase && from >= m.base && same_rules(*m.spec, spec))
    return oee::machine_totals(tail_history(m), calendar_, from, to, horizon);
  return oee::machine_totals(history_from_db(m, spec, from, to), calendar_, from, to, horizon);
}

// Totals of the whole hours [from, to) (to <= base): the difference of two cumulative rows. Hours
// at or before the zero point have no events (before the machine's first) or none kept (retention):
// unknown time.
KpiTotals SqliteEventStore::rollup_sum(MachineState& m, TimeMs from, TimeMs to) {
  const TimeMs a = std::max(from, m.zero_hour + kMsPerHour);
  KpiTotals t;
  if (a < to) {
    // Two point lookups: cheaper than one statement with IN (?, ?), which builds a temporary list.
    t = cumulative_at(m, to - kMsPerHour);
    KpiTotals before = cumulative_at(m, a - kMsPerHour);
    const auto minus = kpi_fields(before);
    std::size_t c = 0;
    for (std::int64_t* f : kpi_fields(t)) *f -= *minus[c++];
  }
  const DurationMs unknown = std::min(a, to) - from;
  t.all_ms += unknown;
  t.unknown_ms += unknown;
  return t;
}

KpiTotals SqliteEventStore::machine_totals(const MachineSpec& machine, TimeMs from, TimeMs to, TimeMs horizon) {
  KpiTotals t;
  t.machine_count = 1;
  const TimeMs end = std::min(to, horizon);
  if (from >= end) return t;
  const std::string_view paths[] = {machine.path};
  ReadScope scope(*this, paths);
  MachineState* found = ReadScope::of(*this)->find(machine.path);
  if (!found)
    return oee::machine_totals(MachineHistory::build(machine, std::span<const Event>{}), calendar_, from, to, horizon);
  MachineState& m = *found;
  // Rollups hold what the store's spec of the machine gives; a caller's spec with other rules (a
  // reloaded plant file, say) gets the engine over the events.
  if (!m.spec || !same_rules(*m.spec, machine) || m.base == kNoBase)
    return engine_part(m, machine, from, to, horizon);
  // Whole settled hours come from the rollups, computed with no horizon. An earlier horizon can only
  // reclassify a stop still open at it and begun less than one micro-stop threshold before it, or
  // a silence running past it and begun less than one no-data threshold before it, so hours ending
  // later than horizon - look_ahead_ms use the engine.
  const TimeMs r0 = ceil_to(from, kMsPerHour);
  const TimeMs r1 = std::min({floor_hour(end), m.base, floor_hour(horizon - look_ahead_ms(machine))});
  if (r1 <= r0) return engine_part(m, machine, from, to, horizon);
  t = rollup_sum(m, r0, r1);
  if (from < r0) t += engine_part(m, machine, from, r0, horizon);
  if (r1 < end) t += engine_part(m, machine, r1, to, horizon);
  t.machine_count = 1;
  return t;
}

// sum += sign x the cumulative rollup of each wanted machine at the end of `hour` (cumulative_at).
// Many machines: one range of the rollups_by_hour index, the group's rows side by side.
void SqliteEventStore::add_cumulative_rows(TimeMs hour, std::span<const std::pair<MachineState*, int>> wanted,
                                           KpiTotals& sum) {
  auto add = [&sum](KpiTotals t, int sign) {
    const auto from = kpi_fields(t);
    std::size_t c = 0;
    for (std::int64_t* f : kpi_fields(sum)) *f += sign * *from[c++];
  };
  std::unordered_map<std::int64_t, int> sign_of;
  std::int64_t lo = INT64_MAX, hi = INT64_MIN;
  for (const auto& [m, sign] : wanted) {
    if (hour <= m->zero_hour) {
      add(m->zero, sign);
    } else if (wanted.size() < kGroupScanMin) {
      add(cumulative_at(*m, hour), sign);
    } else {
      sign_of[m->id] += sign;
      lo = std::min(lo, m->id);
      hi = std::max(hi, m->id);
    }
  }
  if (sign_of.empty()) return;
  Statement& s = q().select_rollups_of_hour;
  s.bind(1, hour).bind(2, lo).bind(3, hi);
  while (s.step()) {
    auto it = sign_of.find(s.int_at(0));
    if (it == sign_of.end() || it->second == 0) continue;
    int c = 1;
    for (std::int64_t* f : kpi_fields(sum)) *f += it->second * s.int_at(c++);
  }
  s.reset();
}

// sum += the engine's totals of each edge window. Edges before the settled hour need the events of
// their hours from the file: for many machines, one scan of each hour's blocks (all machines' blocks
// of an hour are adjacent) instead of a seek per machine and hour.
void SqliteEventStore::add_engine_edges(std::span<const EngineEdge> edges, TimeMs horizon, KpiTotals& sum) {
  auto add = [&sum](KpiTotals t) {
    t.machine_count = 0;  // the caller counts machines, not edges
    sum += t;
  };
  std::vector<const EngineEdge*> from_file;
  for (const EngineEdge& e : edges) {
    if (e.from >= e.machine->base) {
      add(engine_part(*e.machine, *e.spec, e.from, e.to, horizon));  // the in-memory tail
    } else {
      from_file.push_back(&e);
    }
  }
  // Edges read together share one window (the group's first or last partial hour); others, or a
  // group small beside the plant, read per machine.
  std::map<std::pair<TimeMs, TimeMs>, std::vector<const EngineEdge*>> by_window;
  for (const EngineEdge* e : from_file) by_window[{e->from, e->to}].push_back(e);
  for (auto& [window, group] : by_window) {
    const TimeMs first_hour = floor_hour(window.first);
    TimeMs last = first_hour;  // end of the events read: `to` plus the look-ahead (history_from_db)
    for (const EngineEdge* e : group) last = std::max(last, later_by(window.second, look_ahead_ms(*e->spec)));
    const bool scan = group.size() >= kGroupScanMin && group.size() * 4 >= machine_count() &&
                      last - first_hour <= kGroupScanHoursMax * kMsPerHour;
    if (!scan) {
      for (const EngineEdge* e : group) add(engine_part(*e->machine, *e->spec, e->from, e->to, horizon));
      continue;
    }
    // A machine twice in the group (a caller's choice) reads once and gets a copy.
    std::unordered_map<std::int64_t, std::size_t> index_of;
    std::vector<std::size_t> first_of(group.size());
    for (std::size_t i = 0; i < group.size(); ++i) first_of[i] = index_of.emplace(group[i]->machine->id, i).first->second;
    std::vector<std::vector<Event>> ranges(group.size());
    for (TimeMs hour = first_hour; hour < last; hour += kMsPerHour) {
      Statement& s = q().select_blocks_of_hour;
      s.bind(1, hour);
      while (s.step()) {
        auto it = index_of.find(s.int_at(0));
        if (it == index_of.end()) continue;
        const EngineEdge& e = *group[it->second];
        const MachineState& m = *e.machine;
        // As load_events: hours at or before the zero point are not the machine's any more.
        if (hour <= m.zero_hour) continue;
        decode_block(s.blob_at(1), m, first_hour, later_by(e.to, look_ahead_ms(*e.spec)), ranges[it->second]);
      }
      s.reset();
    }
    for (std::size_t i = 0; i < group.size(); ++i)
      if (first_of[i] != i) ranges[i] = ranges[first_of[i]];
    for (std::size_t i = 0; i < group.size(); ++i) {
      const EngineEdge& e = *group[i];
      add(oee::machine_totals(history_from_db(*e.machine, *e.spec, e.from, e.to, &ranges[i]), calendar_, e.from, e.to,
                              horizon));
    }
  }
}

// As the sum of machine_totals, with the same split per machine (rollups for settled whole hours,
// the engine for the rest), but the rollups of the group read per boundary hour and the edges'
// events per hour, not per machine.
KpiTotals SqliteEventStore::machines_totals(std::span<const MachineSpec* const> specs, TimeMs from, TimeMs to,
                                            TimeMs horizon) {
  KpiTotals sum;
  const TimeMs end = std::min(to, horizon);
  std::map<TimeMs, std::vector<std::pair<MachineState*, int>>> rows;  // cumulative rows wanted, by hour
  std::vector<EngineEdge> edges;
  std::vector<std::string_view> paths;
  for (const MachineSpec* spec : specs) paths.push_back(spec->path);
  ReadScope scope(*this, paths);
  for (const MachineSpec* spec : specs) {
    MachineState* m = ReadScope::of(*this)->find(spec->path);
    const TimeMs r0 = ceil_to(from, kMsPerHour);
    const TimeMs r1 = m ? std::min({floor_hour(end), m->base, floor_hour(horizon - look_ahead_ms(*spec))}) : kTimeMin;
    if (from >= end || !m || !m->spec || !same_rules(*m->spec, *spec) || m->base == kNoBase || r1 <= r0) {
      sum += machine_totals(*spec, from, to, horizon);
      continue;
    }
    // rollup_sum(m, r0, r1), its two rows read below.
    const TimeMs a = std::max(r0, m->zero_hour + kMsPerHour);
    if (a < r1) {
      rows[r1 - kMsPerHour].emplace_back(m, 1);
      rows[a - kMsPerHour].emplace_back(m, -1);
    }
    const DurationMs unknown = std::min(a, r1) - r0;
    sum.all_ms += unknown;
    sum.unknown_ms += unknown;
    if (from < r0) edges.push_back({m, spec, from, r0});
    if (r1 < end) edges.push_back({m, spec, r1, to});
    ++sum.machine_count;
  }
  for (const auto& [hour, wanted] : rows) add_cumulative_rows(hour, wanted, sum);
  add_engine_edges(edges, horizon, sum);
  return sum;
}

std::vector<SourceStats> SqliteEventStore::sources() {
  std::vector<SourceStats> out;
  std::map<std::pair<std::string, std::string>, std::int64_t> conflicts;
  {
    ReadScope scope(*this, {});
    Statement per_source(scope.db(), "SELECT src, incarnation, count(*) FROM conflicts GROUP BY 1, 2");
    while (per_source.step()) conflicts[{per_source.text_at(0), per_source.text_at(1)}] = per_source.int_at(2);
  }
  std::lock_guard state_lock(state_mutex_);  // waits for at most the append in flight
  for (const auto& [name, s] : sources_) {
    SourceStats st = s->stats;
    st.gaps.assign(s->gaps.begin(), s->gaps.end());
    if (auto it = conflicts.find({st.src, st.incarnation}); it != conflicts.end()) st.conflicts = it->second;
    out.push_back(std::move(st));
  }
  std::sort(out.begin(), out.end(), [](const SourceStats& a, const SourceStats& b) {
    return std::tie(a.src, a.incarnation) < std::tie(b.src, b.incarnation);
  });
  return out;
}

std::int64_t SqliteEventStore::add_dead_letter(const DeadLetter& letter) {
  Transaction tx(db_);
  Statement s(db_, kInsertDeadLetter);
  s.bind(1, letter.received)
      .bind(2, bounded(letter.topic, kMaxDeadLetterTextBytes))
      .bind(3, bounded(letter.payload, kMaxDeadLetterPayloadBytes))
      .bind(4, bounded(letter.reason, kMaxDeadLetterTextBytes))
      .run();
  const std::int64_t id = sqlite3_last_insert_rowid(db_.handle());
  tx.commit();
  return id;
}

std::vector<DeadLetter> SqliteEventStore::dead_letters(std::int64_t before_id, std::size_t limit) {
  ReadScope scope(*this, {});
  Statement s(scope.db(),
              "SELECT id, received, topic, payload, reason FROM dead_letters WHERE id<?1 ORDER BY id DESC LIMIT ?2");
  s.bind(1, before_id > 0 ? before_id : INT64_MAX).bind(2, static_cast<std::int64_t>(std::min<std::size_t>(limit, 10000)));
  std::vector<DeadLetter> out;
  while (s.step()) out.push_back({s.int_at(0), s.int_at(1), s.text_at(2), s.text_at(3), s.text_at(4)});
  return out;
}

std::int64_t SqliteEventStore::dead_letter_count() {
  ReadScope scope(*this, {});
  Statement s(scope.db(), "SELECT count(*) FROM dead_letters");
  s.step();
  return s.int_at(0);
}

void SqliteEventStore::add_conflicts(std::span<const Conflict> list) {
  if (list.empty()) return;
  Transaction tx(db_);
  Statement s(db_,
              "INSERT OR IGNORE INTO conflicts(received, src, incarnation, seq, machine, stored, version, fingerprint)"
              " VALUES(?1,?2,?3,?4,?5,?6,?7,?8)");
  for (const Conflict& c : list) {
    s.bind(1, c.received).bind(2, c.src).bind(3, c.incarnation).bind(4, c.seq).bind(5, c.machine);
    s.bind(6, bounded(c.stored_json, kMaxDeadLetterPayloadBytes)).bind(7, bounded(c.received_json, kMaxDeadLetterPayloadBytes));
    s.bind(8, c.fingerprint).run();
  }
  tx.commit();
}

std::vector<Conflict> SqliteEventStore::conflicts(std::int64_t before_id, std::size_t limit) {
  ReadScope scope(*this, {});
  Statement s(scope.db(),
              "SELECT id, received, src, incarnation, seq, machine, stored, version FROM conflicts WHERE id<?1"
              " ORDER BY id DESC LIMIT ?2");
  s.bind(1, before_id > 0 ? before_id : INT64_MAX).bind(2, static_cast<std::int64_t>(std::min<std::size_t>(limit, 10000)));
  std::vector<Conflict> out;
  while (s.step())
    out.push_back({s.int_at(0), s.int_at(1), s.text_at(2), s.text_at(3), s.int_at(4), s.text_at(5), s.text_at(6), s.text_at(7)});
  return out;
}

std::int64_t SqliteEventStore::conflict_count() {
  ReadScope scope(*this, {});
  Statement s(scope.db(), "SELECT count(*) FROM conflicts");
  s.step();
  return s.int_at(0);
}

std::int64_t SqliteEventStore::add_stop_comment(const StopComment& c) {
  std::lock_guard state_lock(state_mutex_);
  Transaction tx(db_);
  Statement(db_, "INSERT OR IGNORE INTO stop_comments(machine, stop_start, created, author, text) VALUES(?1,?2,?3,?4,?5)")
      .bind(1, c.machine).bind(2, c.stop_start).bind(3, c.created).bind(4, c.author).bind(5, c.text).run();
  Statement id(db_, "SELECT id FROM stop_comments WHERE machine=?1 AND stop_start=?2 AND created=?3 AND author=?4 AND text=?5");
  id.bind(1, c.machine).bind(2, c.stop_start).bind(3, c.created).bind(4, c.author).bind(5, c.text).step();
  const std::int64_t out = id.int_at(0);
  tx.commit();
  return out;
}

std::vector<StopComment> SqliteEventStore::stop_comments(std::string_view machine, TimeMs from, TimeMs to) {
  ReadScope scope(*this, {});
  Statement s(scope.db(), "SELECT id, machine, stop_start, created, author, text FROM stop_comments"
                          " WHERE machine=?1 AND stop_start>=?2 AND stop_start<?3 ORDER BY id");
  s.bind(1, machine).bind(2, from).bind(3, to);
  std::vector<StopComment> out;
  while (s.step()) out.push_back({s.int_at(0), s.text_at(1), s.int_at(2), s.int_at(3), s.text_at(4), s.text_at(5)});
  return out;
}

RetentionResult SqliteEventStore::apply_retention(TimeMs now) {
  if (options_.retention_days <= 0) return {};
  const TimeMs cutoff = now - options_.retention_days * kMsPerDay;
  // Whole hours, and never at or after a machine's settled hour: the in-memory tail mirrors the
  // events from there on. Identities carry no machine, so one limit serves every machine.
  // The events of one no-data threshold before that stay too: a window after the cut (or a tail)
  // starts with the last sign of life before it (sign_before).
  DurationMs keep_signs = 0;
  for (const MachineSpec* spec : plant_.machines())
    if (spec->no_data_after_ms > 0) keep_signs = std::max(keep_signs, spec->no_data_after_ms + 1);
  TimeMs limit = floor_hour(cutoff - keep_signs);
  std::lock_guard state_lock(state_mutex_);
  for (const auto& [path, m] : machines_)
    if (m->base != kNoBase) limit = std::min(limit, floor_hour(m->base - keep_signs));
  Transaction tx(db_);
  Statement old_events(db_, "SELECT coalesce(sum(events), 0) FROM event_blocks WHERE hour_start<?1");
  old_events.bind(1, limit).step();
  const std::int64_t deleted = old_events.int_at(0);
  old_events.reset();
  // Identities by content go with their events; sequence ranges stay (the statistics keep them),
  // so an event older than the retention sent again is still a duplicate.
  Statement ids(db_, "DELETE FROM event_ids WHERE hour_start<?1");
  ids.bind(1, limit).run();
  Statement blocks(db_, "DELETE FROM event_blocks WHERE hour_start<?1");
  blocks.bind(1, limit).run();
  // The context stored at or before the limit stays: it is the context of every window after it.
  Statement contexts(db_,
                     "DELETE FROM contexts WHERE machine_id=?1 AND hour_start<(SELECT max(hour_start) FROM contexts "
                     "WHERE machine_id=?1 AND hour_start<=?2)");
  Statement changes(db_,
                    "DELETE FROM state_changes WHERE machine_id=?1 AND ts<(SELECT max(ts) FROM state_changes "
                    "WHERE machine_id=?1 AND ts<?2)");
  // The cumulative value at the last hour before the cutoff becomes the zero point.
  Statement hours(db_, "DELETE FROM rollups WHERE machine_id=?1 AND hour_start<=?2");
  Statement zero(db_, "INSERT OR REPLACE INTO rollup_zero VALUES(?1," OEE_KPI_PARAMS ")");
  for (auto& [path, m] : machines_) {
    contexts.bind(1, m->id).bind(2, limit).run();
    const DurationMs window = m->spec ? m->spec->startup_window_ms : 0;
    changes.bind(1, m->id).bind(2, limit - window).run();
    const TimeMs keep = std::min(floor_hour(cutoff), m->base) - kMsPerHour;
    if (m->base != kNoBase && keep > m->zero_hour) {
      m->zero = cumulative_at(*m, keep);
      zero.bind(1, m->id);
      int c = 2;
      for (std::int64_t* f : kpi_fields(m->zero)) zero.bind(c++, *f);
      zero.run();
      hours.bind(1, m->id).bind(2, keep).run();
      m->zero_hour = keep;
      m->row_dirty = true;
      write_machine_row(*m);
    }
  }
  event_count_ -= deleted;
  set_meta_.bind(1, "event_count").bind(2, event_count_).run();
  // From now on nothing older than the cut may change what it kept (refuse_before_cut).
  retention_cut_ = std::max(retention_cut_, floor_hour(cutoff));
  set_meta_.bind(1, "retention_cut").bind(2, retention_cut_).run();
  Statement letters(db_, "DELETE FROM dead_letters WHERE received<?1");
  letters.bind(1, cutoff).run();
  const std::int64_t letters_deleted = sqlite3_changes64(db_.handle());
  tx.commit();
  return {deleted, letters_deleted};
}

}  // namespace

std::unique_ptr<EventStore> open_sqlite_store(const std::string& path, const PlantModel& plant,
                                              const ShiftCalendar& calendar, const StoreOptions& options) {
  return std::make_unique<SqliteEventStore>(path, plant, calendar, options);
}

}  // namespace oee::storage
