#pragma once
// MQTT ingest: subscribes to oee/v1/# (docs/mqtt.md) and feeds every message through the plant
// service's ingest path. A message is acknowledged to the broker only after its events are
// committed (or dead-lettered), so a server killed mid-stream gets the rest redelivered and the
// store's src+seq dedup drops what it already had. Poison messages (bad topic, bad JSON, wrong
// types, too large, unknown machine, bad timestamps) go to the dead letters with a reason and never
// hold up the messages around them.
#include <atomic>
#include <chrono>
#include <set>
#include <utility>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <span>
#include <string_view>
#include <vector>

#include "oee/server/plant_service.h"
#include "oee/transport/mqtt_client.h"
#include "oee/transport/mqtt_subscriber.h"

namespace oee::server {

struct MqttIngestStats {
  std::uint64_t messages = 0;
  std::uint64_t events_inserted = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t dead_letters = 0;  // messages or events
  std::uint64_t edge_status_messages = 0;
  std::uint64_t commit_reports = 0;  // published to sources (docs/mqtt.md, end-to-end acknowledgement)
  std::uint64_t subscription_refusals = 0;  // SUBACKs refusing a topic filter (then not connected; retried)
};

class MqttIngest {
 public:
  // `options.subscriptions` defaults to {"oee/v1/#"}; the client id should be stable per server.
  MqttIngest(PlantService& service, transport::MqttOptions options);
  ~MqttIngest();
  void start();
  void stop();
  // Connected and every subscription granted (a refused one keeps this false while it is retried).
  bool connected() const;
  // Renewed --mqtt-ca-file/--mqtt-cert-file/--mqtt-key-file without a restart: checked, then the
  // connections end cleanly and come back with them (the persistent session loses nothing); files
  // that do not load leave the connections alone. "" or the error.
  std::string reload_tls();

  // Received messages: their valid events are stored in one commit (one fsync for many messages
  // under load); each invalid one is dead-lettered with its topic. Throws only when storage fails
  // (then the messages are not acknowledged and come again).
  void handle_batch(std::span<const transport::ReceivedMessage> messages);
  // One message (the test and fuzzing entry point).
  void handle(std::string_view topic, std::string_view payload, std::size_t payload_bytes);

  MqttIngestStats stats() const;
  // The last status each edge published (oee/v1/_edge/<id>/status), raw JSON by edge id.
  std::map<std::string, std::string> edge_statuses() const;

 private:
  // Appends the message's valid events to `out`; dead-letters the rest. An edge status names its
  // incarnation in `statuses` (edge id -> inc): its source gets a commit report.
  void take_message(const transport::ReceivedMessage& m, std::vector<Event>& out,
                    std::map<std::string, std::string>& statuses);
  // Publishes what the store holds of these sources (src -> incarnations) to each source's commit
  // report topic; `force` skips the per-source rate limit.
  void report_commits(const std::map<std::string, std::set<std::string>>& sources, bool force);

  PlantService& service_;
  // One subscriber, or two when shared ($share/) and ordinary filters are mixed: the shared ones on
  // a clean session of their own (client id + "-share"), the others keeping their persistent one.
  std::vector<std::unique_ptr<transport::AckingSubscriber>> subscribers_;
  std::unique_ptr<transport::MqttClient> reporter_;  // publishes commit reports
  std::map<std::pair<std::string, std::string>, std::chrono::steady_clock::time_point> last_report_;
  mutable std::mutex mutex_;
  MqttIngestStats stats_;
  std::map<std::string, std::string> edge_statuses_;
};

// What `oee serve --mqtt URL …` asks for.
struct MqttIngestConfig {
  std::vector<std::string> brokers;  // failover order
  std::string client_id = "oee-server";
  std::vector<std::string> topics;  // subscriptions (mqtt_ingest_topics.h); empty = oee/v1/#
  std::string username;
  std::string password_file;  // first line is the password
  int reconnect_min_ms = 2000;
  int reconnect_max_ms = 60000;
  int silence_reconnect_s = 0;  // reconnect after this long without a message (0 = never)
  // MQTT keepalive: the broker drops a silent client (a frozen or powerless host) after 1.5 x it,
  // which is when a shared subscription's group stops giving it turns.
  int keepalive_s = 30;
  // mqtts:// brokers (the names of the edge's mqtt.tls): CA file (system CAs when empty), optional
  // client certificate and key, and `insecure` to skip the host name check (tests only).
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  bool insecure = false;
};
// Why the config cannot work (bad URL, unreadable password file…), or empty.
std::string check_mqtt_ingest_config(const MqttIngestConfig& config);
// The client options the config asks for (brokers, client id, subscriptions, credentials, TLS).
transport::MqttOptions mqtt_options_of(const MqttIngestConfig& config);
// Builds and starts the ingest; call check_mqtt_ingest_config first.
std::unique_ptr<MqttIngest> start_mqtt_ingest(PlantService& service, const MqttIngestConfig& config);

// Whether the server subscribes through a shared subscription ($share/<group>/...). Then its
// session is clean, not persistent: Mosquitto 2.0 keeps giving an absent persistent member its
// turn, and its share would wait in its session until it returns; a clean session leaves the group
// when the connection drops, so the others take the whole stream at once. What the dead member had
// received but not acknowledged is dropped with its session: the edge sends it again, since no
// commit report covers it (commit_ack, resend_after_ms), and src+seq dedup absorbs the rest.
bool shared_subscription(const std::vector<std::string>& filters);
// The client options of each connection the filters need: one, or (shared and ordinary filters
// mixed) the ordinary filters under the client id with a persistent session and the shared ones
// under client id + "-share" with a clean one; a clean session covers the whole connection.
std::vector<transport::MqttOptions> subscriber_sessions(transport::MqttOptions options);

// "oee/v1/s1/a1/l1/filler/events" -> "s1/a1/l1/filler"; empty when the topic is not an events topic.
std::string machine_of_events_topic(std::string_view topic);

}  // namespace oee::server
