#include "oee/sqlite/online_backup.h"

#include <filesystem>
#include <memory>
#include <stdexcept>

#include "oee/sqlite/sqlite_db.h"

namespace oee::sqlite {

namespace {

struct BackupFinish {
  void operator()(sqlite3_backup* b) const { sqlite3_backup_finish(b); }
};

int backup_with(const std::string& from, const std::string& to, const PageKey* key, int pages_per_step) {
  if (!std::filesystem::is_regular_file(from)) throw std::runtime_error("sqlite: backup: no database " + from);
  if (std::filesystem::exists(to)) throw std::runtime_error("sqlite: backup: " + to + " exists");
  Database source(from, /*read_only=*/true, key);
  // One read transaction over every step: the snapshot stays the one of the first read, where a
  // backup stepping in autocommit mode would restart whenever the writer commits in between
  // (and, under steady ingest, might never finish).
  source.exec("BEGIN");
  Statement(source, "SELECT count(*) FROM sqlite_schema").step();
  Database target(to, /*read_only=*/false, key);
  std::unique_ptr<sqlite3_backup, BackupFinish> backup(sqlite3_backup_init(target.handle(), "main", source.handle(), "main"));
  if (!backup) target.fail("backup init");
  int rc = SQLITE_OK;
  while ((rc = sqlite3_backup_step(backup.get(), pages_per_step)) != SQLITE_DONE) {
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) sqlite3_sleep(10);  // a rollback-journal writer's commit
    else if (rc != SQLITE_OK) break;
  }
  const int pages = sqlite3_backup_pagecount(backup.get());
  backup.reset();
  if (rc != SQLITE_DONE) target.fail("backup step");
  source.exec("COMMIT");
  return pages;
}

}  // namespace

int online_backup(const std::string& from, const std::string& to, int pages_per_step) {
  return backup_with(from, to, nullptr, pages_per_step);
}

int online_backup(const std::string& from, const std::string& to, const PageKey& key, int pages_per_step) {
  return backup_with(from, to, &key, pages_per_step);
}

}  // namespace oee::sqlite
