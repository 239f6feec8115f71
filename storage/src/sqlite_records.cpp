// The records kept beside the events: source statistics, dead letters, conflicts, stop comments.
#include <tuple>

#include "sqlite_event_store.h"
#include "store_helpers.h"

namespace oee::storage::sqlite {

std::vector<SourceStats> SqliteEventStore::sources() {
  std::vector<SourceStats> out;
  std::map<std::pair<std::string, std::string>, std::int64_t> conflicts;
  {
    ReadScope scope(*this, {});
    Statement per_source(scope.db(), "SELECT src, incarnation, count(*) FROM conflicts GROUP BY 1, 2");
    while (per_source.step()) conflicts[{per_source.text_at(0), per_source.text_at(1)}] = per_source.int_at(2);
  }
  std::lock_guard state_lock(state_mutex_);  // waits for at most the append in flight
  for (const auto& [name, s] : sources_) {
    SourceStats st = s->stats;
    st.gaps.assign(s->gaps.begin(), s->gaps.end());
    if (auto it = conflicts.find({st.src, st.incarnation}); it != conflicts.end()) st.conflicts = it->second;
    out.push_back(std::move(st));
  }
  std::sort(out.begin(), out.end(), [](const SourceStats& a, const SourceStats& b) {
    return std::tie(a.src, a.incarnation) < std::tie(b.src, b.incarnation);
  });
  return out;
}

std::int64_t SqliteEventStore::add_dead_letter(const DeadLetter& letter) {
  Transaction tx(db_);
  Statement s(db_, kInsertDeadLetter);
  s.bind(1, letter.received)
      .bind(2, bounded(letter.topic, kMaxDeadLetterTextBytes))
      .bind(3, bounded(letter.payload, kMaxDeadLetterPayloadBytes))
      .bind(4, bounded(letter.reason, kMaxDeadLetterTextBytes))
      .run();
  const std::int64_t id = sqlite3_last_insert_rowid(db_.handle());
  tx.commit();
  return id;
}

std::vector<DeadLetter> SqliteEventStore::dead_letters(std::int64_t before_id, std::size_t limit) {
  ReadScope scope(*this, {});
  Statement s(scope.db(),
              "SELECT id, received, topic, payload, reason FROM dead_letters WHERE id<?1 ORDER BY id DESC LIMIT ?2");
  s.bind(1, before_id > 0 ? before_id : INT64_MAX).bind(2, static_cast<std::int64_t>(std::min<std::size_t>(limit, 10000)));
  std::vector<DeadLetter> out;
  while (s.step()) out.push_back({s.int_at(0), s.int_at(1), s.text_at(2), s.text_at(3), s.text_at(4)});
  return out;
}

std::int64_t SqliteEventStore::dead_letter_count() {
  ReadScope scope(*this, {});
  Statement s(scope.db(), "SELECT count(*) FROM dead_letters");
  s.step();
  return s.int_at(0);
}

void SqliteEventStore::add_conflicts(std::span<const Conflict> list) {
  if (list.empty()) return;
  Transaction tx(db_);
  Statement s(db_,
              "INSERT OR IGNORE INTO conflicts(received, src, incarnation, seq, machine, stored, version, fingerprint)"
              " VALUES(?1,?2,?3,?4,?5,?6,?7,?8)");
  for (const Conflict& c : list) {
    s.bind(1, c.received).bind(2, c.src).bind(3, c.incarnation).bind(4, c.seq).bind(5, c.machine);
    s.bind(6, bounded(c.stored_json, kMaxDeadLetterPayloadBytes)).bind(7, bounded(c.received_json, kMaxDeadLetterPayloadBytes));
    s.bind(8, c.fingerprint).run();
  }
  tx.commit();
}

std::vector<Conflict> SqliteEventStore::conflicts(std::int64_t before_id, std::size_t limit) {
  ReadScope scope(*this, {});
  Statement s(scope.db(),
              "SELECT id, received, src, incarnation, seq, machine, stored, version FROM conflicts WHERE id<?1"
              " ORDER BY id DESC LIMIT ?2");
  s.bind(1, before_id > 0 ? before_id : INT64_MAX).bind(2, static_cast<std::int64_t>(std::min<std::size_t>(limit, 10000)));
  std::vector<Conflict> out;
  while (s.step())
    out.push_back({s.int_at(0), s.int_at(1), s.text_at(2), s.text_at(3), s.int_at(4), s.text_at(5), s.text_at(6), s.text_at(7)});
  return out;
}

std::int64_t SqliteEventStore::conflict_count() {
  ReadScope scope(*this, {});
  Statement s(scope.db(), "SELECT count(*) FROM conflicts");
  s.step();
  return s.int_at(0);
}

std::int64_t SqliteEventStore::add_stop_comment(const StopComment& c) {
  std::lock_guard state_lock(state_mutex_);
  Transaction tx(db_);
  Statement(db_, "INSERT OR IGNORE INTO stop_comments(machine, stop_start, created, author, text) VALUES(?1,?2,?3,?4,?5)")
      .bind(1, c.machine).bind(2, c.stop_start).bind(3, c.created).bind(4, c.author).bind(5, c.text).run();
  Statement id(db_, "SELECT id FROM stop_comments WHERE machine=?1 AND stop_start=?2 AND created=?3 AND author=?4 AND text=?5");
  id.bind(1, c.machine).bind(2, c.stop_start).bind(3, c.created).bind(4, c.author).bind(5, c.text).step();
  const std::int64_t out = id.int_at(0);
  tx.commit();
  return out;
}

std::int64_t SqliteEventStore::pseudonymise_comment_author(std::string_view name, std::string_view pseudonym) {
  std::lock_guard state_lock(state_mutex_);
  // On for this rewrite whatever the build's default (Debian's is on), then back to that default.
  Statement setting(db_, "PRAGMA secure_delete");
  setting.step();
  const std::string restore = "PRAGMA secure_delete=" + std::to_string(setting.int_at(0));
  setting.reset();
  db_.exec("PRAGMA secure_delete=ON");
  std::int64_t changed = 0;
  {
    Transaction tx(db_);
    // OR REPLACE: the same comment already under the pseudonym is kept once.
    Statement(db_, "UPDATE OR REPLACE stop_comments SET author=?2 WHERE author=?1").bind(1, name).bind(2, pseudonym).run();
    changed = sqlite3_changes(db_.handle());
    tx.commit();
  }
  db_.exec(restore.c_str());
  // The old pages may still be in the write-ahead log. A read in progress may hold part of it back
  // until the next checkpoint.
  db_.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  return changed;
}

std::vector<StopComment> SqliteEventStore::stop_comments(std::string_view machine, TimeMs from, TimeMs to) {
  ReadScope scope(*this, {});
  Statement s(scope.db(), "SELECT id, machine, stop_start, created, author, text FROM stop_comments"
                          " WHERE machine=?1 AND stop_start>=?2 AND stop_start<?3 ORDER BY id");
  s.bind(1, machine).bind(2, from).bind(3, to);
  std::vector<StopComment> out;
  while (s.step()) out.push_back({s.int_at(0), s.text_at(1), s.int_at(2), s.int_at(3), s.text_at(4), s.text_at(5)});
  return out;
}

}  // namespace oee::storage::sqlite
