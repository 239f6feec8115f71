#pragma once
// Evaluates the plant file's alert rules against what the server knows (live states, the current
// shift's KPIs, edge status reports). The alerts live in the store (EventStore::fire_alert …): a
// restarted server keeps them, and of servers sharing a database the one whose change the store
// takes is the one that tells its listeners (the live WebSocket and the notifiers), so an alert
// fires, resolves and is acknowledged once. No lock of the monitor is held while the store is
// asked: a slow store never holds up another thread's list or acknowledgement behind it.
#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "oee/core/alert.h"
#include "oee/core/alert_conditions.h"
#include "oee/server/plant_service.h"

namespace oee::server {

class AlertMonitor {
 public:
  // The newest status payload per edge id (MqttIngest::edge_statuses); empty without MQTT.
  using EdgeStatuses = std::function<std::map<std::string, std::string>()>;
  AlertMonitor(PlantService& service, EdgeStatuses edge_statuses = {});

  // Evaluates every rule at the service's now (first resolve_unwatched(), until it once
  // succeeded); returns the changes this call made in the store (also given to the listeners).
  // Throws when storage fails. A subject is resolved only by a server that evaluates it (one that
  // never heard an edge leaves that edge's alerts alone).
  std::vector<AlertChange> evaluate();
  // Resolves the firing alerts the plant file no longer watches (unwatched_alerts.h: rule_removed,
  // node_removed), told to the listeners like any resolution; the changes made. No evaluation of
  // the rules would ever resolve them: called when the server starts, and by evaluate() until it
  // once succeeded. Throws when storage fails.
  std::vector<AlertChange> resolve_unwatched();
  // The alert `id` that fired at `fired` (without it, the newest `id`): nullopt when there is none
  // or it is acknowledged already.
  std::optional<AlertChange> acknowledge(const std::string& id, std::optional<TimeMs> fired, const std::string& user);
  std::vector<Alert> alerts() const;  // EventStore::alerts
  // The plant file's rules, and the newest status report of each edge (GET /api/v1/alerts/rules,
  // GET /api/v1/edges).
  const std::vector<AlertRule>& rules() const;
  std::map<std::string, std::string> edge_statuses() const { return edge_statuses_ ? edge_statuses_() : std::map<std::string, std::string>{}; }

  using Listener = std::function<void(const AlertChange&)>;
  void add_listener(Listener l) { listeners_.push_back(std::move(l)); }  // before evaluations start

 private:
  // Whether a rule's condition holds for one subject at now, and since when as this server sees it
  // (the stop's or the silence's start; now when the condition has no such start).
  struct Observation {
    const AlertRule* rule = nullptr;
    std::string subject;
    bool holds = false;
    TimeMs since = 0;
  };
  using Observations = std::vector<Observation>;
  void evaluate_machines(const AlertRule& rule, TimeMs now, Observations& out) const;
  void evaluate_shift_oee(const AlertRule& rule, TimeMs now, Observations& out) const;  // asks the store
  void evaluate_edges(const AlertRule& rule, TimeMs now, Observations& out);
  void record_edge_reports();
  std::vector<AlertChange> apply(const Observations& observations, TimeMs now);  // asks the store
  std::optional<AlertChange> resolve(const std::string& id, TimeMs now, AlertResolution why);  // asks the store
  void tell(const AlertChange& change) const;

  PlantService& service_;
  EdgeStatuses edge_statuses_;
  std::mutex edges_mutex_;  // queue_reports_ only: never held while the store is asked
  std::map<std::string, std::vector<QueueDepthReport>> queue_reports_;  // by edge id, by time
  std::vector<Listener> listeners_;
  std::atomic<bool> unwatched_resolved_{false};
};

}  // namespace oee::server
