// The alert notifiers over TLS against real TLS peers on loopback (tls_peers.py, Python's ssl): an
// https:// webhook reaches only a server whose certificate chains to the configured CA and names
// the URL's host; a mail goes over STARTTLS with its AUTH, and a password is never sent in clear
// text to a server that does not offer STARTTLS.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include "mosquitto_process.h"
#include "oee/server/alert_email.h"
#include "oee/server/alert_webhooks.h"

namespace oee::server {

namespace {

using namespace std::chrono_literals;

std::string file_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A TLS peer of tls_peers.py on a free loopback port, with the test CA's "localhost" certificate.
struct TlsPeer {
  TlsPeer(const std::string& mode, const testing::TestCertificates& certs, const std::string& dir, bool offer_tls = true)
      : port(testing::free_loopback_port()), log(dir + "/" + mode + "-" + std::to_string(port) + ".log") {
    std::vector<std::string> argv{"/usr/bin/python3", "-u", OEE_TLS_PEERS, mode, std::to_string(port), certs.server_cert_file,
                                  certs.server_key_file, log};
    if (!offer_tls) argv.push_back("--no-tls");
    process.start(argv, log + ".out");
    EXPECT_TRUE(testing::wait_for_port(port, 10'000)) << file_text(log + ".out");
  }
  std::string text() const { return file_text(log); }
  int port;
  std::string log;
  testing::ChildProcess process;
};

AlertChange change(const std::string& id) {
  AlertChange c;
  c.alert.id = id;
  c.alert.rule = "down1";
  c.alert.subject = "s1/a1/l1/press";
  return c;
}

}  // namespace

TEST(AlertTls, AnHttpsWebhookReachesOnlyACertificateOfItsCaNamingItsHost) {
  testing::TempDir dir;
  const auto certs = testing::make_test_certificates(dir.path);
  TlsPeer peer("https", certs, dir.path);
  const std::string port = std::to_string(peer.port);
  std::vector<plant::WebhookTarget> targets(3);
  targets[0].url = "https://localhost:" + port + "/hook";  // the certificate's name, its CA: delivered
  targets[0].ca_file = certs.ca_file;
  targets[1].url = "https://127.0.0.1:" + port + "/hook";  // the certificate names localhost only
  targets[1].ca_file = certs.ca_file;
  targets[2].url = "https://localhost:" + port + "/hook";  // the system's CAs do not know the test CA
  for (auto& t : targets) t.max_attempts = 1;
  AlertWebhooks webhooks(targets, {10, 40});
  webhooks.start();
  webhooks.send(change("down1/s1/a1/l1/press"));
  ASSERT_TRUE(testing::eventually([&] { return webhooks.delivered() + webhooks.given_up() == 3; }, 20s));
  EXPECT_EQ(webhooks.delivered(), 1u);
  EXPECT_EQ(webhooks.given_up(), 2u);
  const std::string received = peer.text();
  EXPECT_EQ(received.find("\"id\":\"down1/s1/a1/l1/press\""), received.rfind("\"id\":\"down1/s1/a1/l1/press\"")) << received;
  EXPECT_NE(received.find("\"event\":\"fired\""), std::string::npos) << received;
}

TEST(AlertTls, AMailGoesOverStartTlsAndItsPasswordOnlyOverTls) {
  testing::TempDir dir;
  const auto certs = testing::make_test_certificates(dir.path);
  TlsPeer peer("smtp", certs, dir.path);
  plant::EmailTarget t;
  t.smtp_host = "localhost";
  t.smtp_port = peer.port;
  t.from = "oee@plant";
  t.to = {"lead@plant"};
  t.username = "oee";
  t.password = "pa55word";
  t.ca_file = certs.ca_file;
  AlertEmail email({t});
  email.start();
  email.send(change("down1/s1/a1/l1/press"));
  ASSERT_TRUE(testing::eventually([&] { return email.mails_sent() == 1; }, 20s)) << peer.text();
  ASSERT_TRUE(testing::eventually([&] { return peer.text().find("closed") != std::string::npos; }, 20s)) << peer.text();
  const std::string session = peer.text();
  EXPECT_EQ(session.rfind("clear: EHLO oee\nclear: STARTTLS\ntls: EHLO oee\ntls: AUTH PLAIN ", 0), 0u) << session;
  EXPECT_NE(session.find("tls data: fired: down1 (machine_down) on s1/a1/l1/press"), std::string::npos) << session;
  EXPECT_EQ(session.find("clear: AUTH"), std::string::npos) << session;
  EXPECT_EQ(session.find("clear data"), std::string::npos) << session;
}

TEST(AlertTls, NoMailToAServerWithoutStartTlsWhenAPasswordOrTlsIsRequired) {
  testing::TempDir dir;
  const auto certs = testing::make_test_certificates(dir.path);
  TlsPeer peer("smtp", certs, dir.path, false);
  std::vector<plant::EmailTarget> targets(2);
  for (auto& t : targets) {
    t.smtp_host = "localhost";
    t.smtp_port = peer.port;
    t.from = "oee@plant";
    t.to = {"lead@plant"};
    t.ca_file = certs.ca_file;
  }
  targets[0].username = "oee";  // starttls: auto, not offered: AUTH would be in clear text
  targets[0].password = "pa55word";
  targets[1].starttls = plant::EmailTarget::StartTls::required;
  AlertEmail email(targets);
  email.start();
  email.send(change("down1/s1/a1/l1/press"));
  auto sessions = [&] {
    const std::string text = peer.text();
    std::size_t n = 0;
    for (auto p = text.find("closed"); p != std::string::npos; p = text.find("closed", p + 1)) ++n;
    return n;
  };
  ASSERT_TRUE(testing::eventually([&] { return sessions() == 2; }, 20s)) << peer.text();
  EXPECT_EQ(email.mails_sent(), 0u);
  const std::string text = peer.text();
  EXPECT_EQ(text.find("AUTH"), std::string::npos) << text;
  EXPECT_EQ(text.find("MAIL FROM"), std::string::npos) << text;
  EXPECT_EQ(text.find("pa55word"), std::string::npos) << text;
}

}  // namespace oee::server
