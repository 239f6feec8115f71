#include "oee/api/stop_comments.h"

#include "sqlite_db.h"

namespace oee::api {

namespace sql = storage::sqlite;

struct StopComments::Impl {
  explicit Impl(const std::string& path) : db(path) {
    db.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;");
    db.exec("CREATE TABLE IF NOT EXISTS stop_comments(id INTEGER PRIMARY KEY, machine TEXT NOT NULL,"
            " stop_start INTEGER NOT NULL, created INTEGER NOT NULL, author TEXT NOT NULL, text TEXT NOT NULL);"
            "CREATE INDEX IF NOT EXISTS stop_comments_by_stop ON stop_comments(machine, stop_start);");
  }
  sql::Database db;
  std::mutex mutex;
};

StopComments::StopComments(const std::string& sqlite_path) : impl_(std::make_unique<Impl>(sqlite_path)) {}
StopComments::~StopComments() = default;

std::int64_t StopComments::add(std::string_view machine, TimeMs stop_start, TimeMs created, std::string_view author,
                               std::string_view text) {
  std::lock_guard lock(impl_->mutex);
  sql::Statement(impl_->db, "INSERT INTO stop_comments(machine,stop_start,created,author,text) VALUES(?,?,?,?,?)")
      .bind(1, machine).bind(2, stop_start).bind(3, created).bind(4, author).bind(5, text).run();
  return sqlite3_last_insert_rowid(impl_->db.handle());
}

std::vector<StopComment> StopComments::of_machine(std::string_view machine, TimeMs from, TimeMs to) {
  std::lock_guard lock(impl_->mutex);
  sql::Statement q(impl_->db, "SELECT id,machine,stop_start,created,author,text FROM stop_comments"
                              " WHERE machine=? AND stop_start>=? AND stop_start<? ORDER BY id");
  q.bind(1, machine).bind(2, from).bind(3, to);
  std::vector<StopComment> out;
  while (q.step()) out.push_back({q.int_at(0), q.text_at(1), q.int_at(2), q.int_at(3), q.text_at(4), q.text_at(5)});
  return out;
}

}  // namespace oee::api
