#pragma once
// The server's view of the plant: the model, its calendar, the store, each machine's live state,
// and the one ingest path every source (simulator, MQTT, HTTP) goes through: validate against the
// plant, dead-letter what is invalid with its reason, store the rest, update live state.
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "oee/core/kpi.h"
#include "oee/core/run_kpis.h"
#include "oee/server/metrics.h"
#include "oee/plant/plant_file.h"
#include "oee/storage/event_store.h"

namespace oee::server {

using Clock = std::function<TimeMs()>;
TimeMs system_clock_ms();

struct MachineLiveState {
  State state = State::unknown;
  std::string reason;
  TimeMs since = 0;
  std::string product;
  TimeMs last_event = 0;
};

// Whether a machine has been silent beyond its no_data_after_s at `now`: its live state is then
// only the last one it sent (docs/oee-model.md, no data).
inline bool is_silent(const MachineSpec& m, const MachineLiveState& live, TimeMs now) {
  return m.no_data_after_ms > 0 && live.last_event != 0 && now - live.last_event > m.no_data_after_ms;
}

struct IngestReport {
  std::size_t accepted = 0;    // valid events handed to storage
  std::size_t inserted = 0;    // new in storage
  std::size_t duplicates = 0;  // already stored
  std::size_t conflicts = 0;   // of the duplicates, those whose content differs from the stored version
  std::size_t dead_lettered = 0;  // invalid ones, and those older than the retention
  std::size_t older_than_retention = 0;  // of the accepted, refused by storage (a dead letter each)
};

struct KpiRow {
  Bucket bucket;
  KpiTotals totals;
};

class PlantService {
 public:
  // The store is opened by `open_store` over the service's own plant model and calendar, which it
  // may keep references to.
  using StoreFactory = std::function<std::unique_ptr<storage::EventStore>(const PlantModel&, const ShiftCalendar&)>;
  // `clock_rate`: how many of the clock's seconds pass per wall-clock second (1 but for the demo's
  // scaled clock), published so a client can run the server's clock between readings of it.
  PlantService(plant::LoadedPlant plant, const StoreFactory& open_store, Clock clock = system_clock_ms,
               double clock_rate = 1.0);

  const PlantModel& plant() const { return plant_.model; }
  const TimeZone& zone() const { return *plant_.zone; }
  const ShiftCalendar& calendar() const { return calendar_; }
  const plant::AlertNotifications& alert_notifications() const { return plant_.alert_notifications; }
  TimeMs now() const { return clock_(); }
  double clock_rate() const { return clock_rate_; }

  // Validates and stores; `origin` (an MQTT topic, "simulator", …) is kept with dead letters.
  // Invalid events never stop the valid ones around them.
  IngestReport ingest(std::vector<Event> events, std::string_view origin);
  // A whole message that could not be read (bad JSON, too large…).
  void dead_letter(std::string_view origin, std::string_view payload, std::string_view reason);

  // Why an event cannot be taken for this plant, or empty when it can.
  std::string validate(const Event& e) const;

  // KPIs of a node per bucket; the horizon is now.
  std::vector<KpiRow> node_kpis(std::string_view node, Grouping by, TimeMs from, TimeMs to);
  // A node's totals over [from, to) up to `horizon` from the store's rollups (a line in
  // constraint mode by its mode, other nodes as the sum of their machines), in the caller's read.
  KpiTotals node_totals(storage::EventStore& store, std::string_view node, TimeMs from, TimeMs to, TimeMs horizon) const;
  // KPIs of the production runs of a machine or a line (its machines' runs merged per order id,
  // core/line_runs.h) with a stretch in [from, to), up to now (node_run_kpis.cpp). nullopt: `node`
  // is neither.
  std::optional<std::vector<RunKpis>> node_run_kpis(std::string_view node, TimeMs from, TimeMs to);
  MachineLiveState live_state(std::string_view machine_path) const;
  // Re-reads the live state of these machines from the store: for the machines another server
  // ingests into the same database (see mqtt_ingest_topics.h). Tells the live-state listeners which
  // machines' state or reason changed. Throws when storage fails.
  void refresh_live_states(std::span<const MachineSpec* const> machines);
  // The shift occurrence containing now, if any: the plant's, or a node's own (its line's or site's
  // shifts, in its site's zone).
  bool current_shift(ShiftOccurrence& out, std::string_view node = {}) const;

  // Called after every ingest with the events it stored (new or not), on the ingesting thread: the
  // live WebSocket fan-out listens here. Register before ingest starts.
  using IngestListener = std::function<void(const std::vector<Event>&)>;
  void add_ingest_listener(IngestListener listener) { listeners_.push_back(std::move(listener)); }
  // Called with the machines whose live state a refresh from the store changed (not for ingest:
  // the ingest listeners see those events). Register before refreshes start.
  using LiveStateListener = std::function<void(const std::vector<std::string>& machines)>;
  void add_live_state_listener(LiveStateListener listener) { live_listeners_.push_back(std::move(listener)); }
  // Bumped by every ingest; readers cache derived figures keyed by it.
  std::uint64_t ingest_generation() const { return generation_.load(std::memory_order_acquire); }
  Metrics& metrics() { return metrics_; }
  // This server's incarnation: the `inc` of the events it writes itself (operators' stop reasons,
  // src "api"), so that servers sharing a store never number theirs alike. Set before serving.
  void set_instance_id(std::string id) { instance_id_ = std::move(id); }
  const std::string& instance_id() const { return instance_id_; }

  // Direct access to the store, serialised with ingest by the service's lock.
  template <typename F>
  auto with_store(F&& f) {
    std::lock_guard lock(store_mutex_);
    return f(*store_);
  }
  // For reads only (the API's routes): without the service's lock when the store reads beside its
  // writes (SQLite's read connections), so that a long query never holds ingest up.
  template <typename F>
  auto read_store(F&& f) {
    if (store_->reads_beside_writes()) return f(*store_);
    std::lock_guard lock(store_mutex_);
    return f(*store_);
  }

 private:
  void update_live_state(const Event& e);
  // The state in effect at `t` per the store (the store lock held).
  MachineLiveState stored_live_state(const MachineSpec& m, TimeMs t);

  plant::LoadedPlant plant_;
  ShiftCalendar calendar_;
  std::unique_ptr<storage::EventStore> store_;
  Clock clock_;
  double clock_rate_;
  std::string instance_id_;
  mutable std::mutex store_mutex_;
  mutable std::mutex live_mutex_;
  std::map<std::string, MachineLiveState, std::less<>> live_;
  std::vector<IngestListener> listeners_;
  std::vector<LiveStateListener> live_listeners_;
  std::atomic<std::uint64_t> generation_{0};
  Metrics metrics_;
};

}  // namespace oee::server
