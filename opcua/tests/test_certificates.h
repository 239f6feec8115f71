#pragma once
// Certificates, keys and CRLs made with OpenSSL inside a test, to feed the PKI every case it must
// refuse: expired, wrong URI or host, missing key usage, unknown or revoked, signed by a CA.
#include <memory>
#include <string>
#include <vector>

namespace oee::opcua::testing {

struct CertificateSpec {
  std::string common_name = "test server";
  std::string uri = "urn:test:server";
  std::vector<std::string> dns = {"plc1.test"};
  std::vector<std::string> ips;
  long valid_from_days = -1;  // relative to now
  long valid_until_days = 365;
  bool ca = false;
  std::string key_usage = "digitalSignature,nonRepudiation,keyEncipherment,dataEncipherment";
  std::string extended_key_usage = "serverAuth,clientAuth";  // empty: no extension
  long serial = 1;
  bool fresh_key = false;  // a key of its own instead of the shared one (a forger's CA)
};

// A certificate with its key; an issuer signs others and their CRL.
class TestCertificate {
 public:
  // Self-signed when issuer is null.
  TestCertificate(const CertificateSpec& spec, const TestCertificate* issuer = nullptr);
  ~TestCertificate();
  TestCertificate(TestCertificate&&) noexcept;

  const std::string& der() const { return der_; }
  std::string pem() const;
  std::string private_key_pem() const;
  // A CRL of this (CA) certificate revoking the given serial numbers, DER.
  std::string crl(const std::vector<long>& revoked_serials) const;

 private:
  struct State;
  std::unique_ptr<State> state_;
  std::string der_;
};

void write_bytes(const std::string& path, const std::string& bytes);

}  // namespace oee::opcua::testing
