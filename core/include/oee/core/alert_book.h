#pragma once
// The alerts of a plant: each (rule, subject) fires when its condition starts to hold, resolves
// when it stops, and can be acknowledged by a user meanwhile or after. Each evaluation returns the
// transitions, which the server publishes (/api/v1/alerts, WebSocket) and notifies.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "oee/core/alert_rule.h"

namespace oee {

struct Alert {
  std::string id;  // rule + "/" + subject: stable, so an acknowledgement finds it again
  std::string rule;
  AlertKind kind = AlertKind::machine_down;
  std::string subject;  // the machine path or edge id
  TimeMs fired_ts = 0;
  std::optional<TimeMs> resolved_ts;
  std::string acknowledged_by;  // empty: not acknowledged
  TimeMs acknowledged_ts = 0;
  bool active() const { return !resolved_ts; }
};

enum class AlertTransition : std::uint8_t { fired, resolved, acknowledged };
struct AlertChange {
  AlertTransition transition = AlertTransition::fired;
  Alert alert;  // as it is after the change
};

class AlertBook {
 public:
  // The condition of `rule` for `subject` at `now`. A change of state gives a transition; the same
  // state again gives none (evaluations repeat).
  std::optional<AlertChange> observe(const AlertRule& rule, const std::string& subject, bool holds, TimeMs now);
  // Acknowledges the newest alert with this id; nullopt when there is none (or it already was).
  std::optional<AlertChange> acknowledge(const std::string& id, const std::string& user, TimeMs now);
  // Active alerts first, then resolved ones, newest first within each; resolved ones beyond
  // keep_resolved are forgotten (the oldest first).
  std::vector<Alert> list() const;
  void set_keep_resolved(std::size_t n) { keep_resolved_ = n; }

 private:
  void forget_old_resolved();
  std::map<std::string, Alert> active_;  // by id
  std::vector<Alert> resolved_;          // in resolution order
  std::size_t keep_resolved_ = 1000;
};

}  // namespace oee
