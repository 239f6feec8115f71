#include "sparkplug_signals.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <optional>

namespace oee::server {
namespace {

const std::vector<SignalRoute> kNoRoutes;

// A number as the plant file writes raw states and products ("1" for 1.0, "2.5").
std::string number_text(double v) {
  if (std::nearbyint(v) == v && std::fabs(v) < 9.0e15) return std::to_string(static_cast<long long>(v));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

std::optional<double> as_number(const sparkplug::Value& value) {
  if (auto* v = std::get_if<std::int64_t>(&value)) return static_cast<double>(*v);
  if (auto* v = std::get_if<std::uint64_t>(&value)) return static_cast<double>(*v);
  if (auto* v = std::get_if<float>(&value)) return *v;
  if (auto* v = std::get_if<double>(&value)) return *v;
  if (auto* v = std::get_if<bool>(&value)) return *v ? 1.0 : 0.0;
  return std::nullopt;
}

std::optional<std::int64_t> as_integer(const sparkplug::Value& value) {
  if (auto* v = std::get_if<std::int64_t>(&value)) return *v;
  if (auto* v = std::get_if<std::uint64_t>(&value); v && *v <= std::uint64_t(INT64_MAX)) return static_cast<std::int64_t>(*v);
  auto n = as_number(value);
  if (n && std::isfinite(*n) && std::nearbyint(*n) == *n && std::fabs(*n) < 9.0e15) return static_cast<std::int64_t>(*n);
  return std::nullopt;
}

std::optional<std::string> as_text(const sparkplug::Value& value) {
  if (auto* s = std::get_if<std::string>(&value)) return *s;
  if (auto n = as_number(value)) return number_text(*n);
  return std::nullopt;
}

bool counter_of(std::string_view name, CounterName& out) {
  if (name == "total") out = CounterName::total;
  else if (name == "good") out = CounterName::good;
  else if (name == "reject") out = CounterName::reject;
  else return false;
  return true;
}

bool fail(std::string& error, const SignalRoute& route, std::string_view what) {
  error = "signal " + route.signal + " of " + route.machine->path + ": " + std::string(what);
  return false;
}

}  // namespace

SparkplugRoutes::SparkplugRoutes(const PlantModel& plant) {
  for (const MachineSpec* m : plant.machines()) {
    if (!m->sparkplug) continue;
    const auto& s = *m->sparkplug;
    const Scope* found = find(s.group, s.node, s.device);
    Scope* scope = found ? const_cast<Scope*>(found) : &scopes_.emplace_back(Scope{s.group, s.node, s.device, {}, {}});
    scope->machines.push_back(m);
    for (const auto& [metric, signal] : s.metrics) scope->metrics[metric].push_back({m, signal});
  }
}

const SparkplugRoutes::Scope* SparkplugRoutes::find(std::string_view group, std::string_view node,
                                                    std::string_view device) const {
  for (const auto& s : scopes_) {
    if (s.group == group && s.node == node && s.device == device) return &s;
  }
  return nullptr;
}

const std::vector<SignalRoute>& SparkplugRoutes::routes(std::string_view group, std::string_view node,
                                                        std::string_view device, std::string_view metric) const {
  const Scope* scope = find(group, node, device);
  if (!scope) return kNoRoutes;
  auto it = scope->metrics.find(metric);
  return it == scope->metrics.end() ? kNoRoutes : it->second;
}

std::vector<const MachineSpec*> SparkplugRoutes::machines(std::string_view group, std::string_view node,
                                                          std::string_view device) const {
  const Scope* scope = find(group, node, device);
  return scope ? scope->machines : std::vector<const MachineSpec*>{};
}

std::vector<const MachineSpec*> SparkplugRoutes::node_machines(std::string_view group, std::string_view node) const {
  std::vector<const MachineSpec*> out;
  for (const auto& s : scopes_) {
    if (s.group == group && s.node == node) out.insert(out.end(), s.machines.begin(), s.machines.end());
  }
  return out;
}

bool metric_event(const SignalRoute& route, const sparkplug::Value& value, TimeMs ts, bool from_birth, Event& out,
                  std::string& error) {
  error.clear();
  if (std::holds_alternative<std::monostate>(value)) return false;  // null: the value is not known
  out = Event{};
  out.ts = ts;
  out.machine = route.machine->path;
  const std::string_view signal = route.signal;
  const auto colon = signal.find(':');
  const std::string_view kind = signal.substr(0, colon);
  const std::string_view name = colon == std::string_view::npos ? "" : signal.substr(colon + 1);
  if (kind == "state" || kind == "product" || kind == "reason") {
    auto text = as_text(value);
    if (!text) return fail(error, route, "needs a text or a number");
    out.type = kind == "state" ? EventType::state : kind == "product" ? EventType::product : EventType::reason;
    (kind == "state" ? out.state : kind == "product" ? out.product : out.reason) = *text;
    if (kind == "reason") out.at = ts;
    return true;
  }
  if (kind == "sample") {
    auto n = as_number(value);
    if (!n || !std::isfinite(*n)) return fail(error, route, "needs a finite number");
    out.type = EventType::sample;
    out.sample_name = std::string(name);
    out.sample_value = *n;
    return true;
  }
  auto n = as_integer(value);
  if (!n) return fail(error, route, "needs an integer");
  if (kind == "counter") {
    out.type = EventType::counter;
    counter_of(name, out.counter);
    out.value = *n;
    return true;
  }
  // count: an increment. A birth repeats the current reading, which is no new increment.
  if (from_birth || *n == 0) return false;
  if (*n < 0) return fail(error, route, "an increment cannot be negative");
  out.type = EventType::count;
  (name == "good" ? out.good : out.reject) = *n;
  return true;
}

bool counter_rollover(const sparkplug::pb::Payload::Metric& metric, std::int64_t& out, std::string& error) {
  out = 0;
  if (!metric.has_properties()) return true;
  const auto& properties = metric.properties();
  for (int i = 0; i < properties.keys_size() && i < properties.values_size(); ++i) {
    if (properties.keys(i) != "rollover") continue;
    std::optional<std::int64_t> n;
    try {
      n = as_integer(sparkplug::property_value(properties.values(i)));
    } catch (const sparkplug::ValueError& e) {
      error = std::string("property 'rollover': ") + e.what();
      return false;
    }
    if (!n || *n < 0) {
      error = "property 'rollover' needs an integer >= 0";
      return false;
    }
    out = *n;
  }
  return true;
}

}  // namespace oee::server
