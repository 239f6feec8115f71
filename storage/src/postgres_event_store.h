#pragma once
// The PostgreSQL event store's class, private to storage/src: one file per concern implements it
// (postgres_event_store.cpp: connections, ids, opening; postgres_append, _history, _rollups,
// _retention and _records.cpp). docs/storage.md ("PostgreSQL") explains the design.
#include <charconv>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "oee/storage/postgres_store.h"
#include "oee/storage/resilient_store.h"
#include "postgres_connection.h"
#include "source_identity.h"

// The event columns every history read selects (PostgresEventStore::decode reads them by position).
#define OEE_PG_READ_COLUMNS "machine_id, ts, type, src_id, seq, state, reason, good, reject, counter, value, rollover, product, at"
#include "store_helpers.h"

namespace oee::storage {

namespace pg {

inline constexpr DurationMs kPartitionMs = kMsPerDay;  // one partition per UTC day of ts

inline std::string to_bytea_hex(std::string_view bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out = "\\x";
  out.reserve(2 + bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

inline void append_int(std::string& out, std::int64_t v) {
  char buf[24];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, p);
}

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

}  // namespace pg

class PostgresEventStore final : public EventStore {
 public:
  // What a read needs to know of a machine's row.
  struct MachineFacts {
    bool has_total = false;
    std::optional<TimeMs> max_ts;
    std::int64_t version = 0;
    std::int64_t kinds = 0;
  };

  PostgresEventStore(const std::string& url, const PlantModel& plant, const ShiftCalendar& calendar,
                     const StoreOptions& options);

  AppendResult append(std::span<const Event> events, TimeMs received_at) override;
  std::vector<Event> machine_corrections(std::string_view machine, TimeMs from, TimeMs to) override;
  std::vector<Event> machine_run_events(std::string_view machine, TimeMs to) override;
  std::vector<Event> machine_events(std::string_view machine, TimeMs from, TimeMs to) override;
  MachineHistory machine_history(const MachineSpec& machine, TimeMs from, TimeMs to) override;
  KpiTotals machine_totals(const MachineSpec& machine, TimeMs from, TimeMs to, TimeMs horizon) override;
  KpiTotals machines_totals(std::span<const MachineSpec* const> machines, TimeMs from, TimeMs to,
                            TimeMs horizon) override;
  std::int64_t event_count() override;
  std::vector<SourceStats> sources() override;
  std::int64_t add_dead_letter(const DeadLetter& letter) override;
  std::vector<DeadLetter> dead_letters(std::int64_t before_id, std::size_t limit) override;
  std::int64_t dead_letter_count() override;
  void add_conflicts(std::span<const Conflict> conflicts) override;
  std::vector<Conflict> conflicts(std::int64_t before_id, std::size_t limit) override;
  std::int64_t conflict_count() override;
  std::int64_t add_stop_comment(const StopComment& comment) override;
  std::vector<StopComment> stop_comments(std::string_view machine, TimeMs from, TimeMs to) override;
  std::int64_t pseudonymise_comment_author(std::string_view name, std::string_view pseudonym) override;
  bool fire_alert(const Alert& alert) override;
  std::optional<Alert> resolve_alert(std::string_view id, TimeMs at, AlertResolution why) override;
  std::optional<Alert> acknowledge_alert(std::string_view id, std::optional<TimeMs> fired, std::string_view user,
                                         TimeMs at) override;
  std::vector<Alert> alerts() override;
  RetentionResult apply_retention(TimeMs now) override;
  std::string describe() const override;

 private:
  std::vector<std::string> partitions_before(pg::Connection& c, TimeMs cut);
  void keep_context_at(pg::Connection& c, TimeMs cut);
  void keep_corrections_at(pg::Connection& c, TimeMs cut);
  bool has_corrections(pg::Connection& c, std::int64_t mid);
  std::int64_t drop_partitions(pg::Connection& c, const std::vector<std::string>& drop);
  // A lost connection is replaced on the next call; the statement that saw it failed.
  pg::Connection& conn();
  pg::Connection& side_conn();
  template <class F>
  auto guarded(F&& f) -> decltype(f()) {
    try {
      return f();
    } catch (const pg::PgError& e) {
      if (!e.connection_lost()) throw;
      db_.reset();
      side_.reset();
      throw StoreUnreachable(e.what());
    }
  }
  std::int64_t machine_id(std::string_view path);
  std::int64_t source_id(std::string_view src, std::string_view inc);
  const SourceName& source_name(std::int64_t id);
  // Sets the event's src and inc from a stored source id (0: none).
  void name_source(Event& e, std::int64_t id);
  const std::string& machine_path(std::int64_t id);
  void ensure_partitions(const std::set<std::int64_t>& days);
  void check_rules();
  AppendResult append_once(std::span<const Event> events, TimeMs received_at, bool ask_cut = false);
  // The steps of append_once (postgres_append.cpp).
  struct AppendBatch;
  void select_new_events(std::span<const Event> events, TimeMs received_at, bool ask_cut, AppendBatch& b);
  void copy_direct(pg::Connection& c, AppendBatch& b, TimeMs received_at, std::optional<pg::Transaction>& tx);
  void copy_staged(pg::Connection& c, AppendBatch& b, TimeMs received_at, std::optional<pg::Transaction>& tx);
  pg::Result update_machine_rows(pg::Connection& c, const AppendBatch& b);
  void invalidate_rollups(pg::Connection& c, const pg::Result& before, const AppendBatch& b);
  TimeMs retention_cut(pg::Connection& c, std::span<const Event> events, TimeMs received_at, bool ask);
  void dead_letter_refused(pg::Connection& c, std::span<const Event* const> refused, TimeMs cut, TimeMs received_at);
  // What one append brings to a source.
  struct SourceBatch {
    std::int64_t count = 0, seq_min = -1, seq_max = -1, future = 0;
    std::vector<std::int64_t> offsets, seqs;
  };
  void update_source_gaps(const std::map<std::int64_t, SourceBatch>& sources);
  void update_sources(pg::Connection& c, std::map<std::int64_t, SourceBatch>& sources, TimeMs received_at);
  // Which events' identities (src+inc+seq) are stored already, under any time: a source's stored
  // seqs are its range minus its gaps, as on SQLite. Only seqs at or below the highest this server
  // has seen of their source are looked up, so a live stream costs nothing here.
  std::vector<char> stored_identities(std::span<const Event> events, const std::vector<std::int64_t>& sids);

  Event decode(const pg::Result& r, int row);
  void load_range(std::int64_t mid, const char* table, TimeMs from, TimeMs to, bool states_only, std::vector<Event>& out);
  struct StateWalk {
    std::int64_t mid;
    const MachineSpec* spec;
    TimeMs before;
    TimeMs bound = kTimeMin;  // the answer
  };
  void run_start_bounds(std::vector<StateWalk>& walks);
  struct WalkProgress;  // postgres_history.cpp
  void advance_walk(const pg::Result& r, int begin, int end, StateWalk& w, WalkProgress& p);
  struct HistoryRequest {
    std::int64_t mid;
    const MachineSpec* spec;
    TimeMs from, to;
    std::int64_t kinds;
    std::vector<Event> events;  // the answer
    bool carried = false;       // `events` starts with the carry of `from`: only [from, …) is left to load
  };
  void load_histories(std::vector<HistoryRequest>& requests);
  void load_context_before(std::vector<HistoryRequest>& requests, const std::vector<TimeMs>& lo,
                           std::vector<std::int64_t>& wanted);
  void add_signs_of_life(std::vector<HistoryRequest>& requests);
  // With a reason tree: the reasons given after each window's end that name its intervals
  // (postgres_late_reasons.cpp).
  void add_late_reasons(std::vector<HistoryRequest>& requests);
  // The corrections whose range overlaps each window's events, and for a voided reading among a
  // window's context the reading before it (postgres_corrections.cpp).
  void add_corrections(std::vector<HistoryRequest>& requests);
  void add_reading_before_voided(HistoryRequest& q);
  void add_late_reasons_of(HistoryRequest& q, std::vector<Event>& late);
  // What load_histories knows of each request so far.
  struct HistoryProgress {
    TimeMs lo = kTimeMin;        // the walk's bound
    bool lo_known = false;
    std::int64_t wanted = 0;     // context kinds still looked for (bits of machines.kinds)
    bool window_done = false;
  };
  void load_windows_with_lead(std::vector<HistoryRequest>& requests, std::vector<HistoryProgress>& progress);
  void load_windows(std::vector<HistoryRequest>& requests, const std::vector<HistoryProgress>& progress,
                    const std::vector<TimeMs>& lo);
  struct LeadRow;  // postgres_history.cpp
  void answer_from_lead(const pg::Result& r, const std::vector<LeadRow>& rows, HistoryRequest& q, HistoryProgress& p);
  std::string carry_of(std::int64_t mid, const MachineSpec& spec, TimeMs at, std::int64_t kinds);
  void add_carry(HistoryRequest& q, std::string_view bytes);
  void load_history_events(std::int64_t mid, const MachineSpec& spec, TimeMs from, TimeMs to, std::int64_t kinds,
                           std::vector<Event>& out);
  void add_total_marker(std::int64_t mid, bool has_total, std::vector<Event>& events) const;
  MachineHistory history(std::int64_t mid, const MachineSpec& spec, TimeMs from, TimeMs to, const MachineFacts& facts);
  MachineFacts facts(std::int64_t mid);
  // The steps of machines_totals (postgres_rollups.cpp).
  struct GroupTotals;
  void read_group_rows(GroupTotals& g);
  void plan_group(GroupTotals& g, TimeMs from, TimeMs to, TimeMs horizon);
  void send_group_sums(pg::Connection& side, const GroupTotals& g);
  void add_group_sums(const pg::Result& s, GroupTotals& g);
  KpiTotals rollup_hours(std::int64_t mid, const MachineSpec& spec, TimeMs from, TimeMs to, const MachineFacts& facts,
                         bool fill_days = false);
  void write_rollups(pg::Connection& c, std::int64_t mid, std::int64_t version, const std::vector<Interval>& missing,
                     const std::string& rows, const std::string& carry);

  std::string url_;
  const PlantModel& plant_;
  const ShiftCalendar& calendar_;
  StoreOptions options_;
  std::unique_ptr<pg::Connection> db_;
  std::unique_ptr<pg::Connection> side_;  // a second session, for a statement run beside db_'s
  bool staging_ready_ = false;
  bool direct_copy_paused_ = false;  // the last batch held events already stored
  std::unordered_map<std::int64_t, std::int64_t> seq_max_seen_;  // source id -> highest seq known stored
  std::unordered_map<std::string, std::int64_t, pg::StringHash, std::equal_to<>> machine_ids_, source_ids_;
  std::unordered_map<std::int64_t, std::string> machine_paths_;
  std::unordered_map<std::int64_t, SourceName> source_names_;
  std::string key_scratch_;  // source_id's lookup key, its capacity kept
  std::set<std::int64_t> partitions_;  // days known to have a partition
};

}  // namespace oee::storage
