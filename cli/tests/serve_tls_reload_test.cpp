// `oee serve --tls-cert --tls-key` rotating its certificate without a restart: after SIGHUP a new
// connection gets the new certificate while a keep-alive connection opened before keeps working,
// and a broken file is refused (logged, counted in /metrics) with the previous certificate serving.
// The same process throughout.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>

#include "../../server/tests/tls_probe.h"
#include "../../transport/tests/eventually.h"
#include "child_process.h"

namespace oee::testing {
namespace {

namespace fs = std::filesystem;
const std::string kAdminToken = "serve-tls-reload-test-admin-token";

class ServeTlsReload : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("oee-serve-tls-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    cert_ = (dir_ / "cert.pem").string();
    key_ = (dir_ / "key.pem").string();
    make_certificate("cert-a");
  }
  void TearDown() override {
    server_.reset();
    fs::remove_all(dir_);
  }
  void make_certificate(const std::string& cn) { ASSERT_TRUE(renew_self_signed(dir_, cn, cert_, key_)); }
  std::uint16_t start() {
    ::setenv("OEE_ADMIN_TOKEN", kAdminToken.c_str(), 1);
    server_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{OEE_BINARY, "serve", "--demo", "--history-hours", "1", "--data-dir", (dir_ / "data").string(),
                                 "--listen", "127.0.0.1:0", "--tls-cert", cert_, "--tls-key", key_, "--tls-reload-check-s", "0"},
        (dir_ / "serve.log").string());
    EXPECT_TRUE(server_->wait_for_output("listening on", std::chrono::seconds(30))) << server_->output();
    const std::string out = server_->output(), prefix = "listening on https://127.0.0.1:";
    const std::size_t at = out.find(prefix);
    return at == std::string::npos ? 0 : static_cast<std::uint16_t>(std::stoi(out.substr(at + prefix.size())));
  }

  fs::path dir_;
  std::string cert_, key_;
  std::unique_ptr<ChildProcess> server_;
};

TEST_F(ServeTlsReload, SighupServesTheNewCertificateWithoutARestart) {
  const std::uint16_t port = start();
  ASSERT_NE(port, 0);
  TlsProbe before(port);
  ASSERT_EQ(before.certificate_cn(), "cert-a");
  ASSERT_NE(before.get("/healthz").find("ok"), std::string::npos);

  make_certificate("cert-b");
  server_->signal(SIGHUP);
  EXPECT_TRUE(eventually([&] { return TlsProbe(port).certificate_cn() == "cert-b"; }, std::chrono::seconds(10)));
  EXPECT_NE(before.get("/healthz").find("ok"), std::string::npos) << "the connection opened before the reload";

  // A certificate file that is not PEM: refused, reported, and cert-b serves on.
  std::ofstream(cert_) << "not a certificate\n";
  server_->signal(SIGHUP);
  EXPECT_TRUE(server_->wait_for_output("TLS reload failed", std::chrono::seconds(10))) << server_->output();
  EXPECT_EQ(TlsProbe(port).certificate_cn(), "cert-b");
  const std::string metrics = TlsProbe(port).get("/metrics", "Authorization: Bearer " + kAdminToken + "\r\n");
  EXPECT_NE(metrics.find("oee_tls_reloads_total 1"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("oee_tls_reload_failures_total 1"), std::string::npos) << metrics;
  // One process all along: it started listening once and stops cleanly now.
  EXPECT_EQ(server_->kill(SIGTERM), 0);
  const std::string log = server_->output();
  EXPECT_EQ(log.find("listening on"), log.rfind("listening on"));
}

TEST_F(ServeTlsReload, AFileCheckIntervalOutOfRangeIsRefused) {
  for (const char* bad : {"-1", "3601", "often"}) {
    ChildProcess refused({OEE_BINARY, "serve", "--demo", "--data-dir", (dir_ / "refused").string(), "--tls-cert", cert_,
                          "--tls-key", key_, "--tls-reload-check-s", bad},
                         (dir_ / "refused.log").string());
    EXPECT_EQ(refused.kill(0), 2) << bad;  // signal 0: only waits for the exit
    EXPECT_NE(refused.output().find("--tls-reload-check-s"), std::string::npos) << refused.output();
  }
}

}  // namespace
}  // namespace oee::testing
