#include "sparkplug_sessions.h"

#include <iterator>
#include <utility>

namespace oee::server {
namespace {

namespace sp = oee::sparkplug;
using sp::MessageType;

constexpr std::size_t kMaxHeld = 256;  // one whole seq cycle

// Metrics of the protocol itself, never a machine's signal (so never "unmapped").
bool is_protocol_metric(std::string_view name) {
  return name == "bdSeq" || name.starts_with("Node Control/") || name.starts_with("Properties/");
}

std::optional<std::uint64_t> bd_seq_of(const sp::pb::Payload& payload) {
  for (const auto& m : payload.metrics()) {
    if (m.name() != "bdSeq") continue;
    auto v = sp::metric_value(m);
    if (auto* u = std::get_if<std::uint64_t>(&v)) return *u;
    if (auto* i = std::get_if<std::int64_t>(&v); i && *i >= 0) return static_cast<std::uint64_t>(*i);
  }
  return std::nullopt;
}

TimeMs metric_time(const sp::pb::Payload& payload, const sp::pb::Payload::Metric& m, TimeMs now) {
  if (m.has_timestamp()) return static_cast<TimeMs>(m.timestamp());
  if (payload.has_timestamp()) return static_cast<TimeMs>(payload.timestamp());
  return now;
}

}  // namespace

SparkplugSessions::SparkplugSessions(const PlantModel& plant, DurationMs reorder_timeout_ms, Metrics& metrics,
                                     SparkplugOutput out)
    : routes_(plant), reorder_timeout_ms_(reorder_timeout_ms), metrics_(metrics), out_(std::move(out)) {}

SparkplugHostStats SparkplugSessions::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

SparkplugSessions::Pending SparkplugSessions::take_events() {
  std::lock_guard lock(mutex_);
  return std::exchange(pending_, Pending{});
}

void SparkplugSessions::add_pending(std::vector<Event>& events, std::string_view origin) {
  if (events.empty()) return;
  if (pending_.events.empty()) pending_.origin = origin;
  else if (pending_.origin != origin) pending_.origin = "sparkplug";
  pending_.events.insert(pending_.events.end(), std::make_move_iterator(events.begin()), std::make_move_iterator(events.end()));
}

void SparkplugSessions::dead_letter(const Held& m, const std::string& reason) {
  ++stats_.dead_letters;
  out_.dead_letter(m.topic_text, m.payload, "sparkplug: " + reason);
}

void SparkplugSessions::handle(const sp::Topic& topic, std::string_view topic_text, std::string_view payload, TimeMs now) {
  if (topic.type == MessageType::NCMD || topic.type == MessageType::DCMD) return;  // commands: not ours to take
  std::lock_guard lock(mutex_);
  ++stats_.messages;
  metrics_.sparkplug_messages.fetch_add(1, std::memory_order_relaxed);
  Held m{topic, std::string(topic_text), std::string(payload), {}};
  auto decoded = sp::decode_payload(payload);
  if (!decoded.payload) return dead_letter(m, decoded.error);
  m.decoded = std::move(*decoded.payload);
  auto [it, fresh] = nodes_.try_emplace(topic.group + "/" + topic.edge_node);
  Node& node = it->second;
  if (fresh) node.group = topic.group, node.name = topic.edge_node;
  if (topic.type == MessageType::NBIRTH) return take_birth(node, m, now);
  if (topic.type == MessageType::NDEATH) return take_node_death(node, m, now);
  if (!node.born && !adopt(node, m, now)) return refuse_before_birth(node, m, now, "before the node's NBIRTH");
  if (node.awaiting_rebirth) return refuse_before_birth(node, m, now, "while the node's Rebirth is awaited");
  take_in_order(node, std::move(m), now);
}

void SparkplugSessions::take_birth(Node& node, const Held& m, TimeMs now) {
  auto bd_seq = bd_seq_of(m.decoded);
  if (!bd_seq) return dead_letter(m, "NBIRTH without a bdSeq metric");
  node.born = node.seen = true;
  node.adopted = false;
  node.awaiting_rebirth = false;
  node.bd_seq = *bd_seq;
  node.next_seq = (m.decoded.seq() + 1) % 256;
  node.held.clear();
  node.gap_since = 0;
  node.devices.clear();  // each device is born again by its DBIRTH
  node.own = Scope{};
  ++stats_.births;
  take_data(node, node.own, m, true, now);
}

void SparkplugSessions::take_node_death(Node& node, const Held& m, TimeMs now) {
  // A death whose bdSeq is not the birth's is an older session's will: the node lives on.
  if (!node.born || (!node.adopted && bd_seq_of(m.decoded) != node.bd_seq)) return;
  node.born = false;
  node.seen = true;
  node.held.clear();
  node.gap_since = 0;
  ++stats_.deaths;
  metrics_.sparkplug_deaths.fetch_add(1, std::memory_order_relaxed);
  die(routes_.machines(node.group, node.name, ""), node.own, now);
  for (auto& [device, scope] : node.devices) die(routes_.machines(node.group, node.name, device), scope, now);
}

void SparkplugSessions::take_in_order(Node& node, Held m, TimeMs now) {
  if (!m.decoded.has_seq() || m.decoded.seq() > 255) return dead_letter(m, "seq missing or above 255");
  if (m.decoded.seq() != node.next_seq) {
    if (node.held.size() < kMaxHeld) node.held.emplace(m.decoded.seq(), std::move(m));
    if (node.gap_since == 0) node.gap_since = now;
    return;
  }
  take_sequenced(node, m, now);
  node.next_seq = (node.next_seq + 1) % 256;
  // What was held waits no longer once the gap before it is filled.
  for (auto it = node.held.find(node.next_seq); it != node.held.end(); it = node.held.find(node.next_seq)) {
    Held next = std::move(it->second);
    node.held.erase(it);
    take_sequenced(node, next, now);
    node.next_seq = (node.next_seq + 1) % 256;
  }
  if (node.held.empty()) node.gap_since = 0;
}

void SparkplugSessions::take_sequenced(Node& node, const Held& m, TimeMs now) {
  const auto& device = m.topic.device;
  switch (m.topic.type) {
    case MessageType::DBIRTH: {
      Scope& scope = node.devices[device];
      scope = Scope{};
      ++stats_.births;
      return take_data(node, scope, m, true, now);
    }
    case MessageType::DDEATH: {
      auto it = node.devices.find(device);
      if (it == node.devices.end() || !it->second.alive) return;
      ++stats_.deaths;
      metrics_.sparkplug_deaths.fetch_add(1, std::memory_order_relaxed);
      return die(routes_.machines(node.group, node.name, device), it->second, now);
    }
    case MessageType::NDATA: return take_data(node, node.own, m, false, now);
    case MessageType::DDATA: {
      auto it = node.devices.find(device);
      if (node.adopted && it == node.devices.end()) {
        it = node.devices.try_emplace(device).first;
        it->second.alive = true;
      }
      if (it == node.devices.end() || !it->second.alive) return refuse_before_birth(node, m, now, "before the device's DBIRTH");
      return take_data(node, it->second, m, false, now);
    }
    default: return;
  }
}

void SparkplugSessions::refuse_before_birth(Node& node, const Held& m, TimeMs now, std::string_view why) {
  dead_letter(m, std::string(sp::message_type_name(m.topic.type)) + " " + std::string(why) + ": Rebirth requested");
  if (node.rebirth_asked_at == 0 || now - node.rebirth_asked_at >= reorder_timeout_ms_) ask_rebirth(node, now);
}

// Data of a node this host has not seen born or die since it started (a restart: the broker hands
// over what the persistent session kept) is taken when it names every metric (no alias to resolve),
// its seq starting the order; a Rebirth is asked at once, and its NBIRTH replaces the adopted session.
bool SparkplugSessions::adopt(Node& node, const Held& m, TimeMs now) {
  if (node.seen || !m.decoded.has_seq() || (m.topic.type != MessageType::NDATA && m.topic.type != MessageType::DDATA)) return false;
  for (const auto& metric : m.decoded.metrics())
    if (!metric.has_name() || !metric.has_datatype()) return false;
  node.born = node.adopted = true;
  node.next_seq = m.decoded.seq() % 256;
  node.own = Scope{};
  node.own.alive = true;
  ask_rebirth(node, now);
  return true;
}

void SparkplugSessions::ask_rebirth(Node& node, TimeMs now) {
  sp::pb::Payload command;
  command.set_timestamp(static_cast<std::uint64_t>(now));
  auto* metric = command.add_metrics();
  metric->set_name("Node Control/Rebirth");
  metric->set_timestamp(static_cast<std::uint64_t>(now));
  sp::set_metric_value(*metric, sp::pb::Boolean, true);
  node.rebirth_asked_at = now;
  ++stats_.rebirths_requested;
  metrics_.sparkplug_rebirths_requested.fetch_add(1, std::memory_order_relaxed);
  out_.publish(sp::format_topic({MessageType::NCMD, node.group, node.name, ""}), sp::encode_payload(command));
}

void SparkplugSessions::close_gap(Node& node, TimeMs now) {
  const std::string reason = "seq " + std::to_string(node.next_seq) + " missing for the reorder timeout (" +
                             std::to_string(reorder_timeout_ms_) + " ms): Rebirth requested";
  for (const auto& [seq, held] : node.held) dead_letter(held, reason);
  node.held.clear();
  node.gap_since = 0;
  node.awaiting_rebirth = true;
  ask_rebirth(node, now);
}

void SparkplugSessions::take_data(Node& node, Scope& scope, const Held& m, bool birth, TimeMs now) {
  scope.alive = true;
  std::vector<Event> events;
  for (const auto& metric : m.decoded.metrics()) {
    if (birth) {
      auto type = static_cast<sp::DataType>(metric.datatype());
      if (metric.has_alias()) scope.by_alias[metric.alias()] = {metric.name(), type};
      scope.by_name[metric.name()] = type;
    }
    const Born* born = nullptr;
    if (!metric.has_name()) {
      auto it = scope.by_alias.find(metric.alias());
      if (it == scope.by_alias.end()) { dead_letter(m, "alias " + std::to_string(metric.alias()) + " not in the birth"); continue; }
      born = &it->second;
    }
    const std::string& name = born ? born->name : metric.name();
    if (is_protocol_metric(name)) continue;
    const auto& routes = routes_.routes(node.group, node.name, m.topic.device, name);
    if (routes.empty()) {
      ++stats_.unmapped_metrics;
      metrics_.sparkplug_unmapped_metrics.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    auto known = scope.by_name.find(name);
    auto type = born ? born->type : known != scope.by_name.end() ? known->second : static_cast<sp::DataType>(metric.datatype());
    if (auto error = sp::check_metric(metric, type); !error.empty()) { dead_letter(m, "metric '" + name + "': " + error); continue; }
    sp::pb::Payload::Metric typed = metric;
    typed.set_datatype(type);
    const auto value = sp::metric_value(typed);
    for (const auto& route : routes) {
      Event e;
      std::string error;
      if (metric_event(route, value, metric_time(m.decoded, metric, now), birth, e, error) &&
          (e.type != EventType::counter || counter_rollover(metric, e.rollover, error)))
        events.push_back(std::move(e));
      else if (!error.empty()) dead_letter(m, "metric '" + name + "': " + error);
    }
  }
  stats_.events += events.size();
  add_pending(events, m.topic_text);
}

void SparkplugSessions::die(const std::vector<const MachineSpec*>& machines, Scope& scope, TimeMs now) {
  if (!scope.alive) return;
  scope.alive = false;
  // The machines were alive up to the death; from it on nothing speaks for them: no data.
  std::vector<Event> events;
  for (const MachineSpec* m : machines) {
    Event e;
    e.ts = now;
    e.machine = m->path;
    e.type = EventType::heartbeat;
    events.push_back(std::move(e));
    last_heartbeat_.erase(m->path);
  }
  stats_.heartbeats += events.size();
  add_pending(events, "sparkplug death");
}

void SparkplugSessions::heartbeats(const std::vector<const MachineSpec*>& machines, TimeMs now, std::vector<Event>& out) {
  for (const MachineSpec* m : machines) {
    if (m->no_data_after_ms <= 0) continue;
    TimeMs& last = last_heartbeat_[m->path];
    if (last != 0 && now - last < m->no_data_after_ms / 2) continue;
    last = now;
    Event e;
    e.ts = now;
    e.machine = m->path;
    e.type = EventType::heartbeat;
    out.push_back(std::move(e));
  }
}

void SparkplugSessions::tick(TimeMs now) {
  std::lock_guard lock(mutex_);
  std::vector<Event> events;
  for (auto& [key, node] : nodes_) {
    if (node.gap_since != 0 && now - node.gap_since >= reorder_timeout_ms_) close_gap(node, now);
    if (!node.born) continue;
    // Sparkplug reports by exception: a live session, not a message, is the sign of life.
    if (node.own.alive) heartbeats(routes_.machines(node.group, node.name, ""), now, events);
    for (const auto& [device, scope] : node.devices) {
      if (scope.alive) heartbeats(routes_.machines(node.group, node.name, device), now, events);
    }
  }
  stats_.heartbeats += events.size();
  if (!events.empty()) out_.ingest(std::move(events), "sparkplug heartbeat");
}

}  // namespace oee::server
