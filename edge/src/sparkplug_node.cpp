#include "oee/edge/sparkplug_node.h"

#include <simdjson.h>

#include <chrono>
#include <cstdio>
#include <utility>

#include "oee/codec/event_json.h"

namespace oee::edge {
namespace {

constexpr std::string_view kNamespace = "spBv1.0";
constexpr std::string_view kRebirth = "Node Control/Rebirth";

std::uint64_t wall_ms() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

sparkplug::Metric node_metric(std::string name, sparkplug::DataType type, std::uint64_t ts) {
  sparkplug::Metric m;
  m.name = std::move(name);
  m.type = type;
  m.timestamp_ms = ts;
  return m;
}

}  // namespace

SparkplugNode::SparkplugNode(SparkplugNodeOptions options, sparkplug::MetricCatalog catalog)
    : options_(std::move(options)), catalog_(std::move(catalog)) {}

std::string SparkplugNode::topic(std::string_view type) const {
  return std::string(kNamespace) + "/" + options_.group + "/" + std::string(type) + "/" + options_.node;
}

std::string SparkplugNode::state_topic() const { return std::string(kNamespace) + "/STATE/" + options_.primary_host; }

std::string SparkplugNode::death_payload(std::uint64_t bd_seq) const {
  sparkplug::Payload p;
  p.timestamp_ms = wall_ms();
  p.has_seq = false;  // an NDEATH has no seq: the broker sends it whenever the session ends
  auto m = node_metric("bdSeq", sparkplug::DataType::int64, p.timestamp_ms);
  m.long_value = bd_seq;
  p.metrics.push_back(std::move(m));
  return sparkplug::encode(p);
}

std::string SparkplugNode::next_will() {
  if (!std::exchange(first_will_, false) && bd_seq_used_.exchange(false)) bd_seq_ = (bd_seq_ + 1) % 256;
  return death_payload(bd_seq_);
}

std::string SparkplugNode::death_payload() const { return death_payload(bd_seq_.load()); }

void SparkplugNode::on_command(std::string_view payload) {
  std::vector<std::pair<std::string, bool>> metrics;
  if (!sparkplug::decode_boolean_metrics(payload, metrics)) {
    std::fprintf(stderr, "sparkplug: an unreadable NCMD payload (%zu bytes) ignored\n", payload.size());
    return;
  }
  for (const auto& [name, value] : metrics)
    if (name == kRebirth && value) rebirth_requested_ = true;
}

void SparkplugNode::on_state(std::string_view payload, std::uint64_t generation) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  bool online = false;
  std::int64_t ts = 0;
  if (parser.parse(payload.data(), payload.size()).get(doc) || doc["online"].get_bool().get(online) ||
      doc["timestamp"].get_int64().get(ts)) {
    std::fprintf(stderr, "sparkplug: STATE of %s is not {\"online\":…,\"timestamp\":…}: ignored\n",
                 options_.primary_host.c_str());
    return;
  }
  if (ts < state_timestamp_.load()) return;  // an older message than the last one taken
  state_timestamp_ = ts;
  online_generation_ = online ? generation : 0;
  std::fprintf(stderr, "sparkplug: primary host %s is %s\n", options_.primary_host.c_str(),
               online ? "online" : "offline: no birth until it is online again");
}

void SparkplugNode::on_connection(std::uint64_t) {
  born_ = false;
  ended_ = false;
}

MessageFormat::Session SparkplugNode::session(std::uint64_t generation, std::vector<OutMessage>& out) {
  if (ended_) return Session::wait;
  const bool host_online = options_.primary_host.empty() || online_generation_.load() == generation;
  if (!host_online) {
    if (!born_) return Session::wait;
    // The primary host went offline: end the session (NDEATH) and connect again to wait for it.
    out.push_back(OutMessage{topic("NDEATH"), death_payload(), 0, 0});
    ended_ = true;
    std::fprintf(stderr, "sparkplug: primary host %s offline: NDEATH, reconnecting\n", options_.primary_host.c_str());
    return Session::end;
  }
  if (!born_ || rebirth_requested_.exchange(false)) {
    append_births(out);
    born_ = true;
  }
  return Session::ready;
}

std::uint64_t SparkplugNode::next_seq() {
  const std::uint64_t s = seq_;
  seq_ = (seq_ + 1) % 256;
  return s;
}

void SparkplugNode::append_births(std::vector<OutMessage>& out) {
  const std::uint64_t now = wall_ms();
  seq_ = 0;
  sparkplug::Payload nbirth;
  nbirth.timestamp_ms = now;
  nbirth.seq = next_seq();
  auto bd = node_metric("bdSeq", sparkplug::DataType::int64, now);
  bd.long_value = bd_seq_.load();
  nbirth.metrics.push_back(std::move(bd));
  nbirth.metrics.push_back(node_metric(std::string(kRebirth), sparkplug::DataType::boolean, now));
  out.push_back(OutMessage{topic("NBIRTH"), sparkplug::encode(nbirth), 0, 0});
  for (const auto& [machine, metrics] : catalog_) {
    sparkplug::Payload dbirth;
    dbirth.timestamp_ms = now;
    dbirth.seq = next_seq();
    const auto last = last_.find(machine);
    for (const auto& [name, type] : metrics) {
      const sparkplug::Metric* value = nullptr;
      if (last != last_.end())
        if (const auto it = last->second.find(name); it != last->second.end()) value = &it->second;
      if (value != nullptr) {
        dbirth.metrics.push_back(*value);
        continue;
      }
      auto m = node_metric(name, type, now);  // no value yet since the edge started
      m.is_null = true;
      dbirth.metrics.push_back(std::move(m));
    }
    out.push_back(OutMessage{topic("DBIRTH") + "/" + sparkplug::device_id(machine), sparkplug::encode(dbirth), 0, 0});
  }
  ++births_;
}

void SparkplugNode::build(std::string_view machine, std::span<const QueueRecord* const> records,
                          std::uint64_t live_from, std::vector<OutMessage>& out) {
  auto& known = catalog_[std::string(machine)];
  auto& last = last_[std::string(machine)];
  sparkplug::Payload data;
  OutMessage m;
  bool new_metric = false;
  Event e;
  std::string error;
  for (const QueueRecord* r : records) {
    if (!codec::parse_event(std::string_view(r->payload).substr(machine.size() + 1), e, error, machine)) {
      std::fprintf(stderr, "sparkplug: queued record %llu unreadable (%s): not sent\n",
                   static_cast<unsigned long long>(r->id), error.c_str());
      continue;
    }
    const bool historical = r->id < live_from;
    ++m.events;
    m.historical += historical;
    const std::size_t first = data.metrics.size();
    sparkplug::append_event_metrics(e, historical, data.metrics);
    for (std::size_t i = first; i < data.metrics.size(); ++i) {
      const auto& metric = data.metrics[i];
      new_metric |= known.emplace(metric.name, metric.type).second;
      auto& kept = last[metric.name] = metric;
      kept.is_historical = false;
    }
  }
  // A DBIRTH announces every metric its device's DDATA may carry: one never seen births again.
  if (new_metric) append_births(out);
  if (data.metrics.empty()) return;  // heartbeats only
  data.timestamp_ms = wall_ms();
  data.seq = next_seq();
  m.topic = topic("DDATA") + "/" + sparkplug::device_id(machine);
  m.payload = sparkplug::encode(data);
  out.push_back(std::move(m));
}

}  // namespace oee::edge
