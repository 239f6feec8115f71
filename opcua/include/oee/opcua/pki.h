#pragma once
// The client's certificates and its trust in servers: a PKI directory in the common OPC UA layout
//
//   DIR/own/certs/client_cert.der      our application instance certificate (created on first use)
//   DIR/own/private/client_key.pem     its RSA private key (mode 0600)
//   DIR/trusted/certs/  DIR/trusted/crl/   servers and CAs we trust, and their CRLs
//   DIR/issuers/certs/  DIR/issuers/crl/   CAs that may complete a chain but are not trusted alone
//   DIR/rejected/                         server certificates we met and did not trust
//
// A server certificate that is not trusted is copied into rejected/ as <thumbprint>.der; moving
// that file into trusted/certs/ trusts it (the directories are read at each verification).
// Checks, in the order of OPC 10000-4 Table 106, and their status codes: docs/opcua.md.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "oee/opcua/client.h"
#include "oee/opcua/status_code.h"

namespace oee::opcua {

// What a certificate says about itself (from its DER encoding).
struct CertificateInfo {
  std::string subject;     // one line, e.g. "CN = oee opcua client, DC = plc-gw"
  std::string issuer;
  std::string thumbprint;  // SHA-1 of the DER, 40 lowercase hex digits (the name in rejected/)
  std::chrono::system_clock::time_point not_before;
  std::chrono::system_clock::time_point not_after;
  std::vector<std::string> uris;       // subjectAltName URIs (the application URI)
  std::vector<std::string> dns_names;  // subjectAltName DNS names
  std::vector<std::string> ip_addresses;
  bool is_ca = false;
  bool self_signed = false;
};

// Throws Error(BadCertificateInvalid) for bytes that are not an X.509 certificate.
CertificateInfo describe_certificate(std::string_view der);
// SHA-1 of the DER: 20 raw bytes (the receiver thumbprint of OpenSecureChannel).
std::string certificate_thumbprint_sha1(std::string_view der);
// "2031-12-05T00:00:00Z"
std::string format_utc(std::chrono::system_clock::time_point t);

// Our application instance certificate and its key, as the secure channel needs them.
struct OwnCertificate {
  std::string certificate_der;
  std::string private_key_pem;  // PKCS#8 PEM, unencrypted
  std::filesystem::path certificate_path;
  std::filesystem::path private_key_path;
  CertificateInfo info;
};

struct PkiOptions {
  // Of a certificate created on first use.
  uint32_t own_certificate_validity_days = 5 * 365;
  uint32_t own_key_bits = 2048;
  std::string application_name = "oee opcua client";  // the certificate's CN
  std::string host_name;                              // its DNS name; empty: gethostname()
  // A warning is logged when our certificate or a trusted one expires within this many days.
  uint32_t expiry_warning_days = 30;
  // Where warnings go; empty: stderr, one line each.
  std::function<void(const std::string&)> warn;
  // The clock of validity checks (tests move it).
  std::function<std::chrono::system_clock::time_point()> now;
};

// own_certificate and use_own_certificate are not thread-safe (call them before connecting);
// verify_server_certificate may run on several threads and in several processes at once.
class Pki {
 public:
  // Creates the directory layout if it is missing. Throws Error(BadCertificateInvalid) when it cannot.
  explicit Pki(std::filesystem::path dir, PkiOptions options = {});

  const std::filesystem::path& dir() const { return dir_; }

  // Our certificate for application_uri: loaded from own/, or created there on first use (RSA,
  // SHA-256, subjectAltName URI = application_uri and DNS = host name). Throws
  // Error(BadCertificateUriInvalid) when the stored certificate names another URI, and
  // Error(BadCertificateTimeInvalid) when it has expired (see docs/opcua.md, renewal).
  const OwnCertificate& own_certificate(const std::string& application_uri);

  // Uses existing files instead of own/ (--certificate/--private-key): PEM or DER certificate, PEM
  // key. Throws Error(BadCertificateInvalid) when they cannot be read or do not belong together,
  // Error(BadCertificateUriInvalid) when the certificate does not name application_uri.
  const OwnCertificate& use_own_certificate(const std::filesystem::path& certificate_file,
                                            const std::filesystem::path& private_key_file,
                                            const std::string& application_uri);

  // Verifies a server certificate (DER) for an endpoint: chain, trust, validity, host name,
  // application URI, key usage, revocation. connect_url is the URL the client dials (its host is
  // checked); empty: endpoint.endpoint_url. Throws Error with the standard status code and a
  // message saying what to do; an untrusted certificate is first copied into rejected/.
  void verify_server_certificate(std::string_view der, const EndpointDescription& endpoint,
                                 std::string_view connect_url = {}) const;

  // One line per certificate in own/ and trusted/certs/ that expires within expiry_warning_days
  // (or has expired); own_certificate and verify_server_certificate log the ones they use.
  std::vector<std::string> expiry_warnings() const;

 private:
  std::chrono::system_clock::time_point now() const;
  void warn(const std::string& message) const;

  std::filesystem::path dir_;
  PkiOptions options_;
  OwnCertificate own_;
  bool own_loaded_ = false;
};

}  // namespace oee::opcua
