#include "postgres_schema.h"

#include <string>

namespace oee::storage::pg {

namespace {

// The KPI columns as migration 1 created them (migration 6 appended no_data_ms): released migrations
// keep their text; the stores read and write the columns of OEE_KPI_FIELDS (kpi_columns.h).
#define OEE_PG_ROLLUP_COLUMNS                                                                              \
  "all_ms bigint NOT NULL, unknown_ms bigint NOT NULL, planned_downtime_ms bigint NOT NULL, "              \
  "running_ms bigint NOT NULL, small_stop_ms bigint NOT NULL, breakdown_ms bigint NOT NULL, "              \
  "setup_ms bigint NOT NULL, starved_ms bigint NOT NULL, blocked_ms bigint NOT NULL, "                     \
  "unscheduled_running_ms bigint NOT NULL, good_count bigint NOT NULL, reject_count bigint NOT NULL, "     \
  "startup_reject_count bigint NOT NULL, ideal_us bigint NOT NULL, reject_ideal_us bigint NOT NULL, "      \
  "startup_reject_ideal_us bigint NOT NULL, breakdown_count bigint NOT NULL, stop_count bigint NOT NULL"

// Their sums, for migration 3's daily rows over the hours.
#define OEE_PG_ROLLUP_SUMS                                                                                   \
  "sum(all_ms), sum(unknown_ms), sum(planned_downtime_ms), sum(running_ms), sum(small_stop_ms),"            \
  " sum(breakdown_ms), sum(setup_ms), sum(starved_ms), sum(blocked_ms), sum(unscheduled_running_ms),"      \
  " sum(good_count), sum(reject_count), sum(startup_reject_count), sum(ideal_us), sum(reject_ideal_us),"    \
  " sum(startup_reject_ideal_us), sum(breakdown_count), sum(stop_count)"

struct Migration {
  int version;
  const char* sql;
};

// Append only: a released migration never changes, a new one gets the next number.
const Migration kMigrations[] = {
    {1,
     // Machines and sources get small integer ids. Per machine: its stored event count (so that no
     // statement counts a 10M-row table), the range of its event times, whether it ever had a total
     // counter (the engine's rejects-are-part-of-the-total rule is a property of the whole set),
     // a version bumped by every append (rollups computed from an older version are not written),
     // the end of its materialised rollup hours, and the kinds of context events it ever had (bits:
     // 1 product, 2/4/8 total/good/reject counter) so that a window's context looks only for those.
     "CREATE TABLE machines(id serial PRIMARY KEY, path text NOT NULL UNIQUE, events bigint NOT NULL DEFAULT 0,"
     " min_ts bigint, max_ts bigint, has_total_counter boolean NOT NULL DEFAULT false,"
     " version bigint NOT NULL DEFAULT 0, rollup_end bigint NOT NULL DEFAULT -2305843009213693952,"
     " kinds integer NOT NULL DEFAULT 0);"
     "CREATE TABLE sources(id serial PRIMARY KEY, src text NOT NULL UNIQUE, events bigint NOT NULL DEFAULT 0,"
     " seq_min bigint NOT NULL DEFAULT -1, seq_max bigint NOT NULL DEFAULT -1, last_seen bigint NOT NULL DEFAULT 0,"
     " clock_offset_ms bigint NOT NULL DEFAULT 0, future_events bigint NOT NULL DEFAULT 0);"
     // The event log, partitioned by day of ts (partitions are created ahead by the store). The
     // unique key is the dedup guarantee: (id_src, id_key) = (source id, seq) for events with
     // src+seq, (-machine id, content fingerprint) for the others; a unique key of a partitioned
     // table must contain the partition key, hence ts (docs/storage.md: what that guarantees).
     "CREATE TABLE events(machine_id integer NOT NULL, ts bigint NOT NULL, id_src bigint NOT NULL,"
     " id_key bigint NOT NULL, type smallint NOT NULL, src_id integer NOT NULL, seq bigint NOT NULL,"
     " state text NOT NULL, reason text NOT NULL, good bigint NOT NULL, reject bigint NOT NULL,"
     " counter smallint NOT NULL, value bigint NOT NULL, rollover bigint NOT NULL, product text NOT NULL,"
     " at bigint NOT NULL, PRIMARY KEY(id_src, id_key, ts)) PARTITION BY RANGE (ts);"
     "CREATE INDEX events_machine_ts ON events(machine_id, ts);"
     // What retention keeps of dropped partitions: the events that later windows still need as
     // context (the state intervals before the cut, the product in effect, each counter's last
     // reading).
     "CREATE TABLE context_events(machine_id integer NOT NULL, ts bigint NOT NULL, id_src bigint NOT NULL,"
     " id_key bigint NOT NULL, type smallint NOT NULL, src_id integer NOT NULL, seq bigint NOT NULL,"
     " state text NOT NULL, reason text NOT NULL, good bigint NOT NULL, reject bigint NOT NULL,"
     " counter smallint NOT NULL, value bigint NOT NULL, rollover bigint NOT NULL, product text NOT NULL,"
     " at bigint NOT NULL);"
     "CREATE INDEX context_events_machine_ts ON context_events(machine_id, ts);"
     "CREATE VIEW history_events AS SELECT " OEE_PG_EVENT_COLUMNS " FROM events UNION ALL SELECT "
     OEE_PG_EVENT_COLUMNS " FROM context_events;"
     // Hourly KPI totals (UTC hours) of settled hours: a cache of the engine, see docs/storage.md.
     "CREATE TABLE rollups(machine_id integer NOT NULL, hour_start bigint NOT NULL, " OEE_PG_ROLLUP_COLUMNS
     ", PRIMARY KEY(machine_id, hour_start));"
     "CREATE TABLE dead_letters(id bigserial PRIMARY KEY, received bigint NOT NULL, topic bytea NOT NULL,"
     " payload bytea NOT NULL, reason bytea NOT NULL);"},
    {2,
     // One index on events instead of two (ingest pays for every index, about half its time for the
     // second): the unique key leads with (machine_id, ts), so it also serves every read. An event
     // identity belongs to one machine, so the dedup guarantee is unchanged. The gaps in each
     // source's sequence numbers, which the old key's (id_src, id_key) order answered, are kept in
     // source_gaps by every append (filled from the stored events here).
     "ALTER TABLE events DROP CONSTRAINT events_pkey;"
     "DROP INDEX events_machine_ts;"
     "ALTER TABLE events ADD PRIMARY KEY (machine_id, ts, id_src, id_key);"
     "CREATE TABLE source_gaps(src_id integer NOT NULL, first bigint NOT NULL, last bigint NOT NULL,"
     " PRIMARY KEY(src_id, first));"
     "INSERT INTO source_gaps SELECT id_src, id_key + 1, next - 1 FROM (SELECT id_src, id_key,"
     " lead(id_key) OVER (PARTITION BY id_src ORDER BY id_key) AS next FROM events WHERE id_src > 0) x"
     " WHERE next > id_key + 1;"},
    {3,
     // Daily totals over the hourly rollups, so that a month of a plant sums ~30 rows per machine
     // instead of ~720. A day row exists only while all 24 of its hours do, and equals their sum:
     // written with them under the machine's row lock, deleted with them (late events, retention).
     "CREATE TABLE rollup_days(machine_id integer NOT NULL, day_start bigint NOT NULL, " OEE_PG_ROLLUP_COLUMNS
     ", PRIMARY KEY(machine_id, day_start));"
     "INSERT INTO rollup_days SELECT machine_id, " OEE_PG_DAY_OF_HOUR " AS day, " OEE_PG_ROLLUP_SUMS
     " FROM rollups GROUP BY machine_id, day HAVING count(*) = 24;"},
    {4,
     // Every append updates the rows of the machines and sources it touched (1,000 rows for a batch
     // of a large plant). With room on their pages the updates stay heap-only (HOT): no new index
     // entries, no bloat, about 40% less time. Rows written before move to such pages on their next
     // update.
     "ALTER TABLE machines SET (fillfactor = 20);"
     "ALTER TABLE sources SET (fillfactor = 20);"},
    {5,
     // Per machine, the events a window starting at the end of its materialised hours needs from
     // before that instant (the start of the state run in effect, the events since, the context
     // before): a group's open tail then reads only its own hour instead of a lead and the context
     // of every machine. Written with the rollups under the machine's row lock, deleted with them
     // (late events, retention). Events in the store's compact block form (event_block_codec.h).
     // Also the sums of the hours of `at`'s day before `at` (partial_hours of them), so that a
     // group's sum reads one row for them instead of up to 23 hours.
     "CREATE TABLE machine_carry(machine_id integer PRIMARY KEY, at bigint NOT NULL, events bytea NOT NULL,"
     " partial_hours bigint NOT NULL, " OEE_PG_ROLLUP_COLUMNS ");"},
    {6,
     // No-data time (KpiTotals::no_data_ms, docs/oee-model.md), appended to every table of totals:
     // zero in the existing rows, as before it was counted.
     "ALTER TABLE rollups ADD COLUMN no_data_ms bigint NOT NULL DEFAULT 0;"
     "ALTER TABLE rollup_days ADD COLUMN no_data_ms bigint NOT NULL DEFAULT 0;"
     "ALTER TABLE machine_carry ADD COLUMN no_data_ms bigint NOT NULL DEFAULT 0;"},
    {7,
     // A source is its src and its incarnation: an edge whose queue was wiped numbers its events
     // from 0 again under a new incarnation, a new row here.
     "ALTER TABLE sources ADD COLUMN incarnation text NOT NULL DEFAULT '';"
     "ALTER TABLE sources DROP CONSTRAINT sources_src_key;"
     "ALTER TABLE sources ADD CONSTRAINT sources_src_incarnation_key UNIQUE (src, incarnation);"
     // Events sent again under a stored identity with other content: both versions, each received
     // version once (fingerprint: content_fingerprint of it).
     "CREATE TABLE conflicts(id bigserial PRIMARY KEY, received bigint NOT NULL, src text NOT NULL,"
     " incarnation text NOT NULL, seq bigint NOT NULL, machine text NOT NULL, stored text NOT NULL,"
     " version text NOT NULL, fingerprint bigint NOT NULL, UNIQUE (src, incarnation, seq, fingerprint));"},
    {8,
     // The rules the machine's rollups are made with (rollup_rules.h): a store opened with other
     // rules (a changed plant file) drops them. NULL: not known (rollups made before this column).
     "ALTER TABLE machines ADD COLUMN rules text;"},
    {9,
     // Operators' comments on stops, shared by every server of the database (they were in each
     // server's auth.sqlite; a server moves its own here at start, import_stop_comments). A comment is
     // kept once; the key holds md5(text): a btree entry cannot hold any text.
     "CREATE TABLE stop_comments(id bigserial PRIMARY KEY, machine text NOT NULL, stop_start bigint NOT NULL,"
     " created bigint NOT NULL, author text NOT NULL, text text NOT NULL);"
     "CREATE UNIQUE INDEX stop_comments_once ON stop_comments(machine, stop_start, created, author, md5(text));"
     "CREATE INDEX stop_comments_by_stop ON stop_comments(machine, stop_start);"},
    {10,
     // The cut of the last retention run: events older than it are refused (dead-lettered), they
     // could only change history retention deleted. One row; none until the first run after this.
     "CREATE TABLE retention_cut(one boolean PRIMARY KEY DEFAULT true CHECK (one), cut bigint NOT NULL);"},
    {11,
     // The events that give a stop its reason (reason events, state events sent with a reason) by
     // the instant they name: a window's history takes those given after its end
     // (postgres_late_reasons.cpp). Partial: ingest pays only for these.
     "CREATE INDEX events_reasons_by_instant ON events(machine_id, (" OEE_PG_NAMED_INSTANT "))"
     " WHERE " OEE_PG_GIVES_REASON ";"},
    {12,
     // The plant's alerts (alert_monitor.h), shared by every server of the database. One firing
     // alert per id: a second server firing it at once inserts nothing, and so notifies nothing.
     "CREATE TABLE alerts(seq bigserial PRIMARY KEY, id text NOT NULL, rule text NOT NULL, kind text NOT NULL,"
     " subject text NOT NULL, fired bigint NOT NULL, resolved bigint, acknowledged_by text, acknowledged bigint);"
     "CREATE UNIQUE INDEX alerts_one_firing ON alerts(id) WHERE resolved IS NULL;"
     "CREATE INDEX alerts_by_id ON alerts(id, seq);"
     "CREATE INDEX alerts_by_resolution ON alerts(resolved) WHERE resolved IS NOT NULL;"},
    {13,
     // Corrections (type 8) by the instant they correct from: a window's history takes those whose
     // range overlaps it, however long after it they were made (postgres_corrections.cpp).
     "CREATE INDEX events_corrections_by_at ON events(machine_id, at) WHERE type=8;"},
    {14,
     // An alert's episode start in its condition's own clock and why it resolved (sqlite_schema.cpp,
     // migration 12). Older alerts: their firing time and 'cleared', as before.
     "ALTER TABLE alerts ADD COLUMN since bigint, ADD COLUMN resolved_reason text;"
     "UPDATE alerts SET since=fired;"
     "UPDATE alerts SET resolved_reason='cleared' WHERE resolved IS NOT NULL;"},
    {15,
     // Run events (type 7) by time: a machine's runs are read without its other events
     // (GET /api/v1/kpis?by=run, postgres_run_events.cpp). Partial: ingest pays only for these.
     "CREATE INDEX events_runs_by_ts ON events(machine_id, ts) WHERE type=7;"},
};

}  // namespace

int schema_version(Connection& db) {
  Result exists = db.query("SELECT to_regclass('schema_version') IS NOT NULL");
  if (exists.int_at(0, 0) == 0) return 0;
  return static_cast<int>(db.query("SELECT coalesce(max(version), 0) FROM schema_version").int_at(0, 0));
}

int migrate(Connection& db, int up_to) {
  Transaction tx(db);
  // One migrator at a time across every server sharing the database.
  db.exec("SELECT pg_advisory_xact_lock(7302650001)");
  db.exec("CREATE TABLE IF NOT EXISTS schema_version(version integer PRIMARY KEY, applied_at bigint NOT NULL)");
  const int current = schema_version(db);
  if (current > kSchemaVersion)
    throw PgError("postgresql: the database has schema version " + std::to_string(current) +
                      ", newer than this build understands (" + std::to_string(kSchemaVersion) + ")",
                  false);
  int reached = current;
  for (const Migration& m : kMigrations) {
    if (m.version <= current || m.version > up_to) continue;
    db.exec(m.sql);
    db.query("INSERT INTO schema_version(version, applied_at) VALUES($1, (extract(epoch from now()) * 1000)::bigint)",
             Params().add(m.version));
    reached = m.version;
  }
  tx.commit();
  return reached;
}

}  // namespace oee::storage::pg
