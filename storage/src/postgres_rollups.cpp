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

// The hours of [from, to) missing from `hours` (their starts, in order).
std::vector<Interval> hours_not_in(const Result& hours, TimeMs from, TimeMs to) {
  std::vector<Interval> missing;
  TimeMs next = from;
  for (int i = 0; i <= hours.rows(); ++i) {
    const TimeMs h = i < hours.rows() ? hours.int_at(i, 0) : to;
    for (TimeMs x = next; x < h; x += kMsPerHour) missing.push_back({x, x + kMsPerHour});
    next = h + kMsPerHour;
  }
  return missing;
}

}  // namespace

// Rollups made with other rules than the plant's (a plant file changed since they were written)
// are dropped, to be materialised again with these rules. Rollups of unknown rules (written before
// machines.rules) are kept: no-data machines, the only ones whose rollups changed then, had none.
void PostgresEventStore::check_rules() {
  std::map<std::int64_t, std::string> rules;  // in id order: rows locked as appends lock them
  const std::string calendar = calendar_rules(plant_, calendar_.zone());
  for (const MachineSpec* spec : plant_.machines()) rules[machine_id(spec->path)] = rollup_rules(plant_, *spec, calendar);
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
  const std::vector<Interval> missing = hours_not_in(hours, from, to);
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
  write_rollups(c, mid, facts.version, missing, rows, carry);
  return t;
}

// Writes the computed hours (`rows`, COPY text), the carry at their end and the day rows they
// complete.
void PostgresEventStore::write_rollups(Connection& c, std::int64_t mid, std::int64_t version,
                                       const std::vector<Interval>& missing, const std::string& rows,
                                       const std::string& carry) {
  const TimeMs end = missing.back().end;
  // Written only if no append touched the machine since `version` was read (the row lock orders
  // this against appends on every server).
  Transaction tx(c);
  Result v = c.prepared("lock_version", "SELECT version FROM machines WHERE id=$1 FOR UPDATE", Params().add(mid));
  if (v.int_at(0, 0) == version) {
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
}

namespace {

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

}  // namespace

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

// What machines_totals works on: the group's machines, their rows and carries, the edges the engine
// computes (requests) and the settled hours summed from rollups (sum_*), each machine's totals.
struct PostgresEventStore::GroupTotals {
  struct Carry {
    TimeMs at;
    std::string_view events;
    bool day_complete;  // its partial day's hours are all there
  };
  std::vector<const MachineSpec*> group;
  std::vector<std::int64_t> ids;
  Result rows;  // holds the carries' bytes
  std::unordered_map<std::int64_t, MachineFacts> facts;
  std::unordered_map<std::int64_t, Carry> carries;
  std::vector<KpiTotals> totals;
  std::vector<HistoryRequest> requests;
  std::vector<std::size_t> request_machine;
  std::vector<std::int64_t> sum_idx, sum_ids, sum_r0, sum_r1, sum_d0, sum_d1, sum_partial;
};

// A group in a few queries: the machines' rows, one sum over the rollups of every machine's settled
// hours, then the walks, context and windows of every edge at once, and the engine here.
KpiTotals PostgresEventStore::machines_totals(std::span<const MachineSpec* const> machines, TimeMs from, TimeMs to,
                                              TimeMs horizon) {
  return guarded([&] {
    KpiTotals sum;
    const TimeMs end = std::min(to, horizon);
    GroupTotals g;
    // A spec that is not the plant's own (other rules than its rollups) takes the one-machine path.
    for (const MachineSpec* m : machines) {
      if (from >= end || plant_.find_machine(m->path) != m)
        sum += machine_totals(*m, from, to, horizon);
      else
        g.group.push_back(m);
    }
    if (g.group.empty()) return sum;
    for (const MachineSpec* m : g.group) g.ids.push_back(machine_id(m->path));
    read_group_rows(g);
    plan_group(g, from, to, horizon);
    // The sums over the settled hours run in the second session while this one loads the open
    // edges and the engine computes them: the two halves of the work overlap.
    Connection* side = g.sum_idx.empty() ? nullptr : &side_conn();
    if (side) send_group_sums(*side, g);
    try {
      load_histories(g.requests);
      for (std::size_t n = 0; n < g.requests.size(); ++n) {
        HistoryRequest& q = g.requests[n];
        add_total_marker(q.mid, g.facts[q.mid].has_total, q.events);
        const MachineHistory h = MachineHistory::build(*q.spec, q.events);
        g.totals[g.request_machine[n]] += oee::machine_totals(h, calendar_, q.from, q.to, horizon);
      }
      if (side) {
        Result s = side->receive("sum_group_rollups");
        side = nullptr;
        add_group_sums(s, g);
      }
    } catch (...) {
      if (side) side_.reset();  // its result was never read
      throw;
    }
    for (KpiTotals& t : g.totals) {
      t.machine_count = 1;
      sum += t;
    }
    return sum;
  });
}

// The machines' rows and carries together (one snapshot).
void PostgresEventStore::read_group_rows(GroupTotals& g) {
  Result& rows = g.rows;
  rows = conn().prepared_binary(
      "machines_rows",
      "SELECT m.id, m.has_total_counter, m.max_ts, m.version, m.kinds, c.at, c.events, c.partial_hours FROM machines m"
      " LEFT JOIN machine_carry c ON c.machine_id = m.id WHERE m.id = ANY($1::int[])",
      Params().add_array(g.ids));
  for (int i = 0; i < rows.rows(); ++i) {
    MachineFacts& f = g.facts[rows.int_at(i, 0)];
    f.has_total = rows.int_at(i, 1) != 0;
    f.max_ts = rows.is_null(i, 2) ? std::nullopt : std::optional<TimeMs>(rows.int_at(i, 2));
    f.version = rows.int_at(i, 3);
    f.kinds = rows.int_at(i, 4);
    if (!rows.is_null(i, 5)) {
      const TimeMs at = rows.int_at(i, 5);
      g.carries[rows.int_at(i, 0)] = {at, rows.view_at(i, 6), rows.int_at(i, 7) == (at - floor_to(at, kMsPerDay)) / kMsPerHour};
    }
  }
}

// Each machine's settled hours go to the rollup sums, the edges around them to the engine.
void PostgresEventStore::plan_group(GroupTotals& g, TimeMs from, TimeMs to, TimeMs horizon) {
  const TimeMs end = std::min(to, horizon);
  g.totals.resize(g.group.size());
  for (std::size_t k = 0; k < g.group.size(); ++k) {
    const MachineSpec& m = *g.group[k];
    const MachineFacts& f = g.facts[g.ids[k]];
    const auto [r0, r1] = settled_hours(m, f, from, end, horizon);
    auto engine = [&](TimeMs a, TimeMs b) {
      g.requests.push_back({g.ids[k], &m, a, b, f.kinds, {}});
      g.request_machine.push_back(k);
    };
    if (r1 <= r0) {
      engine(from, to);
      continue;
    }
    g.sum_idx.push_back(static_cast<std::int64_t>(k));
    g.sum_ids.push_back(g.ids[k]);
    g.sum_r0.push_back(r0);
    g.sum_r1.push_back(r1);
    // The whole days [d0, d1) of the settled hours come from rollup_days, the hours around them from rollups.
    const TimeMs d0 = ceil_to(r0, kMsPerDay), d1 = floor_to(r1, kMsPerDay);
    g.sum_d0.push_back(d0 < d1 ? d0 : r1);
    g.sum_d1.push_back(d0 < d1 ? d1 : r1);
    // A carry written where the settled hours end: the hours [d1, r1) are its day part, and the
    // open tail after r1 reads only its own events.
    const auto found = g.carries.find(g.ids[k]);
    const GroupTotals::Carry* carry = found != g.carries.end() && found->second.at == r1 ? &found->second : nullptr;
    g.sum_partial.push_back(d0 < d1 && d1 < r1 && carry && carry->day_complete);
    if (from < r0) engine(from, r0);
    if (r1 < end) {
      engine(r1, to);
      if (carry) add_carry(g.requests.back(), carry->events);
    }
  }
}

void PostgresEventStore::send_group_sums(Connection& side, const GroupTotals& g) {
  // count(hour_start) counts the hours covered: 24 for a day row.
  side.send_prepared(
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
      Params().add_array(g.sum_idx).add_array(g.sum_ids).add_array(g.sum_r0).add_array(g.sum_r1).add_array(g.sum_d0)
          .add_array(g.sum_d1).add_array(g.sum_partial),
      false);
}

// The sums of the settled hours (`s`, from send_group_sums) into each machine's totals.
void PostgresEventStore::add_group_sums(const Result& s, GroupTotals& g) {
  std::unordered_map<std::int64_t, int> row_of;
  for (int i = 0; i < s.rows(); ++i) row_of[s.int_at(i, 0)] = i;
  for (std::size_t n = 0; n < g.sum_idx.size(); ++n) {
    const std::size_t k = static_cast<std::size_t>(g.sum_idx[n]);
    const auto it = row_of.find(g.sum_idx[n]);
    if (it == row_of.end() || s.int_at(it->second, 1) != (g.sum_r1[n] - g.sum_r0[n]) / kMsPerHour) {
      // Hours not materialised yet: computed and written on the one-machine path.
      g.totals[k] += rollup_hours(g.ids[k], *g.group[k], g.sum_r0[n], g.sum_r1[n], g.facts[g.ids[k]], true);
      continue;
    }
    KpiTotals t;
    auto fields = kpi_fields(t);
    for (std::size_t i = 0; i < kKpiFieldCount; ++i) *fields[i] = s.int_at(it->second, 2 + static_cast<int>(i));
    g.totals[k] += t;
  }
}

}  // namespace oee::storage
