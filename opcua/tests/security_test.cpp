// Message security against node-opcua servers that offer only secured endpoints: each policy in
// each mode (one server per policy), user names over each policy, endpoint choice (`best`), a
// tampered chunk, key renewal under a running subscription, and the errors when policies do not
// match. The client's certificate is made here with the openssl tool.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "oee/opcua/client.h"
#include "opcua_peer.h"
#include "subscription_recorder.h"
#include "tcp_cut_proxy.h"

namespace oee::opcua {
namespace {

using namespace std::chrono_literals;
using testing::OpcuaPeer;
using testing::PeerOptions;
using testing::Recorder;
using testing::TcpCutProxy;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A self-signed RSA-2048 certificate with the client's application URI in subjectAltName, made
// once per test program.
const ApplicationCredentials& client_credentials() {
  static const ApplicationCredentials credentials = [] {
    const std::string dir = std::filesystem::temp_directory_path() / ("oee-uacrypto-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const std::string command =
        "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=oee-test-client"
        " -addext subjectAltName=URI:urn:oee:opcua:client,DNS:localhost"
        " -addext keyUsage=digitalSignature,nonRepudiation,keyEncipherment,dataEncipherment"
        " -addext extendedKeyUsage=clientAuth,serverAuth -keyout " + dir + "/key.pem -out " + dir +
        "/cert.pem 2>/dev/null && openssl x509 -in " + dir + "/cert.pem -outform der -out " + dir + "/cert.der";
    if (std::system(command.c_str()) != 0) throw std::runtime_error("openssl could not make a test certificate");
    ApplicationCredentials c{read_file(dir + "/cert.der"), read_file(dir + "/key.pem")};
    std::filesystem::remove_all(dir);
    return c;
  }();
  return credentials;
}

ClientConfig secured_config(const std::string& url, const std::string& policy, std::optional<MessageSecurityMode> mode) {
  ClientConfig c;
  c.endpoint_url = url;
  c.security_policy = policy;
  c.security_mode = mode;
  c.credentials = client_credentials();
  c.reconnect = false;
  return c;
}

PeerOptions secured_peer(const std::string& policies) {
  PeerOptions o;
  o.counters = 1;
  o.rate_ms = 100;
  o.security_policies = policies;
  o.security_modes = "Sign,SignAndEncrypt";
  return o;
}

MonitoredItemRequest counter_item() {
  MonitoredItemRequest item;
  item.node_id = NodeId(1, "Counter.0");
  return item;
}

// Reads a string over the connection, and gets three consecutive counter values from a
// subscription: both directions of the secured channel work.
void exercise(Client& client) {
  const DataValue text = client.read_value(NodeId(1, "Scalar.String"));
  ASSERT_TRUE(text.status.is_good());
  ASSERT_FALSE(text.value.values.empty());
  EXPECT_EQ(std::get<std::string>(text.value.values.front()), "Linie 1 – Zustand");
  Recorder recorder;
  SubscriptionSettings settings;
  settings.publishing_interval_ms = 100;
  const uint32_t sub = client.create_subscription(settings, recorder.handler());
  const MonitoredItemRequest item = counter_item();
  ASSERT_TRUE(client.create_monitored_items(sub, std::span(&item, 1)).front().status.is_good());
  ASSERT_TRUE(recorder.wait_for(10s, [&] { return recorder.total >= 3; }));
  client.delete_subscription(sub);
  std::lock_guard lock(recorder.mutex);
  testing::expect_consecutive(recorder.values, 3);
}

// Everything the server sends through the proxy, to look at what travels in the clear.
struct WireCapture {
  std::mutex mutex;
  std::string bytes;
  TcpCutProxy::ServerBytesFilter filter() {
    return [this](char* data, size_t size) {
      std::lock_guard lock(mutex);
      bytes.append(data, size);
    };
  }
  bool contains(std::string_view s) {
    std::lock_guard lock(mutex);
    return bytes.find(s) != std::string::npos;
  }
};

// One server offering the three policies in both modes serves every case: starting node-opcua
// (and its certificate) costs far more than the cases themselves.
class OpcuaSecurityServer : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    peer_ = new OpcuaPeer(secured_peer("Basic256Sha256,Aes128_Sha256_RsaOaep,Aes256_Sha256_RsaPss"));
    peer_->start();
  }
  static void TearDownTestSuite() {
    delete peer_;
    peer_ = nullptr;
  }
  void check_policy(const std::string& name);
  static OpcuaPeer* peer_;
};
OpcuaPeer* OpcuaSecurityServer::peer_ = nullptr;

void OpcuaSecurityServer::check_policy(const std::string& name) {
  TcpCutProxy proxy(peer_->port());
  const std::string url = "opc.tcp://127.0.0.1:" + std::to_string(proxy.port());
  for (const auto mode : {MessageSecurityMode::sign, MessageSecurityMode::sign_and_encrypt}) {
    SCOPED_TRACE(std::string(name) + "/" + security_mode_name(mode));
    WireCapture capture;
    proxy.set_server_bytes_filter(capture.filter());
    Client client(secured_config(url, name, mode));
    client.connect();
    EXPECT_EQ(client.statistics().security_policy_uri, *security_policy_uri(name));
    EXPECT_EQ(client.statistics().security_mode, mode);
    exercise(client);
    // Sign leaves the string readable on the wire; SignAndEncrypt must not.
    EXPECT_EQ(capture.contains("Linie 1"), mode == MessageSecurityMode::sign);
    client.disconnect();
    proxy.set_server_bytes_filter({});
  }
  // A user name, its password encrypted with the policy's algorithm; a wrong one is refused.
  ClientConfig c = secured_config(url, name, MessageSecurityMode::sign_and_encrypt);
  c.user_name = "operator";
  c.password = "secret";
  Client user(c);
  user.connect();
  EXPECT_TRUE(user.read_value(NodeId(1, "Scalar.String")).status.is_good());
  user.disconnect();
  c.password = "wrong";
  Client intruder(c);
  EXPECT_THROW(intruder.connect(), Error);
}

TEST_F(OpcuaSecurityServer, Basic256Sha256InEachMode) { check_policy("Basic256Sha256"); }
TEST_F(OpcuaSecurityServer, Aes128Sha256RsaOaepInEachMode) { check_policy("Aes128_Sha256_RsaOaep"); }
TEST_F(OpcuaSecurityServer, Aes256Sha256RsaPssInEachMode) { check_policy("Aes256_Sha256_RsaPss"); }

TEST_F(OpcuaSecurityServer, BestPicksTheMostSecureEndpointOffered) {
  Client client(secured_config(peer_->url(), "best", std::nullopt));
  client.connect();
  // SignAndEncrypt before Sign, then Aes256_Sha256_RsaPss first of the policies (endpoint_selection.h).
  EXPECT_EQ(client.statistics().security_policy_uri, *security_policy_uri("Aes256_Sha256_RsaPss"));
  EXPECT_EQ(client.statistics().security_mode, MessageSecurityMode::sign_and_encrypt);
  client.disconnect();
}

TEST_F(OpcuaSecurityServer, PolicyTheServerLacksNamesWhatItOffersAndWhatWeSupport) {
  ClientConfig c = secured_config(peer_->url(), "Basic256", MessageSecurityMode::sign);
  c.allow_deprecated_policies = true;
  Client client(c);
  try {
    client.connect();
    FAIL() << "connected without a matching endpoint";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), status::bad_security_policy_rejected);
    const std::string what = e.what();
    EXPECT_NE(what.find("it offers: "), std::string::npos) << what;
    EXPECT_NE(what.find("Basic256Sha256/SignAndEncrypt"), std::string::npos) << what;
    EXPECT_NE(what.find("this client supports: Aes256_Sha256_RsaPss, Basic256Sha256, Aes128_Sha256_RsaOaep, Basic256, Basic128Rsa15, None"),
              std::string::npos) << what;
  }
}

TEST_F(OpcuaSecurityServer, NoneAgainstSecuredOnlyServerNamesBothSides) {
  ClientConfig c;
  c.endpoint_url = peer_->url();
  c.reconnect = false;
  Client client(c);
  try {
    client.connect();
    FAIL() << "connected with None to a server without None endpoints";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("it offers: "), std::string::npos) << what;
    EXPECT_NE(what.find("Aes128_Sha256_RsaOaep/Sign"), std::string::npos) << what;
    EXPECT_EQ(e.status(), status::bad_security_policy_rejected) << what;
    EXPECT_NE(what.find("this client supports: "), std::string::npos) << what;
  }
}

TEST_F(OpcuaSecurityServer, ServerCertificateHookCanRefuseTheServer) {
  ClientConfig c = secured_config(peer_->url(), "Basic256Sha256", MessageSecurityMode::sign);
  std::string seen;
  c.verify_server_certificate = [&](std::string_view der, const EndpointDescription& e) {
    seen = std::string(der);
    EXPECT_EQ(e.security_policy_uri, *security_policy_uri("Basic256Sha256"));
    throw Error(StatusCode{0x801A0000u}, "not trusted by this test");
  };
  Client client(c);
  try {
    client.connect();
    FAIL() << "connected although the hook refused the server";
  } catch (const Error& e) {
    EXPECT_EQ(e.status().base(), 0x801A0000u);
  }
  EXPECT_FALSE(seen.empty());
}

TEST_F(OpcuaSecurityServer, TamperedChunkFailsTheSignatureCheckAndClosesTheConnection) {
  TcpCutProxy proxy(peer_->port());
  ClientConfig c = secured_config("opc.tcp://127.0.0.1:" + std::to_string(proxy.port()), "Basic256Sha256",
                                  MessageSecurityMode::sign_and_encrypt);
  Client client(c);
  Recorder recorder;
  client.set_event_handler(recorder.event_handler());
  client.connect();
  ASSERT_TRUE(testing::subscribe_counter_and_wait(client, recorder));
  // Flip the last byte of the next whole MSG chunk from the server (its signature or cipher text).
  std::atomic<bool> flipped{false};
  proxy.set_server_bytes_filter([&](char* data, size_t size) {
    if (flipped || !testing::is_whole_msg_chunk(data, size)) return;
    data[size - 1] ^= 0x5A;
    flipped = true;
  });
  ASSERT_TRUE(recorder.wait_for(15s, [&] { return recorder.has_event(ClientEvent::Kind::connection_lost); }));
  std::lock_guard lock(recorder.mutex);
  const ClientEvent& lost = recorder.events[recorder.find_event(ClientEvent::Kind::connection_lost)];
  EXPECT_EQ(lost.status, status::bad_security_checks_failed) << lost.detail;
  EXPECT_NE(lost.detail.find("signature check failed"), std::string::npos) << lost.detail;
  EXPECT_FALSE(client.connected());
}

TEST_F(OpcuaSecurityServer, KeysAreRenewedWithoutAGapInTheValues) {
  ClientConfig c = secured_config(peer_->url(), "Aes128_Sha256_RsaOaep", MessageSecurityMode::sign_and_encrypt);
  c.secure_channel_lifetime_ms = 2500;  // node-opcua's minimum: renewal due every ~1.9 s
  Client client(c);
  Recorder recorder;
  client.set_event_handler(recorder.event_handler());
  client.connect();
  SubscriptionSettings settings;
  settings.publishing_interval_ms = 100;
  const uint32_t sub = client.create_subscription(settings, recorder.handler());
  const MonitoredItemRequest item = counter_item();
  client.create_monitored_items(sub, std::span(&item, 1));
  // The subject is the duration: about seven renewals, each with keys derived from fresh nonces
  // while chunks under the previous token may still be in flight.
  const auto until = std::chrono::steady_clock::now() + 15s;
  recorder.wait_for(20s, [&] { return std::chrono::steady_clock::now() >= until; });
  EXPECT_GE(client.statistics().token_renewals, 5u);
  client.disconnect();
  std::lock_guard lock(recorder.mutex);
  EXPECT_TRUE(recorder.events.empty()) << client_event_kind_name(recorder.events.front().kind) << ": "
                                       << recorder.events.front().detail;
  testing::expect_consecutive(recorder.values, 50);
}

TEST(OpcuaSecurityConfig, DeprecatedPoliciesNeedExplicitPermission) {
  ClientConfig c;
  c.endpoint_url = "opc.tcp://127.0.0.1:4840";
  c.security_policy = "Basic128Rsa15";
  EXPECT_THROW(Client{c}, Error);
  c.security_policy = "Basic256";
  EXPECT_THROW(Client{c}, Error);
  c.allow_deprecated_policies = true;
  EXPECT_NO_THROW(Client{c});
  c.security_policy = "Rot13";
  try {
    Client client(c);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("unknown security policy 'Rot13'"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace oee::opcua
