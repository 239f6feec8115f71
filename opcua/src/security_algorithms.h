#pragma once
// The algorithm suites of the OPC UA security policies (OPC 10000-7 profiles, OPC 10000-6 6.1) and
// the OpenSSL 3 primitives they are built from: RSA signatures and encryption, HMAC, P_SHA key
// derivation, AES-CBC. Used by the secured SecurityPolicy, the session signatures and the
// encrypted user-name secrets.
#include <openssl/evp.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "oee/opcua/status_code.h"

namespace oee::opcua {

// Status codes the crypto checks report (not all have a named constant).
inline constexpr StatusCode kBadNonceInvalid{0x80240000u};
inline constexpr StatusCode kBadCertificateUntrusted{0x801A0000u};
inline constexpr StatusCode kBadApplicationSignatureInvalid{0x80580000u};
inline constexpr StatusCode kBadSecurityModeRejected{0x80540000u};

enum class RsaPadding { pkcs1, oaep_sha1, oaep_sha256 };
enum class RsaSignature { pkcs1_sha1, pkcs1_sha256, pss_sha256 };

struct SecuritySuite {
  std::string_view name;
  std::string_view uri;
  bool deprecated;
  RsaSignature asymmetric_signature;
  RsaPadding asymmetric_encryption;
  bool sha256;                  // HMAC and P_SHA hash: SHA-256, else SHA-1
  size_t signing_key_size;      // symmetric
  size_t encryption_key_size;   // AES-128 or AES-256
  size_t nonce_size;
  std::string_view signature_algorithm_uri;   // session signatures
  std::string_view encryption_algorithm_uri;  // user-name secrets
};

// nullptr when the URI names no policy we implement (None has no suite).
const SecuritySuite* find_security_suite(std::string_view uri);

struct EvpPkeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using PrivateKey = std::unique_ptr<EVP_PKEY, EvpPkeyDeleter>;

// The public key of a DER certificate; throws Error(BadCertificateInvalid).
PrivateKey certificate_public_key(std::string_view certificate_der);
// A private key in PEM or DER; throws Error(BadCertificateInvalid).
PrivateKey parse_private_key(std::string_view pem_or_der);
size_t rsa_key_bytes(EVP_PKEY* key);
std::string sha1_thumbprint(std::string_view certificate_der);

std::string rsa_sign(EVP_PKEY* key, RsaSignature algorithm, std::string_view data);
bool rsa_verify(EVP_PKEY* key, RsaSignature algorithm, std::string_view data, std::string_view signature);
// Plain text bytes one RSA block carries with this padding.
size_t rsa_plain_block_size(size_t key_bytes, RsaPadding padding);
// Block by block as the key allows.
std::string rsa_encrypt(EVP_PKEY* key, RsaPadding padding, std::string_view plain);
std::string rsa_decrypt(EVP_PKEY* key, RsaPadding padding, std::string_view cipher);

std::string hmac(bool sha256, std::string_view key, std::string_view data);
// P_SHA1 / P_SHA256 of OPC 10000-6 6.7.5 (the TLS PRF): length bytes from secret and seed.
std::string p_sha(bool sha256, std::string_view secret, std::string_view seed, size_t length);
// AES-CBC without padding over whole blocks, in place.
void aes_cbc(bool encrypt, std::string_view key, std::string_view iv, uint8_t* data, size_t size);
std::string random_bytes(size_t n);

}  // namespace oee::opcua
