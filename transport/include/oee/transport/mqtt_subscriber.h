#pragma once
// An MQTT 3.1.1 subscriber that acknowledges a QoS 1 message only after the handler returned, i.e.
// after the server committed it. libmosquitto sends PUBACK before its message callback runs, so a
// server killed inside the callback would lose a message the broker counts as delivered; with
// this client the broker still holds it (persistent session) and redelivers it on reconnect, and
// the store's src+seq dedup absorbs what was committed but not yet acknowledged.
//
// Plain TCP or TLS (mqtts://: OpenSSL, the broker's certificate checked against options.tls.ca_file
// and its host name unless options.tls.insecure; optional client certificate), user name and
// password, clean_session false with a stable client id, broker list failover and backoff as
// MqttClient. Every length read from the network is bounded.
//
// It counts as connected only once the broker granted every subscription (SUBACK). A refused one
// (return code 0x80, typically the broker's ACL) is an error: logged, counted
// (subscription_refusals), the connection dropped, and retried like a lost connection (next broker,
// then backoff up to reconnect_max), so fixing the ACL needs no restart and the subscriber never
// claims to be connected while it would receive nothing.
#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>

#include "oee/transport/mqtt_client.h"

struct ssl_ctx_st;

namespace oee::transport {

class Connection;  // mqtt_connection.h
class HandlerThread;

struct ReceivedMessage {
  std::string_view topic;
  std::string_view payload;    // at most max_payload_bytes
  std::size_t payload_bytes;   // as sent: more than payload.size() when the payload was cut
  bool duplicate = false;      // the broker's DUP flag: maybe seen before
};

class AckingSubscriber {
 public:
  // Runs on a thread of its own, one batch at a time, while the connection is kept alive.
  // Returns when the messages are handled (committed, or dead-lettered); then they are
  // acknowledged. Throwing means "not handled": the connection is dropped and the broker
  // redelivers. Messages already waiting on the socket are handed over together (at most
  // max_batch_messages / max_batch_bytes), so one commit covers many messages under load.
  using Handler = std::function<void(std::span<const ReceivedMessage> messages)>;

  // Throws std::invalid_argument on a bad broker URL or, with mqtts:// brokers, unusable TLS files.
  AckingSubscriber(MqttOptions options, Handler handler, std::size_t max_payload_bytes = 16u << 20,
                   std::size_t max_batch_messages = 256, std::size_t max_batch_bytes = 32u << 20);
  ~AckingSubscriber();
  AckingSubscriber(const AckingSubscriber&) = delete;
  AckingSubscriber& operator=(const AckingSubscriber&) = delete;

  void start();
  void stop();
  bool connected() const { return connected_.load(); }
  std::uint64_t messages() const { return messages_.load(); }
  // SUBACKs that refused a subscription, since construction.
  std::uint64_t subscription_refusals() const { return subscription_refusals_.load(); }
  // Connections ended because no message came for options.silence_reconnect, since construction.
  std::uint64_t silence_reconnects() const { return silence_reconnects_.load(); }
  // Called (on the subscriber's thread) at each of those; set before start().
  void on_silence_reconnect(std::function<void()> hook) { on_silence_reconnect_ = std::move(hook); }
  // Sessions reset: after kSilentConnectionsBeforeReset connections in a row ended silent without
  // a message, the next one first connects with a clean session (the broker drops the old session
  // and its stuck consumers), then subscribes in a new persistent one. Once per such run.
  static constexpr int kSilentConnectionsBeforeReset = 2;
  std::uint64_t session_resets() const { return session_resets_.load(); }
  // Called (on the subscriber's thread) at each reset; set before start().
  void on_session_reset(std::function<void()> hook) { on_session_reset_ = std::move(hook); }
  // Renewed TLS files without a restart: loads them into a new context (the key checked against
  // the certificate), then ends the connection cleanly; the next one uses the new context. The
  // persistent session keeps what the broker holds for us, and messages not yet acknowledged come
  // again. Files that do not load leave the context and connection alone. "" or the error; ""
  // without an mqtts:// broker.
  std::string reload_tls();

 private:
  class Session;  // one connection's protocol steps (mqtt_subscriber.cpp)
  void run();
  // A TCP (and TLS) connection to the broker, or null.
  std::unique_ptr<Connection> open(const BrokerAddress& broker);
  // One connection, until lost, refused or stopped; true when it got as far as connected.
  bool session(const BrokerAddress& broker);

  MqttOptions options_;
  Handler handler_;
  std::size_t max_payload_bytes_;
  std::size_t max_batch_messages_;
  std::size_t max_batch_bytes_;
  std::vector<BrokerAddress> brokers_;
  mutable std::mutex tls_mutex_;             // guards tls_context_ against reload_tls()
  std::shared_ptr<ssl_ctx_st> tls_context_;  // with mqtts:// brokers
  std::atomic<bool> reconnect_requested_{false};
  std::atomic<bool> running_{false};
  std::atomic<bool> connected_{false};
  std::atomic<std::uint64_t> messages_{0};
  std::atomic<std::uint64_t> subscription_refusals_{0};
  std::atomic<std::uint64_t> silence_reconnects_{0};
  std::function<void()> on_silence_reconnect_;
  int silent_in_a_row_ = 0;     // the subscriber's thread only
  bool reset_pending_ = false;  // the subscriber's thread only
  std::atomic<std::uint64_t> session_resets_{0};
  std::function<void()> on_session_reset_;
  std::unique_ptr<HandlerThread> handler_thread_;  // runs handler_ while thread_ keeps the connection alive
  std::thread thread_;
};

}  // namespace oee::transport
