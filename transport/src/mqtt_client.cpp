#include "oee/transport/mqtt_client.h"

#include <mosquitto.h>

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "mqtt_connection.h"
#include "reconnect_backoff.h"

namespace oee::transport {
namespace {

std::once_flag g_lib_init;

void log_line(const char* fmt, const std::string& a, const std::string& b = {}) {
  std::fprintf(stderr, fmt, a.c_str(), b.c_str());
}

}  // namespace

std::string BrokerAddress::url() const {
  return std::string(tls ? "mqtts://" : "mqtt://") + host + ":" + std::to_string(port);
}

std::optional<BrokerAddress> parse_broker_url(std::string_view url, std::string& error) {
  BrokerAddress b;
  std::string_view rest = url;
  if (const auto p = rest.find("://"); p != std::string_view::npos) {
    const std::string_view scheme = rest.substr(0, p);
    if (scheme == "mqtts" || scheme == "ssl" || scheme == "tls") {
      b.tls = true;
      b.port = 8883;
    } else if (scheme != "mqtt" && scheme != "tcp") {
      error = "unknown scheme '" + std::string(scheme) + "' (mqtt:// or mqtts://)";
      return std::nullopt;
    }
    rest.remove_prefix(p + 3);
  }
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  std::string_view host = rest;
  if (const auto c = rest.rfind(':'); c != std::string_view::npos) {
    host = rest.substr(0, c);
    const std::string port(rest.substr(c + 1));
    char* end = nullptr;
    const long v = std::strtol(port.c_str(), &end, 10);
    if (port.empty() || *end != '\0' || v <= 0 || v > 65535) {
      error = "bad port in '" + std::string(url) + "'";
      return std::nullopt;
    }
    b.port = static_cast<int>(v);
  }
  if (host.empty() || host.find('/') != std::string_view::npos) {
    error = "bad host in '" + std::string(url) + "'";
    return std::nullopt;
  }
  b.host = host;
  return b;
}

MqttClient::MqttClient(MqttOptions options, MqttHandlers handlers)
    : options_(std::move(options)), handlers_(std::move(handlers)) {
  if (options_.brokers.empty()) throw std::invalid_argument("mqtt: no broker given");
  for (const auto& url : options_.brokers) {
    std::string error;
    auto b = parse_broker_url(url, error);
    if (!b) throw std::invalid_argument("mqtt: broker '" + url + "': " + error);
    brokers_.push_back(*b);
  }
  if (options_.client_id.empty()) throw std::invalid_argument("mqtt: a stable client id is required");
  std::call_once(g_lib_init, [] { mosquitto_lib_init(); });
}

MqttClient::~MqttClient() { stop(); }

void MqttClient::start() {
  if (running_.exchange(true)) return;
  thread_ = std::thread([this] { run(); });
}

void MqttClient::stop() {
  if (!running_.exchange(false)) return;
  if (thread_.joinable()) thread_.join();
}

std::string MqttClient::current_broker() const {
  std::lock_guard lock(mutex_);
  return current_broker_;
}

std::optional<int> MqttClient::publish(std::string_view topic, std::string_view payload, int qos, bool retain,
                                      std::uint64_t* generation) {
  std::lock_guard lock(mutex_);
  if (generation != nullptr) *generation = generation_.load();
  if (mosq_ == nullptr || !connected_) return std::nullopt;
  int mid = 0;
  const std::string t(topic);
  const int rc = mosquitto_publish(mosq_, &mid, t.c_str(), static_cast<int>(payload.size()), payload.data(), qos, retain);
  if (rc != MOSQ_ERR_SUCCESS) return std::nullopt;
  return mid;
}

std::string MqttClient::reload_tls() {
  if (std::none_of(brokers_.begin(), brokers_.end(), [](const BrokerAddress& b) { return b.tls; })) return {};
  try {
    make_tls_context(options_.tls);  // what libmosquitto will load at the next connect, checked first
  } catch (const std::invalid_argument& e) {
    log_line("mqtt: TLS reload refused, the connection stays: %s%s\n", e.what(), "");
    return e.what();
  }
  reconnect_requested_ = true;
  return {};
}

bool MqttClient::sleep_interruptible(std::chrono::milliseconds d) {
  const auto until = std::chrono::steady_clock::now() + d;
  while (running_ && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(d, std::chrono::milliseconds(50)));
  return running_;
}

void MqttClient::destroy_session() {
  std::lock_guard lock(mutex_);
  if (mosq_ != nullptr) {
    mosquitto_destroy(mosq_);
    mosq_ = nullptr;
  }
  connected_ = false;
}

bool MqttClient::connect_once(const BrokerAddress& broker) {
  // A fresh libmosquitto object per attempt: messages in flight on a lost connection are not
  // resent by the library; the caller owns redelivery (the edge resends from its durable queue).
  mosquitto* m = mosquitto_new(options_.client_id.c_str(), options_.clean_session, this);
  if (m == nullptr) return false;
  mosquitto_threaded_set(m, true);
  mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
  mosquitto_max_inflight_messages_set(m, static_cast<unsigned>(options_.max_inflight));
  if (!options_.username.empty())
    mosquitto_username_pw_set(m, options_.username.c_str(), options_.password.empty() ? nullptr : options_.password.c_str());
  if (broker.tls) {
    const auto& t = options_.tls;
    const int rc = mosquitto_tls_set(m, t.ca_file.empty() ? nullptr : t.ca_file.c_str(), nullptr,
                                     t.cert_file.empty() ? nullptr : t.cert_file.c_str(),
                                     t.key_file.empty() ? nullptr : t.key_file.c_str(), nullptr);
    if (rc != MOSQ_ERR_SUCCESS) {
      log_line("mqtt: TLS setup for %s failed: %s\n", broker.url(), mosquitto_strerror(rc));
      mosquitto_destroy(m);
      return false;
    }
    if (t.insecure) mosquitto_tls_insecure_set(m, true);
  }
  if (!options_.will_topic.empty()) {
    const std::string will = options_.make_will_payload ? options_.make_will_payload() : options_.will_payload;
    mosquitto_will_set(m, options_.will_topic.c_str(), static_cast<int>(will.size()), will.data(), 1, options_.will_retain);
  }
  mosquitto_connect_callback_set(m, [](mosquitto*, void* self, int rc) {
    static_cast<MqttClient*>(self)->connack_ = rc;
  });
  mosquitto_disconnect_callback_set(m, [](mosquitto*, void* self, int) {
    static_cast<MqttClient*>(self)->lost_ = true;
  });
  mosquitto_publish_callback_set(m, [](mosquitto*, void* self, int mid) {
    auto* c = static_cast<MqttClient*>(self);
    if (c->handlers_.on_published) c->handlers_.on_published(mid, c->generation_.load());
  });
  mosquitto_message_callback_set(m, [](mosquitto*, void* self, const mosquitto_message* msg) {
    auto* c = static_cast<MqttClient*>(self);
    if (c->handlers_.on_message && msg->topic != nullptr)
      c->handlers_.on_message(msg->topic, std::string_view(static_cast<const char*>(msg->payload),
                                                           static_cast<std::size_t>(msg->payloadlen)));
  });
  connack_ = -1;
  lost_ = false;
  int rc = mosquitto_connect(m, broker.host.c_str(), broker.port, options_.keepalive_s);
  if (rc != MOSQ_ERR_SUCCESS) {
    mosquitto_destroy(m);
    return false;
  }
  const auto deadline = std::chrono::steady_clock::now() + options_.connect_timeout;
  while (running_ && connack_ < 0 && !lost_ && std::chrono::steady_clock::now() < deadline) {
    rc = mosquitto_loop(m, 50, 1);
    if (rc != MOSQ_ERR_SUCCESS) break;
  }
  if (connack_ != 0) {
    if (connack_ > 0)
      log_line("mqtt: %s refused the connection: %s\n", broker.url(), mosquitto_connack_string(connack_));
    mosquitto_destroy(m);
    return false;
  }
  for (const auto& topic : options_.subscriptions) mosquitto_subscribe(m, nullptr, topic.c_str(), 1);
  {
    std::lock_guard lock(mutex_);
    mosq_ = m;
    current_broker_ = broker.url();
    ++generation_;  // before anyone can publish on this connection
    connected_ = true;
  }
  return true;
}

void MqttClient::run() {
  ReconnectBackoff backoff(options_.reconnect_min, options_.reconnect_max);
  std::size_t index = 0;  // the broker to try first
  bool ever_connected = false;
  while (running_) {
    bool up = false;
    for (std::size_t k = 0; k < brokers_.size() && running_; ++k) {
      const auto& b = brokers_[(index + k) % brokers_.size()];
      if (connect_once(b)) {
        index = (index + k) % brokers_.size();
        up = true;
        break;
      }
    }
    if (!up) {
      if (!running_) break;
      const auto wait = backoff.next();
      log_line("mqtt: no broker reachable (%s…); retrying in %s ms\n", brokers_.front().url(), std::to_string(wait.count()));
      sleep_interruptible(wait);
      continue;
    }
    backoff.reset();
    if (ever_connected) ++reconnects_;
    ever_connected = true;
    const std::string url = current_broker();
    log_line("mqtt: connected to %s as %s\n", url, options_.client_id);
    if (handlers_.on_connection) handlers_.on_connection(true, url);
    while (running_ && !lost_ && !reconnect_requested_) {
      const int rc = mosquitto_loop(mosq_, 50, 1);
      if (rc != MOSQ_ERR_SUCCESS) break;
    }
    if (!running_ || reconnect_requested_.exchange(false)) {
      mosquitto_disconnect(mosq_);
      mosquitto_loop(mosq_, 50, 1);
      destroy_session();
      if (handlers_.on_connection) handlers_.on_connection(false, url);
      if (!running_) break;
      log_line("mqtt: reconnecting to %s%s\n", url, "");
      continue;
    }
    log_line("mqtt: connection to %s lost%s\n", url, "");
    destroy_session();
    if (handlers_.on_connection) handlers_.on_connection(false, url);
  }
}

}  // namespace oee::transport
