#pragma once
// Backup and restore of a server's data directory (`oee backup`, `oee restore`, `oee serve
// --backup-dir`): its SQLite databases (the store oee.sqlite, the accounts and audit chain
// auth.sqlite) copied with SQLite's online backup, so the server may keep ingesting, and its small
// state files (server-id, demo-start, demo-logins.txt) copied as they are.
#include <array>
#include <filesystem>
#include <optional>

#include "oee/storage/backup_manifest.h"

namespace oee::storage {

// The keys of a data directory encrypted at rest (docs/security.md): the store's and auth.sqlite's
// subkeys, as `oee serve --encryption-key-file` derives them. None: the files are plain.
struct DataDirKeys {
  std::optional<std::array<unsigned char, 32>> store;  // oee.sqlite
  std::optional<std::array<unsigned char, 32>> auth;   // auth.sqlite
};

// Writes a backup of `data_dir` to `out`, which must not exist: into a temporary sibling first,
// every file and the manifest fsynced, then renamed to `out`, so a crash leaves either no `out` or
// a whole one. With keys, each encrypted database is copied through the encrypting VFS with its
// key: decrypted in memory only, written encrypted again (the backup opens with the same key; no
// plain copy is ever on disk). Throws BackupError (also for a missing or wrong key).
BackupManifest back_up_data_dir(const std::filesystem::path& data_dir, const std::filesystem::path& out,
                                const DataDirKeys& keys = {});

// Checks every file of the backup at `from` against its manifest, and with keys that each database
// opens with its key (throws BackupError naming the first file that differs or does not open), and
// returns the manifest.
BackupManifest verify_backup(const std::filesystem::path& from, const DataDirKeys& keys = {});

// Verifies the backup, then restores it into `data_dir`, which must be missing or empty (the same
// temporary-sibling-then-rename as a backup). The files are copied as they are (an encrypted
// backup restores encrypted); with keys, each database is first checked to open with its key, so a
// wrong key is refused before anything is written. Throws BackupError.
BackupManifest restore_data_dir(const std::filesystem::path& from, const std::filesystem::path& data_dir,
                                const DataDirKeys& keys = {});

}  // namespace oee::storage
