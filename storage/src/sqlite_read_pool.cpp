// Reads beside writes: the pool of read-only connections, their statements and pinned snapshots.
#include "sqlite_event_store.h"

namespace oee::storage::sqlite {

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
    return std::make_unique<ReadConnection>(path_, key());
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
  select_late_reasons =
      Statement(db, "SELECT data FROM reason_events WHERE machine_id=?1 AND at>=?2 AND ts>=?3 ORDER BY at");
  select_next_change =
      Statement(db, "SELECT ts FROM state_changes WHERE machine_id=?1 AND ts>?2 ORDER BY ts, ord LIMIT 1");
  select_corrections =
      Statement(db, "SELECT data FROM correction_events WHERE machine_id=?1 AND at<?3 AND until>?2 ORDER BY id");
  select_run_events = Statement(db, "SELECT data FROM run_events WHERE machine_id=?1 AND ts<?2 ORDER BY ts, id");
}

}  // namespace oee::storage::sqlite
