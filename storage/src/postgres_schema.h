#pragma once
// The PostgreSQL schema as an ordered list of migrations (append only), applied under an advisory
// lock so that several servers starting at once migrate exactly once.
#include "postgres_connection.h"

namespace oee::storage::pg {

inline constexpr int kSchemaVersion = 2;
int schema_version(Connection& db);
// Migrates up to `up_to` (default: the latest). Throws when the database is newer than this build.
int migrate(Connection& db, int up_to = kSchemaVersion);

// The columns of an event row, in COPY order.
#define OEE_PG_EVENT_COLUMNS \
  "machine_id, ts, id_src, id_key, type, src_id, seq, state, reason, good, reject, counter, value, rollover, product, at"

}  // namespace oee::storage::pg
