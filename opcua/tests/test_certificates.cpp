// Test certificates made with the OpenSSL API (see test_certificates.h). Two RSA keys are made
// once per process and shared, 1024 bits: key generation is the slow part (each test case is a
// process of its own under ctest), and the checks under test do not depend on the key size.
#include "test_certificates.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <fstream>
#include <stdexcept>

namespace oee::opcua::testing {
namespace {

EVP_PKEY* shared_key(bool for_ca) {
  static EVP_PKEY* ca_key = EVP_RSA_gen(1024);
  static EVP_PKEY* leaf_key = EVP_RSA_gen(1024);
  return for_ca ? ca_key : leaf_key;
}

void extend(X509* cert, X509* issuer, int nid, const std::string& value) {
  if (value.empty()) return;
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (!ext) throw std::runtime_error("bad test extension " + value);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

std::string alt_names(const CertificateSpec& spec) {
  std::string out = spec.uri.empty() ? "" : "URI:" + spec.uri;
  for (const auto& d : spec.dns) out += (out.empty() ? "DNS:" : ",DNS:") + d;
  for (const auto& i : spec.ips) out += (out.empty() ? "IP:" : ",IP:") + i;
  return out;
}

std::string to_der(X509* cert) {
  unsigned char* out = nullptr;
  const int n = i2d_X509(cert, &out);
  std::string der(reinterpret_cast<char*>(out), static_cast<size_t>(n));
  OPENSSL_free(out);
  return der;
}

template <class Write>
std::string pem_of(Write write) {
  BIO* bio = BIO_new(BIO_s_mem());
  write(bio);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string text(data, static_cast<size_t>(n));
  BIO_free(bio);
  return text;
}

}  // namespace

struct TestCertificate::State {
  X509* cert = nullptr;
  EVP_PKEY* key = nullptr;  // shared unless owned_key is set
  EVP_PKEY* owned_key = nullptr;
};

TestCertificate::TestCertificate(const CertificateSpec& spec, const TestCertificate* issuer)
    : state_(std::make_unique<State>()) {
  X509* cert = state_->cert = X509_new();
  if (spec.fresh_key) state_->owned_key = EVP_RSA_gen(1024);
  state_->key = spec.fresh_key ? state_->owned_key : shared_key(spec.ca);
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), spec.serial);
  X509_gmtime_adj(X509_getm_notBefore(cert), spec.valid_from_days * 86400);
  X509_gmtime_adj(X509_getm_notAfter(cert), spec.valid_until_days * 86400);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(spec.common_name.c_str()), -1, -1, 0);
  X509* signer = issuer ? issuer->state_->cert : cert;
  X509_set_issuer_name(cert, X509_get_subject_name(signer));
  X509_set_pubkey(cert, state_->key);
  extend(cert, signer, NID_basic_constraints, spec.ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
  extend(cert, signer, NID_key_usage, spec.ca ? "critical,keyCertSign,cRLSign" : "critical," + spec.key_usage);
  extend(cert, signer, NID_ext_key_usage, spec.ca ? "" : spec.extended_key_usage);
  extend(cert, signer, NID_subject_key_identifier, "hash");
  extend(cert, signer, NID_subject_alt_name, alt_names(spec));
  X509_sign(cert, issuer ? issuer->state_->key : state_->key, EVP_sha256());
  der_ = to_der(cert);
}

TestCertificate::~TestCertificate() {
  if (!state_) return;
  X509_free(state_->cert);
  EVP_PKEY_free(state_->owned_key);
}
TestCertificate::TestCertificate(TestCertificate&&) noexcept = default;

std::string TestCertificate::pem() const {
  return pem_of([&](BIO* b) { PEM_write_bio_X509(b, state_->cert); });
}

std::string TestCertificate::private_key_pem() const {
  return pem_of([&](BIO* b) { PEM_write_bio_PrivateKey(b, state_->key, nullptr, nullptr, 0, nullptr, nullptr); });
}

std::string TestCertificate::crl(const std::vector<long>& revoked_serials) const {
  X509_CRL* crl = X509_CRL_new();
  X509_CRL_set_version(crl, 1);
  X509_CRL_set_issuer_name(crl, X509_get_subject_name(state_->cert));
  ASN1_TIME* now = X509_gmtime_adj(nullptr, 0);
  ASN1_TIME* next = X509_gmtime_adj(nullptr, 30 * 86400);
  X509_CRL_set1_lastUpdate(crl, now);
  X509_CRL_set1_nextUpdate(crl, next);
  for (long serial : revoked_serials) {
    X509_REVOKED* r = X509_REVOKED_new();
    ASN1_INTEGER* s = ASN1_INTEGER_new();
    ASN1_INTEGER_set(s, serial);
    X509_REVOKED_set_serialNumber(r, s);
    X509_REVOKED_set_revocationDate(r, now);
    X509_CRL_add0_revoked(crl, r);
    ASN1_INTEGER_free(s);
  }
  X509_CRL_sort(crl);
  X509_CRL_sign(crl, state_->key, EVP_sha256());
  unsigned char* out = nullptr;
  const int n = i2d_X509_CRL(crl, &out);
  std::string der(reinterpret_cast<char*>(out), static_cast<size_t>(n));
  OPENSSL_free(out);
  ASN1_TIME_free(now);
  ASN1_TIME_free(next);
  X509_CRL_free(crl);
  return der;
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
  if (!out) throw std::runtime_error("cannot write " + path);
}

}  // namespace oee::opcua::testing
