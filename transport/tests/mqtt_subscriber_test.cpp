#include "oee/transport/mqtt_subscriber.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "mosquitto_process.h"

using namespace std::chrono_literals;
using oee::testing::eventually;
using oee::testing::MosquittoProcess;
using oee::transport::AckingSubscriber;
using oee::transport::MqttClient;
using oee::transport::MqttOptions;
using oee::transport::ReceivedMessage;

namespace {

MqttOptions subscriber_options(const std::string& url, const std::string& id) {
  MqttOptions o;
  o.brokers = {url};
  o.client_id = id;
  o.subscriptions = {"oee/v1/#"};
  o.reconnect_min = 100ms;
  o.reconnect_max = 500ms;
  return o;
}

// `acked` (optional) counts the broker's PUBACKs: the message is then in the broker's hands.
std::unique_ptr<MqttClient> publisher(const std::string& url, std::atomic<int>* acked = nullptr) {
  MqttOptions o;
  o.brokers = {url};
  o.client_id = "sub-test-pub";
  oee::transport::MqttHandlers h;
  if (acked != nullptr) h.on_published = [acked](int, std::uint64_t) { ++*acked; };
  auto c = std::make_unique<MqttClient>(o, h);
  c->start();
  return c;
}

}  // namespace

TEST(AckingSubscriber, ReceivesAndAFailedHandlerGetsTheMessageAgain) {
  MosquittoProcess broker;
  broker.start();
  std::mutex m;
  std::vector<std::string> seen;
  std::set<std::string> failed_once;
  std::size_t duplicates_flagged = 0;
  AckingSubscriber sub(subscriber_options(broker.url(), "acking-sub"), [&](std::span<const ReceivedMessage> batch) {
    std::lock_guard l(m);
    for (const auto& msg : batch)  // a failed batch is not acknowledged: all of it comes again
      if (msg.payload == "7" && failed_once.insert("7").second) throw std::runtime_error("storage unavailable");
    for (const auto& msg : batch) {
      duplicates_flagged += msg.duplicate;
      seen.emplace_back(msg.payload);
    }
  });
  sub.start();
  ASSERT_TRUE(eventually([&] { return sub.connected(); }, 5s));  // subscribed: see mosquitto_process.h
  auto pub = publisher(broker.url());
  ASSERT_TRUE(eventually([&] { return pub->connected(); }, 5s));
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(pub->publish("oee/v1/s/a/l/m/events", std::to_string(i)));
  // Message 7 was not acknowledged: the broker redelivers it on the next connection.
  ASSERT_TRUE(eventually([&] { std::lock_guard l(m); return std::set<std::string>(seen.begin(), seen.end()).size() == 20; }, 10s));
  std::lock_guard l(m);
  EXPECT_EQ(std::count(seen.begin(), seen.end(), "7"), 1);
  EXPECT_EQ(seen.size(), 20u);  // nothing twice: the failed batch was never taken
  EXPECT_GE(duplicates_flagged, 1u);
}

TEST(AckingSubscriber, MessagesWaitInThePersistentSessionWhileAway) {
  MosquittoProcess broker;
  broker.start();
  std::mutex m;
  std::vector<std::string> seen;
  auto handler = [&](std::span<const ReceivedMessage> batch) {
    std::lock_guard l(m);
    for (const auto& msg : batch) seen.emplace_back(msg.payload);
  };
  {
    AckingSubscriber first(subscriber_options(broker.url(), "away-sub"), handler);
    first.start();
    ASSERT_TRUE(eventually([&] { return first.connected(); }, 5s));  // SUBSCRIBE went before it leaves
  }
  std::atomic<int> acked{0};
  auto pub = publisher(broker.url(), &acked);
  ASSERT_TRUE(eventually([&] { return pub->connected(); }, 5s));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(pub->publish("oee/v1/s/a/l/m/events", std::to_string(i)));
  ASSERT_TRUE(eventually([&] { return acked == 5; }, 5s));  // all five wait in the absent session
  AckingSubscriber again(subscriber_options(broker.url(), "away-sub"), handler);
  again.start();
  ASSERT_TRUE(eventually([&] { std::lock_guard l(m); return seen.size() == 5; }, 5s));
}

TEST(AckingSubscriber, OversizedPayloadIsCutAndReportedNotFatal) {
  MosquittoProcess broker;
  broker.start();
  std::mutex m;
  std::vector<std::pair<std::size_t, std::size_t>> sizes;  // kept, sent
  AckingSubscriber sub(subscriber_options(broker.url(), "small-sub"),
                       [&](std::span<const ReceivedMessage> batch) {
                         std::lock_guard l(m);
                         for (const auto& msg : batch) sizes.emplace_back(msg.payload.size(), msg.payload_bytes);
                       },
                       100);
  sub.start();
  ASSERT_TRUE(eventually([&] { return sub.connected(); }, 5s));  // subscribed: see mosquitto_process.h
  auto pub = publisher(broker.url());
  ASSERT_TRUE(eventually([&] { return pub->connected(); }, 5s));
  ASSERT_TRUE(pub->publish("oee/v1/s/a/l/m/events", std::string(1 << 20, 'x')));
  ASSERT_TRUE(pub->publish("oee/v1/s/a/l/m/events", "small"));
  ASSERT_TRUE(eventually([&] { std::lock_guard l(m); return sizes.size() == 2; }, 5s));
  EXPECT_EQ(sizes[0], std::make_pair(std::size_t{100}, std::size_t{1} << 20));
  EXPECT_EQ(sizes[1], std::make_pair(std::size_t{5}, std::size_t{5}));
}

namespace {

// A TLS subscriber: does it get the messages a TLS publisher (libmosquitto, as the edge) sends?
struct TlsProbe {
  std::mutex m;
  std::set<std::string> seen;
  std::unique_ptr<AckingSubscriber> sub;
  TlsProbe(const std::string& url, const std::string& id, const oee::transport::MqttTlsOptions& tls) {
    MqttOptions o = subscriber_options(url, id);
    o.tls = tls;
    sub = std::make_unique<AckingSubscriber>(o, [this](std::span<const ReceivedMessage> batch) {
      std::lock_guard l(m);
      for (const auto& msg : batch) seen.emplace(msg.payload);
    });
    sub->start();
  }
  std::size_t count() {
    std::lock_guard l(m);
    return seen.size();
  }
};

}  // namespace

TEST(AckingSubscriber, TlsChecksTheBrokerCertificateAndItsHostName) {
  oee::testing::TempDir dir, other_dir;
  const auto certs = oee::testing::make_test_certificates(dir.path);
  const auto stranger = oee::testing::make_test_certificates(other_dir.path);  // another CA
  const int tls_port = oee::testing::free_loopback_port();
  MosquittoProcess broker(oee::testing::tls_listener_config(tls_port, certs, false));
  broker.start();
  ASSERT_TRUE(oee::testing::wait_for_port(tls_port, 5000));
  const std::string by_name = "mqtts://localhost:" + std::to_string(tls_port);
  const std::string by_ip = "mqtts://127.0.0.1:" + std::to_string(tls_port);  // not in the certificate

  TlsProbe good(by_name, "tls-good", {certs.ca_file, "", "", false});
  TlsProbe wrong_ca(by_name, "tls-wrong-ca", {stranger.ca_file, "", "", false});
  TlsProbe wrong_host(by_ip, "tls-wrong-host", {certs.ca_file, "", "", false});
  TlsProbe unchecked_host(by_ip, "tls-unchecked-host", {certs.ca_file, "", "", true});
  // Subscribed once connected: see mosquitto_process.h.
  ASSERT_TRUE(eventually([&] { return good.sub->connected() && unchecked_host.sub->connected(); }, 5s));

  MqttOptions po;
  po.brokers = {by_name};
  po.client_id = "tls-pub";
  po.tls.ca_file = certs.ca_file;
  MqttClient pub(po, {});
  pub.start();
  ASSERT_TRUE(eventually([&] { return pub.connected(); }, 5s));
  // Larger than a TLS record (16 KiB): a message spans records.
  const std::string big(100 * 1024, 'x');
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(pub.publish("oee/v1/s/a/l/m/events", std::to_string(i) + (i == 7 ? big : "")));
  ASSERT_TRUE(eventually([&] { return good.count() == 50 && unchecked_host.count() == 50; }, 10s))
      << good.count() << " " << unchecked_host.count();
  EXPECT_FALSE(wrong_ca.sub->connected());
  EXPECT_FALSE(wrong_host.sub->connected());
  EXPECT_EQ(wrong_ca.count(), 0u);
  EXPECT_EQ(wrong_host.count(), 0u);
}

TEST(AckingSubscriber, TlsClientCertificateWhenTheBrokerRequiresOne) {
  oee::testing::TempDir dir;
  const auto certs = oee::testing::make_test_certificates(dir.path);
  const int tls_port = oee::testing::free_loopback_port();
  MosquittoProcess broker(oee::testing::tls_listener_config(tls_port, certs, true));
  broker.start();
  ASSERT_TRUE(oee::testing::wait_for_port(tls_port, 5000));
  const std::string url = "mqtts://localhost:" + std::to_string(tls_port);
  TlsProbe with_cert(url, "tls-with-cert", {certs.ca_file, certs.client_cert_file, certs.client_key_file, false});
  TlsProbe without_cert(url, "tls-without-cert", {certs.ca_file, "", "", false});
  ASSERT_TRUE(eventually([&] { return with_cert.sub->connected(); }, 5s));  // subscribed: see mosquitto_process.h
  auto pub = publisher(broker.url());  // the plain listener
  ASSERT_TRUE(eventually([&] { return pub->connected(); }, 5s));
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(pub->publish("oee/v1/s/a/l/m/events", std::to_string(i)));
  ASSERT_TRUE(eventually([&] { return with_cert.count() == 10; }, 10s));
  EXPECT_FALSE(without_cert.sub->connected());
  EXPECT_EQ(without_cert.count(), 0u);
  // Unusable files are refused when the subscriber is made, not at the first connection.
  MqttOptions bad = subscriber_options(url, "tls-bad");
  bad.tls.ca_file = dir.path + "/server.ext";
  EXPECT_THROW(AckingSubscriber(bad, [](auto) {}), std::invalid_argument);
  bad.tls = {certs.ca_file, certs.client_cert_file, certs.ca_file, false};  // a key that is no key
  EXPECT_THROW(AckingSubscriber(bad, [](auto) {}), std::invalid_argument);
}

// silence_reconnect: a connected subscriber that receives nothing for that long reconnects (the
// cure for a broker that stopped delivering to a granted subscription), keeps its persistent
// session, and takes what was published meanwhile; steady traffic never triggers it.
TEST(AckingSubscriber, SilenceReconnectsKeepingTheSessionAndSteadyTrafficDoesNot) {
  MosquittoProcess broker;
  broker.start();
  std::mutex m;
  std::vector<std::string> seen;
  auto options = subscriber_options(broker.url(), "silent-sub");
  options.silence_reconnect = 1s;
  std::atomic<int> hooked{0};
  AckingSubscriber sub(options, [&](std::span<const ReceivedMessage> batch) {
    std::lock_guard l(m);
    for (const auto& msg : batch) seen.emplace_back(msg.payload);
  });
  sub.on_silence_reconnect([&] { ++hooked; });
  sub.start();
  ASSERT_TRUE(eventually([&] { return sub.silence_reconnects() >= 2; }, 10s));
  // Each reconnect calls the hook once. The count goes up just before its hook runs, and the
  // reconnects go on (a second of silence each), so the two agree between reconnects, not at every
  // instant: the first try read them apart under TSan.
  EXPECT_TRUE(eventually([&] { return hooked.load() == static_cast<int>(sub.silence_reconnects()); }, 5s))
      << hooked.load() << " hooks, " << sub.silence_reconnects() << " reconnects";

  std::atomic<int> acked{0};
  auto pub = publisher(broker.url(), &acked);
  ASSERT_TRUE(eventually([&] { return pub->connected(); }, 5s));
  // A message every 200 ms for 4 s: never a second of silence, so no reconnect; each message once.
  const auto before = sub.silence_reconnects();
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(pub->publish("oee/v1/s/a/l/m/events", std::to_string(i)));
    std::this_thread::sleep_for(200ms);  // the traffic's pace, not a wait for a state
  }
  ASSERT_TRUE(eventually([&] { std::lock_guard l(m); return seen.size() == 20; }, 5s));
  EXPECT_EQ(sub.silence_reconnects(), before);
  // Then silence again: reconnects resume, and what is published across them arrives once each.
  ASSERT_TRUE(eventually([&] { return sub.silence_reconnects() > before; }, 10s));
  for (int i = 20; i < 40; ++i) {
    ASSERT_TRUE(pub->publish("oee/v1/s/a/l/m/events", std::to_string(i)));
    if (i % 5 == 0) std::this_thread::sleep_for(700ms);  // straddle the next silent reconnects
  }
  ASSERT_TRUE(eventually([&] { return acked == 40; }, 10s));
  ASSERT_TRUE(eventually([&] { std::lock_guard l(m); return seen.size() >= 40; }, 10s));
  std::lock_guard l(m);
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 40u);
  EXPECT_EQ(seen.size(), 40u);
}

// A silenced subscriber takes up its session through the next broker of its list: a clustered
// broker's node can keep a stalled subscription across reconnects to it (docs/mqtt.md). Here the
// two Mosquittos are unrelated, so only a subscriber that moved to the second one gets what is
// published there.
TEST(AckingSubscriber, SilenceMovesTheSessionToTheNextBroker) {
  MosquittoProcess first, second;
  first.start();
  second.start();
  auto options = subscriber_options(first.url(), "silent-moving-sub");
  options.brokers.push_back(second.url());
  options.silence_reconnect = 1s;
  std::atomic<int> received{0};
  AckingSubscriber sub(options, [&](std::span<const ReceivedMessage> batch) { received += static_cast<int>(batch.size()); });
  sub.start();
  auto pub = publisher(second.url());
  ASSERT_TRUE(eventually([&] { return pub->connected(); }, 5s));
  // Published again at each poll: a message sent before the subscriber reached the second broker
  // has no subscription there to go to.
  ASSERT_TRUE(eventually([&] { return received > 0 || !pub->publish("oee/v1/s/a/l/m/events", "x"); }, 15s));
  EXPECT_GT(received.load(), 0);
  EXPECT_GE(sub.silence_reconnects(), 1u);
}

// Two connections in a row silent without a message: the next one first resets the session with a
// clean session, so the broker drops everything the old one held (on NATS its stuck JetStream
// consumers; docs/mqtt.md, "A stalled subscription"). Here the old session holds a subscription
// the subscriber no longer asks for ("old/#"): only a session that was really deleted stops
// delivering it. Then a new persistent session takes the subscriber's own, and a quiet broker is
// not reset again.
TEST(AckingSubscriber, TwoSilentConnectionsInARowResetTheSessionOnce) {
  MosquittoProcess broker;
  broker.start();
  auto old_options = subscriber_options(broker.url(), "resetting-sub");
  old_options.subscriptions = {"old/#"};
  {
    AckingSubscriber old_sub(old_options, [](std::span<const ReceivedMessage>) {});
    old_sub.start();
    ASSERT_TRUE(eventually([&] { return old_sub.connected(); }, 10s));
  }  // a clean DISCONNECT: the persistent session and its "old/#" stay with the broker
  // A retained message, which every new subscription gets: it does not count as delivery working.
  std::atomic<int> acked{0};
  auto pub = publisher(broker.url(), &acked);
  ASSERT_TRUE(eventually([&] { return pub->connected(); }, 5s));
  ASSERT_TRUE(pub->publish("oee/v1/_edge/e1/status", "{}", 1, true));
  ASSERT_TRUE(eventually([&] { return acked == 1; }, 5s));
  auto options = subscriber_options(broker.url(), "resetting-sub");
  options.silence_reconnect = 1s;
  std::mutex m;
  std::vector<std::string> topics;
  AckingSubscriber sub(options, [&](std::span<const ReceivedMessage> batch) {
    std::lock_guard l(m);
    for (const auto& msg : batch) topics.emplace_back(msg.topic);
  });
  std::atomic<int> hooked{0};
  sub.on_session_reset([&] { ++hooked; });
  sub.start();
  ASSERT_TRUE(eventually([&] { return sub.session_resets() == 1 && sub.connected(); }, 15s));
  EXPECT_GE(sub.silence_reconnects(), 2u);
  EXPECT_EQ(hooked.load(), 1);
  // Silent again, several times: no second reset until a connection receives something.
  const auto silences = sub.silence_reconnects();
  ASSERT_TRUE(eventually([&] { return sub.silence_reconnects() >= silences + 3; }, 15s));
  EXPECT_EQ(sub.session_resets(), 1u);
  ASSERT_TRUE(eventually([&] { return sub.connected(); }, 10s));

  // One publisher, QoS 1: the broker forwards in this order, so once the second arrived the first
  // would have too had the old session's subscription survived.
  ASSERT_TRUE(pub->publish("old/x", "stale"));
  ASSERT_TRUE(pub->publish("oee/v1/s/a/l/m/events", "fresh"));
  const auto has = [&](const std::string& topic) { std::lock_guard l(m); return std::count(topics.begin(), topics.end(), topic); };
  ASSERT_TRUE(eventually([&] { return has("oee/v1/s/a/l/m/events") == 1; }, 10s));
  EXPECT_EQ(has("old/x"), 0);
  EXPECT_GE(has("oee/v1/_edge/e1/status"), 3) << "the retained status came with each new subscription";
}

// A handler slower than 1.5 keepalives (a commit waiting on a database lock) does not cost the
// connection: the subscriber pings the broker meanwhile and does not count the broker's unread
// answers as silence. Dropped, the batch would come again (DUP) on the next connection.
TEST(AckingSubscriber, AHandlerSlowerThanTheKeepaliveKeepsTheConnection) {
  MosquittoProcess broker;
  broker.start();
  auto options = subscriber_options(broker.url(), "slow-handler-sub");
  options.keepalive_s = 2;  // the broker drops a client silent for 3 s
  std::mutex m;
  std::vector<std::string> seen;
  std::size_t duplicates_flagged = 0;
  std::atomic<bool> slow_once{true};
  AckingSubscriber sub(options, [&](std::span<const ReceivedMessage> batch) {
    if (slow_once.exchange(false)) std::this_thread::sleep_for(5s);  // the subject: a handler that long
    std::lock_guard l(m);
    for (const auto& msg : batch) {
      duplicates_flagged += msg.duplicate;
      seen.emplace_back(msg.payload);
    }
  });
  sub.start();
  ASSERT_TRUE(eventually([&] { return sub.connected(); }, 5s));
  auto pub = publisher(broker.url());
  ASSERT_TRUE(eventually([&] { return pub->connected(); }, 5s));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(pub->publish("oee/v1/s/a/l/m/events", std::to_string(i)));
  ASSERT_TRUE(eventually([&] { std::lock_guard l(m); return seen.size() >= 5; }, 15s));
  EXPECT_FALSE(slow_once.load());
  // Then a further message on the same connection: it arrives, and nothing came twice.
  ASSERT_TRUE(pub->publish("oee/v1/s/a/l/m/events", "5"));
  ASSERT_TRUE(eventually([&] { std::lock_guard l(m); return seen.size() >= 6; }, 10s));
  EXPECT_TRUE(sub.connected());
  std::lock_guard l(m);
  EXPECT_EQ(seen.size(), 6u);
  EXPECT_EQ(duplicates_flagged, 0u);
}
