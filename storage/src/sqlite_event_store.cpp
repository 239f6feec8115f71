// The SQLite event store: opening the file, its prepared statements, and the in-memory state loaded
// from it. The class and the other concerns: sqlite_event_store.h.
#include "sqlite_event_store.h"

#include "rollup_rules.h"
#include "sqlite_schema.h"
#include "store_helpers.h"

namespace oee::storage::sqlite {

SqliteEventStore::SqliteEventStore(const std::string& path, const PlantModel& plant, const ShiftCalendar& calendar,
                                   const StoreOptions& options)
    : path_(path), plant_(plant), calendar_(calendar), options_(options), db_(path, false, key()) {
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

void SqliteEventStore::prepare() {
  insert_id_ = Statement(db_, "INSERT OR IGNORE INTO event_ids(id_src, id_key, hour_start) VALUES(?1,?2,?3)");
  std::string chunk = "INSERT OR IGNORE INTO event_ids(id_src, id_key, hour_start) VALUES";
  for (std::size_t i = 0; i < kIdChunk; ++i) chunk += i ? ",(?,?,?)" : "(?,?,?)";
  insert_ids_chunk_ = Statement(db_, chunk + " RETURNING id_src, id_key");
  insert_block_ = Statement(db_, "INSERT INTO event_blocks(machine_id, hour_start, block, events, data) VALUES(?1,?2,?3,?4,?5)");
  writer_reads_ = std::make_unique<ReadStatements>(db_);
  insert_reason_event_ = Statement(db_, "INSERT INTO reason_events(machine_id, at, ts, data) VALUES(?1,?2,?3,?4)");
  insert_run_event_ = Statement(db_, "INSERT INTO run_events(machine_id, ts, data) VALUES(?1,?2,?3)");
  insert_correction_ =
      Statement(db_, "INSERT INTO correction_events(machine_id, at, until, ts, data) VALUES(?1,?2,?3,?4,?5)");
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

// The machines of the plant (added when new) and every machine stored, with their rollup state.
void SqliteEventStore::load_machines() {
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
}

// The sources and their sequence gaps.
void SqliteEventStore::load_sources() {
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
}

void SqliteEventStore::load_state() {
  machines_.clear();
  machines_by_id_.clear();
  sources_.clear();
  sources_by_id_.clear();
  load_machines();
  load_sources();
  Statement count(db_, "SELECT value FROM meta WHERE key='event_count'");
  if (count.step()) {
    event_count_ = count.int_at(0);
  } else {
    Statement all(db_, "SELECT coalesce(sum(events), 0) + (SELECT count(*) FROM correction_events) FROM event_blocks");
    all.step();
    event_count_ = all.int_at(0);
  }
  publish_source_names();
  Statement block(db_, "SELECT value FROM meta WHERE key='next_block'");
  next_block_ = block.step() ? block.int_at(0) : 1;
  load_retention_cut();
  fill_reason_events();
  fill_run_events();
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
    const std::string rules = rollup_rules(plant_, *m->spec, calendar);
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

}  // namespace oee::storage::sqlite

namespace oee::storage {

std::unique_ptr<EventStore> open_sqlite_store(const std::string& path, const PlantModel& plant,
                                              const ShiftCalendar& calendar, const StoreOptions& options) {
  return std::make_unique<sqlite::SqliteEventStore>(path, plant, calendar, options);
}

}  // namespace oee::storage
