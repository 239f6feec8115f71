#pragma once
// The PostgreSQL backend of the storage interface (docs/storage.md, "PostgreSQL"): events in a
// table partitioned by day, idempotent ingest by COPY into a staging table then INSERT ... ON
// CONFLICT DO NOTHING, hourly rollups materialised on first read and invalidated by late events,
// versioned migrations, retention by dropping whole partitions. Several servers may share one
// database, each ingesting its own machines; every one reads the whole plant.
#include <memory>
#include <string>
#include <string_view>

#include "oee/storage/event_store.h"

namespace oee::storage {

// True for "postgresql://..." and "postgres://..." (libpq connection URIs).
bool is_postgres_url(std::string_view url);

// Applies the schema migrations that `url`'s database lacks; returns the schema version reached.
// Safe to run from several servers at once (an advisory lock serialises them). Throws when the
// database has a newer schema than this build.
int migrate_postgres(const std::string& url);
// The schema version of the database (0: empty).
int postgres_schema_version(const std::string& url);
int postgres_latest_schema_version();

// Opens the store (migrating when needed). Throws when the database cannot be reached.
std::unique_ptr<EventStore> open_postgres_store(const std::string& url, const PlantModel& plant,
                                                const ShiftCalendar& calendar, const StoreOptions& options = {});

}  // namespace oee::storage
