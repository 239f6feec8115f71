// PostgreSQL store: retention (dropping day partitions, keeping the context at the cut) and
// refusing events older than the last cut.
#include "postgres_event_store.h"

#include <algorithm>

#include "oee/codec/event_json.h"
#include "oee/core/history_corrections.h"
#include "postgres_schema.h"
#include "signs_of_life.h"

namespace oee::storage {

namespace {

using pg::Connection;
using pg::Params;
using pg::PgError;
using pg::Result;
using pg::Transaction;
using pg::append_int;
using pg::kPartitionMs;
using pg::to_bytea_hex;

// PostgreSQL text cannot hold NUL; an event string with one is stored without it.
void append_text(std::string& out, std::string_view s) {
  if (s.find('\0') == std::string_view::npos) {
    pg::append_copy_text(out, s);
    return;
  }
  std::string clean;
  for (char c : s)
    if (c != '\0') clean += c;
  pg::append_copy_text(out, clean);
}

}  // namespace

// The cut of the last retention run (on any server), asked only when the batch holds an event a
// day old or more (a cut is at least a day before the run that set it), or when `ask`.
TimeMs PostgresEventStore::retention_cut(Connection& c, std::span<const Event> events, TimeMs received_at, bool ask) {
  ask = ask || std::any_of(events.begin(), events.end(), [&](const Event& e) { return e.ts < received_at - kMsPerDay; });
  if (!ask) return kTimeMin;
  Result r = c.prepared("retention_cut", "SELECT cut FROM retention_cut", Params());
  return r.rows() == 0 ? kTimeMin : r.int_at(0, 0);
}

// In the append's transaction: an event older than the cut could only change history retention
// deleted (and the windows over it), so the store refuses it, visibly.
void PostgresEventStore::dead_letter_refused(Connection& c, std::span<const Event* const> refused, TimeMs cut,
                                             TimeMs received_at) {
  for (const Event* e : refused)
    c.prepared("refuse_event",
               "INSERT INTO dead_letters(received, topic, payload, reason) VALUES($1, $2::bytea, $3::bytea, $4::bytea)",
               Params()
                   .add(received_at)
                   .add(to_bytea_hex(kRetentionLetterTopic))
                   .add(to_bytea_hex(bounded(codec::event_to_json(*e), kMaxDeadLetterPayloadBytes)))
                   .add(to_bytea_hex(older_than_retention_reason(e->ts, cut))));
}

// The day partitions wholly before `cut` (listed under the retention lock).
std::vector<std::string> PostgresEventStore::partitions_before(Connection& c, TimeMs cut) {
  Result parts = c.query(
      "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'events'::regclass");
  std::vector<std::string> drop;
  for (int i = 0; i < parts.rows(); ++i) {
    const std::string name = parts.text_at(i, 0);
    const auto day = parse_civil_date(std::string_view(name).substr(7));
    if (day && (*day + 1) * kPartitionMs <= cut) drop.push_back(name);
  }
  return drop;
}

// Each machine's context at the cut (what windows after it still need) goes to context_events.
void PostgresEventStore::keep_context_at(Connection& c, TimeMs cut) {
  Result ms = c.query("SELECT id, path, has_total_counter, kinds FROM machines ORDER BY id FOR UPDATE");
  c.exec("DELETE FROM machine_carry");  // recomputed from what is kept by the next rollups written
  for (int i = 0; i < ms.rows(); ++i) {
    const std::int64_t mid = ms.int_at(i, 0);
    const MachineSpec* spec = plant_.find_machine(ms.text_at(i, 1));
    if (!spec) continue;
    std::vector<Event> ctx;
    load_history_events(mid, *spec, cut, cut, ms.int_at(i, 3), ctx);
    // A voided reading is never kept: the void itself may go with its partition (it corrects
    // nothing after the cut), and windows after the cut count from the reading before it, which
    // load_history_events read too (add_reading_before_voided). The voids of every reading read
    // are among the events read (they name their instants).
    std::vector<const Event*> corrections;
    for (const Event& e : ctx)
      if (e.type == EventType::correction) corrections.push_back(&e);
    const VoidedReadings voided(corrections);
    // With no-data detection the last sign of life before the cut too (load_histories gives it;
    // as a heartbeat when it is an event not kept otherwise). A correction is none: the instant
    // it was made says nothing of the machine.
    TimeMs sign = kTimeMin;
    for (const Event& e : ctx)
      if (e.ts < cut && spec->no_data_after_ms > 0 && e.type != EventType::correction) sign = std::max(sign, e.ts);
    auto kept = [&](const Event& e) {
      return e.ts < cut && (e.type == EventType::state || e.type == EventType::product ||
                            (e.type == EventType::counter && !voided.contains(e)) ||
                            (e.type == EventType::heartbeat && e.ts == sign));
    };
    if (sign != kTimeMin &&
        std::none_of(ctx.begin(), ctx.end(), [&](const Event& e) { return e.ts == sign && kept(e); }))
      ctx.push_back(heartbeat_at(spec->path, sign));
    std::string rows;
    for (const Event& e : ctx) {
      if (!kept(e)) continue;
      const std::int64_t sid = e.src.empty() ? 0 : source_id(e.src, e.inc);
      std::int64_t fields[] = {mid, e.ts, e.has_identity() ? sid : -mid,
                               e.has_identity() ? e.seq : static_cast<std::int64_t>(content_fingerprint(e))};
      for (std::int64_t f : fields) {
        append_int(rows, f);
        rows += '\t';
      }
      append_int(rows, static_cast<int>(e.type));
      rows += '\t';
      append_int(rows, sid);
      rows += '\t';
      append_int(rows, e.seq);
      rows += '\t';
      append_text(rows, e.state);
      rows += '\t';
      append_text(rows, e.reason);
      rows += "\t0\t0\t";
      append_int(rows, static_cast<int>(e.counter));
      rows += '\t';
      append_int(rows, e.value);
      rows += '\t';
      append_int(rows, e.rollover);
      rows += '\t';
      append_text(rows, e.product);
      rows += '\t';
      append_int(rows, e.at);
      rows += '\n';
    }
    c.query("DELETE FROM context_events WHERE machine_id=$1 AND type<>8", Params().add(mid));  // (keep_corrections_at)
    if (!rows.empty()) {
      c.copy_begin("COPY context_events(" OEE_PG_EVENT_COLUMNS ") FROM STDIN");
      c.copy_data(rows);
      c.copy_end();
    }
  }
}

// The corrections of the partitions dropped at `cut` that correct something after it stay (a
// correction is kept by the range it corrects, correction_ranges.h); those kept before that no
// longer do go.
void PostgresEventStore::keep_corrections_at(Connection& c, TimeMs cut) {
  c.query("DELETE FROM context_events WHERE type=8 AND GREATEST(value, at + 1)<=$1", Params().add(cut));
  c.query("INSERT INTO context_events(" OEE_PG_EVENT_COLUMNS ") SELECT " OEE_PG_EVENT_COLUMNS
          " FROM events WHERE type=8 AND ts<$1 AND GREATEST(value, at + 1)>$1",
          Params().add(cut));
}

// Drops the partitions and their events' counts; returns the events dropped.
std::int64_t PostgresEventStore::drop_partitions(Connection& c, const std::vector<std::string>& drop) {
  std::int64_t deleted = 0;
  for (const std::string& name : drop) {
    Result counts = c.query("SELECT machine_id, count(*) FROM \"" + name + "\" GROUP BY machine_id");
    for (int i = 0; i < counts.rows(); ++i) {
      deleted += counts.int_at(i, 1);
      c.query("UPDATE machines SET events = events - $2 WHERE id=$1", Params().add(counts.int_at(i, 0)).add(counts.int_at(i, 1)));
    }
    c.exec("DROP TABLE \"" + name + "\"");
    const auto day = parse_civil_date(std::string_view(name).substr(7));
    if (day) partitions_.erase(*day);
  }
  return deleted;
}

// Drops every day partition wholly older than the retention, with the rollups, day rollups and
// carries of those days, and the dead letters received before the cut. Before that, each machine's
// context at the cut is kept. The rollups of the kept events (the rest of the cut's day) stay, so
// KPIs over them still come from rollups.
RetentionResult PostgresEventStore::apply_retention(TimeMs now) {
  if (options_.retention_days <= 0) return {};
  return guarded([&] {
    const TimeMs cutoff = now - options_.retention_days * kMsPerDay;
    const TimeMs cut = floor_to(cutoff, kPartitionMs);
    Connection& c = conn();
    Transaction tx(c);
    // Listed under the lock: another server applying retention at the same time waits, then finds
    // the partitions gone.
    c.exec("SELECT pg_advisory_xact_lock(7302650002)");
    RetentionResult out;
    if (const std::vector<std::string> drop = partitions_before(c, cut); !drop.empty()) {
      keep_context_at(c, cut);
      keep_corrections_at(c, cut);
      out.events = drop_partitions(c, drop);
      c.query("DELETE FROM rollups WHERE hour_start < $1", Params().add(cut));
      c.query("DELETE FROM rollup_days WHERE day_start < $1", Params().add(cut));
    }
    // From now on nothing older than the cut may change what it kept (dead_letter_refused).
    c.query("INSERT INTO retention_cut(cut) VALUES($1) ON CONFLICT (one) DO UPDATE SET cut = GREATEST(retention_cut.cut, $1)",
            Params().add(cut));
    out.dead_letters =
        c.query("WITH d AS (DELETE FROM dead_letters WHERE received < $1 RETURNING 1) SELECT count(*) FROM d",
                Params().add(cutoff))
            .int_at(0, 0);
    tx.commit();
    return out;
  });
}

}  // namespace oee::storage
