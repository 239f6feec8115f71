#include "oee/edge/sparkplug_metrics.h"

#include <algorithm>

#include "oee/sparkplug/metric_value.h"

namespace oee::edge {
namespace {

using sparkplug::DataType;

void add(sparkplug::pb::Payload& payload, std::string name, DataType type, const sparkplug::Value& value, TimeMs ts,
         bool historical, std::int64_t rollover = 0) {
  SparkplugMetric& m = *payload.add_metrics();
  m.set_name(std::move(name));
  m.set_timestamp(static_cast<std::uint64_t>(ts));
  if (historical) m.set_is_historical(true);
  sparkplug::set_metric_value(m, type, value);
  if (rollover > 0) {
    auto& properties = *m.mutable_properties();
    properties.add_keys("rollover");
    sparkplug::set_property_value(*properties.add_values(), DataType::UInt64, static_cast<std::uint64_t>(rollover));
  }
}

std::string sample_metric_name(std::string_view name) {
  return name.empty() ? std::string("sample") : "sample:" + std::string(name);
}

}  // namespace

std::pair<std::string, DataType> sparkplug_tag_metric(const TagConfig& tag) {
  switch (tag.signal) {
    case SignalKind::state: return {"state", DataType::String};
    case SignalKind::counter: return {"counter:" + tag.signal_name, DataType::UInt64};
    case SignalKind::count: return {"count:" + tag.signal_name, DataType::UInt64};
    case SignalKind::product: return {"product", DataType::String};
    case SignalKind::sample: return {sample_metric_name(tag.signal_name), DataType::Double};
    case SignalKind::reason: return {"reason", DataType::String};
    case SignalKind::run: return {"run", DataType::String};  // refused with sparkplug (edge_config.cpp)
    case SignalKind::run_quantity: return {"run_quantity", DataType::UInt64};
  }
  return {"state", DataType::String};
}

void add_simulator_sparkplug_metrics(std::map<std::string, DataType>& metrics) {
  metrics.emplace("state", DataType::String);
  metrics.emplace("reason", DataType::String);
  metrics.emplace("product", DataType::String);
  metrics.emplace("counter:total", DataType::UInt64);
  metrics.emplace("counter:reject", DataType::UInt64);
  metrics.emplace("count:good", DataType::UInt64);  // a third of its machines report counters, the rest counts
  metrics.emplace("count:reject", DataType::UInt64);
}

void append_sparkplug_metrics(const Event& e, bool historical, sparkplug::pb::Payload& payload) {
  auto count = [](std::int64_t n) { return sparkplug::Value(static_cast<std::uint64_t>(n)); };
  switch (e.type) {
    case EventType::state:
      add(payload, "state", DataType::String, e.state, e.ts, historical);
      if (!e.reason.empty()) add(payload, "reason", DataType::String, e.reason, e.ts, historical);
      break;
    case EventType::counter:
      add(payload, "counter:" + std::string(counter_name(e.counter)), DataType::UInt64, count(e.value), e.ts, historical,
          e.rollover);
      break;
    case EventType::count:
      if (e.good > 0) add(payload, "count:good", DataType::UInt64, count(e.good), e.ts, historical);
      if (e.reject > 0) add(payload, "count:reject", DataType::UInt64, count(e.reject), e.ts, historical);
      break;
    case EventType::product:
      add(payload, "product", DataType::String, e.product, e.ts, historical);
      break;
    case EventType::reason:
      add(payload, "reason", DataType::String, e.reason, e.at, historical);
      break;
    case EventType::sample:
      add(payload, sample_metric_name(e.sample_name), DataType::Double, e.sample_value, e.ts, historical);
      break;
    case EventType::heartbeat:
      break;  // Sparkplug's liveness is the session itself (NDEATH), not a metric
    case EventType::run:
      break;  // a run tag is refused with format sparkplug (edge_config.cpp): none reach here
    case EventType::correction:
      break;  // nor corrections (a supervisor's, through the API)
  }
}

std::string sparkplug_device_id(std::string_view machine_path) {
  std::string id(machine_path);
  std::replace(id.begin(), id.end(), '/', '.');
  return id;
}

}  // namespace oee::edge
