#pragma once
// Stop comments used to live in each server's own SQLite file (auth.sqlite, table stop_comments),
// so servers sharing one PostgreSQL each kept their own. They now live in the store; this moves the
// old ones there once.
#include <cstdint>
#include <string>

#include "oee/storage/event_store.h"

namespace oee::storage {

// Adds every comment of `sqlite_file`'s stop_comments table to `store`, then renames that table to
// stop_comments_moved (kept as it was, read by nothing). Returns how many were moved; 0 when the
// file or the table is not there (already moved, or a server that never had comments). Idempotent
// even if interrupted: the store keeps a comment once. `key`: the file's encryption key, if any.
std::int64_t import_stop_comments(const std::string& sqlite_file, EventStore& store,
                                  const std::array<unsigned char, 32>* key = nullptr);

}  // namespace oee::storage
