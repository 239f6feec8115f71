// Subject, thumbprint, validity and subjectAltName of a certificate, for messages, the
// `oee opcua endpoints` listing and the checks of certificate_verification.cpp.
#include "certificate_info.h"

#include <arpa/inet.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include <ctime>

#include "openssl_handles.h"

namespace oee::opcua {
namespace {

std::string one_line_name(const X509_NAME* name) {
  BIO* bio = BIO_new(BIO_s_mem());
  X509_NAME_print_ex(bio, name, 0, XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  std::string text(data, static_cast<size_t>(size));
  BIO_free(bio);
  return text;
}

std::string ip_text(const ASN1_OCTET_STRING* ip) {
  char buf[INET6_ADDRSTRLEN] = {};
  const int family = ip->length == 4 ? AF_INET : ip->length == 16 ? AF_INET6 : -1;
  if (family < 0 || !inet_ntop(family, ip->data, buf, sizeof buf)) return {};
  return buf;
}

void read_alt_names(X509* cert, CertificateInfo& info) {
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (!names) return;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
    if (n->type == GEN_URI || n->type == GEN_DNS) {
      const ASN1_IA5STRING* s = n->d.ia5;
      std::string text(reinterpret_cast<const char*>(s->data), static_cast<size_t>(s->length));
      (n->type == GEN_URI ? info.uris : info.dns_names).push_back(std::move(text));
    } else if (n->type == GEN_IPADD) {
      if (auto ip = ip_text(n->d.ip); !ip.empty()) info.ip_addresses.push_back(std::move(ip));
    }
  }
  GENERAL_NAMES_free(names);
}

std::string hex(std::string_view bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

}  // namespace

std::chrono::system_clock::time_point to_time_point(const ASN1_TIME* t) {
  std::tm tm{};
  if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return {};
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

std::string format_utc(std::chrono::system_clock::time_point t) {
  const std::time_t s = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string certificate_thumbprint_sha1(std::string_view der) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(der.data()), der.size(), digest);
  return std::string(reinterpret_cast<char*>(digest), sizeof digest);
}

CertificateInfo describe_x509(X509* cert) {
  CertificateInfo info;
  info.subject = one_line_name(X509_get_subject_name(cert));
  info.issuer = one_line_name(X509_get_issuer_name(cert));
  info.thumbprint = hex(certificate_thumbprint_sha1(ssl::certificate_der(cert)));
  info.not_before = to_time_point(X509_get0_notBefore(cert));
  info.not_after = to_time_point(X509_get0_notAfter(cert));
  read_alt_names(cert, info);
  info.is_ca = X509_check_ca(cert) != 0;
  info.self_signed = X509_self_signed(cert, 0) == 1;
  return info;
}

CertificateInfo describe_certificate(std::string_view der) {
  auto cert = ssl::parse_certificate(der);
  if (!cert) throw Error(status::bad_certificate_invalid, "not a DER X.509 certificate (" + std::to_string(der.size()) + " bytes)");
  return describe_x509(cert.get());
}

}  // namespace oee::opcua
