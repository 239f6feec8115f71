#include "nats_cluster.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace oee::testing {

namespace {

const char* const kNatsServer = "/usr/sbin/nats-server";

// The body of GET http://127.0.0.1:port/path ("" when nothing answers): the monitoring endpoint
// closes the connection after the response, so reading to EOF is enough.
std::string http_get_body(int port, const std::string& path) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval tv{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  std::string response;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    const std::string request = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size())) {
      char buf[4096];
      for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) response.append(buf, static_cast<std::size_t>(n));
    }
  }
  ::close(fd);
  const auto body = response.find("\r\n\r\n");
  return body == std::string::npos ? std::string() : response.substr(body + 4);
}

// n loopback ports, all different: free_loopback_port() closes its probe socket, so two calls can
// return the same port (seen: a node's route and monitoring ports equal, and the node exited).
std::vector<int> distinct_free_ports(std::size_t n) {
  std::vector<int> ports;
  while (ports.size() < n) {
    const int p = free_loopback_port();
    if (std::find(ports.begin(), ports.end(), p) == ports.end()) ports.push_back(p);
  }
  return ports;
}

}  // namespace

bool nats_server_available() { return ::access(kNatsServer, X_OK) == 0; }

struct NatsCluster::Node {
  std::string name;
  int client_port = 0, route_port = 0, mqtt_port = 0, monitor_port = 0;
  std::string config_file, store_dir, log_file;
  ChildProcess process;
};

NatsCluster::NatsCluster() {
  const auto ports = distinct_free_ports(4 * kNodes);
  for (int i = 0; i < kNodes; ++i) {
    auto n = std::make_unique<Node>();
    n->name = "n" + std::to_string(i + 1);
    const int* p = &ports[static_cast<std::size_t>(4 * i)];
    n->client_port = p[0], n->route_port = p[1], n->mqtt_port = p[2], n->monitor_port = p[3];
    n->config_file = dir_.path + "/" + n->name + ".conf";
    n->store_dir = dir_.path + "/" + n->name + "-store";
    n->log_file = dir_.path + "/" + n->name + ".log";
    std::filesystem::create_directories(n->store_dir);
    nodes_.push_back(std::move(n));
  }
  for (const auto& n : nodes_) write_config(*n);
}

NatsCluster::~NatsCluster() = default;  // each ChildProcess kills its node

// The same file as docs/operations.md "A clustered broker" shows, with test ports.
void NatsCluster::write_config(const Node& n) const {
  std::ofstream f(n.config_file);
  f << "server_name: " << n.name << "\n"
    << "listen: 127.0.0.1:" << n.client_port << "\n"
    << "http: 127.0.0.1:" << n.monitor_port << "\n"
    << "jetstream { store_dir: \"" << n.store_dir << "\" }\n"
    << "cluster {\n  name: oee\n  listen: 127.0.0.1:" << n.route_port << "\n  routes: [";
  for (std::size_t i = 0; i < nodes_.size(); ++i)
    f << (i ? ", " : "") << "nats-route://127.0.0.1:" << nodes_[i]->route_port;
  f << "]\n}\n"
    << "mqtt {\n  listen: 127.0.0.1:" << n.mqtt_port << "\n  stream_replicas: 3\n  consumer_replicas: 3\n}\n";
}

void NatsCluster::start() {
  for (int i = 0; i < kNodes; ++i) start_node(i);
  if (!wait_healthy(std::chrono::seconds(60))) throw std::runtime_error("the NATS cluster did not form:\n" + log(0));
  // The first MQTT connection creates the replicated MQTT streams, which takes seconds: done here,
  // so that the clients under test connect to the node they list first within their timeout.
  ChildProcess warmup;
  warmup.start({"/usr/bin/mosquitto_pub", "-h", "127.0.0.1", "-p", std::to_string(nodes_[0]->mqtt_port), "-i",
                "oee-cluster-warmup", "-q", "1", "-t", "oee/warmup", "-n"}, dir_.path + "/warmup.log");
  if (warmup.wait(60000) != 0) throw std::runtime_error("the NATS cluster took no MQTT publish:\n" + log(0));
}

void NatsCluster::start_node(int i) {
  Node& n = *nodes_.at(static_cast<std::size_t>(i));
  n.process.start({kNatsServer, "-c", n.config_file}, n.log_file);
  if (!wait_for_port(n.mqtt_port, 30000)) throw std::runtime_error("nats-server " + n.name + " did not listen:\n" + log(i));
}

void NatsCluster::kill_node(int i) { nodes_.at(static_cast<std::size_t>(i))->process.kill(); }

std::string NatsCluster::monitoring(int i, const std::string& path) const {
  return http_get_body(nodes_.at(static_cast<std::size_t>(i))->monitor_port, path);
}

bool NatsCluster::healthy(int i) const { return monitoring(i, "/healthz").find("\"ok\"") != std::string::npos; }

bool NatsCluster::wait_healthy(std::chrono::milliseconds timeout) const {
  return eventually([&] {
    for (int i = 0; i < kNodes; ++i)
      if (nodes_[static_cast<std::size_t>(i)]->process.running() && !healthy(i)) return false;
    return true;
  }, timeout);
}

std::string NatsCluster::mqtt_url(int i) const {
  return "mqtt://127.0.0.1:" + std::to_string(nodes_.at(static_cast<std::size_t>(i))->mqtt_port);
}

std::vector<std::string> NatsCluster::mqtt_urls() const {
  std::vector<std::string> out;
  for (int i = 0; i < kNodes; ++i) out.push_back(mqtt_url(i));
  return out;
}

std::string NatsCluster::log(int i) const {
  std::ifstream f(nodes_.at(static_cast<std::size_t>(i))->log_file);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

}  // namespace oee::testing
