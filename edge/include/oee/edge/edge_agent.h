#pragma once
// The edge agent: sources -> tag mapping -> durable queue -> MQTT. Acquisition only ever waits for
// the local disk; the publisher drains the queue whenever a broker is reachable.
#include <atomic>
#include <memory>
#include <vector>

#include "oee/core/shift_calendar.h"
#include "oee/edge/durable_queue.h"
#include "oee/edge/edge_config.h"
#include "oee/edge/event_source.h"
#include "oee/edge/queue_publisher.h"
#include "oee/edge/sparkplug_node.h"
#include "oee/plant/plant_file.h"
#include "oee/transport/mqtt_client.h"

namespace oee::edge {

class EdgeAgent {
 public:
  // Loads the plant, checks every tag's machine against it (EdgeConfigError with the tag's line)
  // and opens (recovers) the queue. Throws plant::PlantFileError, EdgeConfigError, runtime_error.
  explicit EdgeAgent(EdgeConfig config);
  ~EdgeAgent();

  void start();
  void stop();  // sources stop, the queue is flushed, "offline" status, clean disconnect
  // Renewed mqtt.tls files without a restart (SIGHUP): checked, then a clean reconnect with them;
  // the durable queue resends what was not acknowledged. "" or the error (the connection stays).
  std::string reload_tls();

  DurableQueue& queue() { return *queue_; }
  const EdgeConfig& config() const { return config_; }
  PublisherStats publisher_stats() const { return publisher_->stats(); }
  std::uint64_t events_accepted() const { return events_accepted_.load(); }
  std::uint64_t events_lost() const { return events_lost_.load(); }  // the disk refused them

  // The sink the sources feed: encodes and appends to the queue (never waits for the broker).
  void accept(std::vector<Event>& events);
  const SparkplugNode* sparkplug_node() const { return sparkplug_.get(); }

 private:
  // mqtt.format: sparkplug: the node's catalog (machines of the tags, or the plant's for a
  // simulator), will, subscriptions and commands.
  void make_sparkplug_node(PublisherOptions& p, transport::MqttOptions& m);
  SparkplugCatalog sparkplug_catalog() const;

 private:
  EdgeConfig config_;
  plant::LoadedPlant plant_;
  std::unique_ptr<ShiftCalendar> calendar_;
  std::unique_ptr<DurableQueue> queue_;
  std::unique_ptr<SparkplugNode> sparkplug_;  // mqtt.format: sparkplug
  std::unique_ptr<QueuePublisher> publisher_;
  std::unique_ptr<transport::MqttClient> client_;
  std::vector<std::unique_ptr<EventSource>> sources_;
  std::atomic<std::uint64_t> events_accepted_{0};
  std::atomic<std::uint64_t> events_lost_{0};
  bool started_ = false;
};

}  // namespace oee::edge
