// PostgreSQL store: KPI totals from the materialised hourly and daily rollups, and writing them.
#include "postgres_event_store.h"

#include <algorithm>

#include "kpi_columns.h"
#include "postgres_schema.h"
#include "rollup_rules.h"
#include "signs_of_life.h"

namespace oee::storage {

namespace {

using pg::Connection;
using pg::Params;
using pg::PgError;
using pg::Result;
using pg::Transaction;
using pg::append_int;
using pg::to_bytea_hex;

}  // namespace

// Rollups made with other rules than the plant's (a plant file changed since they were written)
// are dropped, to be materialised again with these rules. Rollups of unknown rules (written before
// machines.rules) are kept: no-data machines, the only ones whose rollups changed then, had none.
void PostgresEventStore::check_rules() {
  std::map<std::int64_t, std::string> rules;  // in id order: rows locked as appends lock them
  const std::string calendar = calendar_rules(plant_, calendar_.zone());
  for (const MachineSpec* spec : plant_.machines()) rules[machine_id(spec->path)] = rollup_rules(*spec, calendar);
  if (rules.empty()) return;
  std::vector<std::int64_t> ids;
  for (const auto& [id, r] : rules) ids.push_back(id);
  Connection& c = conn();
  Transaction tx(c);
  Result stored = c.query("SELECT id, rules FROM machines WHERE id = ANY($1::int[]) ORDER BY id FOR UPDATE",
                          Params().add_array(ids));
  for (int i = 0; i < stored.rows(); ++i) {
    const std::int64_t id = stored.int_at(i, 0);
    const std::string& want = rules[id];
    if (!stored.is_null(i, 1) && stored.text_at(i, 1) == want) continue;
    if (!stored.is_null(i, 1)) {
      c.query("DELETE FROM rollups WHERE machine_id=$1", Params().add(id));
      c.query("DELETE FROM rollup_days WHERE machine_id=$1", Params().add(id));
      c.query("DELETE FROM machine_carry WHERE machine_id=$1", Params().add(id));
    }
    c.query("UPDATE machines SET rules=$2, rollup_end=CASE WHEN rules IS NULL THEN rollup_end ELSE $3 END WHERE id=$1",
            Params().add(id).add(want).add(kTimeMin));
  }
  tx.commit();
}

// Totals of the whole hours [from, to) (all settled): the materialised rows, and the engine for the
// hours not materialised yet, which are then written unless an append changed the machine meanwhile.
KpiTotals PostgresEventStore::rollup_hours(std::int64_t mid, const MachineSpec& spec, TimeMs from, TimeMs to,
                                           const MachineFacts& facts, bool fill_days) {
  Connection& c = conn();
  KpiTotals t;
  Result sum = c.prepared("sum_rollups",
                          "SELECT count(*), " OEE_KPI_SUMS_OR_ZERO
                          " FROM rollups WHERE machine_id=$1 AND hour_start>=$2 AND hour_start<$3",
                          Params().add(mid).add(from).add(to));
  const std::int64_t have = sum.int_at(0, 0);
  auto fields = kpi_fields(t);
  for (std::size_t i = 0; i < kKpiFieldCount; ++i) *fields[i] = sum.int_at(0, 1 + static_cast<int>(i));
  if (have == (to - from) / kMsPerHour) {
    if (fill_days) {
      // Every hour is there but not every day row (hours written before a day could be).
      Transaction tx(c);
      c.prepared("lock_machine", "SELECT 1 FROM machines WHERE id=$1 FOR UPDATE", Params().add(mid));
      c.prepared("fill_rollup_days", OEE_PG_FILL_ROLLUP_DAYS,
                 Params().add(mid).add(floor_to(from, kMsPerDay)).add(ceil_to(to, kMsPerDay)));
      tx.commit();
    }
    return t;
  }
  // The missing hours, as ranges.
  Result hours = c.prepared("rollup_hours",
                            "SELECT hour_start FROM rollups WHERE machine_id=$1 AND hour_start>=$2 AND hour_start<$3"
                            " ORDER BY hour_start",
                            Params().add(mid).add(from).add(to));
  std::vector<Interval> missing;
  TimeMs next = from;
  for (int i = 0; i <= hours.rows(); ++i) {
    const TimeMs h = i < hours.rows() ? hours.int_at(i, 0) : to;
    for (TimeMs x = next; x < h; x += kMsPerHour) missing.push_back({x, x + kMsPerHour});
    next = h + kMsPerHour;
  }
  std::vector<KpiTotals> computed;
  computed.reserve(missing.size());
  for (std::size_t a = 0; a < missing.size();) {
    std::size_t b = a + 1;
    while (b < missing.size() && missing[b].start == missing[b - 1].end) ++b;
    const MachineHistory h = history(mid, spec, missing[a].start, missing[b - 1].end, facts);
    const auto part = oee::machine_bucket_totals(h, calendar_, std::span(missing).subspan(a, b - a), kTimeMax);
    computed.insert(computed.end(), part.begin(), part.end());
    a = b;
  }
  std::string rows;
  for (std::size_t i = 0; i < missing.size(); ++i) {
    t += computed[i];
    append_int(rows, mid);
    rows += '\t';
    append_int(rows, missing[i].start);
    KpiTotals copy = computed[i];
    for (std::int64_t* f : kpi_fields(copy)) {
      rows += '\t';
      append_int(rows, *f);
    }
    rows += '\n';
  }
  t.machine_count = 0;
  const TimeMs end = missing.back().end;
  const std::string carry = carry_of(mid, spec, end, facts.kinds);
  // Written only if no append touched the machine since `version` was read (the row lock orders
  // this against appends on every server).
  Transaction tx(c);
  Result v = c.prepared("lock_version", "SELECT version FROM machines WHERE id=$1 FOR UPDATE", Params().add(mid));
  if (v.int_at(0, 0) == facts.version) {
    c.exec("CREATE TEMP TABLE IF NOT EXISTS staging_rollups (LIKE rollups) ON COMMIT DELETE ROWS");
    c.copy_begin("COPY staging_rollups FROM STDIN");
    c.copy_data(rows);
    c.copy_end();
    c.exec("INSERT INTO rollups SELECT * FROM staging_rollups ON CONFLICT DO NOTHING");
    c.prepared("raise_rollup_end", "UPDATE machines SET rollup_end = GREATEST(rollup_end, $2) WHERE id=$1",
               Params().add(mid).add(end));
    // The carry and the sums of the hours of its day before it (under the machine's row lock: no
    // other writer of this machine's carry meanwhile).
    c.prepared("drop_older_carry", "DELETE FROM machine_carry WHERE machine_id=$1 AND at<$2", Params().add(mid).add(end));
    c.prepared("write_carry",
               "INSERT INTO machine_carry SELECT $1, $2, $3::bytea, count(*), " OEE_KPI_SUMS_OR_ZERO
               " FROM rollups WHERE machine_id=$1 AND hour_start>=$4 AND hour_start<$2 ON CONFLICT DO NOTHING",
               Params().add(mid).add(end).add(to_bytea_hex(carry)).add(floor_to(end, kMsPerDay)));
    c.prepared("fill_rollup_days", OEE_PG_FILL_ROLLUP_DAYS,
               Params().add(mid).add(floor_to(missing.front().start, kMsPerDay)).add(ceil_to(missing.back().end, kMsPerDay)));
  }
  tx.commit();
  return t;
}

// The whole hours [r0, r1) of [from, end) that rollups serve: hours that can no longer change
// without a late event: before the last event by more than a micro-stop threshold (an open stop may
// still turn out small) and a no-data threshold (an event after the last may end a silence that
// began before it), and, for an earlier horizon, before it by as much (docs/storage.md).
// r1 <= r0 when there are none.
std::pair<TimeMs, TimeMs> settled_hours(const MachineSpec& machine, const PostgresEventStore::MachineFacts& f, TimeMs from,
                                        TimeMs end, TimeMs horizon) {
  const TimeMs r0 = ceil_to(from, kMsPerHour);
  if (!f.max_ts) return {r0, r0};
  return {r0, std::min({floor_hour(end), floor_hour(*f.max_ts - look_ahead_ms(machine)),
                        floor_hour(horizon - look_ahead_ms(machine))})};
}

KpiTotals PostgresEventStore::machine_totals(const MachineSpec& machine, TimeMs from, TimeMs to, TimeMs horizon) {
  return guarded([&] {
    KpiTotals t;
    t.machine_count = 1;
    const TimeMs end = std::min(to, horizon);
    if (from >= end) return t;
    const std::int64_t mid = machine_id(machine.path);
    const MachineFacts f = facts(mid);
    const auto [r0, r1] = plant_.find_machine(machine.path) == &machine ? settled_hours(machine, f, from, end, horizon)
                                                                         : std::pair{from, from};
    if (r1 <= r0) {
      t = oee::machine_totals(history(mid, machine, from, to, f), calendar_, from, to, horizon);
      t.machine_count = 1;
      return t;
    }
    t = rollup_hours(mid, machine, r0, r1, f);
    if (from < r0) t += oee::machine_totals(history(mid, machine, from, r0, f), calendar_, from, r0, horizon);
    if (r1 < end) t += oee::machine_totals(history(mid, machine, r1, to, f), calendar_, r1, to, horizon);
    t.machine_count = 1;
    return t;
  });
}

// A group in a few queries: the machines' rows, one sum over the rollups of every machine's settled
// hours, then the walks, context and windows of every edge at once, and the engine here.
KpiTotals PostgresEventStore::machines_totals(std::span<const MachineSpec* const> machines, TimeMs from, TimeMs to,
                                              TimeMs horizon) {
  return guarded([&] {
    KpiTotals sum;
    const TimeMs end = std::min(to, horizon);
    // A spec that is not the plant's own (other rules than its rollups) takes the one-machine path.
    std::vector<const MachineSpec*> group;
    for (const MachineSpec* m : machines) {
      if (from >= end || plant_.find_machine(m->path) != m)
        sum += machine_totals(*m, from, to, horizon);
      else
        group.push_back(m);
    }
    if (group.empty()) return sum;
    std::vector<std::int64_t> ids;
    for (const MachineSpec* m : group) ids.push_back(machine_id(m->path));
    // The machines' rows and carries together (one snapshot).
    Result rows = conn().prepared_binary(
        "machines_rows",
        "SELECT m.id, m.has_total_counter, m.max_ts, m.version, m.kinds, c.at, c.events, c.partial_hours FROM machines m"
        " LEFT JOIN machine_carry c ON c.machine_id = m.id WHERE m.id = ANY($1::int[])",
        Params().add_array(ids));
    std::unordered_map<std::int64_t, MachineFacts> facts;
    struct Carry {
      TimeMs at;
      std::string_view events;
      bool day_complete;  // its partial day's hours are all there
    };
    std::unordered_map<std::int64_t, Carry> carries;
    for (int i = 0; i < rows.rows(); ++i) {
      MachineFacts& f = facts[rows.int_at(i, 0)];
      f.has_total = rows.int_at(i, 1) != 0;
      f.max_ts = rows.is_null(i, 2) ? std::nullopt : std::optional<TimeMs>(rows.int_at(i, 2));
      f.version = rows.int_at(i, 3);
      f.kinds = rows.int_at(i, 4);
      if (!rows.is_null(i, 5)) {
        const TimeMs at = rows.int_at(i, 5);
        carries[rows.int_at(i, 0)] = {at, rows.view_at(i, 6), rows.int_at(i, 7) == (at - floor_to(at, kMsPerDay)) / kMsPerHour};
      }
    }
    std::vector<KpiTotals> totals(group.size());
    std::vector<HistoryRequest> requests;
    std::vector<std::size_t> request_machine;
    std::vector<std::int64_t> sum_idx, sum_ids, sum_r0, sum_r1, sum_d0, sum_d1, sum_partial;
    for (std::size_t k = 0; k < group.size(); ++k) {
      const MachineSpec& m = *group[k];
      const MachineFacts& f = facts[ids[k]];
      const auto [r0, r1] = settled_hours(m, f, from, end, horizon);
      auto engine = [&](TimeMs a, TimeMs b) {
        requests.push_back({ids[k], &m, a, b, f.kinds, {}});
        request_machine.push_back(k);
      };
      if (r1 <= r0) {
        engine(from, to);
        continue;
      }
      sum_idx.push_back(static_cast<std::int64_t>(k));
      sum_ids.push_back(ids[k]);
      sum_r0.push_back(r0);
      sum_r1.push_back(r1);
      // The whole days [d0, d1) of the settled hours come from rollup_days, the hours around them from rollups.
      const TimeMs d0 = ceil_to(r0, kMsPerDay), d1 = floor_to(r1, kMsPerDay);
      sum_d0.push_back(d0 < d1 ? d0 : r1);
      sum_d1.push_back(d0 < d1 ? d1 : r1);
      // A carry written where the settled hours end: the hours [d1, r1) are its day part, and the
      // open tail after r1 reads only its own events.
      const auto found = carries.find(ids[k]);
      const Carry* carry = found != carries.end() && found->second.at == r1 ? &found->second : nullptr;
      sum_partial.push_back(d0 < d1 && d1 < r1 && carry && carry->day_complete);
      if (from < r0) engine(from, r0);
      if (r1 < end) {
        engine(r1, to);
        if (carry) add_carry(requests.back(), carry->events);
      }
    }
    // The sums over the settled hours run in the second session while this one loads the open
    // edges and the engine computes them: the two halves of the work overlap.
    Connection* side = sum_idx.empty() ? nullptr : &side_conn();
    if (side) {
      // count(hour_start) counts the hours covered: 24 for a day row.
      side->send_prepared(
          "sum_group_rollups",
          // Summed per machine inside the LATERAL: no sort and regrouping of every row afterwards.
          "SELECT v.k, r.* FROM unnest($1::int[], $2::int[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::int[])"
          " v(k, id, h0, h1, d0, d1, p) CROSS JOIN LATERAL (SELECT coalesce(sum(hour_start), 0), " OEE_KPI_SUMS_OR_ZERO
          // The first condition of each part only reads v: a one-time filter that skips an empty range's index probe.
          " FROM (SELECT 24 AS hour_start, " OEE_KPI_COLUMNS " FROM rollup_days"
          " WHERE v.d0<v.d1 AND machine_id=v.id AND day_start>=v.d0 AND day_start<v.d1"
          " UNION ALL SELECT 1, " OEE_KPI_COLUMNS " FROM rollups"
          " WHERE v.h0<v.d0 AND machine_id=v.id AND hour_start>=v.h0 AND hour_start<v.d0"
          " UNION ALL SELECT 1, " OEE_KPI_COLUMNS " FROM rollups"
          " WHERE v.p=0 AND v.d1<v.h1 AND machine_id=v.id AND hour_start>=v.d1 AND hour_start<v.h1"
          " UNION ALL SELECT partial_hours, " OEE_KPI_COLUMNS " FROM machine_carry WHERE v.p<>0 AND machine_id=v.id AND at=v.h1"
          ") x) r",
          Params().add_array(sum_idx).add_array(sum_ids).add_array(sum_r0).add_array(sum_r1).add_array(sum_d0)
              .add_array(sum_d1).add_array(sum_partial),
          false);
    }
    try {
      load_histories(requests);
      for (std::size_t n = 0; n < requests.size(); ++n) {
        HistoryRequest& q = requests[n];
        add_total_marker(q.mid, facts[q.mid].has_total, q.events);
        const MachineHistory h = MachineHistory::build(*q.spec, q.events);
        totals[request_machine[n]] += oee::machine_totals(h, calendar_, q.from, q.to, horizon);
      }
      if (side) {
        Result s = side->receive("sum_group_rollups");
        side = nullptr;
        std::unordered_map<std::int64_t, int> row_of;
        for (int i = 0; i < s.rows(); ++i) row_of[s.int_at(i, 0)] = i;
        for (std::size_t n = 0; n < sum_idx.size(); ++n) {
          const std::size_t k = static_cast<std::size_t>(sum_idx[n]);
          const auto it = row_of.find(sum_idx[n]);
          if (it == row_of.end() || s.int_at(it->second, 1) != (sum_r1[n] - sum_r0[n]) / kMsPerHour) {
            // Hours not materialised yet: computed and written on the one-machine path.
            totals[k] += rollup_hours(ids[k], *group[k], sum_r0[n], sum_r1[n], facts[ids[k]], true);
            continue;
          }
          KpiTotals t;
          auto fields = kpi_fields(t);
          for (std::size_t i = 0; i < kKpiFieldCount; ++i) *fields[i] = s.int_at(it->second, 2 + static_cast<int>(i));
          totals[k] += t;
        }
      }
    } catch (...) {
      if (side) side_.reset();  // its result was never read
      throw;
    }
    for (KpiTotals& t : totals) {
      t.machine_count = 1;
      sum += t;
    }
    return sum;
  });
}

}  // namespace oee::storage
