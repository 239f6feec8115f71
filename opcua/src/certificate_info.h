#pragma once
// What a certificate says about itself, from an OpenSSL certificate (internal to the PKI code).
#include <openssl/x509.h>

#include <chrono>

#include "oee/opcua/pki.h"

namespace oee::opcua {

CertificateInfo describe_x509(X509* cert);
std::chrono::system_clock::time_point to_time_point(const ASN1_TIME* t);

}  // namespace oee::opcua
