#pragma once
// Backup and restore of a server's data directory (`oee backup`, `oee restore`, `oee serve
// --backup-dir`): its SQLite databases (the store oee.sqlite, the accounts and audit chain
// auth.sqlite) copied with SQLite's online backup, so the server may keep ingesting, and its small
// state files (server-id, demo-start, demo-logins.txt) copied as they are.
#include <filesystem>

#include "oee/storage/backup_manifest.h"

namespace oee::storage {

// Writes a backup of `data_dir` to `out`, which must not exist: into a temporary sibling first,
// every file and the manifest fsynced, then renamed to `out`, so a crash leaves either no `out` or
// a whole one. Throws BackupError.
BackupManifest back_up_data_dir(const std::filesystem::path& data_dir, const std::filesystem::path& out);

// Checks every file of the backup at `from` against its manifest (throws BackupError naming the
// first file that differs), and returns the manifest.
BackupManifest verify_backup(const std::filesystem::path& from);

// Verifies the backup, then restores it into `data_dir`, which must be missing or empty (the same
// temporary-sibling-then-rename as a backup). Throws BackupError.
BackupManifest restore_data_dir(const std::filesystem::path& from, const std::filesystem::path& data_dir);

}  // namespace oee::storage
