#pragma once
// An MQTT 3.1.1 client over libmosquitto for the edge (publisher) and the server (subscriber):
// QoS 1, persistent session (clean_session false, stable client id), user name and password, TLS,
// a list of brokers for failover, a will message, and reconnection with exponential backoff and
// jitter. The network loop runs on the client's own thread; callbacks are called from it.
//
// Failover: when the connection is lost, every broker of the list is tried once in turn, starting
// with the one that was in use (a refused connection costs milliseconds); only when a whole round
// fails does the client wait, 2 s, 4 s, … up to 60 s, each with ±20 % jitter.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

struct mosquitto;

namespace oee::transport {

struct BrokerAddress {
  std::string host;
  int port = 1883;
  bool tls = false;
  std::string url() const;
};

// "mqtt://host[:port]", "mqtts://host[:port]" (default ports 1883 and 8883), "tcp://…", "host:port".
std::optional<BrokerAddress> parse_broker_url(std::string_view url, std::string& error);

struct MqttTlsOptions {
  std::string ca_file;    // CA bundle that signed the broker's certificate (required for mqtts)
  std::string cert_file;  // client certificate, optional
  std::string key_file;
  bool insecure = false;  // skip the host name check (tests only)
};

struct MqttOptions {
  std::vector<std::string> brokers;  // URLs, tried in order
  std::string client_id;             // stable: the broker keeps the session under it
  bool clean_session = false;
  std::string username;
  std::string password;
  MqttTlsOptions tls;
  int keepalive_s = 30;
  std::string will_topic;  // empty: no will
  std::string will_payload;
  bool will_retain = true;
  // When set, called at every connection attempt for the will's payload instead of will_payload
  // (a Sparkplug NDEATH carries the session's bdSeq, new for each connection).
  std::function<std::string()> make_will_payload;
  std::chrono::milliseconds reconnect_min{2000};
  std::chrono::milliseconds reconnect_max{60000};
  std::chrono::milliseconds connect_timeout{5000};  // waiting for CONNACK
  std::vector<std::string> subscriptions;  // QoS 1, (re)subscribed on every connection
  int max_inflight = 1000;                 // QoS 1 messages awaiting PUBACK
  // AckingSubscriber only: no PUBLISH for this long on a connection ends it cleanly and connects
  // again (the persistent session keeps what waits). A cure for a broker that stops delivering to a
  // granted subscription (docs/mqtt.md, "A stalled subscription"); 0 = never.
  std::chrono::seconds silence_reconnect{0};
};

struct MqttHandlers {
  // The connection came up (true, broker URL) or went down (false).
  std::function<void(bool connected, const std::string& broker)> on_connection;
  // The broker acknowledged (PUBACK) the message with this id, sent on connection `generation`
  // (ids restart on every connection). Called from the network thread: do not publish from it
  // while holding a lock that publish() callers hold.
  std::function<void(int message_id, std::uint64_t generation)> on_published;
  std::function<void(std::string_view topic, std::string_view payload)> on_message;
};

class MqttClient {
 public:
  // Throws std::invalid_argument when a broker URL is invalid or the list is empty.
  MqttClient(MqttOptions options, MqttHandlers handlers);
  ~MqttClient();
  MqttClient(const MqttClient&) = delete;
  MqttClient& operator=(const MqttClient&) = delete;

  void start();
  void stop();  // disconnects cleanly (the will is not sent)
  // Renewed TLS files without a restart: checks that the CA, certificate and key files load (and
  // the key is the certificate's), then disconnects cleanly (no will) and connects again at once,
  // with the files read anew. What was in flight is the caller's to resend, as on any lost
  // connection. Files that do not load leave the connection alone. "" or the error; "" without
  // an mqtts:// broker.
  std::string reload_tls();
  // Disconnects cleanly (no will) and connects again at once (a Sparkplug edge node whose primary
  // host went offline).
  void reconnect() { reconnect_requested_ = true; }

  // Publishes; returns the message id (matched by on_published for QoS 1), or nullopt when not
  // connected or the client refused it. Thread-safe. `generation` (optional out) names the
  // connection the message went out on.
  std::optional<int> publish(std::string_view topic, std::string_view payload, int qos = 1,
                             bool retain = false, std::uint64_t* generation = nullptr);

  bool connected() const { return connected_.load(); }
  // Incremented on every successful connection.
  std::uint64_t generation() const { return generation_.load(); }
  std::string current_broker() const;
  std::uint64_t reconnects() const { return reconnects_.load(); }

 private:
  void run();
  bool connect_once(const BrokerAddress& broker);
  void destroy_session();
  bool sleep_interruptible(std::chrono::milliseconds d);

  MqttOptions options_;
  MqttHandlers handlers_;
  std::vector<BrokerAddress> brokers_;
  mutable std::mutex mutex_;  // guards mosq_ against publish() during destroy
  mosquitto* mosq_ = nullptr;
  std::string current_broker_;
  std::atomic<bool> running_{false};
  std::atomic<bool> connected_{false};
  std::atomic<int> connack_{-1};  // -1 waiting, 0 accepted, >0 refused
  std::atomic<bool> lost_{false};
  std::atomic<bool> reconnect_requested_{false};
  std::atomic<std::uint64_t> generation_{0};
  std::atomic<std::uint64_t> reconnects_{0};
  std::thread thread_;
};

}  // namespace oee::transport
