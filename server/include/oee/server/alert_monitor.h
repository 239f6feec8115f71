#pragma once
// Evaluates the plant file's alert rules against what the server knows (live states, the current
// shift's KPIs, edge status reports) and keeps the plant's alerts. Each change (fired, resolved,
// acknowledged) goes to the listeners: the live WebSocket and the notifiers.
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "oee/core/alert_book.h"
#include "oee/core/alert_conditions.h"
#include "oee/server/plant_service.h"

namespace oee::server {

class AlertMonitor {
 public:
  // The newest status payload per edge id (MqttIngest::edge_statuses); empty without MQTT.
  using EdgeStatuses = std::function<std::map<std::string, std::string>()>;
  AlertMonitor(PlantService& service, EdgeStatuses edge_statuses = {});

  // Evaluates every rule at the service's now; returns the changes (also given to the listeners).
  // Throws when storage fails (the KPIs of oee_below_target come from the store).
  std::vector<AlertChange> evaluate();
  std::optional<AlertChange> acknowledge(const std::string& id, const std::string& user);
  std::vector<Alert> alerts() const;
  // The plant file's rules, and the newest status report of each edge (GET /api/v1/alerts/rules,
  // GET /api/v1/edges).
  const std::vector<AlertRule>& rules() const;
  std::map<std::string, std::string> edge_statuses() const { return edge_statuses_ ? edge_statuses_() : std::map<std::string, std::string>{}; }

  using Listener = std::function<void(const AlertChange&)>;
  void add_listener(Listener l) { listeners_.push_back(std::move(l)); }  // before evaluations start

 private:
  void observe(const AlertRule& rule, const std::string& subject, bool holds, TimeMs now, std::vector<AlertChange>& out);
  void evaluate_machines(const AlertRule& rule, TimeMs now, std::vector<AlertChange>& out);
  void evaluate_shift_oee(const AlertRule& rule, TimeMs now, std::vector<AlertChange>& out);
  void evaluate_edges(const AlertRule& rule, TimeMs now, std::vector<AlertChange>& out);
  void record_edge_reports();

  PlantService& service_;
  EdgeStatuses edge_statuses_;
  mutable std::mutex mutex_;
  AlertBook book_;
  std::map<std::string, std::vector<QueueDepthReport>> queue_reports_;  // by edge id, by time
  std::vector<Listener> listeners_;
};

}  // namespace oee::server
