#pragma once
// A store that rides out its database being away (PostgreSQL restarted, failed over, unreachable):
// - a circuit breaker: after `failures_to_open` consecutive failures it opens and stops calling the
//   database; after a wait (doubling from open_wait_ms_min to open_wait_ms_max) one call probes it
//   (half-open): success closes the breaker, failure opens it again;
// - a bounded local spill: appends that cannot reach the database are written to a local file and
//   fsynced before append() returns (the durability promise holds), then replayed in order and in
//   bounded chunks once the database answers again (the store's idempotency makes a partly
//   replayed spill safe to replay again). When the spill is full or its disk fails (a failed write
//   or sync: that record is cut off again), append() throws StoreUnavailable: the caller must not
//   acknowledge, and the MQTT broker keeps the messages. At open, a torn tail (a crash while
//   writing) is cut off before anything is appended after it;
// - stale reads: machine_totals answers from the last value it served for the same machine and
//   window, and status() says the answers are stale and since when.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>

#include "oee/storage/event_store.h"

namespace oee::fileio {
class File;
}

namespace oee::storage {

// Thrown by the resilient store: the database is away and the call cannot be served (a read with
// nothing cached, an append with the spill full).
class StoreUnavailable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Thrown by a backend whose server cannot be reached or dropped the connection (PostgreSQL down,
// restarting, failing over). Only these count as the database being away: any other error (a
// constraint, bad data) propagates, so that a poison batch is never spilled and replayed forever.
class StoreUnreachable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ResilienceOptions {
  std::string spill_path;  // a file; created when needed
  std::uint64_t spill_bytes_max = 1ull << 30;
  std::uint64_t spill_drain_bytes = 4u << 20;  // the spill is replayed in chunks of about this size
  int failures_to_open = 3;
  std::int64_t open_wait_ms_min = 2000;
  std::int64_t open_wait_ms_max = 60000;
  // A thread of the store's own replays the spill at the breaker's probe times, so that it reaches
  // the database also when no call comes (ingest paused after a failover, nothing read). Without
  // it, the spill is replayed by the next call or catch_up().
  bool replay_in_background = false;
};

enum class BreakerState { closed, open, half_open };

struct ResilienceStatus {
  BreakerState breaker = BreakerState::closed;
  int consecutive_failures = 0;
  std::int64_t spilled_events = 0;  // accepted locally, not yet in the database
  std::uint64_t spill_bytes = 0;
  std::int64_t stale_reads = 0;     // reads answered from the cache since the database went away
  bool stale = false;               // the last read came from the cache
  std::string last_error;
};

class ResilientEventStore final : public EventStore {
 public:
  using Opener = std::function<std::unique_ptr<EventStore>()>;
  // `open` is called again after failures (the database may have been down at start).
  ResilientEventStore(Opener open, ResilienceOptions options);
  ~ResilientEventStore() override;

  AppendResult append(std::span<const Event> events, TimeMs received_at) override;
  std::vector<Event> machine_events(std::string_view machine, TimeMs from, TimeMs to) override;
  std::vector<Event> machine_corrections(std::string_view machine, TimeMs from, TimeMs to) override;
  std::vector<Event> machine_run_events(std::string_view machine, TimeMs to) override;
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

  // Replays the spill if the breaker lets a call through; true when nothing is left spilled.
  bool catch_up();
  ResilienceStatus status() const;

 private:
  bool allowed();
  void succeeded();
  void failed(const std::exception& e);
  EventStore& inner();
  void drain();  // throws on failure
  bool catch_up_locked();
  void replay_in_background();
  void open_spill();
  void spill(std::span<const Event> events, TimeMs received_at);
  template <class T, class F>
  T guarded(F&& f);
  // The query's totals, remembered under the key; the last remembered ones (marked stale) while
  // the store is unavailable.
  KpiTotals totals_or_last_known(std::string cache_key, TimeMs from, TimeMs to,
                                 const std::function<KpiTotals(EventStore&)>& query);

  Opener open_;
  ResilienceOptions options_;
  std::unique_ptr<EventStore> inner_;
  std::string inner_name_;
  mutable std::mutex mutex_;
  ResilienceStatus status_;
  std::chrono::steady_clock::time_point open_until_{};
  std::int64_t open_wait_ms_;
  std::unique_ptr<fileio::File> spill_;  // through the file layer (fileio/), with its fault seam
  std::uint64_t drained_bytes_ = 0;       // spill records before this offset are in the database
  std::map<std::tuple<std::string, TimeMs, TimeMs>, KpiTotals> last_totals_;
  std::optional<std::int64_t> last_event_count_;
  std::vector<DeadLetter> pending_letters_;
  std::condition_variable spill_grew_;  // wakes the replayer: something to replay, or stopping_
  bool stopping_ = false;
  std::thread replayer_;  // last: started once the rest is set up (options.replay_in_background)
};

}  // namespace oee::storage
