#pragma once
// The SQLite schema as an ordered list of migrations. schema_version records each applied one;
// opening a file written by an older build applies the missing migrations in order, each in its
// own transaction.
#include "sqlite_db.h"

namespace oee::storage::sqlite {

inline constexpr int kSchemaVersion = 13;

// The highest applied migration, 0 for an empty file.
int schema_version(Database& db);
// Applies migrations (schema_version, up_to]; up_to below kSchemaVersion serves migration tests.
void migrate(Database& db, int up_to = kSchemaVersion);

}  // namespace oee::storage::sqlite
