// PostgreSQL store: the plant's alerts, shared by every server of the database. The partial unique
// index keeps one firing alert per id, and each change is a single conditional statement: of two
// servers making the same change at once, one changes a row and notifies, the other changes none.
#include "postgres_event_store.h"

namespace oee::storage {

namespace {

using pg::Params;
using pg::Result;

constexpr const char* kAlertColumns =
    "id, rule, kind, subject, fired, resolved, acknowledged_by, acknowledged, since, resolved_reason";

Alert alert_at(const Result& r, int row) {
  Alert a;
  a.id = r.text_at(row, 0);
  a.rule = r.text_at(row, 1);
  a.kind = parse_alert_kind(r.text_at(row, 2)).value_or(AlertKind::machine_down);
  a.subject = r.text_at(row, 3);
  a.fired_ts = r.int_at(row, 4);
  if (!r.is_null(row, 5)) a.resolved_ts = r.int_at(row, 5);
  if (!r.is_null(row, 6)) a.acknowledged_by = r.text_at(row, 6);
  if (!r.is_null(row, 7)) a.acknowledged_ts = r.int_at(row, 7);
  a.since = r.is_null(row, 8) ? a.fired_ts : r.int_at(row, 8);
  if (!r.is_null(row, 9)) a.resolution = parse_alert_resolution(r.text_at(row, 9)).value_or(AlertResolution::cleared);
  return a;
}

std::optional<Alert> first_alert(const Result& r) {
  if (r.rows() == 0) return std::nullopt;
  return alert_at(r, 0);
}

}  // namespace

bool PostgresEventStore::fire_alert(const Alert& a) {
  return guarded([&] {
    return conn().query("INSERT INTO alerts(id, rule, kind, subject, fired, since) VALUES($1, $2, $3, $4, $5, $6)"
                        " ON CONFLICT DO NOTHING",
                        Params().add(a.id).add(a.rule).add(alert_kind_name(a.kind)).add(a.subject).add(a.fired_ts).add(a.since))
               .affected() == 1;
  });
}

std::optional<Alert> PostgresEventStore::resolve_alert(std::string_view id, TimeMs at, AlertResolution why) {
  return guarded([&] {
    pg::Transaction tx(conn());
    const std::optional<Alert> out = first_alert(conn().query(
        std::string("UPDATE alerts SET resolved=$2, resolved_reason=$3 WHERE id=$1 AND resolved IS NULL RETURNING ") +
            kAlertColumns,
        Params().add(id).add(at).add(alert_resolution_name(why))));
    if (out)
      conn().query("DELETE FROM alerts WHERE resolved IS NOT NULL AND seq NOT IN"
                   " (SELECT seq FROM alerts WHERE resolved IS NOT NULL ORDER BY resolved DESC, seq DESC LIMIT $1)",
                   Params().add(kAlertsResolvedKept));
    tx.commit();
    return out;
  });
}

std::optional<Alert> PostgresEventStore::acknowledge_alert(std::string_view id, std::optional<TimeMs> fired, std::string_view user,
                                                           TimeMs at) {
  return guarded([&] {
    Params params;
    params.add(id).add(user).add(at);
    if (fired) params.add(*fired);
    else params.null();
    return first_alert(conn().query(
        std::string("UPDATE alerts SET acknowledged_by=$2, acknowledged=$3 WHERE seq=(SELECT max(seq) FROM alerts WHERE id=$1"
                    " AND ($4::bigint IS NULL OR fired=$4::bigint)) AND acknowledged_by IS NULL RETURNING ") + kAlertColumns,
        params));
  });
}

std::vector<Alert> PostgresEventStore::alerts() {
  return guarded([&] {
    std::vector<Alert> out;
    const Result firing = conn().query(std::string("SELECT ") + kAlertColumns +
                                       " FROM alerts WHERE resolved IS NULL ORDER BY fired DESC, id");
    for (int i = 0; i < firing.rows(); ++i) out.push_back(alert_at(firing, i));
    const Result resolved = conn().query(std::string("SELECT ") + kAlertColumns +
                                             " FROM alerts WHERE resolved IS NOT NULL ORDER BY resolved DESC, seq DESC LIMIT $1",
                                         Params().add(kAlertsResolvedKept));
    for (int i = 0; i < resolved.rows(); ++i) out.push_back(alert_at(resolved, i));
    return out;
  });
}

}  // namespace oee::storage
