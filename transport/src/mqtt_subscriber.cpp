#include "oee/transport/mqtt_subscriber.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <vector>

#include "handler_thread.h"
#include "mqtt_connection.h"
#include "mqtt_packets.h"
#include "reconnect_backoff.h"

namespace oee::transport {

// One connection to one broker, step by step as the protocol goes: CONNECT and CONNACK, SUBSCRIBE
// and SUBACK, then PUBLISH packets read, handed over in batches and acknowledged with PUBACK.
// The subscriber counts as connected only once the broker granted every subscription (SUBACK).
class AckingSubscriber::Session {
 public:
  Session(AckingSubscriber& subscriber, const BrokerAddress& broker, Connection& connection)
      : sub_(subscriber),
        broker_(broker),
        c_(connection),
        timeout_ms_(static_cast<int>(subscriber.options_.connect_timeout.count())) {}
  // True when the session got as far as connected (the broker was worth staying with).
  bool run();
  // CONNECT with a clean session, then DISCONNECT: the broker deletes the client id's session and
  // what belongs to it (NATS: its JetStream consumers). True when the broker accepted it.
  bool reset();

 private:
  // A message read while more were already waiting; handled, then acknowledged with the batch.
  struct Pending {
    std::string topic, payload;
    std::size_t payload_bytes = 0;
    std::size_t packet_id = 0;
    int qos = 0;
    bool dup = false;
  };

  bool send_connect() { return c_.send_all(packets::connect(sub_.options_)); }
  bool handle_connack();
  bool send_subscribe();
  bool read_loop();
  bool keep_alive();
  bool silent_too_long(Clock::time_point now);
  bool read_packet();
  bool handle_control_packet(std::uint8_t type, std::size_t remaining);
  bool handle_suback(const std::string& body);
  bool handle_publish(std::uint8_t first, std::size_t remaining);
  bool deliver_batch();
  std::string handle_keeping_alive(std::span<const ReceivedMessage> messages, bool& link_ok);
  bool send_puback(std::size_t packet_id) { return c_.send_all(packets::puback(packet_id)); }
  void set_connected();
  void count_silence();

  static constexpr std::size_t kSubscribeId = 1;  // one SUBSCRIBE per connection
  AckingSubscriber& sub_;
  const BrokerAddress& broker_;
  Connection& c_;
  const int timeout_ms_;
  bool was_connected_ = false;
  Clock::time_point subscribe_sent_;
  Clock::time_point last_publish_;  // or when the session became connected
  // Since when we read the socket again after the handler's last batch: the broker's silence counts
  // only while we listen (PINGRESPs and messages wait unread while the handler runs).
  Clock::time_point listening_since_ = Clock::now();
  bool silenced_ = false;           // ended by silent_too_long
  bool received_ = false;           // any PUBLISH but retained ones on this connection
  std::vector<Pending> batch_;
  std::size_t batch_bytes_ = 0;
};

bool AckingSubscriber::Session::run() {
  if (!send_connect() || !handle_connack()) return false;
  if (sub_.options_.subscriptions.empty()) set_connected();
  else if (!send_subscribe()) return false;
  read_loop();
  if (!sub_.running_ || sub_.reconnect_requested_) c_.send_all(packets::disconnect());
  sub_.connected_ = false;
  count_silence();
  if (sub_.running_ && was_connected_ && !silenced_)
    std::fprintf(stderr, sub_.reconnect_requested_ ? "mqtt subscriber: reconnecting to %s with the TLS files read again\n"
                                                   : "mqtt subscriber: connection to %s lost\n", broker_.url().c_str());
  return was_connected_;
}

bool AckingSubscriber::Session::reset() {
  MqttOptions clean = sub_.options_;
  clean.clean_session = true;
  if (!c_.send_all(packets::connect(clean)) || !handle_connack()) return false;
  c_.send_all(packets::disconnect());
  std::fprintf(stderr, "mqtt subscriber: session of %s reset on %s (clean session) after %d silent connections in a row\n",
               sub_.options_.client_id.c_str(), broker_.url().c_str(), kSilentConnectionsBeforeReset);
  return true;
}

// Connections that ended silent without a single message, in a row: a subscription the broker
// keeps stalled across reconnects (docs/mqtt.md, "A stalled subscription"). At the second, the
// next connection first resets the session, once per such run: a quiet plant is not reset over
// and over.
void AckingSubscriber::Session::count_silence() {
  if (received_) sub_.silent_in_a_row_ = 0;
  else if (silenced_ && ++sub_.silent_in_a_row_ == kSilentConnectionsBeforeReset) sub_.reset_pending_ = true;
}

bool AckingSubscriber::Session::handle_connack() {
  std::uint8_t first = 0;
  std::size_t remaining = 0;
  std::string data;
  if (!c_.read_header(first, remaining, timeout_ms_) || (first >> 4) != packets::kConnack || remaining != 2 ||
      !c_.read_exact(2, data, timeout_ms_))
    return false;
  if (data[1] != 0) {
    std::fprintf(stderr, "mqtt subscriber: %s refused the connection (code %d)\n", broker_.url().c_str(), data[1]);
    return false;
  }
  return true;
}

bool AckingSubscriber::Session::send_subscribe() {
  subscribe_sent_ = Clock::now();
  return c_.send_all(packets::subscribe(kSubscribeId, sub_.options_.subscriptions));
}

void AckingSubscriber::Session::set_connected() {
  was_connected_ = true;
  sub_.connected_ = true;
  last_publish_ = Clock::now();
  std::fprintf(stderr, "mqtt subscriber: connected to %s as %s\n", broker_.url().c_str(), sub_.options_.client_id.c_str());
}

// Until the connection is lost, the subscriber stops, or a subscription is refused.
bool AckingSubscriber::Session::read_loop() {
  while (sub_.running_ && !sub_.reconnect_requested_) {
    // Something buffered or waiting right now: keep collecting; otherwise hand over what we have.
    const bool more_now = c_.wait_readable(0) == 1;
    if (!more_now || batch_.size() >= sub_.max_batch_messages_ || batch_bytes_ >= sub_.max_batch_bytes_) {
      if (!deliver_batch()) return false;
    }
    const int r = more_now ? 1 : c_.wait_readable(100);
    if (r < 0 || !keep_alive()) return false;
    if (r > 0 && !read_packet()) return false;
  }
  return true;
}

// PINGREQ when we were quiet for half the keepalive; false when the broker went silent, or never
// answered the SUBSCRIBE.
bool AckingSubscriber::Session::keep_alive() {
  const auto now = Clock::now();
  const auto keepalive = std::chrono::seconds(sub_.options_.keepalive_s);
  if (now - c_.last_send() > keepalive / 2 && !c_.send_all(packets::pingreq())) return false;
  if (now - std::max(c_.last_receive(), listening_since_) > keepalive * 3 / 2) return false;
  if (silent_too_long(now)) return false;
  if (!was_connected_ && now - subscribe_sent_ > sub_.options_.connect_timeout) {
    std::fprintf(stderr, "mqtt subscriber: %s did not answer the subscription (no SUBACK)\n", broker_.url().c_str());
    return false;
  }
  return true;
}

// Connected, yet no PUBLISH for options.silence_reconnect: reconnect (a clean DISCONNECT, so the
// persistent session and what waits in it stay). Brokers that lost track of a subscription after a
// failover deliver again to the new connection; with edges sending heartbeats, silence is not normal.
bool AckingSubscriber::Session::silent_too_long(Clock::time_point now) {
  const auto limit = sub_.options_.silence_reconnect;
  if (limit.count() <= 0 || !was_connected_ || now - std::max(last_publish_, listening_since_) <= limit) return false;
  ++sub_.silence_reconnects_;
  std::fprintf(stderr, "mqtt subscriber: no message from %s for %lld s; reconnecting (silence_reconnect)\n",
               broker_.url().c_str(), static_cast<long long>(limit.count()));
  if (sub_.on_silence_reconnect_) sub_.on_silence_reconnect_();
  c_.send_all(packets::disconnect());
  silenced_ = true;
  return true;
}

bool AckingSubscriber::Session::read_packet() {
  std::uint8_t first = 0;
  std::size_t remaining = 0;
  if (!c_.read_header(first, remaining, timeout_ms_)) return false;
  const std::uint8_t type = first >> 4;
  if (type == packets::kPublish) return handle_publish(first, remaining);
  return handle_control_packet(type, remaining);
}

// SUBACK matters; PINGRESP and anything else small only show the broker is alive.
bool AckingSubscriber::Session::handle_control_packet(std::uint8_t type, std::size_t remaining) {
  if (remaining > packets::kMaxControlPacketBytes) return false;
  std::string body;
  if (!c_.read_exact(remaining, body, timeout_ms_)) return false;
  if (type == packets::kSuback) return handle_suback(body);
  return true;
}

// Every filter granted: connected. One refused (return code 0x80, e.g. the broker's ACL denies
// it): an error, counted; the session ends and the subscriber retries with backoff, so a fixed ACL
// is picked up without a restart while status and health show "not connected" meanwhile.
bool AckingSubscriber::Session::handle_suback(const std::string& body) {
  const auto& filters = sub_.options_.subscriptions;
  if (was_connected_ || body.size() != 2 + filters.size() || packets::u16_at(body, 0) != kSubscribeId) {
    std::fprintf(stderr, "mqtt subscriber: %s sent an unexpected SUBACK\n", broker_.url().c_str());
    return false;
  }
  std::string refused;
  for (std::size_t i = 0; i < filters.size(); ++i) {
    const auto code = static_cast<std::uint8_t>(body[2 + i]);
    if (code == packets::kSubscriptionRefused) refused += (refused.empty() ? "'" : ", '") + filters[i] + "'";
    else if (code == 0) std::fprintf(stderr, "mqtt subscriber: %s granted '%s' at QoS 0 only: its messages are not acknowledged after commit\n",
                                     broker_.url().c_str(), filters[i].c_str());
  }
  if (!refused.empty()) {
    ++sub_.subscription_refusals_;
    std::fprintf(stderr, "mqtt subscriber: %s refused the subscription to %s (not authorized?); retrying\n",
                 broker_.url().c_str(), refused.c_str());
    return false;
  }
  set_connected();
  return true;
}

// Reads one PUBLISH (the payload cut at max_payload_bytes) into the batch.
bool AckingSubscriber::Session::handle_publish(std::uint8_t first, std::size_t remaining) {
  Pending p;
  p.qos = (first >> 1) & 0x03;
  p.dup = (first & 0x08) != 0;
  if (p.qos > 1 || remaining < 2) return false;  // we subscribe at QoS 1: anything else is a protocol error
  std::string data;
  if (!c_.read_exact(2, data, timeout_ms_)) return false;
  const std::size_t topic_len = packets::u16_at(data, 0);
  const std::size_t header_len = 2 + topic_len + (p.qos > 0 ? 2 : 0);
  if (header_len > remaining || topic_len > packets::kMaxControlPacketBytes) return false;
  if (!c_.read_exact(topic_len, p.topic, timeout_ms_)) return false;
  if (p.qos > 0) {
    data.clear();
    if (!c_.read_exact(2, data, timeout_ms_)) return false;
    p.packet_id = packets::u16_at(data, 0);
  }
  p.payload_bytes = remaining - header_len;
  const std::size_t keep = std::min(p.payload_bytes, sub_.max_payload_bytes_);
  if (!c_.read_exact(keep, p.payload, timeout_ms_) || !c_.skip(p.payload_bytes - keep, timeout_ms_)) return false;
  batch_bytes_ += p.payload.size();
  batch_.push_back(std::move(p));
  last_publish_ = Clock::now();
  // A retained message comes with every new subscription, even one that is stalled (NATS hands
  // them out from another stream): only a forwarded one shows that delivery works.
  if ((first & 0x01) == 0) received_ = true;
  return true;
}

// Hands the batch to the handler, then acknowledges it: only now are its messages committed.
bool AckingSubscriber::Session::deliver_batch() {
  if (batch_.empty()) return true;
  std::vector<ReceivedMessage> view;
  view.reserve(batch_.size());
  for (const auto& p : batch_) view.push_back(ReceivedMessage{p.topic, p.payload, p.payload_bytes, p.dup});
  bool link_ok = true;
  if (const std::string error = handle_keeping_alive(view, link_ok); !error.empty()) {
    std::fprintf(stderr, "mqtt subscriber: %zu message(s) not handled (%s); reconnecting for redelivery\n", batch_.size(),
                 error.c_str());
    return false;
  }
  if (!link_ok) return false;  // handled, but the broker redelivers them: the store's dedup absorbs that
  sub_.messages_ += batch_.size();
  for (const auto& p : batch_)
    if (p.qos == 1 && !send_puback(p.packet_id)) return false;
  batch_.clear();
  batch_bytes_ = 0;
  return true;
}

// Runs the handler on its own thread and meanwhile sends PINGREQ every half keepalive, so a slow
// commit (a database lock held elsewhere, a failover) is not taken for a dead client by the broker,
// which drops one silent for 1.5 keepalives, and with a clean session ($share) forgets what it had
// sent it. Returns only once the handler returned (it reads the batch): what it threw, or "".
std::string AckingSubscriber::Session::handle_keeping_alive(std::span<const ReceivedMessage> messages, bool& link_ok) {
  HandlerThread& worker = *sub_.handler_thread_;
  worker.post([&] { sub_.handler_(messages); });
  const auto half_keepalive = std::chrono::seconds(sub_.options_.keepalive_s) / 2;
  while (true) {
    if (auto error = worker.wait(std::chrono::milliseconds(100))) {
      listening_since_ = Clock::now();
      return *error;
    }
    if (link_ok && Clock::now() - c_.last_send() > half_keepalive) link_ok = c_.send_all(packets::pingreq());
  }
}

AckingSubscriber::AckingSubscriber(MqttOptions options, Handler handler, std::size_t max_payload_bytes,
                                   std::size_t max_batch_messages, std::size_t max_batch_bytes)
    : options_(std::move(options)),
      handler_(std::move(handler)),
      max_payload_bytes_(max_payload_bytes),
      max_batch_messages_(std::max<std::size_t>(1, max_batch_messages)),
      max_batch_bytes_(max_batch_bytes) {
  if (options_.brokers.empty()) throw std::invalid_argument("mqtt: no broker given");
  if (options_.client_id.empty() || options_.client_id.size() > 65535) throw std::invalid_argument("mqtt: a stable client id is required");
  for (const auto& url : options_.brokers) {
    std::string error;
    auto b = parse_broker_url(url, error);
    if (!b) throw std::invalid_argument("mqtt: broker '" + url + "': " + error);
    if (b->tls && !tls_context_) tls_context_ = make_tls_context(options_.tls);
    brokers_.push_back(*b);
  }
}

AckingSubscriber::~AckingSubscriber() { stop(); }

void AckingSubscriber::start() {
  if (running_.exchange(true)) return;
  handler_thread_ = std::make_unique<HandlerThread>();
  thread_ = std::thread([this] { run(); });
}

void AckingSubscriber::stop() {
  if (!running_.exchange(false)) return;
  if (thread_.joinable()) thread_.join();
  handler_thread_.reset();
}

void AckingSubscriber::run() {
  ReconnectBackoff backoff(options_.reconnect_min, options_.reconnect_max);
  std::size_t index = 0;
  while (running_) {
    bool any = false;
    for (std::size_t k = 0; k < brokers_.size() && running_; ++k) {
      const std::size_t i = (index + k) % brokers_.size();
      const std::uint64_t silences = silence_reconnects_.load();
      if (session(brokers_[i])) {  // it was up for a while: start the next round with this broker
        // unless it went silent: a cluster node can keep a stalled subscription across reconnects
        // (docs/mqtt.md, "A stalled subscription"), so the session is taken up through another node.
        index = silence_reconnects_.load() > silences ? (i + 1) % brokers_.size() : i;
        any = true;
        backoff.reset();
        break;
      }
    }
    if (!any && running_) {
      const auto wait = backoff.next();
      std::fprintf(stderr, "mqtt subscriber: no broker took the connection; retrying in %lld ms\n", static_cast<long long>(wait.count()));
      const auto until = Clock::now() + wait;
      while (running_ && Clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
}

std::string AckingSubscriber::reload_tls() {
  if (std::none_of(brokers_.begin(), brokers_.end(), [](const BrokerAddress& b) { return b.tls; })) return {};
  std::shared_ptr<ssl_ctx_st> loaded;
  try {
    loaded = make_tls_context(options_.tls);
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "mqtt subscriber: TLS reload refused, the connection stays: %s\n", e.what());
    return e.what();
  }
  {
    std::lock_guard lock(tls_mutex_);
    tls_context_ = std::move(loaded);
  }
  reconnect_requested_ = true;
  return {};
}

std::unique_ptr<Connection> AckingSubscriber::open(const BrokerAddress& broker) {
  std::shared_ptr<ssl_ctx_st> tls_context;
  {
    std::lock_guard lock(tls_mutex_);
    tls_context = tls_context_;
  }
  const int fd = connect_tcp(broker, static_cast<int>(options_.connect_timeout.count()));
  if (fd < 0) return nullptr;
  auto c = std::make_unique<Connection>(fd);
  if (broker.tls) {
    if (const std::string why = c->start_tls(tls_context.get(), broker.host, !options_.tls.insecure); !why.empty()) {
      std::fprintf(stderr, "mqtt subscriber: %s: %s\n", broker.url().c_str(), why.c_str());
      return nullptr;
    }
  }
  return c;
}

bool AckingSubscriber::session(const BrokerAddress& broker) {
  reconnect_requested_ = false;  // this connection takes the newest context
  if (reset_pending_) {
    // What waited in the old session is gone with it: publishers that resend until the server's
    // commit reports cover it (oee edge) send it again.
    const auto c = open(broker);
    if (!c || !Session(*this, broker, *c).reset()) return false;
    reset_pending_ = false;
    ++session_resets_;
    if (on_session_reset_) on_session_reset_();
  }
  const auto c = open(broker);
  return c && Session(*this, broker, *c).run();
}

}  // namespace oee::transport
