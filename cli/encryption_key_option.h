#pragma once
// --encryption-key-file, shared by the commands that open encrypted files (serve, edge, db, audit):
// the master key from that file or OEE_ENCRYPTION_KEY, and the subkey of each use.
#include <CLI/CLI.hpp>

#include <optional>
#include <string>

#include "oee/fileio/encryption_key.h"
#include "oee/storage/data_dir_backup.h"

namespace oee::cli {

struct EncryptionKeyOption {
  std::string file;
  std::optional<fileio::Key256> master;  // set by load(): none means nothing is encrypted

  // The error to print (empty when fine): an unreadable, open or malformed key.
  std::string load();
  std::optional<fileio::Key256> subkey(fileio::KeyUse use) const {
    if (!master) return std::nullopt;
    return fileio::derive_key(*master, use);
  }
};

void add_encryption_key_option(CLI::App& app, EncryptionKeyOption& o, const std::string& what);

// The subkeys of a data directory's store and auth.sqlite, as `oee serve` derives them (none
// without a key): for backups and restores of an encrypted data directory.
storage::DataDirKeys data_dir_keys(const EncryptionKeyOption& o);

}  // namespace oee::cli
