#pragma once
// Owning handles for the OpenSSL objects of the PKI code, and the conversions between them and
// the DER/PEM bytes the rest of the client holds. Internal: keeps OpenSSL out of public headers.
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace oee::opcua::ssl {

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct CrlFree {
  void operator()(X509_CRL* c) const { X509_CRL_free(c); }
};
struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;
using CrlPtr = std::unique_ptr<X509_CRL, CrlFree>;
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyFree>;

// nullptr when the bytes are not a certificate (DER, or PEM when allow_pem).
X509Ptr parse_certificate(std::string_view bytes, bool allow_pem = false);
CrlPtr parse_crl(std::string_view bytes);  // DER or PEM; nullptr when not a CRL
KeyPtr parse_private_key_pem(std::string_view pem);
std::string certificate_der(X509* cert);
std::string private_key_pem(EVP_PKEY* key);

// The file's bytes; throws Error(BadCertificateInvalid) naming the file when it cannot be read.
std::string read_file(const std::filesystem::path& path);
// Writes atomically (temporary file, then rename) with the given mode.
void write_file(const std::filesystem::path& path, std::string_view bytes, unsigned mode);

// The most recent OpenSSL error as text, for messages.
std::string last_error();

}  // namespace oee::opcua::ssl
