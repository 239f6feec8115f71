#pragma once
// A consistent copy of a database that others may be writing (SQLite's online backup API).
#include <string>

#include "oee/sqlite/encrypting_vfs.h"

namespace oee::sqlite {

// Copies the database at `from` into a new file `to` (which must not exist), `pages_per_step`
// pages at a time. The source is read inside one read transaction, so the copy is the database as
// of the moment the backup began even while another connection or process keeps writing. In WAL
// mode (the store's and auth.sqlite's) that writer is never blocked: a reader only holds back
// checkpoints. (In rollback-journal mode a writer would wait for the whole copy, up to its busy
// timeout.) Steps keep each call short. Opens both files through `Database`, so whatever that does to
// open a file (its VFS, a key) applies to backups too. Returns the pages copied; throws
// std::runtime_error with SQLite's message.
int online_backup(const std::string& from, const std::string& to, int pages_per_step = 1024);

// The same for an encrypted database: `from` is opened with `key`, and `to` is created encrypted
// with it, so every page is decrypted in memory only and written encrypted again: the copy is never
// plain on disk, and it opens with the same key as the original.
int online_backup(const std::string& from, const std::string& to, const PageKey& key, int pages_per_step = 1024);

}  // namespace oee::sqlite
