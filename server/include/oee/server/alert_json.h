#pragma once
// An alert and an alert change as JSON (docs/api.md, "Alerts"): the one shape of the API, the
// WebSocket and the webhooks.
#include <string>

#include "oee/codec/json_writer.h"
#include "oee/core/alert.h"

namespace oee::server {

void write_alert_json(codec::JsonWriter& json, const Alert& a);
// {"event":"fired"|"resolved"|"acknowledged","alert":{…}}
std::string alert_change_json(const AlertChange& c);
std::string_view alert_transition_name(AlertTransition t);

}  // namespace oee::server
