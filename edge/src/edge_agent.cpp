#include "oee/edge/edge_agent.h"

#include <chrono>
#include <malloc.h>

#include <cstdio>
#include <filesystem>
#include <thread>

#include "oee/codec/commit_report.h"
#include "oee/codec/event_json.h"
#include "oee/edge/queue_incarnation.h"
#include "oee/edge/run_signal.h"
#include "oee/fileio/encryption_key.h"

namespace oee::edge {
namespace {
OpcUaSourceFactory& factory_slot() {
#ifdef OEE_EDGE_WITH_OPCUA
  static OpcUaSourceFactory f = make_opcua_source;  // the client of opcua/, unless replaced
#else
  static OpcUaSourceFactory f;
#endif
  return f;
}

}  // namespace

void register_opcua_source_factory(OpcUaSourceFactory factory) { factory_slot() = std::move(factory); }
const OpcUaSourceFactory& opcua_source_factory() { return factory_slot(); }

EdgeAgent::EdgeAgent(EdgeConfig config) : config_(std::move(config)) {
  plant_ = plant::load_plant_file(config_.plant_file);
  calendar_ = std::make_unique<ShiftCalendar>(plant_.model, *plant_.zone);
  for (const auto& s : config_.sources) {
    for (const auto& t : s.tags)
      if (plant_.model.find_machine(t.machine) == nullptr)
        throw EdgeConfigError(config_.file, t.line, "machine '" + t.machine + "' is not in the plant file " + config_.plant_file);
    if (s.type == SourceType::opcua && !opcua_source_factory())
      throw EdgeConfigError(config_.file, s.line, "opcua source: this build has no OPC UA client wired in");
  }

  DurableQueueOptions q;
  q.dir = config_.data_dir + "/queue";
  q.max_bytes = config_.queue_max_bytes;
  q.group_commit_ms = config_.queue_group_commit_ms;
  if (config_.encryption_key) q.encryption_key = fileio::derive_key(*config_.encryption_key, fileio::KeyUse::queue);
  std::filesystem::create_directories(config_.data_dir);
  migrate_run_state_files(config_.data_dir);  // before the sources load their open orders
  const std::string incarnation = load_or_create_queue_incarnation(q.dir);  // before the queue writes
  queue_ = std::make_unique<DurableQueue>(q);

  PublisherOptions p;
  p.edge_id = config_.id;
  p.max_events_per_message = config_.mqtt.max_events_per_message;
  p.max_inflight_messages = config_.mqtt.max_inflight_messages;
  p.status_interval_ms = config_.mqtt.status_interval_ms;
  p.incarnation = incarnation;
  p.commit_ack = config_.mqtt.commit_ack;
  p.resend_after_ms = config_.mqtt.resend_after_ms;

  transport::MqttOptions m;
  m.brokers = config_.mqtt.brokers;
  m.client_id = config_.mqtt.client_id;
  m.clean_session = false;
  m.username = config_.mqtt.username;
  m.password = config_.mqtt.password;
  m.tls.ca_file = config_.mqtt.tls_ca_file;
  m.tls.cert_file = config_.mqtt.tls_cert_file;
  m.tls.key_file = config_.mqtt.tls_key_file;
  m.tls.insecure = config_.mqtt.tls_insecure;
  m.keepalive_s = config_.mqtt.keepalive_s;
  m.reconnect_min = std::chrono::milliseconds(config_.mqtt.reconnect_min_ms);
  m.reconnect_max = std::chrono::milliseconds(config_.mqtt.reconnect_max_ms);
  m.will_topic = status_topic(config_.id);
  m.will_payload = "{\"edge\":\"" + config_.id + "\",\"state\":\"offline\"}";
  m.max_inflight = config_.mqtt.max_inflight_messages;
  const std::string reports = codec::commit_report_topic(config_.id);
  if (config_.mqtt.commit_ack) m.subscriptions = {reports};
  if (config_.mqtt.format == MqttFormat::sparkplug) make_sparkplug_node(p, m);
  publisher_ = std::make_unique<QueuePublisher>(*queue_, p);
  publisher_->set_format(sparkplug_.get());
  transport::MqttHandlers h;
  h.on_published = [this](int mid, std::uint64_t generation) { publisher_->on_published(mid, generation); };
  if (sparkplug_) h.on_connection = [this](bool up, const std::string&) { if (up) sparkplug_->on_connected(); };
  const std::string ncmd = sparkplug_ ? sparkplug_->topic("NCMD") : "";
  const std::string state = sparkplug_ ? sparkplug_->state_topic() : "";
  h.on_message = [this, reports, ncmd, state](std::string_view topic, std::string_view payload) {
    if (topic == reports) publisher_->on_commit_report(payload);
    else if (sparkplug_ && topic == ncmd) sparkplug_->on_command(payload);
    else if (sparkplug_ && topic == state) sparkplug_->on_state(payload, client_->generation());
  };
  client_ = std::make_unique<transport::MqttClient>(m, h);
  publisher_->set_client(client_.get());

  EventSink sink = [this](std::vector<Event>& events) { accept(events); };
  // Parsing a large configuration leaves freed memory behind in the allocator: give it back.
  ::malloc_trim(0);
  for (const auto& s : config_.sources) {
    switch (s.type) {
      case SourceType::simulator:
        // The queue's ids are the stream's seqs when the simulator is the only source: a restart
        // goes on where the queue ends instead of sending the same simulated plant again.
        sources_.push_back(make_simulator_source(s, plant_.model, *calendar_, sink,
                                                 config_.sources.size() == 1 ? queue_->next_id() : 0));
        break;
      case SourceType::modbus:
        sources_.push_back(make_modbus_source(s, plant_.model, sink));
        break;
      case SourceType::opcua:
        try {
          sources_.push_back(opcua_source_factory()(s, plant_.model, sink));
        } catch (const std::invalid_argument& e) {
          throw EdgeConfigError(config_.file, s.line, std::string("opcua source: ") + e.what());
        }
        break;
    }
  }
}

SparkplugCatalog EdgeAgent::sparkplug_catalog() const {
  SparkplugCatalog catalog;
  for (const auto& s : config_.sources) {
    if (s.type == SourceType::simulator)
      for (const MachineSpec* machine : plant_.model.machines()) add_simulator_sparkplug_metrics(catalog[machine->path]);
    for (const auto& t : s.tags) catalog[t.machine].insert(sparkplug_tag_metric(t));
  }
  std::map<std::string, std::string> devices;  // device id -> machine
  for (const auto& [machine, metrics] : catalog) {
    const std::string id = sparkplug_device_id(machine);
    if (id.find_first_of("+#") != std::string::npos)
      throw EdgeConfigError(config_.file, 0, "mqtt.format sparkplug: machine '" + machine + "' has '+' or '#' in its path: not a Sparkplug device id");
    if (const auto [it, fresh] = devices.emplace(id, machine); !fresh)
      throw EdgeConfigError(config_.file, 0, "mqtt.format sparkplug: machines '" + it->second + "' and '" + machine +
                                                 "' are both device '" + id + "'");
  }
  return catalog;
}

void EdgeAgent::make_sparkplug_node(PublisherOptions& p, transport::MqttOptions& m) {
  const auto& sp = config_.mqtt.sparkplug;
  sparkplug_ = std::make_unique<SparkplugNode>(SparkplugNodeOptions{sp.group, sp.node, sp.primary_host}, sparkplug_catalog());
  p.publish_status = false;
  m.clean_session = true;  // Sparkplug 3.0 on MQTT 3.1.1: a node's session is its connection
  m.will_topic = sparkplug_->topic("NDEATH");
  m.will_retain = false;
  m.make_will_payload = [node = sparkplug_.get()] { return node->next_will(); };
  m.subscriptions.push_back(sparkplug_->topic("NCMD"));
  if (!sp.primary_host.empty()) m.subscriptions.push_back(sparkplug_->state_topic());
}

EdgeAgent::~EdgeAgent() { stop(); }

void EdgeAgent::accept(std::vector<Event>& events) {
  std::vector<std::string> records;
  records.reserve(events.size());
  std::string json;
  for (auto& e : events) {
    e.src.clear();  // the queue's id is the seq; src is the edge id, both added when published
    e.seq = -1;
    json.clear();
    codec::append_event_json(json, e, false);
    records.push_back(make_queue_record(e.machine, json));
  }
  std::vector<std::string_view> views(records.begin(), records.end());
  try {
    queue_->append(views);
    events_accepted_ += events.size();
  } catch (const std::exception& e) {
    // The disk refused (full, I/O error): these events cannot be kept. Say so loudly and keep
    // the sources running; the server sees the lost time as missing data, not as a crash.
    events_lost_ += events.size();
    std::fprintf(stderr, "edge %s: could not queue %zu events (%llu lost so far): %s\n", config_.id.c_str(), events.size(),
                 static_cast<unsigned long long>(events_lost_.load()), e.what());
  }
}

void EdgeAgent::start() {
  if (started_) return;
  started_ = true;
  const auto s = queue_->stats();
  std::fprintf(stderr, "edge %s: queue %s: %llu unsent events, next seq %llu, %llu evicted so far\n", config_.id.c_str(),
               (config_.data_dir + "/queue").c_str(), static_cast<unsigned long long>(s.depth_records),
               static_cast<unsigned long long>(s.next_id), static_cast<unsigned long long>(s.evicted_records));
  client_->start();
  publisher_->start();
  for (auto& src : sources_) {
    std::fprintf(stderr, "edge %s: source %s\n", config_.id.c_str(), src->describe().c_str());
    src->start();
  }
}

std::string EdgeAgent::reload_tls() { return client_ ? client_->reload_tls() : std::string(); }

void EdgeAgent::stop() {
  if (!started_) return;
  started_ = false;
  for (auto& src : sources_) src->stop();
  queue_->flush();
  // Drain while a broker is there (bounded): a clean stop leaves nothing behind needlessly.
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(config_.drain_timeout_ms);
  while (client_->connected() && queue_->stats().depth_records > 0 && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  publisher_->stop();
  if (sparkplug_ && client_->connected()) client_->publish(sparkplug_->topic("NDEATH"), sparkplug_->death_payload(), 1, false);
  else publisher_->publish_offline_status();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // let the status out
  client_->stop();
}

}  // namespace oee::edge
