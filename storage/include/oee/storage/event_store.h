#pragma once
// The storage interface: an append-only event log with idempotent insert, rollups kept up to date
// as events arrive, dead letters and per-source statistics. SQLite (embedded, default) and
// PostgreSQL implement it; every caller sees only this.
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "oee/core/alert.h"
#include "oee/core/event.h"
#include "oee/core/kpi.h"
#include "oee/core/plant_model.h"
#include "oee/core/shift_calendar.h"

namespace oee::storage {

struct AppendResult {
  std::size_t inserted = 0;
  std::size_t duplicates = 0;  // already stored (same src+seq, or same content without src+seq)
  // Positions (in the appended span) of the events with src+seq that were not stored because their
  // identity was: their content is checked against the stored version (conflicts.h).
  std::vector<std::size_t> identity_duplicates;
  // Events older than the store's retention cut (the start of what the last apply_retention kept):
  // the store dead-letters them itself, in the append's transaction (topic "retention"), because
  // they could only change figures retention summarised or deleted. Not in `inserted` or
  // `duplicates`; an event of that age whose identity is stored already is a duplicate.
  std::size_t older_than_retention = 0;
};

struct SourceStats {
  std::string src;
  std::string incarnation;  // empty: a source without incarnations (docs/events.md)
  std::int64_t events = 0;
  std::int64_t seq_min = -1;
  std::int64_t seq_max = -1;
  std::vector<std::pair<std::int64_t, std::int64_t>> gaps;  // missing seq ranges [first, last]
  TimeMs last_seen = 0;            // server time of the last event received from it
  std::int64_t clock_offset_ms = 0;  // median-ish of (event ts - server receive time) of recent events
  std::int64_t future_events = 0;    // events stamped more than the allowed skew in the future
  std::int64_t conflicts = 0;        // events sent again under a stored src+inc+seq with other content
};

// An event that came under the identity (src, incarnation, seq) of a stored event but says something
// else. The stored version stays (the first stored wins); both are kept here, visible.
struct Conflict {
  std::int64_t id = 0;
  TimeMs received = 0;
  std::string src;
  std::string incarnation;
  std::int64_t seq = 0;
  std::string machine;           // the received version's
  std::string stored_json;       // the stored version; empty when not found at the received one's machine and hour
  std::string received_json;
  std::int64_t fingerprint = 0;  // of the received version (content_fingerprint): kept once
};

struct DeadLetter {
  std::int64_t id = 0;
  TimeMs received = 0;
  std::string topic;    // MQTT topic, file name, or HTTP route it came through
  std::string payload;  // bounded (kMaxDeadLetterPayloadBytes), marked when truncated
  std::string reason;
};
inline constexpr std::size_t kMaxDeadLetterPayloadBytes = 64 * 1024;
inline constexpr std::int64_t kAlertsResolvedKept = 1000;

// A comment an operator added to a stop (not an event: it explains, it changes no figure). A stop is
// named by its machine and its start.
struct StopComment {
  std::int64_t id = 0;
  std::string machine;
  TimeMs stop_start = 0;
  TimeMs created = 0;
  std::string author;
  std::string text;
};

// What one apply_retention() deleted.
struct RetentionResult {
  std::int64_t events = 0;
  std::int64_t dead_letters = 0;
};

struct StoreOptions {
  // Events older than this are deleted with their rollups and the dead letters received before the
  // cut by apply_retention(); 0 keeps everything. From a run on, events older than its cut that
  // arrive late are dead-lettered (AppendResult::older_than_retention).
  std::int64_t retention_days = 0;
  // Events stamped further than this in the future (against the server clock) are flagged.
  std::int64_t max_future_skew_ms = 5 * 60 * 1000;
  // The embedded (SQLite) store's own key (fileio::derive_key(master, KeyUse::store)): its file
  // and WAL are encrypted (docs/security.md). PostgreSQL stores ignore it.
  std::optional<std::array<unsigned char, 32>> encryption_key;
};

class EventStore {
 public:
  virtual ~EventStore() = default;

  // Stores the events (all of known machines, validated by the caller) durably: when it returns
  // they are committed. Events already stored are skipped. Rollups of the affected machines are up
  // to date when it returns; a late event recomputes only the affected range.
  virtual AppendResult append(std::span<const Event> events, TimeMs received_at) = 0;

  // Events of one machine with ts in [from, to), sorted by ts.
  virtual std::vector<Event> machine_events(std::string_view machine, TimeMs from, TimeMs to) = 0;

  // The run events (production_run.h) of one machine with ts before `to`, sorted by ts: the runs
  // of every window ending by `to`, the one open at its start included, without its other events
  // (backends read them by type). This default reads every event; the backends override it.
  virtual std::vector<Event> machine_run_events(std::string_view machine, TimeMs to) {
    std::vector<Event> out = machine_events(machine, kTimeMin, to);
    std::erase_if(out, [](const Event& e) { return e.type != EventType::run; });
    return out;
  }

  // The corrections of one machine whose range (an instant: the instant) overlaps [from, to),
  // whenever they were made, in no particular order (docs/oee-model.md, "Corrections").
  virtual std::vector<Event> machine_corrections(std::string_view machine, TimeMs from, TimeMs to) = 0;

  // The history of one machine able to answer for [from, to): built from the events in that range
  // plus the context before it (the state in effect at `from` and its start, the product in
  // effect, each counter's last reading, and what a start-up window needs).
  virtual MachineHistory machine_history(const MachineSpec& machine, TimeMs from, TimeMs to) = 0;

  // KPI totals of one machine over [from, to) up to `horizon`: rollups for settled whole hours, the
  // engine over events for the rest. Equal, bit for bit, to the engine over all events.
  virtual KpiTotals machine_totals(const MachineSpec& machine, TimeMs from, TimeMs to, TimeMs horizon) = 0;

  // The sum of machine_totals over several machines (a line, an area, the plant). Totals are
  // integers, so the sum is exact in any order; backends override this to answer in a few queries
  // instead of one per machine.
  virtual KpiTotals machines_totals(std::span<const MachineSpec* const> machines, TimeMs from, TimeMs to,
                                    TimeMs horizon) {
    KpiTotals sum;
    for (const MachineSpec* m : machines) sum += machine_totals(*m, from, to, horizon);
    return sum;
  }

  // Total stored events; per-source statistics.
  virtual std::int64_t event_count() = 0;
  virtual std::vector<SourceStats> sources() = 0;

  virtual std::int64_t add_dead_letter(const DeadLetter& letter) = 0;
  // Newest first; `before_id` 0 = from the newest.
  virtual std::vector<DeadLetter> dead_letters(std::int64_t before_id, std::size_t limit) = 0;
  virtual std::int64_t dead_letter_count() = 0;

  // Keeps conflicts; the same received version of an identity is kept once.
  virtual void add_conflicts(std::span<const Conflict> conflicts) = 0;
  // Newest first; `before_id` 0 = from the newest.
  virtual std::vector<Conflict> conflicts(std::int64_t before_id, std::size_t limit) = 0;
  virtual std::int64_t conflict_count() = 0;

  // Keeps a stop comment (`id` ignored); its id. The same comment (machine, stop, created, author,
  // text) is kept once: adding it again returns the kept one's id.
  virtual std::int64_t add_stop_comment(const StopComment& comment) = 0;
  // Comments of a machine's stops starting in [from, to), oldest first.
  virtual std::vector<StopComment> stop_comments(std::string_view machine, TimeMs from, TimeMs to) = 0;
  // GDPR erasure of comments written under a name (before authors were kept as pseudonyms): their
  // author becomes `pseudonym`, and the old bytes are overwritten where the backend can (SQLite's
  // secure_delete and a checkpoint). Returns how many of the name's comments there were.
  virtual std::int64_t pseudonymise_comment_author(std::string_view name, std::string_view pseudonym) = 0;

  // The plant's alerts (server/alert_monitor.h), kept here so that a restarted server keeps them
  // and servers sharing the database agree. At most one alert per id fires at a time: each change
  // is made by one caller only, the one told so (false, nullopt: another did it first).
  // Adds `alert` (not resolved) as firing; false when an alert with its id fires already.
  virtual bool fire_alert(const Alert& alert) = 0;
  // Resolves the firing alert `id` at `at`, for `why`: the alert as it is now.
  virtual std::optional<Alert> resolve_alert(std::string_view id, TimeMs at, AlertResolution why) = 0;
  // Acknowledges the alert `id` (firing or resolved) that fired at `fired`, or without it the
  // newest `id`: the alert as it is now; nullopt when there is none or it is acknowledged already.
  virtual std::optional<Alert> acknowledge_alert(std::string_view id, std::optional<TimeMs> fired, std::string_view user,
                                                 TimeMs at) = 0;
  // The firing alerts (the newest first), then the kAlertsResolvedKept newest resolved ones (the
  // last resolved first); older resolved ones are deleted as new ones resolve.
  virtual std::vector<Alert> alerts() = 0;
  // Deletes events and rollups older than the retention (now - retention_days; a backend may keep
  // the rest of the hour or day holding the cut) and the dead letters received before the cut.
  // KPIs over what is kept stay equal to the engine over the kept events.
  virtual RetentionResult apply_retention(TimeMs now) = 0;

  // A short name for logs and /readyz ("sqlite:/path", "postgresql://host/db").
  virtual std::string describe() const = 0;

  // True when the reads (machine_events … dead_letter_count) may run on any thread, beside each
  // other and beside the writes, which the caller still runs one at a time: then a caller need not
  // hold its writers' lock for a read (docs/storage.md).
  virtual bool reads_beside_writes() const { return false; }

  // Makes the reads of this thread see one snapshot of the store until the returned object is
  // destroyed (on this thread): answers that take several reads then agree with each other, and
  // writes committed meanwhile stay out of them. nullptr when the store has no snapshots to pin.
  struct PinnedReads {
    virtual ~PinnedReads() = default;
  };
  virtual std::unique_ptr<PinnedReads> pin_reads() { return nullptr; }
};

// Opens (creating and migrating when needed) the embedded store at `path` (a file).
std::unique_ptr<EventStore> open_sqlite_store(const std::string& path, const PlantModel& plant,
                                              const ShiftCalendar& calendar, const StoreOptions& options = {});

}  // namespace oee::storage
