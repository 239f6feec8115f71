#pragma once
// A real 3-node NATS Server cluster with JetStream and its MQTT listener, on loopback, for the
// broker-cluster fault tests and benchmark: each node has its own config file, server_name, ports
// (client, cluster routes, MQTT, monitoring) and JetStream store directory. MQTT sessions and QoS 1
// messages live in JetStream streams replicated to all three nodes (mqtt.stream_replicas: 3), so
// one node lost keeps a quorum; two lost do not, until one comes back.
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "mosquitto_process.h"

namespace oee::testing {

// True when a nats-server binary is installed (scripts/setup.sh installs Debian's nats-server).
bool nats_server_available();

class NatsCluster {
 public:
  static constexpr int kNodes = 3;
  NatsCluster();
  ~NatsCluster();
  NatsCluster(const NatsCluster&) = delete;
  NatsCluster& operator=(const NatsCluster&) = delete;

  // Starts every node and waits until the cluster formed and JetStream is healthy on each
  // (/healthz: a metadata leader elected, the node current). Throws when it does not within 60 s.
  void start();
  void start_node(int i);  // on the same ports and store directory as before
  void kill_node(int i);   // SIGKILL
  // Waits until every running node reports JetStream healthy; false after `timeout`.
  bool wait_healthy(std::chrono::milliseconds timeout) const;
  bool healthy(int i) const;  // GET /healthz on node i answers {"status":"ok"}
  // The body of GET <path> on node i's monitoring port ("" when it does not answer), e.g. "/jsz?consumers=true".
  std::string monitoring(int i, const std::string& path) const;

  std::string mqtt_url(int i) const;
  std::vector<std::string> mqtt_urls() const;  // all three, node 0 first
  std::string log(int i) const;
  const std::string& dir() const { return dir_.path; }

 private:
  struct Node;
  void write_config(const Node& n) const;
  TempDir dir_;
  std::vector<std::unique_ptr<Node>> nodes_;
};

}  // namespace oee::testing
