#include "oee/server/sparkplug_host.h"

#include "oee/server/log.h"
#include "oee/server/periodic_task.h"
#include "oee/sparkplug/topic.h"
#include "sparkplug_sessions.h"

namespace oee::server {
namespace {

namespace sp = oee::sparkplug;

std::string state_payload(bool online, std::int64_t timestamp_ms) {
  return std::string("{\"online\":") + (online ? "true" : "false") + ",\"timestamp\":" + std::to_string(timestamp_ms) + "}";
}

// Whether a STATE payload says offline. Its JSON is tiny and fixed (specification 7.x), so a
// look for the member is enough; anything else is taken as not offline.
bool says_offline(std::string_view payload) {
  auto at = payload.find("\"online\"");
  if (at == std::string_view::npos) return false;
  auto colon = payload.find(':', at);
  auto value = payload.find_first_not_of(" \t\r\n", colon == std::string_view::npos ? payload.size() : colon + 1);
  return value != std::string_view::npos && payload.substr(value, 5) == "false";
}

// A payload larger than this is dead-lettered unread (a Sparkplug message is a few kB at most).
constexpr std::size_t kMaxPayloadBytes = 16u << 20;

transport::MqttOptions subscriber_options(transport::MqttOptions o) {
  // Persistent: what comes while the server is down, or came but was not committed, the broker keeps
  // and hands over when it is back (then taken up from named data: SparkplugSessions::adopt).
  o.clean_session = false;
  o.subscriptions = {std::string(sp::kNamespace) + "/#"};
  o.will_topic.clear();
  return o;
}

transport::MqttOptions publisher_options(transport::MqttOptions o) {
  o.client_id += "-state";
  o.clean_session = true;
  o.subscriptions.clear();
  return o;
}

}  // namespace

std::string check_sparkplug_host_id(std::string_view host_id) {
  if (host_id.empty()) return "--sparkplug-host-id: must not be empty";
  if (host_id.find_first_of("/+#") != std::string_view::npos)
    return "--sparkplug-host-id: '" + std::string(host_id) + "' must not hold '/', '+' or '#' (it is a topic level)";
  return "";
}

SparkplugHost::SparkplugHost(PlantService& service, SparkplugHostConfig config)
    : service_(service), config_(std::move(config)) {
  state_topic_ = sp::format_topic({sp::MessageType::STATE, "", config_.host_id, ""});
  state_timestamp_ms_ = system_clock_ms();
  SparkplugOutput out;
  out.ingest = [this](std::vector<Event> events, std::string_view origin) { service_.ingest(std::move(events), origin); };
  out.dead_letter = [this](std::string_view origin, std::string_view payload, std::string_view reason) {
    service_.dead_letter(origin, payload, reason);
  };
  out.publish = [this](const std::string& topic, const std::string& payload) { publish(topic, payload, false); };
  sessions_ = std::make_unique<SparkplugSessions>(service.plant(), config_.reorder_timeout_ms, service.metrics(), std::move(out));
  subscriber_ = std::make_unique<transport::AckingSubscriber>(
      subscriber_options(config_.mqtt), [this](std::span<const transport::ReceivedMessage> batch) { handle_batch(batch); },
      kMaxPayloadBytes);
  auto o = publisher_options(config_.mqtt);
  o.will_topic = state_topic_;
  o.will_payload = state_payload(false, state_timestamp_ms_);
  o.will_retain = true;
  transport::MqttHandlers handlers;
  handlers.on_connection = [this](bool up, const std::string&) { on_connection(up); };
  publisher_ = std::make_unique<transport::MqttClient>(o, std::move(handlers));
  timer_ = std::make_unique<PeriodicTask>(100, [this] { tick(); }, [](const std::exception& e) {
    log_line("error", "sparkplug host", {{"error", e.what()}});
  });
}

SparkplugHost::~SparkplugHost() { stop(); }

void SparkplugHost::start() {
  publisher_->start();
  subscriber_->start();
  timer_->start();
}

void SparkplugHost::stop() {
  timer_->stop();
  subscriber_->stop();
  if (publisher_->connected()) publisher_->publish(state_topic_, state_payload(false, state_timestamp_ms_), 1, true);
  publisher_->stop();
}

bool SparkplugHost::connected() const { return subscriber_->connected() && publisher_->connected(); }

void SparkplugHost::on_connection(bool up) {
  if (up) publish_state_online();
}

void SparkplugHost::publish_state_online() {
  publish(state_topic_, state_payload(true, state_timestamp_ms_), true);
  std::lock_guard lock(mutex_);
  ++state_published_;
}

void SparkplugHost::publish(const std::string& topic, const std::string& payload, bool retain) {
  if (!publisher_ || !publisher_->publish(topic, payload, 1, retain)) log_line("warn", "sparkplug host: not published (not connected)", {{"topic", topic}});
}

void SparkplugHost::handle(std::string_view topic, std::string_view payload) {
  const transport::ReceivedMessage m{topic, payload, payload.size(), false};
  handle_batch(std::span(&m, 1));
}

void SparkplugHost::handle_batch(std::span<const transport::ReceivedMessage> messages) {
  for (const auto& m : messages) take_message(m);
  auto pending = sessions_->take_events();
  if (pending.events.empty()) return;
  const IngestReport r = service_.ingest(std::move(pending.events), pending.origin);
  std::lock_guard lock(mutex_);
  events_inserted_ += r.inserted;
  ++batches_;
}

void SparkplugHost::take_message(const transport::ReceivedMessage& m) {
  const std::string_view topic = m.topic, payload = m.payload;
  auto parsed = sp::parse_topic(topic);
  if (!parsed) {
    service_.dead_letter(topic, payload, "sparkplug: not a Sparkplug B topic");
    return;
  }
  if (payload.size() < m.payload_bytes) {
    service_.dead_letter(topic, payload, "sparkplug: payload of " + std::to_string(m.payload_bytes) +
                                             " bytes exceeds the limit of " + std::to_string(kMaxPayloadBytes) + " bytes");
    return;
  }
  if (parsed->type == sp::MessageType::STATE) {
    // Another host's STATE is not ours to judge; our own reported offline (an old will, or a
    // broker that lost us for a moment) is put right at once.
    if (parsed->edge_node == config_.host_id && says_offline(payload)) publish_state_online();
    return;
  }
  sessions_->handle(*parsed, topic, payload, service_.now());
}

void SparkplugHost::tick() { sessions_->tick(service_.now()); }

SparkplugHostStats SparkplugHost::stats() const {
  auto s = sessions_->stats();
  std::lock_guard lock(mutex_);
  s.state_published = state_published_;
  s.events_inserted = events_inserted_;
  s.batches = batches_;
  return s;
}

}  // namespace oee::server
