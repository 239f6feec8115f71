// Verification of a server's certificate before the client trusts the channel, in the order of
// OPC 10000-4 Table 106: structure, chain, trust list, validity, host name, URI, key usage,
// revocation. Each failure is an Error with the standard status and what the operator can do.
#include <openssl/x509v3.h>
#include <unistd.h>

#include <algorithm>

#include "certificate_info.h"
#include "oee/opcua/pki.h"
#include "openssl_handles.h"
#include "pki_store.h"

namespace oee::opcua {
namespace {

struct StoreFree {
  void operator()(X509_STORE* s) const { X509_STORE_free(s); }
};
struct StoreCtxFree {
  void operator()(X509_STORE_CTX* c) const { X509_STORE_CTX_free(c); }
};
struct ChainFree {
  void operator()(STACK_OF(X509) * s) const { sk_X509_pop_free(s, X509_free); }
};
using ChainPtr = std::unique_ptr<STACK_OF(X509), ChainFree>;

struct ChainResult {
  ChainPtr chain;   // leaf first; null when no chain could be built
  int error = 0;    // OpenSSL's X509_V_ERR_* when the chain failed
  int error_depth = 0;
};

// Builds the chain from the leaf to a certificate of trusted/ or issuers/. Time is checked later
// (its own status code); a certificate of either directory may end the chain (partial chains),
// whether the chain is trusted is decided by trusted_in_chain.
ChainResult build_chain(X509* leaf, const std::vector<StoredCertificate>& trusted,
                        const std::vector<StoredCertificate>& issuers) {
  std::unique_ptr<X509_STORE, StoreFree> store(X509_STORE_new());
  for (const auto* list : {&trusted, &issuers}) {
    for (const auto& s : *list) X509_STORE_add_cert(store.get(), s.cert.get());
  }
  std::unique_ptr<X509_STORE_CTX, StoreCtxFree> ctx(X509_STORE_CTX_new());
  ChainResult result;
  if (!store || !ctx || X509_STORE_CTX_init(ctx.get(), store.get(), leaf, nullptr) != 1) {
    result.error = X509_V_ERR_OUT_OF_MEM;
    return result;
  }
  X509_STORE_CTX_set_flags(ctx.get(), X509_V_FLAG_PARTIAL_CHAIN | X509_V_FLAG_NO_CHECK_TIME);
  if (X509_verify_cert(ctx.get()) == 1) {
    result.chain.reset(X509_STORE_CTX_get1_chain(ctx.get()));
  } else {
    result.error = X509_STORE_CTX_get_error(ctx.get());
    result.error_depth = X509_STORE_CTX_get_error_depth(ctx.get());
  }
  return result;
}

bool chain_reaches_no_known_issuer(int error) {
  switch (error) {
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
      return true;
    default:
      return false;
  }
}

bool trusted_in_chain(STACK_OF(X509) * chain, const std::vector<StoredCertificate>& trusted) {
  for (int i = 0; i < sk_X509_num(chain); ++i) {
    X509* c = sk_X509_value(chain, i);
    for (const auto& t : trusted) {
      if (X509_cmp(c, t.cert.get()) == 0) return true;
    }
  }
  return false;
}

std::string describe_short(X509* cert) {
  const CertificateInfo info = describe_x509(cert);
  return "'" + info.subject + "' (thumbprint " + info.thumbprint + ")";
}

void check_validity(STACK_OF(X509) * chain, std::chrono::system_clock::time_point now) {
  time_t at = std::chrono::system_clock::to_time_t(now);
  for (int i = 0; i < sk_X509_num(chain); ++i) {
    X509* c = sk_X509_value(chain, i);
    const bool early = X509_cmp_time(X509_get0_notBefore(c), &at) > 0;
    const bool late = X509_cmp_time(X509_get0_notAfter(c), &at) < 0;
    if (!early && !late) continue;
    const CertificateInfo info = describe_x509(c);
    const std::string when = early ? "is not valid before " + format_utc(info.not_before)
                                   : "expired at " + format_utc(info.not_after);
    throw Error(i == 0 ? status::bad_certificate_time_invalid : status::bad_certificate_issuer_time_invalid,
                std::string(i == 0 ? "the server certificate " : "its issuer ") + describe_short(c) + " " + when);
  }
}

// Host of opc.tcp://host:port/path ("[::1]" without brackets); empty when there is none.
std::string url_host(std::string_view url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return {};
  std::string_view rest = url.substr(scheme + 3);
  rest = rest.substr(0, rest.find('/'));
  if (!rest.empty() && rest.front() == '[') return std::string(rest.substr(1, rest.find(']') - 1));
  return std::string(rest.substr(0, rest.find(':')));
}

bool is_loopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

bool names_host(X509* cert, const std::string& host) {
  if (X509_check_ip_asc(cert, host.c_str(), 0) == 1) return true;
  return X509_check_host(cert, host.data(), host.size(), X509_CHECK_FLAG_NEVER_CHECK_SUBJECT, nullptr) == 1;
}

void check_host_name(X509* cert, std::string_view url) {
  const std::string host = url_host(url);
  if (host.empty()) {
    throw Error(status::bad_certificate_host_name_invalid, "cannot check the host name: no host in '" + std::string(url) + "'");
  }
  if (names_host(cert, host)) return;
  // A loopback address reaches this machine: a certificate naming this machine is the right one.
  char self[256] = {};
  if (is_loopback(host) && ::gethostname(self, sizeof self - 1) == 0 && (names_host(cert, self) || names_host(cert, "localhost"))) {
    return;
  }
  const CertificateInfo info = describe_x509(cert);
  std::string names;
  for (const auto* list : {&info.dns_names, &info.ip_addresses}) {
    for (const auto& n : *list) names += (names.empty() ? "" : ", ") + n;
  }
  throw Error(status::bad_certificate_host_name_invalid, "the server certificate " + describe_short(cert) +
                                                             " does not name host '" + host + "' (it names: " +
                                                             (names.empty() ? "none" : names) + ")");
}

void check_application_uri(const CertificateInfo& info, const std::string& application_uri) {
  if (application_uri.empty()) return;  // the server did not say: nothing to hold the certificate to
  if (std::find(info.uris.begin(), info.uris.end(), application_uri) != info.uris.end()) return;
  throw Error(status::bad_certificate_uri_invalid,
              "the server certificate '" + info.subject + "' names application URI '" +
                  (info.uris.empty() ? std::string() : info.uris.front()) + "', the server's description says '" +
                  application_uri + "'");
}

// A server certificate signs (digitalSignature) and receives encrypted keys or data.
void check_key_usage(X509* cert) {
  const uint32_t ku = X509_get_key_usage(cert);  // UINT32_MAX: no extension, anything goes
  const uint32_t eku = X509_get_extended_key_usage(cert);
  std::string missing;
  if (!(ku & KU_DIGITAL_SIGNATURE)) missing = "keyUsage digitalSignature";
  else if (!(ku & (KU_KEY_ENCIPHERMENT | KU_DATA_ENCIPHERMENT))) missing = "keyUsage keyEncipherment or dataEncipherment";
  else if (!(eku & XKU_SSL_SERVER)) missing = "extendedKeyUsage serverAuth";
  if (missing.empty()) return;
  throw Error(status::bad_certificate_use_not_allowed,
              "the server certificate " + describe_short(cert) + " lacks " + missing);
}

// The CRL signed by issuer, or null. Several CRLs of one issuer: the newest.
X509_CRL* crl_of(X509* issuer, const std::vector<ssl::CrlPtr>& crls) {
  X509_CRL* best = nullptr;
  EVP_PKEY* key = X509_get0_pubkey(issuer);
  for (const auto& crl : crls) {
    if (X509_NAME_cmp(X509_CRL_get_issuer(crl.get()), X509_get_subject_name(issuer)) != 0) continue;
    if (!key || X509_CRL_verify(crl.get(), key) != 1) continue;
    if (!best || ASN1_TIME_compare(X509_CRL_get0_lastUpdate(crl.get()), X509_CRL_get0_lastUpdate(best)) > 0) {
      best = crl.get();
    }
  }
  return best;
}

// An unknown certificate goes to rejected/ so that an operator can trust it by moving the file.
[[noreturn]] void reject(const std::filesystem::path& dir, X509* cert, std::string_view der) {
  const CertificateInfo info = describe_x509(cert);
  const auto file = pki_path::rejected(dir) / (info.thumbprint + ".der");
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) ssl::write_file(file, der, 0644);
  throw Error(status::bad_certificate_untrusted,
              "the server certificate '" + info.subject + "' (thumbprint " + info.thumbprint +
                  ") is not trusted; it was copied to " + file.string() + ": moving that file to " +
                  pki_path::trusted_certs(dir).string() + "/ trusts it" +
                  (info.self_signed ? "" : " (or trust its issuer CA: put the CA in trusted/certs/, its CRL in trusted/crl/)"));
}

// Every certificate signed by a CA of the chain is looked up in that CA's CRL. A CA without a CRL
// is logged, not fatal: many plants run CAs that never publish one.
void check_revocation(STACK_OF(X509) * chain, const std::vector<ssl::CrlPtr>& crls,
                      const std::function<void(const std::string&)>& warn) {
  for (int i = 0; i + 1 < sk_X509_num(chain); ++i) {
    X509* cert = sk_X509_value(chain, i);
    X509* issuer = sk_X509_value(chain, i + 1);
    X509_CRL* crl = crl_of(issuer, crls);
    if (!crl) {
      warn("PKI: no CRL of " + describe_short(issuer) + " in trusted/crl/ or issuers/crl/: revocation of " +
           describe_short(cert) + " not checked");
      continue;
    }
    X509_REVOKED* entry = nullptr;
    if (X509_CRL_get0_by_cert(crl, &entry, cert) != 1) continue;
    throw Error(i == 0 ? status::bad_certificate_revoked : status::bad_certificate_issuer_revoked,
                std::string(i == 0 ? "the server certificate " : "its issuer ") + describe_short(cert) +
                    " is revoked by the CRL of " + describe_short(issuer));
  }
}

void warn_expiring(STACK_OF(X509) * chain, std::chrono::system_clock::time_point now, uint32_t days,
                   const std::function<void(const std::string&)>& warn) {
  for (int i = 0; i < sk_X509_num(chain); ++i) {
    X509* c = sk_X509_value(chain, i);
    const auto note = expiry_note(to_time_point(X509_get0_notAfter(c)), now, days);
    if (!note.empty()) warn("PKI: " + std::string(i == 0 ? "server certificate " : "issuer ") + describe_short(c) + " " + note);
  }
}

}  // namespace

void Pki::verify_server_certificate(std::string_view der, const EndpointDescription& endpoint,
                                    std::string_view connect_url) const {
  auto cert = ssl::parse_certificate(der);
  if (!cert) {
    throw Error(status::bad_certificate_invalid,
                "the server sent no valid certificate (" + std::to_string(der.size()) + " bytes, not DER X.509)");
  }
  auto log = [this](const std::string& m) { warn(m); };
  const auto trusted = load_certificates(pki_path::trusted_certs(dir_), log);
  const auto issuers = load_certificates(pki_path::issuers_certs(dir_), log);
  ChainResult built = build_chain(cert.get(), trusted, issuers);
  if (!built.chain && !chain_reaches_no_known_issuer(built.error)) {
    const bool issuer_use = built.error == X509_V_ERR_INVALID_CA || built.error == X509_V_ERR_KEYUSAGE_NO_CERTSIGN;
    throw Error(issuer_use ? status::bad_certificate_issuer_use_not_allowed : status::bad_certificate_invalid,
                "the server certificate " + describe_short(cert.get()) + ": " +
                    X509_verify_cert_error_string(built.error) + " (at chain depth " +
                    std::to_string(built.error_depth) + ")");
  }
  if (!built.chain || !trusted_in_chain(built.chain.get(), trusted)) reject(dir_, cert.get(), der);
  check_validity(built.chain.get(), now());
  check_host_name(cert.get(), connect_url.empty() ? std::string_view(endpoint.endpoint_url) : connect_url);
  check_application_uri(describe_x509(cert.get()), endpoint.server.application_uri);
  check_key_usage(cert.get());
  auto crls = load_crls(pki_path::trusted_crl(dir_), log);
  for (auto& crl : load_crls(pki_path::issuers_crl(dir_), log)) crls.push_back(std::move(crl));
  check_revocation(built.chain.get(), crls, log);
  warn_expiring(built.chain.get(), now(), options_.expiry_warning_days, log);
}

}  // namespace oee::opcua
