// Certificates and keys from files, as the command line and the edge name them.
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <fstream>
#include <sstream>

#include "oee/opcua/security_policy.h"
#include "security_algorithms.h"

namespace oee::opcua {
namespace {

std::string read_whole(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(status::bad_certificate_invalid, std::string("cannot read the ") + what + " " + path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// DER as it is; PEM is converted.
std::string certificate_der(const std::string& contents, const std::string& path) {
  if (!contents.starts_with("-----")) {
    certificate_public_key(contents);  // parses, or throws
    return contents;
  }
  BIO* bio = BIO_new_mem_buf(contents.data(), static_cast<int>(contents.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (!cert) throw Error(status::bad_certificate_invalid, "no PEM certificate in " + path);
  unsigned char* der = nullptr;
  const int size = i2d_X509(cert, &der);
  X509_free(cert);
  if (size <= 0) throw Error(status::bad_certificate_invalid, "cannot encode the certificate of " + path);
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(size));
  OPENSSL_free(der);
  return out;
}

}  // namespace

ApplicationCredentials load_credentials(const std::string& certificate_file, const std::string& private_key_file) {
  ApplicationCredentials c;
  try {
    c.certificate_der = certificate_der(read_whole(certificate_file, "certificate"), certificate_file);
  } catch (const Error& e) {
    throw Error(e.status(), certificate_file + ": " + e.what());
  }
  c.private_key = read_whole(private_key_file, "private key");
  try {
    parse_private_key(c.private_key);
  } catch (const Error& e) {
    throw Error(e.status(), private_key_file + ": " + e.what());
  }
  return c;
}

}  // namespace oee::opcua
