// Retention: old events and rollups summarised into a zero point, and events older than its cut refused.
#include "sqlite_event_store.h"

#include "oee/codec/event_json.h"
#include "store_helpers.h"

namespace oee::storage::sqlite {

// A file from before the cut was kept: the retention runs so far left their zero points, whose next
// hour no event older may change (an undercount of the cut, never an overcount).
void SqliteEventStore::load_retention_cut() {
  Statement kept(db_, "SELECT value FROM meta WHERE key='retention_cut'");
  if (kept.step()) {
    retention_cut_ = kept.int_at(0);
    return;
  }
  Statement zeros(db_, "SELECT max(m.rollup_zero_hour) FROM machines m JOIN rollup_zero z ON z.machine_id=m.id");
  retention_cut_ = zeros.step() && !zeros.is_null(0) ? zeros.int_at(0) + kMsPerHour : kTimeMin;
}

// An event before the retention cut could only change the summarised hours before it (rollup_zero)
// and the windows they feed: it is dead-lettered in the append's transaction instead. Its source's
// statistics still hold its seq if it was stored before the cut: then it is a duplicate.
void SqliteEventStore::refuse_before_cut(const Event& e, const SourceState* src, TimeMs received_at,
                                         AppendResult& result) {
  if (src && e.has_identity() && stored_seq(*src, e.seq)) {
    ++result.duplicates;
    return;
  }
  ++result.older_than_retention;
  insert_dead_letter_.bind(1, received_at)
      .bind(2, kRetentionLetterTopic)
      .bind(3, bounded(codec::event_to_json(e), kMaxDeadLetterPayloadBytes))
      .bind(4, older_than_retention_reason(e.ts, retention_cut_))
      .run();
}

RetentionResult SqliteEventStore::apply_retention(TimeMs now) {
  if (options_.retention_days <= 0) return {};
  const TimeMs cutoff = now - options_.retention_days * kMsPerDay;
  // Whole hours, and never at or after a machine's settled hour: the in-memory tail mirrors the
  // events from there on. Identities carry no machine, so one limit serves every machine.
  // The events of one no-data threshold before that stay too: a window after the cut (or a tail)
  // starts with the last sign of life before it (sign_before).
  DurationMs keep_signs = 0;
  for (const MachineSpec* spec : plant_.machines())
    if (spec->no_data_after_ms > 0) keep_signs = std::max(keep_signs, spec->no_data_after_ms + 1);
  TimeMs limit = floor_hour(cutoff - keep_signs);
  std::lock_guard state_lock(state_mutex_);
  for (const auto& [path, m] : machines_)
    if (m->base != kNoBase) limit = std::min(limit, floor_hour(m->base - keep_signs));
  Transaction tx(db_);
  Statement old_events(db_, "SELECT coalesce(sum(events), 0) FROM event_blocks WHERE hour_start<?1");
  old_events.bind(1, limit).step();
  const std::int64_t deleted = old_events.int_at(0);
  old_events.reset();
  // Identities by content go with their events; sequence ranges stay (the statistics keep them),
  // so an event older than the retention sent again is still a duplicate.
  Statement ids(db_, "DELETE FROM event_ids WHERE hour_start<?1");
  ids.bind(1, limit).run();
  Statement blocks(db_, "DELETE FROM event_blocks WHERE hour_start<?1");
  blocks.bind(1, limit).run();
  Statement reasons(db_, "DELETE FROM reason_events WHERE ts<?1");
  reasons.bind(1, limit).run();
  Statement runs(db_, "DELETE FROM run_events WHERE ts<?1");  // as their blocks
  runs.bind(1, limit).run();
  Statement corrections(db_, "DELETE FROM correction_events WHERE until<?1");  // correcting nothing kept
  corrections.bind(1, limit).run();
  // The context stored at or before the limit stays: it is the context of every window after it.
  Statement contexts(db_,
                     "DELETE FROM contexts WHERE machine_id=?1 AND hour_start<(SELECT max(hour_start) FROM contexts "
                     "WHERE machine_id=?1 AND hour_start<=?2)");
  Statement changes(db_,
                    "DELETE FROM state_changes WHERE machine_id=?1 AND ts<(SELECT max(ts) FROM state_changes "
                    "WHERE machine_id=?1 AND ts<?2)");
  // The cumulative value at the last hour before the cutoff becomes the zero point.
  Statement hours(db_, "DELETE FROM rollups WHERE machine_id=?1 AND hour_start<=?2");
  Statement zero(db_, "INSERT OR REPLACE INTO rollup_zero VALUES(?1," OEE_KPI_PARAMS ")");
  for (auto& [path, m] : machines_) {
    contexts.bind(1, m->id).bind(2, limit).run();
    const DurationMs window = m->spec ? m->spec->startup_window_ms : 0;
    changes.bind(1, m->id).bind(2, limit - window).run();
    const TimeMs keep = std::min(floor_hour(cutoff), m->base) - kMsPerHour;
    if (m->base != kNoBase && keep > m->zero_hour) {
      m->zero = cumulative_at(*m, keep);
      zero.bind(1, m->id);
      int c = 2;
      for (std::int64_t* f : kpi_fields(m->zero)) zero.bind(c++, *f);
      zero.run();
      hours.bind(1, m->id).bind(2, keep).run();
      m->zero_hour = keep;
      m->row_dirty = true;
      write_machine_row(*m);
    }
  }
  event_count_ -= deleted;
  set_meta_.bind(1, "event_count").bind(2, event_count_).run();
  // From now on nothing older than the cut may change what it kept (refuse_before_cut).
  retention_cut_ = std::max(retention_cut_, floor_hour(cutoff));
  set_meta_.bind(1, "retention_cut").bind(2, retention_cut_).run();
  Statement letters(db_, "DELETE FROM dead_letters WHERE received<?1");
  letters.bind(1, cutoff).run();
  const std::int64_t letters_deleted = sqlite3_changes64(db_.handle());
  tx.commit();
  return {deleted, letters_deleted};
}

}  // namespace oee::storage::sqlite
