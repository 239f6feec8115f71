#pragma once
// The SQLite RAII layer now lives in its own component (sqlite/, oee/sqlite/sqlite_db.h). Storage
// keeps naming its types storage::sqlite::*, beside its own migrate() and schema_version()
// (sqlite_schema.h), so the store's sources did not have to change.
#include "oee/sqlite/sqlite_db.h"

namespace oee::storage::sqlite {
using oee::sqlite::Database;
using oee::sqlite::PageKey;
using oee::sqlite::Statement;
using oee::sqlite::Transaction;
}  // namespace oee::storage::sqlite
