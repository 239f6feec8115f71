// Our application instance certificate: created on first use in own/ (OPC 10000-6 6.2.2: RSA,
// SHA-256, the application URI in subjectAltName), or loaded from there or from given files.
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <algorithm>

#include "certificate_info.h"
#include "oee/opcua/pki.h"
#include "openssl_handles.h"
#include "pki_store.h"

namespace oee::opcua {
namespace {

std::string local_host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || !buf[0]) return "localhost";
  return buf;
}

void add_extension(X509* cert, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  const bool ok = ext && X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  if (!ok) throw Error(status::bad_certificate_invalid, "cannot add certificate extension " + value + ": " + ssl::last_error());
}

void set_random_serial(X509* cert) {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) throw Error(status::bad_internal_error, "no random bytes: " + ssl::last_error());
  bytes[0] &= 0x7F;  // positive, as RFC 5280 requires
  BIGNUM* bn = BN_bin2bn(bytes, sizeof bytes, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert));
  BN_free(bn);
}

void set_subject(X509* cert, const std::string& common_name, const std::string& host) {
  X509_NAME* name = X509_get_subject_name(cert);
  auto add = [&](const char* field, const std::string& value) {
    X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(value.c_str()), -1, -1, 0);
  };
  add("CN", common_name);
  add("DC", host);
  X509_set_issuer_name(cert, name);
}

// A URI or DNS name with a comma would split the subjectAltName value given to OpenSSL.
void require_plain(const std::string& value, const char* what) {
  if (value.empty() || value.find_first_of(",\n") != std::string::npos) {
    throw Error(status::bad_certificate_invalid, std::string(what) + " '" + value + "' is empty or contains a comma");
  }
}

OwnCertificate create_certificate(const PkiOptions& options, const std::string& application_uri,
                                  std::chrono::system_clock::time_point now) {
  const std::string host = options.host_name.empty() ? local_host_name() : options.host_name;
  require_plain(application_uri, "application URI");
  require_plain(host, "host name");
  ssl::KeyPtr key(EVP_RSA_gen(options.own_key_bits));
  ssl::X509Ptr cert(X509_new());
  if (!key || !cert) throw Error(status::bad_internal_error, "cannot create a key: " + ssl::last_error());
  X509_set_version(cert.get(), 2);  // v3
  set_random_serial(cert.get());
  // Valid from a day back, so a server whose clock is behind ours accepts it at once.
  time_t start = std::chrono::system_clock::to_time_t(now) - 86400;
  X509_time_adj_ex(X509_getm_notBefore(cert.get()), 0, 0, &start);
  X509_time_adj_ex(X509_getm_notAfter(cert.get()), static_cast<int>(options.own_certificate_validity_days) + 1, 0, &start);
  set_subject(cert.get(), options.application_name, host);
  X509_set_pubkey(cert.get(), key.get());
  add_extension(cert.get(), NID_basic_constraints, "critical,CA:FALSE");
  // keyCertSign as well: OPC 10000-6 asks self-signed certificates to carry it.
  add_extension(cert.get(), NID_key_usage,
                "critical,digitalSignature,nonRepudiation,keyEncipherment,dataEncipherment,keyCertSign");
  add_extension(cert.get(), NID_ext_key_usage, "serverAuth,clientAuth");
  add_extension(cert.get(), NID_subject_key_identifier, "hash");
  add_extension(cert.get(), NID_authority_key_identifier, "keyid:always");
  add_extension(cert.get(), NID_subject_alt_name, "URI:" + application_uri + ",DNS:" + host);
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) <= 0) {
    throw Error(status::bad_internal_error, "cannot sign our certificate: " + ssl::last_error());
  }
  OwnCertificate own;
  own.certificate_der = ssl::certificate_der(cert.get());
  own.private_key_pem = ssl::private_key_pem(key.get());
  own.info = describe_x509(cert.get());
  return own;
}

// Reads a certificate and key pair and checks that they belong together.
OwnCertificate load_pair(const std::filesystem::path& certificate_file, const std::filesystem::path& key_file) {
  auto cert = ssl::parse_certificate(ssl::read_file(certificate_file), true);
  if (!cert) throw Error(status::bad_certificate_invalid, certificate_file.string() + " is not a certificate (DER or PEM)");
  OwnCertificate own;
  own.private_key_pem = ssl::read_file(key_file);
  auto key = ssl::parse_private_key_pem(own.private_key_pem);
  if (!key) throw Error(status::bad_certificate_invalid, key_file.string() + " is not an unencrypted PEM private key");
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    throw Error(status::bad_certificate_invalid,
                key_file.string() + " is not the private key of " + certificate_file.string());
  }
  own.certificate_der = ssl::certificate_der(cert.get());
  own.info = describe_x509(cert.get());
  own.certificate_path = certificate_file;
  own.private_key_path = key_file;
  return own;
}

void require_uri(const OwnCertificate& own, const std::string& application_uri, const std::string& remedy) {
  if (std::find(own.info.uris.begin(), own.info.uris.end(), application_uri) != own.info.uris.end()) return;
  throw Error(status::bad_certificate_uri_invalid,
              own.certificate_path.string() + " names application URI '" +
                  (own.info.uris.empty() ? std::string() : own.info.uris.front()) + "', the client sends '" +
                  application_uri + "' (servers reject the mismatch); " + remedy);
}

}  // namespace

const OwnCertificate& Pki::own_certificate(const std::string& application_uri) {
  if (own_loaded_) {
    require_uri(own_, application_uri,
                "use one application URI per PKI directory, or move " + own_.certificate_path.string() + " and " +
                    own_.private_key_path.string() + " away to create a new certificate");
    return own_;
  }
  const auto cert_path = pki_path::own_certificate(dir_), key_path = pki_path::own_private_key(dir_);
  std::error_code ec;
  if (!std::filesystem::exists(cert_path, ec) && !std::filesystem::exists(key_path, ec)) {
    OwnCertificate created = create_certificate(options_, application_uri, now());
    ssl::write_file(key_path, created.private_key_pem, 0600);
    ssl::write_file(cert_path, created.certificate_der, 0644);
    warn("PKI: created our certificate " + cert_path.string() + " (thumbprint " + created.info.thumbprint +
         ", valid until " + format_utc(created.info.not_after) + "); servers must trust it");
  }
  OwnCertificate own = load_pair(cert_path, key_path);
  require_uri(own, application_uri,
              "move " + cert_path.string() + " and " + key_path.string() + " away to create a new certificate");
  const auto note = expiry_note(own.info.not_after, now(), options_.expiry_warning_days);
  if (own.info.not_after <= now()) {
    throw Error(status::bad_certificate_time_invalid,
                "our certificate " + cert_path.string() + " " + note + "; renew it: move it and " + key_path.string() +
                    " away, a new one is created at the next start (servers must then trust the new one)");
  }
  if (!note.empty()) warn("PKI: our certificate " + cert_path.string() + " " + note + "; renew it (docs/opcua.md)");
  own_ = std::move(own);
  own_loaded_ = true;
  return own_;
}

const OwnCertificate& Pki::use_own_certificate(const std::filesystem::path& certificate_file,
                                               const std::filesystem::path& private_key_file,
                                               const std::string& application_uri) {
  OwnCertificate own = load_pair(certificate_file, private_key_file);
  require_uri(own, application_uri, "give a certificate issued for the client's application URI");
  const auto note = expiry_note(own.info.not_after, now(), options_.expiry_warning_days);
  if (own.info.not_after <= now()) {
    throw Error(status::bad_certificate_time_invalid, "certificate " + certificate_file.string() + " " + note);
  }
  if (!note.empty()) warn("PKI: our certificate " + certificate_file.string() + " " + note);
  own_ = std::move(own);
  own_loaded_ = true;
  return own_;
}

}  // namespace oee::opcua
