#include "oee/server/alert_json.h"

namespace oee::server {

std::string_view alert_transition_name(AlertTransition t) {
  switch (t) {
    case AlertTransition::fired: return "fired";
    case AlertTransition::resolved: return "resolved";
    case AlertTransition::acknowledged: return "acknowledged";
  }
  return "fired";
}

void write_alert_json(codec::JsonWriter& json, const Alert& a) {
  json.begin_object().string_field("id", a.id).string_field("rule", a.rule);
  json.string_field("kind", alert_kind_name(a.kind)).string_field("subject", a.subject);
  json.string_field("state", a.active() ? "firing" : "resolved");
  json.string_field("fired_at", format_rfc3339(a.fired_ts));
  json.key("resolved_at");
  if (a.resolved_ts) json.string(format_rfc3339(*a.resolved_ts)); else json.null();
  json.key("resolved_reason");  // cleared, rule_removed or node_removed
  if (a.resolved_ts) json.string(alert_resolution_name(a.resolution)); else json.null();
  json.key("acknowledged_by");
  if (a.acknowledged_by.empty()) json.null(); else json.string(a.acknowledged_by);
  json.key("acknowledged_at");
  if (a.acknowledged_by.empty()) json.null(); else json.string(format_rfc3339(a.acknowledged_ts));
  json.end_object();
}

std::string alert_change_json(const AlertChange& c) {
  std::string out;
  codec::JsonWriter json(out);
  json.begin_object().string_field("event", alert_transition_name(c.transition)).key("alert");
  write_alert_json(json, c.alert);
  json.end_object();
  return out;
}

}  // namespace oee::server
