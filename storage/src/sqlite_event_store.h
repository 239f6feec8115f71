#pragma once
// The SQLite event store (WAL): its class and the state its parts share; private to storage/src.
// docs/storage.md explains the schema, the durability guarantee and the rollup algorithm. One file per
// concern: sqlite_event_store.cpp (opening, loading the state), sqlite_read_pool.cpp, sqlite_append.cpp,
// sqlite_settle.cpp (the in-memory tail and its settled hours), sqlite_history.cpp, sqlite_rollups.cpp,
// sqlite_retention.cpp, sqlite_records.cpp (sources, dead letters, conflicts, comments), sqlite_schema.cpp.
#include <functional>
#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "oee/storage/event_store.h"
#include "compact_tail.h"
#include "kpi_columns.h"
#include "source_identity.h"
#include "sqlite_db.h"

namespace oee::storage::sqlite {

inline constexpr TimeMs kNoBase = kTimeMin;  // machine without events: nothing settled yet

inline KpiTotals totals_from(const Statement& s, int first_column) {
  KpiTotals t;
  int c = first_column;
  for (std::int64_t* f : kpi_fields(t)) *f = s.int_at(c++);
  return t;
}

// Whether two specs of a machine give the same history and totals (the rollups were made with one).
inline bool same_rules(const MachineSpec& a, const MachineSpec& b) {
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
  // The context (synthetic/real events before base that reproduce the engine's state at base) and
  // the tail: every stored event with ts >= base, in arrival order, compact (compact_tail.h).
  std::vector<Event> context;
  CompactTail tail;
  // The canonical-last event and the last state interval, tracked as events arrive in order.
  bool any = false;
  TimeMs max_ts = kTimeMin;
  bool has_state = false;
  State last_state = State::unknown;
  TimeMs last_state_start = kTimeMin;
  std::optional<MachineHistory> history;  // of `events` and `corrections`, built on demand
  // Without the corrections (the intervals the events give, which state_changes keep and reasons
  // name); empty when the tail has no correction (then it is `history`).
  std::optional<MachineHistory> raw_history;
  std::vector<Event> corrections;  // those overlapping the tail (correction_ranges.h)
  // Whether any correction of the machine is stored: its intervals' reasons then count even
  // without a reason tree (a corrected piece joins a neighbour that reads the same).
  bool has_corrections = false;
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
inline MachineState header_of(const MachineState& m) {
  MachineState h;
  h.id = m.id;
  h.path = m.path;
  h.spec = m.spec;
  h.base = m.base;
  h.has_total_counter = m.has_total_counter;
  h.zero_hour = m.zero_hour;
  h.last_hour = m.last_hour;
  h.zero = m.zero;
  h.has_corrections = m.has_corrections;
  h.header_only = true;
  return h;
}

// The statements of the read paths, prepared on one connection: the writer's (an append reloads
// and recomputes through them) or a read connection's.
struct ReadStatements {
  Statement select_blocks, select_blocks_range, select_context, select_changes_desc, select_rollup, select_rollups_of_hour,
      select_blocks_of_hour, select_late_reasons, select_next_change, select_corrections,
      select_run_events;
  explicit ReadStatements(Database& db);
  void reset_all() {
    for (Statement* s : {&select_blocks, &select_blocks_range, &select_context, &select_changes_desc, &select_rollup,
                         &select_rollups_of_hour, &select_blocks_of_hour, &select_late_reasons, &select_next_change,
                         &select_corrections, &select_run_events})
      s->reset();
  }
};

// A read-only connection of the pool: a WAL reader, so the writer never waits for it.
struct ReadConnection {
  Database db;
  ReadStatements q;
  ReadConnection(const std::string& path, const PageKey* key) : db(path, true, key), q(db) {
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

inline constexpr const char* kInsertDeadLetter = "INSERT INTO dead_letters(received, topic, payload, reason) VALUES(?1,?2,?3,?4)";

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

class SqliteEventStore final : public EventStore {
 public:
  SqliteEventStore(const std::string& path, const PlantModel& plant, const ShiftCalendar& calendar,
                   const StoreOptions& options);

  AppendResult append(std::span<const Event> events, TimeMs received_at) override;
  std::vector<Event> machine_corrections(std::string_view machine, TimeMs from, TimeMs to) override;
  std::vector<Event> machine_run_events(std::string_view machine, TimeMs to) override;
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
  std::int64_t pseudonymise_comment_author(std::string_view name, std::string_view pseudonym) override;
  bool fire_alert(const Alert& alert) override;
  std::optional<Alert> resolve_alert(std::string_view id, TimeMs at, AlertResolution why) override;
  std::optional<Alert> acknowledge_alert(std::string_view id, std::optional<TimeMs> fired, std::string_view user,
                                         TimeMs at) override;
  std::vector<Alert> alerts() override;
  RetentionResult apply_retention(TimeMs now) override;
  std::string describe() const override { return "sqlite:" + path_; }
  bool reads_beside_writes() const override { return true; }
  std::unique_ptr<PinnedReads> pin_reads() override;

 private:
  void prepare();
  void load_state();
  void load_machines();
  void load_sources();
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
  // An appended event and its identity: (source id, seq), or (-machine id, content fingerprint).
  struct AppendItem {
    std::int64_t id_src, id_key;
    MachineState* machine;
    SourceState* source;  // nullptr: no src
    const Event* event;
  };
  std::vector<AppendItem> identify(std::span<const Event> events, TimeMs received_at, AppendResult& result);
  std::vector<char> new_items(const std::vector<AppendItem>& items, std::size_t anonymous);
  void insert_content_ids(const std::vector<AppendItem>& items, std::size_t anonymous, std::vector<char>& inserted);
  std::vector<MachineState*> queue_new(std::span<const Event> events, const std::vector<AppendItem>& items,
                                       const std::vector<char>& inserted, std::size_t anonymous, TimeMs received_at,
                                       AppendResult& result);
  void decode_block(std::string_view data, const MachineState& m, TimeMs from, TimeMs to, std::vector<Event>& out) const;
  void write_blocks(MachineState& m);
  std::string stored_context(const MachineState& m, TimeMs hour);
  void load_events(MachineState& m, TimeMs from, TimeMs to, std::vector<Event>& out);
  // with_head: also load the product and counter events of t's hour before t (callers that load
  // that range anyway take them from there).
  void load_context(MachineState& m, TimeMs t, std::vector<Event>& out, bool with_head = true);
  // With a reason tree: the reasons of the context's state intervals (`states`, newest first).
  void add_context_reasons(MachineState& m, TimeMs t, std::vector<Event>& states);
  bool names_settled_stop(MachineState& m, TimeMs at);
  // With a reason tree: the reasons given at or after `to` that name an interval of `events` (a
  // window's history read up to `to`), added to them (sqlite_late_reasons.cpp).
  void add_late_reasons(MachineState& m, const MachineSpec& spec, TimeMs to, std::vector<Event>& events);
  TimeMs next_change_after(MachineState& m, const MachineSpec& spec, const Event& last_state);
  void write_reason_events(const MachineState& m);
  void write_correction_events(const MachineState& m);
  void write_run_events(const MachineState& m);
  void fill_run_events();
  void load_corrections(MachineState& m, TimeMs lo, TimeMs hi, std::vector<Event>& out);
  TimeMs take_new_corrections(MachineState& m, std::vector<Event>& pending);
  const MachineHistory& raw_tail_history(MachineState& m);
  void fill_reason_events();
  // A file from before a table that keeps some events again beside their blocks: the events `keep`
  // selects copied in once (meta `filled_key` from 0 to 1), each encoded alone and given to `insert`
  // with its machine id (sqlite_block_event_copy.cpp).
  void copy_block_events_once(const char* filled_key, const std::function<bool(const Event&)>& keep,
                              const std::function<void(std::int64_t machine_id, const Event&, std::string_view bytes)>& insert);
  TimeMs sign_before(MachineState& m, TimeMs t, DurationMs no_data_after_ms);
  void load_tail(MachineState& m, TimeMs from);
  std::vector<Event> tail_events(const MachineState& m) const;
  void add_total_marker(const MachineState& m, std::vector<Event>& events) const;

  void ingest_pending(MachineState& m);
  TimeMs total_counter_start(MachineState& m, const std::vector<Event>& pending);
  static bool states_in_order(const MachineState& m, const std::vector<Event>& pending,
                              const std::vector<std::size_t>& order);
  TimeMs split_stop_start(MachineState& m, const std::vector<Event>& pending, const std::vector<std::size_t>& order);
  void add_to_tail(MachineState& m, std::vector<Event>& pending, std::span<const std::int64_t> src_ids,
                   const std::vector<std::size_t>& order, bool in_order);
  TimeMs late_start(MachineState& m, TimeMs ts);
  void recompute_from(MachineState& m, TimeMs from);
  void rebuild_tracking(MachineState& m);
  void track(MachineState& m, const Event& e);
  TimeMs settled_point(const MachineState& m) const;
  void settle(MachineState& m);
  void write_rollups(MachineState& m, const MachineHistory& h, TimeMs settled_hour);
  void write_state_changes(const MachineState& m, const MachineHistory& h, TimeMs settled_hour);
  std::vector<Event> state_context(const MachineState& m, const MachineHistory& h, TimeMs settled_hour);
  std::array<std::ptrdiff_t, 4> carry_contexts(MachineState& m, const std::vector<Event>& events, TimeMs settled_hour);
  const MachineHistory& tail_history(MachineState& m);
  const MachineHistory& tail_history(MachineState& m, std::vector<Event>& events);
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
  const PageKey* key() const { return options_.encryption_key ? &*options_.encryption_key : nullptr; }
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
      insert_source_, delete_gap_, insert_gap_, set_meta_, insert_dead_letter_, insert_reason_event_,
      insert_correction_, insert_run_event_;
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
  static inline thread_local ReadScope* current = nullptr;
  SqliteEventStore& store_;
  ReadScope* outer_;
  std::unique_ptr<ReadConnection> connection_;
  std::unordered_map<std::string, MachineState, StringHash, std::equal_to<>> machines_;
  std::shared_ptr<const SourceNames> names_;
  std::size_t machine_count_ = 0;
};

struct SqliteEventStore::Pinned final : PinnedReads {
  explicit Pinned(SqliteEventStore& store) : scope(store, {}, true) {}
  ReadScope scope;
};

inline ReadStatements& SqliteEventStore::q() {
  ReadScope* scope = ReadScope::of(*this);
  return scope ? scope->statements() : *writer_reads_;
}

inline std::size_t SqliteEventStore::machine_count() const {
  const ReadScope* scope = ReadScope::of(*this);
  return scope ? scope->machine_count() : machines_.size();
}

}  // namespace oee::storage::sqlite
