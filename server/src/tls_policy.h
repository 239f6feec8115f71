#pragma once
// What the HTTPS endpoint offers, in one place for every TLS context the server makes (see
// docs/security.md, "Security testing": testssl.sh checks it).
#include <openssl/ssl.h>

namespace oee::server {

// TLS 1.2 and 1.3 only; under 1.2 forward-secret AEAD suites only (no NULL, EXPORT, RC4, 3DES, CBC
// or anonymous ones), in the server's order of preference; no compression (CRIME) and no
// renegotiation. TLS 1.3's suites are all strong: OpenSSL's defaults stay. Throws
// std::runtime_error when OpenSSL refuses the policy.
void apply_tls_policy(SSL_CTX* context);

}  // namespace oee::server
