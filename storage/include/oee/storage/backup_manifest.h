#pragma once
// The manifest of a backup of a data directory (`oee backup`), written last into the backup as
// manifest.txt, one record a line:
//   oee-backup 1
//   created 2026-12-04T21:00:00.000Z
//   events 1234567                       (events in the store's sources, as /api/v1/sources sums them)
//   file oee.sqlite database 73728 <sha256 hex> schema 10
//   file server-id plain 37 <sha256 hex> schema 0
// A restore checks every listed file's size and SHA-256 against it before copying anything.
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "oee/core/time.h"

namespace oee::storage {

class BackupError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct BackupFile {
  std::string name;  // relative to the data directory
  bool database = false;  // an SQLite file copied with the online backup (else copied as is)
  std::uint64_t size_bytes = 0;
  std::string sha256;  // lowercase hex
  int schema_version = 0;  // the store's migration level, or the file's user_version; 0 for plain files
};

struct BackupManifest {
  TimeMs created = 0;
  std::int64_t events = 0;
  std::vector<BackupFile> files;
  std::uint64_t size_bytes() const;
};

inline constexpr const char* kBackupManifestName = "manifest.txt";

std::string sha256_of_file(const std::filesystem::path& file);
void write_backup_manifest(const BackupManifest& manifest, const std::filesystem::path& file);
// Throws BackupError naming the file and line of what is malformed.
BackupManifest read_backup_manifest(const std::filesystem::path& file);

}  // namespace oee::storage
