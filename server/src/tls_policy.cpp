#include "tls_policy.h"

#include <stdexcept>

namespace oee::server {

void apply_tls_policy(SSL_CTX* context) {
  SSL_CTX_set_options(context, SSL_OP_ALL | SSL_OP_NO_SSLv2 | SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1 |
                                   SSL_OP_SINGLE_DH_USE | SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                                   SSL_OP_NO_RENEGOTIATION);
  if (SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_cipher_list(context, "ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:DHE+CHACHA20:!aNULL:!eNULL") != 1)
    throw std::runtime_error("OpenSSL refused the server's TLS policy (TLS 1.2+, AEAD ciphers)");
}

}  // namespace oee::server
