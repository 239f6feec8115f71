#include "oee/storage/data_dir_backup.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

#include "oee/sqlite/online_backup.h"
#include "oee/sqlite/sqlite_db.h"

namespace oee::storage {

namespace fs = std::filesystem;

namespace {

// Data reaches the disk before the rename that makes the backup (or restored directory) appear.
void fsync_path(const fs::path& p) {
  const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 || ::fsync(fd) != 0) {
    if (fd >= 0) ::close(fd);
    throw BackupError("cannot fsync " + p.string());
  }
  ::close(fd);
}

bool is_database(const fs::path& p) { return p.extension() == ".sqlite"; }

// SQLite's own sidecars (a copy of them would be torn) and leftovers of unfinished writes.
bool is_backed_up(const fs::directory_entry& e) {
  const std::string name = e.path().filename().string();
  for (const char* suffix : {"-wal", "-shm", "-journal", ".tmp"})
    if (name.ends_with(suffix)) return false;
  return e.is_regular_file() && !name.starts_with(".");
}

// The key of a database of the data directory (none: plain).
const sqlite::PageKey* key_of(const std::string& name, const DataDirKeys& keys) {
  const auto& key = name == "auth.sqlite" ? keys.auth : keys.store;
  return key ? &*key : nullptr;
}

// The schema level of a database copy, and (for the store) the events its sources hold.
void describe_database(const fs::path& copy, const sqlite::PageKey* key, BackupFile& file, std::int64_t& events) {
  sqlite::Database db(copy.string(), /*read_only=*/false, key);
  sqlite::Statement has_versions(db, "SELECT count(*) FROM sqlite_schema WHERE name='schema_version'");
  has_versions.step();
  sqlite::Statement version(db, has_versions.int_at(0) ? "SELECT coalesce(max(version), 0) FROM schema_version" : "PRAGMA user_version");
  version.step();
  file.schema_version = static_cast<int>(version.int_at(0));
  sqlite::Statement has_sources(db, "SELECT count(*) FROM sqlite_schema WHERE name='sources'");
  has_sources.step();
  if (file.name != "oee.sqlite" || !has_sources.int_at(0)) return;
  sqlite::Statement sum(db, "SELECT coalesce(sum(events), 0) FROM sources");
  sum.step();
  events = sum.int_at(0);
}

BackupFile copy_into(const fs::path& source, const fs::path& dir, const DataDirKeys& keys, std::int64_t& events) {
  BackupFile file;
  file.name = source.filename().string();
  file.database = is_database(source);
  const fs::path copy = dir / file.name;
  try {
    if (file.database) {
      const sqlite::PageKey* key = key_of(file.name, keys);
      if (key) sqlite::online_backup(source.string(), copy.string(), *key);
      else sqlite::online_backup(source.string(), copy.string());
      describe_database(copy, key, file, events);  // closed before its size and checksum are taken
    } else {
      fs::copy_file(source, copy);
    }
  } catch (const std::exception& e) {
    throw BackupError("backing up " + source.string() + ": " + e.what());
  }
  fsync_path(copy);
  file.size_bytes = fs::file_size(copy);
  file.sha256 = sha256_of_file(copy);
  return file;
}

// A sibling of `target` to write into before the rename.
fs::path partial_sibling(const fs::path& target) {
  const fs::path absolute = fs::absolute(target).lexically_normal();
  const fs::path name = absolute.has_filename() ? absolute.filename() : absolute.parent_path().filename();
  const fs::path parent = absolute.has_filename() ? absolute.parent_path() : absolute.parent_path().parent_path();
  return parent / ("." + name.string() + ".partial-" + std::to_string(::getpid()));
}

// Moves the finished `partial` to `target` and makes the rename durable.
void publish(const fs::path& partial, const fs::path& target) {
  fsync_path(partial);
  fs::rename(partial, target);
  fsync_path(fs::absolute(target).lexically_normal().parent_path());
}

TimeMs system_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

BackupManifest back_up_data_dir(const fs::path& data_dir, const fs::path& out, const DataDirKeys& keys) {
  if (!fs::is_directory(data_dir)) throw BackupError("no data directory " + data_dir.string());
  if (!fs::is_regular_file(data_dir / "oee.sqlite") && !fs::is_regular_file(data_dir / "auth.sqlite"))
    throw BackupError(data_dir.string() + " holds neither oee.sqlite nor auth.sqlite: not a server's data directory");
  if (fs::exists(out)) throw BackupError(out.string() + " exists: give a new directory");
  const fs::path partial = partial_sibling(out);
  fs::remove_all(partial);
  fs::create_directories(partial);
  BackupManifest manifest;
  manifest.created = system_now_ms();
  std::vector<fs::path> sources;
  for (const auto& e : fs::directory_iterator(data_dir))
    if (is_backed_up(e)) sources.push_back(e.path());
  std::sort(sources.begin(), sources.end());
  try {
    for (const fs::path& source : sources) manifest.files.push_back(copy_into(source, partial, keys, manifest.events));
    write_backup_manifest(manifest, partial / kBackupManifestName);
    fsync_path(partial / kBackupManifestName);
    publish(partial, out);
  } catch (...) {
    std::error_code ignored;
    fs::remove_all(partial, ignored);
    throw;
  }
  return manifest;
}

BackupManifest verify_backup(const fs::path& from, const DataDirKeys& keys) {
  const BackupManifest manifest = read_backup_manifest(from / kBackupManifestName);
  for (const BackupFile& f : manifest.files) {
    const fs::path file = from / f.name;
    if (!fs::is_regular_file(file)) throw BackupError("backup " + from.string() + ": " + f.name + " is missing");
    if (fs::file_size(file) != f.size_bytes)
      throw BackupError("backup " + from.string() + ": " + f.name + " has " + std::to_string(fs::file_size(file)) +
                        " bytes, the manifest says " + std::to_string(f.size_bytes));
    if (sha256_of_file(file) != f.sha256)
      throw BackupError("backup " + from.string() + ": " + f.name + " does not match its SHA-256 in the manifest (corrupted)");
  }
  for (const BackupFile& f : manifest.files) {
    const sqlite::PageKey* key = f.database ? key_of(f.name, keys) : nullptr;
    if (key && !sqlite::key_opens((from / f.name).string(), *key))
      throw BackupError("backup " + from.string() + ": " + f.name + " does not open with the given key (wrong key, or a plain backup)");
  }
  return manifest;
}

BackupManifest restore_data_dir(const fs::path& from, const fs::path& data_dir, const DataDirKeys& keys) {
  if (fs::exists(data_dir) && (!fs::is_directory(data_dir) || !fs::is_empty(data_dir)))
    throw BackupError(data_dir.string() + " is not empty: restore into a new or empty directory");
  const BackupManifest manifest = verify_backup(from, keys);
  const fs::path partial = partial_sibling(data_dir);
  fs::remove_all(partial);
  fs::create_directories(partial);
  try {
    for (const BackupFile& f : manifest.files) {
      fs::copy_file(from / f.name, partial / f.name);
      fsync_path(partial / f.name);
    }
    if (fs::exists(data_dir)) fs::remove(data_dir);
    publish(partial, data_dir);
  } catch (...) {
    std::error_code ignored;
    fs::remove_all(partial, ignored);
    throw;
  }
  return manifest;
}

}  // namespace oee::storage
