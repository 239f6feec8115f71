#include "oee/edge/sparkplug_metrics.h"

#include <algorithm>

namespace oee::edge::sparkplug {
namespace {

Metric metric(std::string name, DataType type, TimeMs ts, bool historical) {
  Metric m;
  m.name = std::move(name);
  m.type = type;
  m.timestamp_ms = static_cast<std::uint64_t>(ts);
  m.is_historical = historical;
  return m;
}

Metric string_metric(std::string name, std::string value, TimeMs ts, bool historical) {
  Metric m = metric(std::move(name), DataType::string, ts, historical);
  m.string_value = std::move(value);
  return m;
}

Metric uint_metric(std::string name, std::int64_t value, TimeMs ts, bool historical) {
  Metric m = metric(std::move(name), DataType::uint64, ts, historical);
  m.long_value = static_cast<std::uint64_t>(value);
  return m;
}

std::string sample_metric_name(std::string_view name) {
  return name.empty() ? std::string("sample") : "sample:" + std::string(name);
}

}  // namespace

std::pair<std::string, DataType> tag_metric(const TagConfig& tag) {
  switch (tag.signal) {
    case SignalKind::state: return {"state", DataType::string};
    case SignalKind::counter: return {"counter:" + tag.signal_name, DataType::uint64};
    case SignalKind::count: return {"count:" + tag.signal_name, DataType::uint64};
    case SignalKind::product: return {"product", DataType::string};
    case SignalKind::sample: return {sample_metric_name(tag.signal_name), DataType::dbl};
  }
  return {"state", DataType::string};
}

void add_simulator_metrics(std::map<std::string, DataType>& metrics) {
  metrics.emplace("state", DataType::string);
  metrics.emplace("reason", DataType::string);
  metrics.emplace("product", DataType::string);
  metrics.emplace("counter:total", DataType::uint64);
  metrics.emplace("counter:reject", DataType::uint64);
  metrics.emplace("count:good", DataType::uint64);  // a third of its machines report counters, the rest counts
  metrics.emplace("count:reject", DataType::uint64);
}

void append_event_metrics(const Event& e, bool historical, std::vector<Metric>& out) {
  switch (e.type) {
    case EventType::state:
      out.push_back(string_metric("state", e.state, e.ts, historical));
      if (!e.reason.empty()) out.push_back(string_metric("reason", e.reason, e.ts, historical));
      break;
    case EventType::counter: {
      Metric m = uint_metric("counter:" + std::string(counter_name(e.counter)), e.value, e.ts, historical);
      m.rollover = static_cast<std::uint64_t>(e.rollover);
      out.push_back(std::move(m));
      break;
    }
    case EventType::count:
      if (e.good > 0) out.push_back(uint_metric("count:good", e.good, e.ts, historical));
      if (e.reject > 0) out.push_back(uint_metric("count:reject", e.reject, e.ts, historical));
      break;
    case EventType::product:
      out.push_back(string_metric("product", e.product, e.ts, historical));
      break;
    case EventType::reason:
      out.push_back(string_metric("reason", e.reason, e.at, historical));
      break;
    case EventType::sample: {
      Metric m = metric(sample_metric_name(e.sample_name), DataType::dbl, e.ts, historical);
      m.double_value = e.sample_value;
      out.push_back(std::move(m));
      break;
    }
    case EventType::heartbeat:
      break;  // Sparkplug's liveness is the session itself (NDEATH), not a metric
  }
}

std::string device_id(std::string_view machine_path) {
  std::string id(machine_path);
  std::replace(id.begin(), id.end(), '/', '.');
  return id;
}

}  // namespace oee::edge::sparkplug
