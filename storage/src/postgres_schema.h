#pragma once
// The PostgreSQL schema as an ordered list of migrations (append only), applied under an advisory
// lock so that several servers starting at once migrate exactly once.
#include "postgres_connection.h"

// The events that give a stop its reason, and the instant they name (a reason event's `at`, a
// state event's own ts): migration 11's index and the reads that use it (postgres_late_reasons.cpp)
// spell them alike, so that the index serves the reads. Migration 11 keeps this text.
#define OEE_PG_GIVES_REASON "(type=4 OR (type=0 AND reason<>''))"
#define OEE_PG_NAMED_INSTANT "(CASE WHEN type=4 THEN at ELSE ts END)"

namespace oee::storage::pg {

inline constexpr int kSchemaVersion = 15;
int schema_version(Connection& db);
// Migrates up to `up_to` (default: the latest). Throws when the database is newer than this build.
int migrate(Connection& db, int up_to = kSchemaVersion);

// Keeps the daily rollups of machine `$1` for the whole days of hours [$2, $3) whose 24 hours are all
// materialised (run under the machine's row lock, see migration 3). Needs kpi_columns.h.
#define OEE_PG_FILL_ROLLUP_DAYS                                                                              \
  "INSERT INTO rollup_days SELECT machine_id, " OEE_PG_DAY_OF_HOUR " AS day, " OEE_KPI_SUMS                   \
  " FROM rollups WHERE machine_id=$1 AND hour_start>=$2 AND hour_start<$3"                                 \
  " GROUP BY machine_id, day HAVING count(*) = 24 ON CONFLICT DO NOTHING"
#define OEE_PG_DAY_OF_HOUR "hour_start - ((hour_start % 86400000) + 86400000) % 86400000"

// The columns of an event row, in COPY order.
#define OEE_PG_EVENT_COLUMNS \
  "machine_id, ts, id_src, id_key, type, src_id, seq, state, reason, good, reject, counter, value, rollover, product, at"

}  // namespace oee::storage::pg
