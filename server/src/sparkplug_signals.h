#pragma once
// Which machine signals a Sparkplug metric feeds (the plant file's `sparkplug:` mappings), and the
// event a metric's value makes for one of them.
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "oee/core/event.h"
#include "oee/core/plant_model.h"
#include "oee/sparkplug/metric_value.h"

namespace oee::server {

struct SignalRoute {
  const MachineSpec* machine = nullptr;
  std::string signal;  // state, counter:total, count:good, product, sample:NAME, reason
};

class SparkplugRoutes {
 public:
  explicit SparkplugRoutes(const PlantModel& plant);
  // The routes of a metric of a node (device "") or device; empty when no machine maps it.
  const std::vector<SignalRoute>& routes(std::string_view group, std::string_view node, std::string_view device,
                                         std::string_view metric) const;
  // The machines a node (device "") or device feeds.
  std::vector<const MachineSpec*> machines(std::string_view group, std::string_view node, std::string_view device) const;
  // The machines a node and all its devices feed.
  std::vector<const MachineSpec*> node_machines(std::string_view group, std::string_view node) const;

 private:
  struct Scope {
    std::string group, node, device;
    std::vector<const MachineSpec*> machines;
    std::map<std::string, std::vector<SignalRoute>, std::less<>> metrics;
  };
  const Scope* find(std::string_view group, std::string_view node, std::string_view device) const;
  std::vector<Scope> scopes_;
};

// The event `value` makes for the route at `ts`; false with no event when it makes none (a null
// value, a zero increment, an increment repeated by a birth) and `error` empty, or with the reason
// the value cannot be this signal (a text for a counter…).
bool metric_event(const SignalRoute& route, const sparkplug::Value& value, TimeMs ts, bool from_birth, Event& out,
                  std::string& error);

// The `rollover` property of a counter metric (our edge's, docs/sparkplug.md): the value the
// counter wraps at, 0 without one. False with the reason when it is there but no integer >= 0.
bool counter_rollover(const sparkplug::pb::Payload::Metric& metric, std::int64_t& out, std::string& error);

}  // namespace oee::server
