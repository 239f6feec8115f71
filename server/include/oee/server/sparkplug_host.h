#pragma once
// The server as a Sparkplug B 3.0 host application (docs/sparkplug.md): subscribes to spBv1.0/#,
// keeps its retained STATE (online, with a will saying offline, and online again whenever it sees
// itself reported offline), follows each edge node's session (births, aliases, seq 0-255, bdSeq),
// turns the metrics the plant file maps into events of the machines, and asks a node for a Rebirth
// when a seq gap is not filled within the reorder timeout or data comes before its birth. A node's
// death (NDEATH with its birth's bdSeq) or a device's (DDEATH) makes their machines no data from
// then on; a new birth resumes them.
//
// Messages are received in batches (transport::AckingSubscriber): the events of a batch are stored
// in one commit, and the broker gets its PUBACKs only after that commit. STATE and Rebirth commands
// go out on a second connection, which holds the will.
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>

#include "oee/server/plant_service.h"
#include "oee/transport/mqtt_client.h"
#include "oee/transport/mqtt_subscriber.h"

namespace oee::server {

class SparkplugSessions;
class PeriodicTask;

struct SparkplugHostConfig {
  std::string host_id;                 // spBv1.0/STATE/<host_id>
  DurationMs reorder_timeout_ms = 2000;  // how long a seq gap may stay open before a Rebirth
  transport::MqttOptions mqtt;         // brokers, credentials, TLS; the rest is set by the host
};

struct SparkplugHostStats {
  std::uint64_t messages = 0;
  std::uint64_t events = 0;            // handed to the ingest path
  std::uint64_t events_inserted = 0;   // of those from received messages, committed new to the store
  std::uint64_t batches = 0;           // commits of received messages (one per batch with events)
  std::uint64_t dead_letters = 0;      // payloads or metrics refused, with the reason
  std::uint64_t unmapped_metrics = 0;  // metrics no machine maps (ignored)
  std::uint64_t rebirths_requested = 0;
  std::uint64_t births = 0;            // NBIRTH and DBIRTH taken
  std::uint64_t deaths = 0;            // NDEATH (bdSeq matching) and DDEATH taken
  std::uint64_t state_published = 0;   // our STATE online, at connection and when seen offline
  std::uint64_t heartbeats = 0;        // for machines of live nodes (Sparkplug reports by exception)
};

// Why the host id cannot be used (empty, or holds '/', '+' or '#'), or empty.
std::string check_sparkplug_host_id(std::string_view host_id);

class SparkplugHost {
 public:
  SparkplugHost(PlantService& service, SparkplugHostConfig config);
  ~SparkplugHost();
  SparkplugHost(const SparkplugHost&) = delete;
  SparkplugHost& operator=(const SparkplugHost&) = delete;

  void start();
  void stop();  // disconnects cleanly (no will: publishes offline itself first)
  // Subscribed (every subscription granted) and the STATE connection up.
  bool connected() const;
  // Received messages (the subscriber thread's entry point): their events are ingested in one
  // commit. Throws only when storage fails (then nothing is acknowledged and the broker redelivers).
  void handle_batch(std::span<const transport::ReceivedMessage> messages);
  // One received message (the fuzzing and test entry point).
  void handle(std::string_view topic, std::string_view payload);
  // Reorder timeouts (Rebirth requests) and heartbeats of the machines of live nodes; runs on the
  // host's timer thread every 100 ms.
  void tick();
  SparkplugHostStats stats() const;
  // "spBv1.0/STATE/<id>"
  const std::string& state_topic() const { return state_topic_; }

 private:
  void on_connection(bool connected);
  void publish_state_online();
  void publish(const std::string& topic, const std::string& payload, bool retain);
  // Hands one message to the sessions (its events wait in them for the batch's commit).
  void take_message(const transport::ReceivedMessage& m);
  PlantService& service_;
  SparkplugHostConfig config_;
  std::string state_topic_;
  std::int64_t state_timestamp_ms_ = 0;  // birth and will carry the same (Sparkplug 3.0)
  mutable std::mutex mutex_;
  std::uint64_t state_published_ = 0;
  std::uint64_t events_inserted_ = 0;
  std::uint64_t batches_ = 0;
  std::unique_ptr<SparkplugSessions> sessions_;
  std::unique_ptr<transport::AckingSubscriber> subscriber_;  // spBv1.0/#, acknowledged after the commit
  std::unique_ptr<transport::MqttClient> publisher_;         // STATE (and its will) and NCMD
  std::unique_ptr<PeriodicTask> timer_;
};

}  // namespace oee::server
