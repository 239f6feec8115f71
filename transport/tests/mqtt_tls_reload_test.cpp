// Renewed MQTT client certificates without a restart, against a real Mosquitto whose TLS listener
// requires a client certificate and names each client by it (use_identity_as_username): after the
// files are replaced and reload_tls() is called, the broker sees the new identity, the messages
// keep flowing and none is lost; files that do not load are refused and the connection stays.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "mosquitto_process.h"
#include "oee/transport/mqtt_subscriber.h"

using namespace std::chrono_literals;

namespace oee::transport {
namespace {

namespace fs = std::filesystem;
using testing::eventually;

class MqttTlsReload : public ::testing::Test {
 protected:
  void SetUp() override {
    certs_ = testing::make_test_certificates(dir_.path);
    tls_port_ = testing::free_loopback_port();
    broker_ = std::make_unique<testing::MosquittoProcess>(testing::tls_listener_config(tls_port_, certs_, true) +
                                                          "use_identity_as_username true\n");
    broker_->start();
    ASSERT_TRUE(testing::wait_for_port(tls_port_, 5000));
    // The files the client is told about: the test's first client certificate, renewed below.
    cert_ = dir_.path + "/in-use.pem";
    key_ = dir_.path + "/in-use.key";
    fs::copy_file(certs_.client_cert_file, cert_);
    fs::copy_file(certs_.client_key_file, key_);
  }

  void renew_certificate(const std::string& cn) { testing::renew_client_certificate(dir_.path, cn, cert_, key_); }
  MqttOptions tls_options(const std::string& client_id) const {
    MqttOptions o;
    o.brokers = {"mqtts://localhost:" + std::to_string(tls_port_)};
    o.client_id = client_id;
    o.reconnect_min = 100ms;
    o.reconnect_max = 500ms;
    o.tls = {certs_.ca_file, cert_, key_, false};
    return o;
  }
  // The broker names each connection's user: the certificate's common name.
  bool broker_saw(const std::string& client_id, const std::string& cn) const {
    return testing::clients_connected_as(*broker_, cn).count(client_id) == 1;
  }

  testing::TempDir dir_;
  testing::TestCertificates certs_;
  int tls_port_ = 0;
  std::unique_ptr<testing::MosquittoProcess> broker_;
  std::string cert_, key_;
};

// What a subscriber on the broker's plain listener received.
struct Received {
  std::mutex m;
  std::set<std::string> payloads;
  std::unique_ptr<AckingSubscriber> sub;
  Received(const MqttOptions& o) {
    sub = std::make_unique<AckingSubscriber>(o, [this](std::span<const ReceivedMessage> batch) {
      std::lock_guard l(m);
      for (const auto& msg : batch) payloads.emplace(msg.payload);
    });
    sub->start();
  }
  std::size_t count() {
    std::lock_guard l(m);
    return payloads.size();
  }
};

MqttOptions plain_options(const std::string& url, const std::string& client_id) {
  MqttOptions o;
  o.brokers = {url};
  o.client_id = client_id;
  o.subscriptions = {"oee/v1/#"};
  o.reconnect_min = 100ms;
  o.reconnect_max = 500ms;
  return o;
}

TEST_F(MqttTlsReload, ThePublisherReconnectsWithTheRenewedCertificate) {
  Received inbox(plain_options(broker_->url(), "plain-sub"));
  ASSERT_TRUE(eventually([&] { return inbox.sub->connected(); }, 5s));
  std::atomic<int> acked{0};
  MqttHandlers h;
  h.on_published = [&](int, std::uint64_t) { ++acked; };
  MqttClient pub(tls_options("edge-pub"), h);
  pub.start();
  ASSERT_TRUE(eventually([&] { return pub.connected(); }, 5s));
  EXPECT_TRUE(broker_saw("edge-pub", "oee-test-client"));
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(pub.publish("oee/v1/s/a/l/m/events", "before-" + std::to_string(i)));
  ASSERT_TRUE(eventually([&] { return acked == 50; }, 5s));

  const std::uint64_t first = pub.generation();
  renew_certificate("oee-client-renewed");
  EXPECT_EQ(pub.reload_tls(), "");
  ASSERT_TRUE(eventually([&] { return pub.connected() && pub.generation() > first; }, 10s));
  EXPECT_TRUE(broker_saw("edge-pub", "oee-client-renewed"));
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(pub.publish("oee/v1/s/a/l/m/events", "after-" + std::to_string(i)));
  ASSERT_TRUE(eventually([&] { return acked == 100; }, 5s));
  EXPECT_TRUE(eventually([&] { return inbox.count() == 100; }, 5s)) << inbox.count();

  // A key that is not the certificate's: refused, and the connection stays as it is.
  fs::copy_file(certs_.client_key_file, key_, fs::copy_options::overwrite_existing);
  const std::string error = pub.reload_tls();
  EXPECT_NE(error.find("key file"), std::string::npos) << error;
  EXPECT_TRUE(pub.connected());
  EXPECT_EQ(pub.generation(), first + 1);
  pub.stop();
}

TEST_F(MqttTlsReload, TheIngestSubscriberReconnectsWithTheRenewedCertificateAndLosesNothing) {
  MqttOptions o = tls_options("ingest");
  o.subscriptions = {"oee/v1/#"};
  Received ingest(o);
  ASSERT_TRUE(eventually([&] { return ingest.sub->connected(); }, 5s));
  EXPECT_TRUE(broker_saw("ingest", "oee-test-client"));
  MqttClient pub(plain_options(broker_->url(), "plain-pub"), {});
  pub.start();
  ASSERT_TRUE(eventually([&] { return pub.connected(); }, 5s));
  // Messages keep coming before, during and after the reconnect: the persistent session keeps them.
  std::atomic<bool> renewed{false};
  std::atomic<std::size_t> sent{0};
  std::thread sender([&] {
    for (int after = 0; after < 100; ++sent) {
      while (!pub.publish("oee/v1/s/a/l/m/events", std::to_string(sent.load()))) std::this_thread::sleep_for(1ms);
      if (renewed) ++after;
      if (sent % 20 == 0) std::this_thread::sleep_for(5ms);  // paces the sender over the reconnect
    }
  });
  EXPECT_TRUE(eventually([&] { return ingest.count() >= 50; }, 10s));  // (an ASSERT would leave the sender running)
  renew_certificate("oee-ingest-renewed");
  EXPECT_EQ(ingest.sub->reload_tls(), "");
  EXPECT_TRUE(eventually([&] { return broker_saw("ingest", "oee-ingest-renewed") && ingest.sub->connected(); }, 10s));
  renewed = true;
  sender.join();
  EXPECT_TRUE(eventually([&] { return ingest.count() == sent; }, 10s)) << ingest.count() << " of " << sent;

  std::ofstream(cert_) << "not a certificate\n";
  EXPECT_NE(ingest.sub->reload_tls().find("certificate file"), std::string::npos);
  EXPECT_TRUE(ingest.sub->connected());
}

}  // namespace
}  // namespace oee::transport
