// The plant's alerts in the embedded store (EventStore::fire_alert …): one firing alert per id,
// kept by a partial unique index, so that a firing is recorded once.
#include <sqlite3.h>

#include "sqlite_event_store.h"

namespace oee::storage::sqlite {

namespace {

constexpr const char* kAlertColumns =
    "id, rule, kind, subject, fired, resolved, acknowledged_by, acknowledged, since, resolved_reason";

Alert alert_at(const Statement& s) {
  Alert a;
  a.id = s.text_at(0);
  a.rule = s.text_at(1);
  a.kind = parse_alert_kind(s.text_at(2)).value_or(AlertKind::machine_down);
  a.subject = s.text_at(3);
  a.fired_ts = s.int_at(4);
  if (!s.is_null(5)) a.resolved_ts = s.int_at(5);
  if (!s.is_null(6)) a.acknowledged_by = s.text_at(6);
  a.acknowledged_ts = s.int_at(7);
  a.since = s.is_null(8) ? a.fired_ts : s.int_at(8);
  if (!s.is_null(9)) a.resolution = parse_alert_resolution(s.text_at(9)).value_or(AlertResolution::cleared);
  return a;
}

std::optional<Alert> first_alert(Statement& s) {
  if (!s.step()) return std::nullopt;
  Alert a = alert_at(s);
  while (s.step()) {
  }
  return a;
}

}  // namespace

bool SqliteEventStore::fire_alert(const Alert& a) {
  std::lock_guard state_lock(state_mutex_);
  Statement(db_, "INSERT OR IGNORE INTO alerts(id, rule, kind, subject, fired, since) VALUES(?1,?2,?3,?4,?5,?6)")
      .bind(1, a.id).bind(2, a.rule).bind(3, alert_kind_name(a.kind)).bind(4, a.subject).bind(5, a.fired_ts).bind(6, a.since)
      .run();
  return sqlite3_changes(db_.handle()) == 1;
}

std::optional<Alert> SqliteEventStore::resolve_alert(std::string_view id, TimeMs at, AlertResolution why) {
  std::lock_guard state_lock(state_mutex_);
  Transaction tx(db_);
  Statement s(db_, std::string("UPDATE alerts SET resolved=?2, resolved_reason=?3 WHERE id=?1 AND resolved IS NULL RETURNING ") +
                       kAlertColumns);
  s.bind(1, id).bind(2, at).bind(3, alert_resolution_name(why));
  std::optional<Alert> out = first_alert(s);
  if (out)
    Statement(db_, "DELETE FROM alerts WHERE resolved IS NOT NULL AND seq NOT IN"
                   " (SELECT seq FROM alerts WHERE resolved IS NOT NULL ORDER BY resolved DESC, seq DESC LIMIT ?1)")
        .bind(1, kAlertsResolvedKept).run();
  tx.commit();
  return out;
}

std::optional<Alert> SqliteEventStore::acknowledge_alert(std::string_view id, std::optional<TimeMs> fired, std::string_view user,
                                                         TimeMs at) {
  std::lock_guard state_lock(state_mutex_);
  Statement s(db_, std::string("UPDATE alerts SET acknowledged_by=?2, acknowledged=?3 WHERE seq=(SELECT max(seq) FROM alerts"
                               " WHERE id=?1 AND (?4 IS NULL OR fired=?4)) AND acknowledged_by IS NULL RETURNING ") + kAlertColumns);
  s.bind(1, id).bind(2, user).bind(3, at);
  if (fired) s.bind(4, *fired);
  else s.bind_null(4);
  return first_alert(s);
}

std::vector<Alert> SqliteEventStore::alerts() {
  ReadScope scope(*this, {});
  std::vector<Alert> out;
  Statement firing(scope.db(), std::string("SELECT ") + kAlertColumns + " FROM alerts WHERE resolved IS NULL ORDER BY fired DESC, id");
  while (firing.step()) out.push_back(alert_at(firing));
  Statement resolved(scope.db(), std::string("SELECT ") + kAlertColumns +
                                     " FROM alerts WHERE resolved IS NOT NULL ORDER BY resolved DESC, seq DESC LIMIT ?1");
  resolved.bind(1, kAlertsResolvedKept);
  while (resolved.step()) out.push_back(alert_at(resolved));
  return out;
}

}  // namespace oee::storage::sqlite
