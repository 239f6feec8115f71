#include "oee/storage/stop_comment_import.h"

#include <filesystem>

#include "sqlite_db.h"

namespace oee::storage {

std::int64_t import_stop_comments(const std::string& sqlite_file, EventStore& store,
                                  const std::array<unsigned char, 32>* key) {
  if (!std::filesystem::exists(sqlite_file)) return 0;
  sqlite::Database db(sqlite_file, false, key);
  sqlite::Statement exists(db, "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='stop_comments'");
  exists.step();
  if (exists.int_at(0) == 0) return 0;
  sqlite::Statement rows(db, "SELECT machine, stop_start, created, author, text FROM stop_comments ORDER BY id");
  std::int64_t moved = 0;
  while (rows.step()) {
    store.add_stop_comment({0, rows.text_at(0), rows.int_at(1), rows.int_at(2), rows.text_at(3), rows.text_at(4)});
    ++moved;
  }
  rows.reset();
  // Only once every comment is in the store: a crash before this repeats the (idempotent) adds.
  db.exec("ALTER TABLE stop_comments RENAME TO stop_comments_moved");
  return moved;
}

}  // namespace oee::storage
