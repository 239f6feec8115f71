#include "oee/edge/sparkplug_node.h"

#include <simdjson.h>

#include <chrono>
#include <cstdio>
#include <utility>

#include "oee/codec/event_json.h"
#include "oee/sparkplug/metric_value.h"
#include "oee/sparkplug/payload_codec.h"
#include "oee/sparkplug/topic.h"

namespace oee::edge {
namespace {

using sparkplug::DataType;
constexpr std::string_view kRebirth = "Node Control/Rebirth";

std::uint64_t wall_ms() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

void add_metric(sparkplug::pb::Payload& p, std::string_view name, DataType type, const sparkplug::Value& value) {
  SparkplugMetric& m = *p.add_metrics();
  m.set_name(std::string(name));
  m.set_timestamp(p.timestamp());
  sparkplug::set_metric_value(m, type, value);
}

}  // namespace

SparkplugNode::SparkplugNode(SparkplugNodeOptions options, SparkplugCatalog catalog)
    : options_(std::move(options)), catalog_(std::move(catalog)) {}

std::string SparkplugNode::topic(std::string_view type) const {
  return std::string(sparkplug::kNamespace) + "/" + options_.group + "/" + std::string(type) + "/" + options_.node;
}

std::string SparkplugNode::state_topic() const {
  return std::string(sparkplug::kNamespace) + "/STATE/" + options_.primary_host;
}

std::string SparkplugNode::death_payload(std::uint64_t bd_seq) const {
  sparkplug::pb::Payload p;  // no seq: the broker sends an NDEATH whenever the session ends
  p.set_timestamp(wall_ms());
  add_metric(p, "bdSeq", DataType::Int64, static_cast<std::int64_t>(bd_seq));
  return sparkplug::encode_payload(p);
}

std::string SparkplugNode::next_will() {
  if (!std::exchange(first_will_, false) && bd_seq_used_.exchange(false)) bd_seq_ = (bd_seq_ + 1) % 256;
  return death_payload(bd_seq_);
}

std::string SparkplugNode::death_payload() const { return death_payload(bd_seq_.load()); }

void SparkplugNode::on_command(std::string_view payload) {
  const auto decoded = sparkplug::decode_payload(payload);
  if (!decoded.payload) {
    std::fprintf(stderr, "sparkplug: an NCMD payload ignored: %s\n", decoded.error.c_str());
    return;
  }
  for (const auto& m : decoded.payload->metrics()) {
    if (m.name() != kRebirth || m.datatype() != DataType::Boolean) continue;
    const auto value = sparkplug::metric_value(m);
    if (std::holds_alternative<bool>(value) && std::get<bool>(value)) rebirth_requested_ = true;
  }
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
  sparkplug::pb::Payload nbirth;
  nbirth.set_timestamp(now);
  nbirth.set_seq(next_seq());
  add_metric(nbirth, "bdSeq", DataType::Int64, static_cast<std::int64_t>(bd_seq_.load()));
  add_metric(nbirth, kRebirth, DataType::Boolean, false);
  out.push_back(OutMessage{topic("NBIRTH"), sparkplug::encode_payload(nbirth), 0, 0});
  for (const auto& [machine, metrics] : catalog_) {
    sparkplug::pb::Payload dbirth;
    dbirth.set_timestamp(now);
    dbirth.set_seq(next_seq());
    const auto last = last_.find(machine);
    for (const auto& [name, type] : metrics) {
      const SparkplugMetric* value = nullptr;
      if (last != last_.end())
        if (const auto it = last->second.find(name); it != last->second.end()) value = &it->second;
      if (value != nullptr) *dbirth.add_metrics() = *value;
      else add_metric(dbirth, name, type, std::monostate{});  // no value yet since the edge started
    }
    out.push_back(OutMessage{topic("DBIRTH") + "/" + sparkplug_device_id(machine), sparkplug::encode_payload(dbirth), 0, 0});
  }
  ++births_;
}

void SparkplugNode::build(std::string_view machine, std::span<const QueueRecord* const> records,
                          std::uint64_t live_from, std::vector<OutMessage>& out) {
  auto& known = catalog_[std::string(machine)];
  auto& last = last_[std::string(machine)];
  sparkplug::pb::Payload data;
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
    const int first = data.metrics_size();
    append_sparkplug_metrics(e, historical, data);
    for (int i = first; i < data.metrics_size(); ++i) {
      const auto& metric = data.metrics(i);
      new_metric |= known.emplace(metric.name(), static_cast<DataType>(metric.datatype())).second;
      auto& kept = last[metric.name()] = metric;
      kept.clear_is_historical();
    }
  }
  // A DBIRTH announces every metric its device's DDATA may carry: one never seen births again.
  if (new_metric) append_births(out);
  if (data.metrics_size() == 0) return;  // heartbeats only
  data.set_timestamp(wall_ms());
  data.set_seq(next_seq());
  m.topic = topic("DDATA") + "/" + sparkplug_device_id(machine);
  m.payload = sparkplug::encode_payload(data);
  out.push_back(std::move(m));
}

}  // namespace oee::edge
