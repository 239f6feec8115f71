// The PKI directory (oee/opcua/pki.h) with certificates made by OpenSSL in the test: our own
// certificate created on first use, and each way a server certificate must be refused.
#include "oee/opcua/pki.h"

#include <gtest/gtest.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "test_certificates.h"

namespace {

namespace fs = std::filesystem;
using namespace oee::opcua;
using oee::opcua::testing::CertificateSpec;
using oee::opcua::testing::TestCertificate;
using oee::opcua::testing::write_bytes;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class PkiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/oee-pki-test-XXXXXX";
    ASSERT_TRUE(::mkdtemp(tmpl));
    dir_ = tmpl;
    options_.warn = [this](const std::string& m) { warnings_.push_back(m); };
    Pki layout(dir_, options_);  // creates the directories the cases write into
  }
  void TearDown() override { fs::remove_all(dir_); }

  Pki pki() { return Pki(dir_, options_); }
  void trust(const TestCertificate& c, const std::string& name) { write_bytes(dir_ / "trusted/certs" / name, c.der()); }

  static EndpointDescription endpoint(const std::string& url = "opc.tcp://plc1.test:4840",
                                      const std::string& uri = "urn:test:server") {
    EndpointDescription e;
    e.endpoint_url = url;
    e.server.application_uri = uri;
    return e;
  }

  // The status of verifying der for e; Good when it passed.
  StatusCode verify(const std::string& der, const EndpointDescription& e = endpoint(), std::string_view url = {}) {
    try {
      pki().verify_server_certificate(der, e, url);
      return status::good;
    } catch (const Error& error) {
      last_message_ = error.what();
      return error.status();
    }
  }

  fs::path dir_;
  PkiOptions options_;
  std::vector<std::string> warnings_;
  std::string last_message_;
};

#define EXPECT_STATUS(expr, expected) \
  EXPECT_EQ(status_name(expr), status_name(expected)) << last_message_

TEST(PkiStatusCodes, ConstantsCarryTheStandardsCodes) {
  const std::pair<StatusCode, const char*> codes[] = {
      {status::bad_certificate_time_invalid, "BadCertificateTimeInvalid"},
      {status::bad_certificate_issuer_time_invalid, "BadCertificateIssuerTimeInvalid"},
      {status::bad_certificate_host_name_invalid, "BadCertificateHostNameInvalid"},
      {status::bad_certificate_uri_invalid, "BadCertificateUriInvalid"},
      {status::bad_certificate_use_not_allowed, "BadCertificateUseNotAllowed"},
      {status::bad_certificate_issuer_use_not_allowed, "BadCertificateIssuerUseNotAllowed"},
      {status::bad_certificate_untrusted, "BadCertificateUntrusted"},
      {status::bad_certificate_revocation_unknown, "BadCertificateRevocationUnknown"},
      {status::bad_certificate_issuer_revocation_unknown, "BadCertificateIssuerRevocationUnknown"},
      {status::bad_certificate_revoked, "BadCertificateRevoked"},
      {status::bad_certificate_issuer_revoked, "BadCertificateIssuerRevoked"},
      {status::bad_certificate_chain_incomplete, "BadCertificateChainIncomplete"},
  };
  for (const auto& [code, name] : codes) EXPECT_EQ(status_name(code), name);
}

TEST_F(PkiTest, LayoutIsCreated) {
  pki();
  for (const char* sub : {"own/certs", "own/private", "trusted/certs", "trusted/crl", "issuers/certs", "issuers/crl",
                          "rejected"}) {
    EXPECT_TRUE(fs::is_directory(dir_ / sub)) << sub;
  }
}

TEST_F(PkiTest, OwnCertificateIsCreatedOnFirstUseForTheClientsApplicationUri) {
  options_.host_name = "edge-7.plant";
  const std::string uri = ClientConfig{}.application_uri;  // what the client sends in CreateSession
  Pki p = pki();
  const OwnCertificate& own = p.own_certificate(uri);
  ASSERT_EQ(own.info.uris, std::vector<std::string>{uri});
  EXPECT_EQ(own.info.dns_names, std::vector<std::string>{"edge-7.plant"});
  EXPECT_EQ(slurp(dir_ / "own/certs/client_cert.der"), own.certificate_der);
  struct stat st{};
  ASSERT_EQ(::stat((dir_ / "own/private/client_key.pem").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  const unsigned char* p_der = reinterpret_cast<const unsigned char*>(own.certificate_der.data());
  X509* cert = d2i_X509(nullptr, &p_der, static_cast<long>(own.certificate_der.size()));
  ASSERT_NE(cert, nullptr);
  EXPECT_EQ(X509_get_signature_nid(cert), NID_sha256WithRSAEncryption);
  EXPECT_EQ(EVP_PKEY_get_bits(X509_get0_pubkey(cert)), 2048);
  const uint32_t ku = X509_get_key_usage(cert);
  for (uint32_t bit : {KU_DIGITAL_SIGNATURE, KU_NON_REPUDIATION, KU_KEY_ENCIPHERMENT, KU_DATA_ENCIPHERMENT}) {
    EXPECT_TRUE(ku & bit) << bit;
  }
  EXPECT_TRUE(X509_get_extended_key_usage(cert) & XKU_SSL_SERVER);
  EXPECT_TRUE(X509_get_extended_key_usage(cert) & XKU_SSL_CLIENT);
  X509_free(cert);
  const auto days = std::chrono::duration_cast<std::chrono::hours>(own.info.not_after - own.info.not_before).count() / 24;
  EXPECT_EQ(days, 5 * 365 + 1);  // the default validity, from a day back
  EXPECT_NE(own.private_key_pem.find("BEGIN PRIVATE KEY"), std::string::npos);

  // A second start uses the stored pair; another URI is refused, saying how to get a new one.
  Pki again = pki();
  EXPECT_EQ(again.own_certificate(uri).certificate_der, own.certificate_der);
  try {
    again.own_certificate("urn:other");
    FAIL() << "another application URI was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), status::bad_certificate_uri_invalid);
    EXPECT_NE(std::string(e.what()).find("move"), std::string::npos) << e.what();
  }
}

TEST_F(PkiTest, OwnCertificateValidityIsConfigurableAndExpiryIsWarnedThenRefused) {
  options_.own_certificate_validity_days = 20;
  options_.expiry_warning_days = 30;
  options_.own_key_bits = 1024;
  const OwnCertificate own = pki().own_certificate("urn:a");
  const auto& created = own.info;
  const unsigned char* der = reinterpret_cast<const unsigned char*>(own.certificate_der.data());
  X509* cert = d2i_X509(nullptr, &der, static_cast<long>(own.certificate_der.size()));
  ASSERT_NE(cert, nullptr);
  EXPECT_EQ(EVP_PKEY_get_bits(X509_get0_pubkey(cert)), 1024);
  X509_free(cert);
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::hours>(created.not_after - created.not_before).count(), 21 * 24);
  ASSERT_FALSE(warnings_.empty());
  EXPECT_NE(warnings_.back().find("expires in 19 days"), std::string::npos) << warnings_.back();
  ASSERT_EQ(pki().expiry_warnings().size(), 1u);

  options_.now = [] { return std::chrono::system_clock::now() + std::chrono::hours(24 * 25); };
  try {
    pki().own_certificate("urn:a");
    FAIL() << "an expired own certificate was used";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), status::bad_certificate_time_invalid);
    EXPECT_NE(std::string(e.what()).find("renew"), std::string::npos) << e.what();
  }
}

TEST_F(PkiTest, ExistingCertificateAndKeyFilesAreUsedWhenTheyBelongTogether) {
  CertificateSpec spec;
  spec.uri = "urn:mine";
  const TestCertificate mine(spec);
  write_bytes(dir_ / "mine.pem", mine.pem());
  write_bytes(dir_ / "mine.key", mine.private_key_pem());
  Pki p = pki();
  EXPECT_EQ(p.use_own_certificate(dir_ / "mine.pem", dir_ / "mine.key", "urn:mine").certificate_der, mine.der());
  EXPECT_EQ(p.own_certificate("urn:mine").certificate_der, mine.der());
  EXPECT_FALSE(fs::exists(dir_ / "own/certs/client_cert.der"));  // none created beside the given one

  CertificateSpec ca_spec;
  ca_spec.ca = true;  // signed by the other shared key: not the key in mine.key
  write_bytes(dir_ / "other.pem", TestCertificate(ca_spec).pem());
  try {
    p.use_own_certificate(dir_ / "other.pem", dir_ / "mine.key", "urn:mine");
    FAIL() << "a key of another certificate was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), status::bad_certificate_invalid);
    EXPECT_NE(std::string(e.what()).find("is not the private key of"), std::string::npos) << e.what();
  }
}

TEST_F(PkiTest, UnknownCertificateIsRejectedUntilTheFileIsMovedToTrusted) {
  const TestCertificate server(CertificateSpec{});
  EXPECT_STATUS(verify(server.der()), status::bad_certificate_untrusted);
  const std::string thumbprint = describe_certificate(server.der()).thumbprint;
  const fs::path rejected = dir_ / "rejected" / (thumbprint + ".der");
  ASSERT_TRUE(fs::exists(rejected)) << last_message_;
  EXPECT_EQ(slurp(rejected), server.der());
  EXPECT_NE(last_message_.find(rejected.string()), std::string::npos) << last_message_;
  EXPECT_NE(last_message_.find("trusted/certs/ trusts it"), std::string::npos) << last_message_;

  fs::rename(rejected, dir_ / "trusted/certs" / rejected.filename());
  EXPECT_STATUS(verify(server.der()), status::good);
}

// Files being written are hidden: after a rejection rejected/ holds the certificate's file alone
// (no temporary beside it), and a hidden file in trusted/certs/ (an rsync or editor temporary) is
// neither trusted nor warned about.
TEST_F(PkiTest, HiddenFilesAreFilesBeingWrittenAndAreIgnored) {
  const TestCertificate server(CertificateSpec{});
  EXPECT_STATUS(verify(server.der()), status::bad_certificate_untrusted);
  std::vector<std::string> names;
  for (const auto& f : fs::directory_iterator(dir_ / "rejected")) names.push_back(f.path().filename().string());
  ASSERT_EQ(names.size(), 1u);
  EXPECT_EQ(names[0], describe_certificate(server.der()).thumbprint + ".der");

  trust(server, ".server.der.XyZ123");
  warnings_.clear();
  EXPECT_STATUS(verify(server.der()), status::bad_certificate_untrusted);
  for (const auto& w : warnings_) EXPECT_EQ(w.find(".server.der.XyZ123"), std::string::npos) << w;
  trust(server, "server.der");
  EXPECT_STATUS(verify(server.der()), status::good);
}

TEST_F(PkiTest, GarbageIsAnInvalidCertificate) {
  EXPECT_STATUS(verify("not a certificate"), status::bad_certificate_invalid);
  const TestCertificate server(CertificateSpec{});
  EXPECT_STATUS(verify(server.der() + "x"), status::bad_certificate_invalid);
}

TEST_F(PkiTest, ExpiredOrNotYetValidIsTimeInvalid) {
  CertificateSpec expired;
  expired.valid_from_days = -30;
  expired.valid_until_days = -1;
  const TestCertificate old(expired);
  trust(old, "old.der");
  EXPECT_STATUS(verify(old.der()), status::bad_certificate_time_invalid);
  EXPECT_NE(last_message_.find("expired at"), std::string::npos) << last_message_;

  CertificateSpec future;
  future.valid_from_days = 2;
  const TestCertificate early(future);
  trust(early, "early.der");
  EXPECT_STATUS(verify(early.der()), status::bad_certificate_time_invalid);
  EXPECT_NE(last_message_.find("not valid before"), std::string::npos) << last_message_;
}

TEST_F(PkiTest, ApplicationUriMustMatchTheServersDescription) {
  const TestCertificate server(CertificateSpec{});
  trust(server, "server.der");
  EXPECT_STATUS(verify(server.der(), endpoint("opc.tcp://plc1.test:4840", "urn:test:server")), status::good);
  EXPECT_STATUS(verify(server.der(), endpoint("opc.tcp://plc1.test:4840", "urn:another:server")),
                status::bad_certificate_uri_invalid);
  EXPECT_NE(last_message_.find("urn:test:server"), std::string::npos) << last_message_;
}

TEST_F(PkiTest, HostNameMustBeNamedByTheCertificate) {
  CertificateSpec spec;
  spec.ips = {"10.1.2.3"};
  const TestCertificate server(spec);
  trust(server, "server.der");
  EXPECT_STATUS(verify(server.der(), endpoint("opc.tcp://PLC1.test:4840")), status::good);
  EXPECT_STATUS(verify(server.der(), endpoint("opc.tcp://10.1.2.3:4840")), status::good);
  EXPECT_STATUS(verify(server.der(), endpoint("opc.tcp://plc2.test:4840")), status::bad_certificate_host_name_invalid);
  EXPECT_NE(last_message_.find("plc1.test, 10.1.2.3"), std::string::npos) << last_message_;
  // The URL dialed counts, not the one the server describes.
  EXPECT_STATUS(verify(server.der(), endpoint(), "opc.tcp://10.9.9.9:4840"), status::bad_certificate_host_name_invalid);
  // Loopback reaches this machine: accepted only when the certificate names this machine.
  EXPECT_STATUS(verify(server.der(), endpoint(), "opc.tcp://127.0.0.1:4840"), status::bad_certificate_host_name_invalid);
  char self[256] = {};
  ASSERT_EQ(::gethostname(self, sizeof self - 1), 0);
  CertificateSpec local;
  local.dns = {self};
  local.serial = 2;
  const TestCertificate here(local);
  trust(here, "here.der");
  EXPECT_STATUS(verify(here.der(), endpoint(), "opc.tcp://127.0.0.1:4840"), status::good);
  EXPECT_STATUS(verify(here.der(), endpoint(), "opc.tcp://[::1]:4840"), status::good);
}

TEST_F(PkiTest, KeyUsageMustAllowASignatureAndEncryptionForAServer) {
  CertificateSpec no_signature;
  no_signature.key_usage = "keyEncipherment,dataEncipherment";
  const TestCertificate a(no_signature);
  trust(a, "a.der");
  EXPECT_STATUS(verify(a.der()), status::bad_certificate_use_not_allowed);
  EXPECT_NE(last_message_.find("digitalSignature"), std::string::npos) << last_message_;

  CertificateSpec client_only;
  client_only.extended_key_usage = "clientAuth";
  client_only.serial = 2;
  const TestCertificate b(client_only);
  trust(b, "b.der");
  EXPECT_STATUS(verify(b.der()), status::bad_certificate_use_not_allowed);
  EXPECT_NE(last_message_.find("serverAuth"), std::string::npos) << last_message_;
}

TEST_F(PkiTest, IssuerChainTrustedThroughTheCaOrTheLeaf) {
  CertificateSpec ca_spec;
  ca_spec.common_name = "Plant CA";
  ca_spec.ca = true;
  ca_spec.uri.clear();
  ca_spec.dns.clear();
  const TestCertificate ca(ca_spec);
  CertificateSpec leaf_spec;
  leaf_spec.serial = 7;
  const TestCertificate leaf(leaf_spec, &ca);

  // The CA only among the issuers: it completes the chain but trusts nothing.
  write_bytes(dir_ / "issuers/certs/ca.der", ca.der());
  EXPECT_STATUS(verify(leaf.der()), status::bad_certificate_untrusted);
  EXPECT_NE(last_message_.find("trust its issuer CA"), std::string::npos) << last_message_;
  // Trusting the leaf itself, its chain completed by issuers/.
  trust(leaf, "leaf.der");
  EXPECT_STATUS(verify(leaf.der()), status::good);
  fs::remove(dir_ / "trusted/certs/leaf.der");
  // Trusting the CA trusts what it signs.
  fs::rename(dir_ / "issuers/certs/ca.der", dir_ / "trusted/certs/ca.der");
  EXPECT_STATUS(verify(leaf.der()), status::good);

  // A certificate signed by one that may sign certificates but is no CA is not a chain.
  CertificateSpec not_ca_spec;
  not_ca_spec.common_name = "Not a CA";
  not_ca_spec.key_usage = "digitalSignature,keyCertSign";
  not_ca_spec.serial = 8;
  const TestCertificate not_ca(not_ca_spec, &ca);
  CertificateSpec other;
  other.serial = 9;
  const TestCertificate signed_by_not_ca(other, &not_ca);
  write_bytes(dir_ / "issuers/certs/not_ca.der", not_ca.der());
  EXPECT_STATUS(verify(signed_by_not_ca.der()), status::bad_certificate_issuer_use_not_allowed);
}

TEST_F(PkiTest, ExpiredIssuerIsIssuerTimeInvalid) {
  CertificateSpec ca_spec;
  ca_spec.ca = true;
  ca_spec.common_name = "Old CA";
  ca_spec.valid_from_days = -400;
  ca_spec.valid_until_days = -2;
  const TestCertificate ca(ca_spec);
  const TestCertificate leaf(CertificateSpec{}, &ca);
  trust(ca, "ca.der");
  EXPECT_STATUS(verify(leaf.der()), status::bad_certificate_issuer_time_invalid);
}

TEST_F(PkiTest, RevokedByTheCasCrl) {
  CertificateSpec ca_spec;
  ca_spec.ca = true;
  ca_spec.common_name = "Plant CA";
  const TestCertificate ca(ca_spec);
  CertificateSpec revoked_spec, good_spec;
  revoked_spec.serial = 41;
  good_spec.serial = 42;
  const TestCertificate revoked(revoked_spec, &ca), good(good_spec, &ca);
  trust(ca, "ca.der");
  EXPECT_STATUS(verify(revoked.der()), status::good);  // no CRL yet: not checked, but said
  ASSERT_FALSE(warnings_.empty());
  EXPECT_NE(warnings_.back().find("no CRL"), std::string::npos) << warnings_.back();

  write_bytes(dir_ / "trusted/crl/ca.crl", ca.crl({41}));
  EXPECT_STATUS(verify(revoked.der()), status::bad_certificate_revoked);
  EXPECT_STATUS(verify(good.der()), status::good);

  // A CRL with the CA's name but another key is ignored.
  ca_spec.fresh_key = true;
  const TestCertificate forger(ca_spec);
  fs::remove(dir_ / "trusted/crl/ca.crl");
  write_bytes(dir_ / "issuers/crl/forged.crl", forger.crl({42}));
  EXPECT_STATUS(verify(good.der()), status::good);
}

TEST_F(PkiTest, TrustedCertificateNearItsEndIsWarned) {
  options_.expiry_warning_days = 10;
  CertificateSpec spec;
  spec.valid_until_days = 5;
  const TestCertificate server(spec);
  trust(server, "server.der");
  EXPECT_STATUS(verify(server.der()), status::good);
  ASSERT_FALSE(warnings_.empty());
  EXPECT_NE(warnings_.back().find("expires in 4 days"), std::string::npos) << warnings_.back();
  const auto listed = pki().expiry_warnings();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_NE(listed[0].find("server.der"), std::string::npos) << listed[0];
}

}  // namespace
