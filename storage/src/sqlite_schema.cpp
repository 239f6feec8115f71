#include "sqlite_schema.h"

#include <ctime>
#include <string>

namespace oee::storage::sqlite {

namespace {

// The KPI columns of a rollup row as migration 1 created them (migration 6 appended no_data_ms):
// released migrations keep their text; the store reads and writes the columns of OEE_KPI_FIELDS
// (kpi_columns.h).
#define OEE_ROLLUP_COLUMNS                                                                                 \
  "all_ms INTEGER NOT NULL, unknown_ms INTEGER NOT NULL, planned_downtime_ms INTEGER NOT NULL, "           \
  "running_ms INTEGER NOT NULL, small_stop_ms INTEGER NOT NULL, breakdown_ms INTEGER NOT NULL, "           \
  "setup_ms INTEGER NOT NULL, starved_ms INTEGER NOT NULL, blocked_ms INTEGER NOT NULL, "                   \
  "unscheduled_running_ms INTEGER NOT NULL, good_count INTEGER NOT NULL, reject_count INTEGER NOT NULL, "  \
  "startup_reject_count INTEGER NOT NULL, ideal_us INTEGER NOT NULL, reject_ideal_us INTEGER NOT NULL, "   \
  "startup_reject_ideal_us INTEGER NOT NULL, breakdown_count INTEGER NOT NULL, stop_count INTEGER NOT NULL"

struct Migration {
  int version;
  const char* sql;
};

// Append only: a released migration never changes, a new one gets the next number.
const Migration kMigrations[] = {
    {1,
     // Machines and sources get small integer ids: events carry integers, not paths.
     // settled_hour: rollups are authoritative for every hour before it (docs/storage.md).
     "CREATE TABLE meta(key TEXT PRIMARY KEY, value) WITHOUT ROWID;"
     "CREATE TABLE machines(id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE,"
     " settled_hour INTEGER NOT NULL, has_total_counter INTEGER NOT NULL DEFAULT 0);"
     "CREATE TABLE sources(id INTEGER PRIMARY KEY, src TEXT NOT NULL UNIQUE, events INTEGER NOT NULL DEFAULT 0,"
     " seq_min INTEGER NOT NULL DEFAULT -1, seq_max INTEGER NOT NULL DEFAULT -1, last_seen INTEGER NOT NULL DEFAULT 0,"
     " clock_offset_ms INTEGER NOT NULL DEFAULT 0, future_events INTEGER NOT NULL DEFAULT 0);"
     "CREATE TABLE source_gaps(src_id INTEGER NOT NULL, first INTEGER NOT NULL, last INTEGER NOT NULL,"
     " PRIMARY KEY(src_id, first)) WITHOUT ROWID;"
     // The dedup guarantee: one row per stored event identity, (id_src, id_key) = (source id, seq)
     // for events with src+seq, (-machine id, content fingerprint) for the others. Rows are just
     // keys; sources (edge agents) number their events, so inserts append to a few runs.
     "CREATE TABLE event_ids(id_src INTEGER NOT NULL, id_key INTEGER NOT NULL, hour_start INTEGER NOT NULL,"
     " PRIMARY KEY(id_src, id_key)) WITHOUT ROWID;"
     // The events themselves, per machine and UTC hour, as blocks of compactly encoded events (one
     // block per machine, hour and append): an append writes ~one row per machine instead of one
     // index entry per event at ~1,000 scattered places (sqlite_event_store.cpp, encode_events()).
     "CREATE TABLE event_blocks(machine_id INTEGER NOT NULL, hour_start INTEGER NOT NULL, block INTEGER NOT NULL,"
     " events INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY(machine_id, hour_start, block)) WITHOUT ROWID;"
     // The product in effect and each counter's last reading at an hour start (encoded events), one
     // row where it changed: the context of any window without scanning back.
     "CREATE TABLE contexts(machine_id INTEGER NOT NULL, hour_start INTEGER NOT NULL, data BLOB NOT NULL,"
     " PRIMARY KEY(machine_id, hour_start)) WITHOUT ROWID;"
     // Starts of the settled state intervals (canonical state codes), for the context of a window.
     "CREATE TABLE state_changes(machine_id INTEGER NOT NULL, ts INTEGER NOT NULL, ord INTEGER NOT NULL,"
     " state INTEGER NOT NULL, PRIMARY KEY(machine_id, ts, ord)) WITHOUT ROWID;"
     "CREATE TABLE rollups(machine_id INTEGER NOT NULL, hour_start INTEGER NOT NULL, " OEE_ROLLUP_COLUMNS
     ", PRIMARY KEY(machine_id, hour_start)) WITHOUT ROWID;"
     "CREATE TABLE dead_letters(id INTEGER PRIMARY KEY AUTOINCREMENT, received INTEGER NOT NULL,"
     " topic TEXT NOT NULL, payload BLOB NOT NULL, reason TEXT NOT NULL);"},
    {2,
     // Cumulative rollups: each hour row holds the machine's totals from its first rollup hour up to
     // the end of that hour, so whole hours [a, b) are one difference of two rows, however long the
     // window (a plant of 1,000 machines over a month reads 2,000 rows, not 744,000). rollup_zero_hour
     // is the hour whose cumulative value is the zero point (zero before the first hour, rollup_zero
     // after retention). A version-1 file's hourly rows are summed up here.
     "CREATE TABLE rollups_cumulative(machine_id INTEGER NOT NULL, hour_start INTEGER NOT NULL, " OEE_ROLLUP_COLUMNS
     ", PRIMARY KEY(machine_id, hour_start)) WITHOUT ROWID;"
     "INSERT INTO rollups_cumulative SELECT machine_id, hour_start,"
     " sum(all_ms) OVER w, sum(unknown_ms) OVER w, sum(planned_downtime_ms) OVER w, sum(running_ms) OVER w,"
     " sum(small_stop_ms) OVER w, sum(breakdown_ms) OVER w, sum(setup_ms) OVER w, sum(starved_ms) OVER w,"
     " sum(blocked_ms) OVER w, sum(unscheduled_running_ms) OVER w, sum(good_count) OVER w, sum(reject_count) OVER w,"
     " sum(startup_reject_count) OVER w, sum(ideal_us) OVER w, sum(reject_ideal_us) OVER w,"
     " sum(startup_reject_ideal_us) OVER w, sum(breakdown_count) OVER w, sum(stop_count) OVER w FROM rollups"
     " WINDOW w AS (PARTITION BY machine_id ORDER BY hour_start ROWS UNBOUNDED PRECEDING);"
     "DROP TABLE rollups;"
     "ALTER TABLE rollups_cumulative RENAME TO rollups;"
     // The cumulative value at the zero point when it is not zero: the last hour before a retention
     // cutoff, whose row retention deleted.
     "CREATE TABLE rollup_zero(machine_id INTEGER PRIMARY KEY, " OEE_ROLLUP_COLUMNS ");"
     "ALTER TABLE machines ADD COLUMN rollup_zero_hour INTEGER NOT NULL DEFAULT 0;"
     "UPDATE machines SET rollup_zero_hour=coalesce((SELECT min(hour_start) FROM rollups WHERE machine_id=machines.id),"
     " settled_hour) - 3600000;"},
    {3,
     // Event blocks keyed by time (hour, then a global block counter): an append adds its blocks at
     // the end of the table instead of one at each machine's place, so a batch over 1,000 machines
     // dirties a few hundred pages, not a thousand leaves. A machine's blocks of an hour are found
     // through (hour_start, machine_id); last_hour bounds a machine's hours.
     "CREATE TABLE event_blocks_by_time(hour_start INTEGER NOT NULL, block INTEGER NOT NULL,"
     " machine_id INTEGER NOT NULL, events INTEGER NOT NULL, data BLOB NOT NULL,"
     " PRIMARY KEY(hour_start, block)) WITHOUT ROWID;"
     "INSERT INTO event_blocks_by_time SELECT hour_start, block, machine_id, events, data FROM event_blocks;"
     "DROP TABLE event_blocks;"
     "ALTER TABLE event_blocks_by_time RENAME TO event_blocks;"
     "CREATE INDEX event_blocks_by_machine ON event_blocks(hour_start, machine_id);"
     "ALTER TABLE machines ADD COLUMN last_hour INTEGER NOT NULL DEFAULT 0;"
     "UPDATE machines SET last_hour=coalesce((SELECT max(hour_start) FROM event_blocks WHERE machine_id=machines.id), 0);"},
    {4,
     // The cumulative rollups by hour, covering: a group's whole hours (a line, the plant) are one
     // short range of this index per boundary hour instead of a seek per machine (machines_totals).
     // One more index entry per machine and settled hour; events are untouched.
     "CREATE INDEX rollups_by_hour ON rollups(hour_start, machine_id, all_ms, unknown_ms, planned_downtime_ms,"
     " running_ms, small_stop_ms, breakdown_ms, setup_ms, starved_ms, blocked_ms, unscheduled_running_ms, good_count,"
     " reject_count, startup_reject_count, ideal_us, reject_ideal_us, startup_reject_ideal_us, breakdown_count,"
     " stop_count);"},
    {5,
     // Events with src+seq are deduplicated against their source's sequence range and gaps
     // (sources, source_gaps), not one event_ids row each: event_ids keeps only the identities by
     // content of events without src+seq.
     "DELETE FROM event_ids WHERE id_src>0;"},
    {6,
     // No-data time (KpiTotals::no_data_ms, docs/oee-model.md): zero in every existing row, as
     // before it was counted. The covering index of a group's hours takes the new column too.
     "ALTER TABLE rollups ADD COLUMN no_data_ms INTEGER NOT NULL DEFAULT 0;"
     "ALTER TABLE rollup_zero ADD COLUMN no_data_ms INTEGER NOT NULL DEFAULT 0;"
     "DROP INDEX rollups_by_hour;"
     "CREATE INDEX rollups_by_hour ON rollups(hour_start, machine_id, all_ms, unknown_ms, planned_downtime_ms,"
     " running_ms, small_stop_ms, breakdown_ms, setup_ms, starved_ms, blocked_ms, unscheduled_running_ms, good_count,"
     " reject_count, startup_reject_count, ideal_us, reject_ideal_us, startup_reject_ideal_us, breakdown_count,"
     " stop_count, no_data_ms);"},
    {7,
     // A source is its src and its incarnation: an edge whose queue was wiped numbers its events
     // from 0 again under a new incarnation, a new row here (ids, and so every stored event's
     // source, are kept).
     "CREATE TABLE sources_by_incarnation(id INTEGER PRIMARY KEY, src TEXT NOT NULL, incarnation TEXT NOT NULL DEFAULT '',"
     " events INTEGER NOT NULL DEFAULT 0, seq_min INTEGER NOT NULL DEFAULT -1, seq_max INTEGER NOT NULL DEFAULT -1,"
     " last_seen INTEGER NOT NULL DEFAULT 0, clock_offset_ms INTEGER NOT NULL DEFAULT 0,"
     " future_events INTEGER NOT NULL DEFAULT 0, UNIQUE(src, incarnation));"
     "INSERT INTO sources_by_incarnation(id, src, events, seq_min, seq_max, last_seen, clock_offset_ms, future_events)"
     " SELECT id, src, events, seq_min, seq_max, last_seen, clock_offset_ms, future_events FROM sources;"
     "DROP TABLE sources;"
     "ALTER TABLE sources_by_incarnation RENAME TO sources;"
     // Events sent again under a stored identity with other content: both versions, each received
     // version once (fingerprint: content_fingerprint of it).
     "CREATE TABLE conflicts(id INTEGER PRIMARY KEY AUTOINCREMENT, received INTEGER NOT NULL, src TEXT NOT NULL,"
     " incarnation TEXT NOT NULL, seq INTEGER NOT NULL, machine TEXT NOT NULL, stored TEXT NOT NULL,"
     " version TEXT NOT NULL, fingerprint INTEGER NOT NULL, UNIQUE(src, incarnation, seq, fingerprint));"},
    {8,
     // Operators' comments on stops, with the store (they were in each server's auth.sqlite; the
     // server moves them here at start, import_stop_comments). A comment is kept once.
     "CREATE TABLE stop_comments(id INTEGER PRIMARY KEY, machine TEXT NOT NULL, stop_start INTEGER NOT NULL,"
     " created INTEGER NOT NULL, author TEXT NOT NULL, text TEXT NOT NULL,"
     " UNIQUE(machine, stop_start, created, author, text));"},
    {9,
     // Reason events again (and state events sent with a reason), by the instant they name (encoded as in the blocks): a window's partial
     // hours find a reason given after the window's end without reading every later hour
     // (sqlite_late_reasons.cpp). A file's older reasons are copied in when it is opened.
     "CREATE TABLE reason_events(id INTEGER PRIMARY KEY, machine_id INTEGER NOT NULL, at INTEGER NOT NULL,"
     " ts INTEGER NOT NULL, data BLOB NOT NULL);"
     "CREATE INDEX reason_events_by_at ON reason_events(machine_id, at);"
     "INSERT OR REPLACE INTO meta(key, value) VALUES('reason_events_filled', 0);"},
    {10,
     // The plant's alerts (alert_monitor.h): kept across restarts. One firing alert per id.
     "CREATE TABLE alerts(seq INTEGER PRIMARY KEY, id TEXT NOT NULL, rule TEXT NOT NULL, kind TEXT NOT NULL,"
     " subject TEXT NOT NULL, fired INTEGER NOT NULL, resolved INTEGER, acknowledged_by TEXT, acknowledged INTEGER);"
     "CREATE UNIQUE INDEX alerts_one_firing ON alerts(id) WHERE resolved IS NULL;"
     "CREATE INDEX alerts_by_id ON alerts(id, seq);"
     "CREATE INDEX alerts_by_resolution ON alerts(resolved) WHERE resolved IS NOT NULL;"},
    {11,
     // Corrections (history_corrections.h), by the range they correct [at, until) (an instant:
     // until = at + 1), not in the blocks: a window's history takes those that overlap it, however
     // long after it they were made (sqlite_corrections.cpp). No older file holds any.
     "CREATE TABLE correction_events(id INTEGER PRIMARY KEY, machine_id INTEGER NOT NULL, at INTEGER NOT NULL,"
     " until INTEGER NOT NULL, ts INTEGER NOT NULL, data BLOB NOT NULL);"
     "CREATE INDEX correction_events_by_at ON correction_events(machine_id, at);"},
    {12,
     // An alert's episode start in its condition's own clock (Alert::since: the same episode seen
     // again is not fired again, whatever the machine's clock skew) and why it resolved (a rule or
     // node removed from the plant file). Older alerts: their firing time and 'cleared', as before.
     "ALTER TABLE alerts ADD COLUMN since INTEGER;"
     "ALTER TABLE alerts ADD COLUMN resolved_reason TEXT;"
     "UPDATE alerts SET since=fired;"
     "UPDATE alerts SET resolved_reason='cleared' WHERE resolved IS NOT NULL;"},
    {13,
     // Run events again, beside their blocks (encoded as in them): a machine's runs are read
     // without its other events (GET /api/v1/kpis?by=run, sqlite_run_events.cpp). A file's older
     // run events are copied in when it is opened.
     "CREATE TABLE run_events(id INTEGER PRIMARY KEY, machine_id INTEGER NOT NULL, ts INTEGER NOT NULL,"
     " data BLOB NOT NULL);"
     "CREATE INDEX run_events_by_ts ON run_events(machine_id, ts);"
     "INSERT OR REPLACE INTO meta(key, value) VALUES('run_events_filled', 0);"},
};

}  // namespace

int schema_version(Database& db) {
  Statement exists(db, "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='schema_version'");
  exists.step();
  if (exists.int_at(0) == 0) return 0;
  Statement v(db, "SELECT coalesce(max(version), 0) FROM schema_version");
  v.step();
  return static_cast<int>(v.int_at(0));
}

void migrate(Database& db, int up_to) {
  db.exec("CREATE TABLE IF NOT EXISTS schema_version(version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)");
  const int current = schema_version(db);
  if (current > kSchemaVersion)
    throw std::runtime_error("sqlite: the file has schema version " + std::to_string(current) +
                             ", newer than this build understands (" + std::to_string(kSchemaVersion) + ")");
  for (const Migration& m : kMigrations) {
    if (m.version <= current || m.version > up_to) continue;
    Transaction tx(db);
    db.exec(m.sql);
    Statement record(db, "INSERT INTO schema_version(version, applied_at) VALUES(?, ?)");
    record.bind(1, m.version).bind(2, static_cast<std::int64_t>(std::time(nullptr)) * 1000).run();
    tx.commit();
  }
}

}  // namespace oee::storage::sqlite
