// Issue 15's acceptance cases against node-opcua servers whose certificates the test makes: an
// expired server certificate, X.509 user tokens, a replayed chunk (sequence check), and the
// deprecated policies (Basic128Rsa15 needs node's --security-revert for PKCS#1 v1.5 on Node 20).
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <string>
#include <filesystem>
#include <functional>
#include <memory>
#include <vector>

#include "oee/opcua/binary_encoding.h"
#include "oee/opcua/client.h"
#include "oee/opcua/pki.h"
#include "opcua_peer.h"
#include "subscription_recorder.h"
#include "tcp_cut_proxy.h"
#include "test_certificates.h"

namespace oee::opcua {
namespace {

using namespace std::chrono_literals;
using testing::CertificateSpec;
using testing::OpcuaPeer;
using testing::PeerOptions;
using testing::Recorder;
using testing::TcpCutProxy;
using testing::TestCertificate;

namespace fs = std::filesystem;

// A scratch directory for certificates and PKIs, removed with the object.
struct ScratchDir {
  ScratchDir() {
    std::string pattern = (fs::temp_directory_path() / "oee-uaaccept-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path = pattern;
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  fs::path path;
};

CertificateSpec loopback_spec(const std::string& uri) {
  CertificateSpec spec;
  spec.uri = uri;
  spec.dns = {"localhost"};
  spec.ips = {"127.0.0.1"};
  return spec;
}

// Writes a certificate and its key as PEM files under dir and points the peer at them.
void give_certificate(PeerOptions& options, const TestCertificate& certificate, const fs::path& dir) {
  options.certificate_file = (dir / "server_cert.pem").string();
  options.private_key_file = (dir / "server_key.pem").string();
  testing::write_bytes(options.certificate_file, certificate.pem());
  testing::write_bytes(options.private_key_file, certificate.private_key_pem());
}

const TestCertificate& client_certificate() {
  static const TestCertificate certificate(loopback_spec("urn:oee:opcua:client"));
  return certificate;
}

ClientConfig secured_config(const std::string& url, const std::string& policy, MessageSecurityMode mode) {
  ClientConfig c;
  c.endpoint_url = url;
  c.security_policy = policy;
  c.security_mode = mode;
  c.credentials = ApplicationCredentials{client_certificate().der(), client_certificate().private_key_pem()};
  c.reconnect = false;
  c.allow_deprecated_policies = true;
  return c;
}

bool reads_the_string(Client& client) {
  const DataValue text = client.read_value(NodeId(1, "Scalar.String"));
  return text.status.is_good() && !text.value.values.empty() &&
         std::get<std::string>(text.value.values.front()) == "Linie 1 – Zustand";
}

// Connects as an X.509 user, reads the string and disconnects.
void connect_as_user_and_read(ClientConfig c, const TestCertificate& user) {
  c.user_certificate_der = user.der();
  c.user_private_key = user.private_key_pem();
  Client client(c);
  client.connect();
  EXPECT_TRUE(reads_the_string(client));
  client.disconnect();
}

StatusCode connect_error(Client& client) {
  try {
    client.connect();
  } catch (const Error& e) {
    return e.status();
  }
  return StatusCode{0};
}

// The server certificate has expired: trusted or not, the PKI refuses it before the channel opens.
TEST(OpcuaSecurityAcceptance, ExpiredServerCertificateIsRefusedWithTimeInvalid) {
  ScratchDir scratch;
  CertificateSpec spec = loopback_spec("urn:oee:test:expired-server");
  spec.valid_from_days = -60;
  spec.valid_until_days = -1;
  const TestCertificate expired(spec);
  PeerOptions options(1, 1000);
  options.security_policies = "Basic256Sha256";
  options.security_modes = "SignAndEncrypt";
  give_certificate(options, expired, scratch.path);
  OpcuaPeer peer(options);
  peer.start();

  Pki pki(scratch.path / "pki");
  testing::write_bytes((scratch.path / "pki/trusted/certs/server.der").string(), expired.der());
  ClientConfig c = secured_config(peer.url(), "Basic256Sha256", MessageSecurityMode::sign_and_encrypt);
  c.verify_server_certificate = [&](std::string_view der, const EndpointDescription& endpoint) {
    pki.verify_server_certificate(der, endpoint, peer.url());
  };
  Client client(c);
  try {
    client.connect();
    FAIL() << "connected to a server whose certificate expired yesterday";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), status::bad_certificate_time_invalid) << e.what();
  }
  EXPECT_FALSE(client.connected());
}

// One server for the cases below: secured endpoints only (the deprecated policies too), no
// anonymous sessions, X.509 users accepted when the token's signature holds. Node 20 refuses RSA
// PKCS#1 v1.5 decryption (CVE-2023-46809) unless node runs with --security-revert: without it
// Basic128Rsa15 fails on the server ("RSA_PKCS1_PADDING is no longer supported").
class OpcuaAcceptanceServer : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    scratch_ = new ScratchDir;
    server_certificate_ = new TestCertificate(loopback_spec("urn:oee:test:server"));
    PeerOptions options(1, 100);
    options.security_policies = "Basic256Sha256,Aes256_Sha256_RsaPss,Basic128Rsa15,Basic256";
    options.security_modes = "Sign,SignAndEncrypt";
    options.node_flags = {"--security-revert=CVE-2023-46809"};
    options.accept_user_certificates = true;
    options.allow_anonymous = false;
    give_certificate(options, *server_certificate_, scratch_->path);
    peer_ = new OpcuaPeer(options);
    peer_->start();
  }
  static void TearDownTestSuite() {
    delete peer_;
    delete server_certificate_;
    delete scratch_;
    peer_ = nullptr;
  }
  static ScratchDir* scratch_;
  static TestCertificate* server_certificate_;
  static OpcuaPeer* peer_;
};
ScratchDir* OpcuaAcceptanceServer::scratch_ = nullptr;
TestCertificate* OpcuaAcceptanceServer::server_certificate_ = nullptr;
OpcuaPeer* OpcuaAcceptanceServer::peer_ = nullptr;

TEST_F(OpcuaAcceptanceServer, X509UserTokenIsAcceptedAndItsSignatureChecked) {
  CertificateSpec user_spec = loopback_spec("urn:oee:test:user");
  user_spec.common_name = "operator";
  user_spec.serial = 7;
  const TestCertificate user(user_spec);
  for (const auto& [policy, mode] : {std::pair{"Basic256Sha256", MessageSecurityMode::sign_and_encrypt},
                                     std::pair{"Aes256_Sha256_RsaPss", MessageSecurityMode::sign}}) {
    SCOPED_TRACE(policy);
    ClientConfig c = secured_config(peer_->url(), policy, mode);
    Client anonymous(c);
    EXPECT_NE(connect_error(anonymous), StatusCode{0}) << "the server takes anonymous sessions: the case proves nothing";
    connect_as_user_and_read(c, user);
  }
  // A key that does not belong to the certificate: the token's signature cannot hold.
  CertificateSpec forged_spec = user_spec;
  forged_spec.fresh_key = true;
  const TestCertificate forged(forged_spec);
  ClientConfig c = secured_config(peer_->url(), "Basic256Sha256", MessageSecurityMode::sign_and_encrypt);
  c.user_certificate_der = forged.der();
  c.user_private_key = user.private_key_pem();
  Client intruder(c);
  EXPECT_NE(connect_error(intruder), StatusCode{0});
  EXPECT_FALSE(intruder.connected());
}

// A signed chunk sent again in place of the next one of the same size: its signature holds, so
// only the sequence-number check can catch it.
TEST_F(OpcuaAcceptanceServer, ReplayedChunkFailsTheSequenceCheckAndClosesTheConnection) {
  const CertificateSpec user_spec = loopback_spec("urn:oee:test:user");
  const TestCertificate user(user_spec);
  TcpCutProxy proxy(peer_->port());
  ClientConfig c = secured_config("opc.tcp://127.0.0.1:" + std::to_string(proxy.port()), "Basic256Sha256",
                                  MessageSecurityMode::sign);
  c.user_certificate_der = user.der();
  c.user_private_key = user.private_key_pem();
  Client client(c);
  Recorder recorder;
  client.set_event_handler(recorder.event_handler());
  client.connect();
  ASSERT_TRUE(testing::subscribe_counter_and_wait(client, recorder));
  std::string first;  // a whole MSG chunk, kept to be replayed
  std::atomic<bool> replayed{false};
  proxy.set_server_bytes_filter([&](char* data, size_t size) {
    if (replayed || !testing::is_whole_msg_chunk(data, size)) return;
    if (first.empty() || first.size() != size) {
      first.assign(data, size);
      return;
    }
    std::memcpy(data, first.data(), size);
    replayed = true;
  });
  ASSERT_TRUE(recorder.wait_for(15s, [&] { return recorder.has_event(ClientEvent::Kind::connection_lost); }));
  EXPECT_TRUE(replayed);
  std::lock_guard lock(recorder.mutex);
  const ClientEvent& lost = recorder.events[recorder.find_event(ClientEvent::Kind::connection_lost)];
  EXPECT_EQ(lost.status, status::bad_sequence_number_invalid) << lost.detail;
  EXPECT_FALSE(client.connected());
}

// A man in the middle holding the server's key (this suite made it) opens the server's
// OpenSecureChannel response as the client would, lets `edit` change the plain chunk, and signs
// and encrypts it again as the server: the client's signature check cannot tell.
class OpenResponseResigner {
 public:
  OpenResponseResigner(const ApplicationCredentials& client, const ApplicationCredentials& server)
      : uri_(*security_policy_uri("Basic256Sha256")),
        as_client_(make_security_policy(uri_, MessageSecurityMode::sign, client, server.certificate_der)),
        as_server_(make_security_policy(uri_, MessageSecurityMode::sign, server, client.certificate_der)) {}
  // Rewrites message in place when it is a secured OpenSecureChannel chunk; true when it did.
  bool resign(std::string& message, const std::function<void(std::vector<uint8_t>&)>& edit) {
    if (message.compare(0, 4, "OPNF") != 0) return false;
    BinaryReader r(reinterpret_cast<const uint8_t*>(message.data()) + 12, message.size() - 12);
    if (r.string() != uri_) return false;  // the None channel that asks for the endpoints
    r.string();  // sender certificate
    r.string();  // receiver thumbprint
    const size_t header_end = message.size() - r.remaining();
    std::vector<uint8_t> chunk(message.begin(), message.end());
    chunk.resize(as_client_->unprotect_chunk(chunk, header_end, true));
    edit(chunk);
    const auto size = static_cast<uint32_t>(chunk.size());
    std::memcpy(chunk.data() + 4, &size, 4);
    as_server_->protect_chunk(chunk, header_end, true);
    message.assign(chunk.begin(), chunk.end());
    return true;
  }

 private:
  std::string uri_;
  std::unique_ptr<SecurityPolicy> as_client_, as_server_;
};

// The server nonce is the OpenSecureChannel response's last field, a ByteString of 32 bytes for
// Basic256Sha256: keep its first 16 bytes.
void shorten_server_nonce(std::vector<uint8_t>& chunk) {
  uint32_t length = 0;
  std::memcpy(&length, chunk.data() + chunk.size() - 36, 4);
  ASSERT_EQ(length, 32u) << "not the server nonce";
  length = 16;
  std::memcpy(chunk.data() + chunk.size() - 36, &length, 4);
  chunk.resize(chunk.size() - 16);
}

// A server nonce shorter than the policy's (16 bytes instead of 32) would derive weak keys: the
// client refuses the channel with BadNonceInvalid although the response's signature holds. The
// same re-signing without the change connects, so it is the nonce that is refused.
TEST_F(OpcuaAcceptanceServer, ReSignedOpenResponseWithAShortServerNonceIsRefused) {
  const TestCertificate user(loopback_spec("urn:oee:test:user"));
  OpenResponseResigner resigner(
      ApplicationCredentials{client_certificate().der(), client_certificate().private_key_pem()},
      ApplicationCredentials{server_certificate_->der(), server_certificate_->private_key_pem()});
  std::atomic<bool> shorten{false};
  std::atomic<int> resigned{0};
  TcpCutProxy proxy(peer_->port());
  proxy.set_server_message_rewriter([&](std::string& message) {
    if (resigner.resign(message, [&](std::vector<uint8_t>& chunk) { if (shorten) shorten_server_nonce(chunk); })) ++resigned;
    return true;
  });
  ClientConfig c = secured_config("opc.tcp://127.0.0.1:" + std::to_string(proxy.port()), "Basic256Sha256",
                                  MessageSecurityMode::sign_and_encrypt);
  connect_as_user_and_read(c, user);
  ASSERT_EQ(resigned.load(), 1) << "the man in the middle saw no OpenSecureChannel response";
  shorten = true;
  c.user_certificate_der = user.der();
  c.user_private_key = user.private_key_pem();
  Client client(c);
  try {
    client.connect();
    FAIL() << "accepted a 16-byte server nonce";
  } catch (const Error& e) {
    EXPECT_EQ(status_name(e.status()), "BadNonceInvalid") << e.what();
    EXPECT_NE(std::string(e.what()).find("16 bytes"), std::string::npos) << e.what();
  }
  EXPECT_EQ(resigned.load(), 2);
  EXPECT_FALSE(client.connected());
}

// Basic128Rsa15 and Basic256, in both modes, with a user name encrypted by the policy's algorithm;
// refused unless allowed.
TEST_F(OpcuaAcceptanceServer, DeprecatedPoliciesWorkWhenAllowed) {
  for (const char* policy : {"Basic128Rsa15", "Basic256"}) {
    for (const auto mode : {MessageSecurityMode::sign, MessageSecurityMode::sign_and_encrypt}) {
      SCOPED_TRACE(std::string(policy) + "/" + security_mode_name(mode));
      ClientConfig c = secured_config(peer_->url(), policy, mode);
      c.user_name = "operator";
      c.password = "secret";
      Client client(c);
      client.connect();
      EXPECT_EQ(client.statistics().security_policy_uri, *security_policy_uri(policy));
      EXPECT_TRUE(reads_the_string(client));
      client.disconnect();
      c.allow_deprecated_policies = false;
      EXPECT_THROW(Client{c}, Error);
    }
  }
}

}  // namespace
}  // namespace oee::opcua
