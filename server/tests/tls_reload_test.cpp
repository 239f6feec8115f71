// HTTPS certificate reload without a restart: new connections get the new certificate, open ones
// keep working on theirs, a broken file keeps the old one serving (reported and counted), and a
// change of the files is picked up by the poll alone.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "oee/server/http_server.h"
#include "oee/server/metrics.h"
#include "tls_probe.h"

namespace oee::server {
namespace {

namespace fs = std::filesystem;

class TlsReload : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("oee-tls-reload-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    cert_ = (dir_ / "cert.pem").string();
    key_ = (dir_ / "key.pem").string();
    make_certificate("cert-a");
    router_.add("GET", "/healthz", [](const HttpRequest&) { return HttpResponse::json("{\"status\":\"ok\"}"); });
    options_.port = 0;
    options_.tls_certificate_file = cert_;
    options_.tls_private_key_file = key_;
    options_.metrics = &metrics_;
  }
  void TearDown() override { fs::remove_all(dir_); }

  void make_certificate(const std::string& cn) { ASSERT_TRUE(testing::renew_self_signed(dir_, cn, cert_, key_)); }
  std::string served_cn(const HttpServer& server) const { return testing::TlsProbe(server.port()).certificate_cn(); }

  fs::path dir_;
  std::string cert_, key_;
  Router router_;
  HttpServerOptions options_;
  Metrics metrics_;
};

TEST_F(TlsReload, NewConnectionsGetTheReloadedCertificateOpenOnesKeepTheirs) {
  options_.tls_reload_check_ms = 0;  // only reload_tls(), as on SIGHUP
  HttpServer server(router_, options_);
  server.start();
  testing::TlsProbe before(server.port());
  ASSERT_EQ(before.certificate_cn(), "cert-a");
  ASSERT_EQ(before.get("/healthz"), "{\"status\":\"ok\"}");

  make_certificate("cert-b");
  EXPECT_EQ(served_cn(server), "cert-a");  // nothing reloads by itself with the poll off
  EXPECT_EQ(server.reload_tls(), "");
  EXPECT_EQ(served_cn(server), "cert-b");
  EXPECT_EQ(before.get("/healthz"), "{\"status\":\"ok\"}");  // the open keep-alive connection still serves
  EXPECT_EQ(metrics_.tls_reloads.load(), 1u);

  // A key that is not the certificate's: refused, and cert-b keeps serving.
  const std::string b_key = (dir_ / "b-key.pem").string();
  fs::copy_file(key_, b_key);
  make_certificate("cert-c");
  fs::copy_file(b_key, key_, fs::copy_options::overwrite_existing);
  const std::string error = server.reload_tls();
  EXPECT_NE(error.find("does not match"), std::string::npos) << error;
  // A file that is not PEM at all.
  std::ofstream(cert_) << "not a certificate\n";
  EXPECT_NE(server.reload_tls().find("cannot load the TLS certificate"), std::string::npos);
  EXPECT_EQ(served_cn(server), "cert-b");
  EXPECT_EQ(metrics_.tls_reload_failures.load(), 2u);
  EXPECT_NE(metrics_.prometheus_text().find("oee_tls_reload_failures_total 2"), std::string::npos);
  server.stop();
}

TEST_F(TlsReload, AChangeOfTheFilesIsPickedUpByThePoll) {
  options_.tls_reload_check_ms = 50;
  HttpServer server(router_, options_);
  server.start();
  ASSERT_EQ(served_cn(server), "cert-a");
  make_certificate("cert-b");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::string cn;
  while ((cn = served_cn(server)) != "cert-b" && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(cn, "cert-b");
  EXPECT_EQ(metrics_.tls_reloads.load(), 1u);
  server.stop();
}

}  // namespace
}  // namespace oee::server
