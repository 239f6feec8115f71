// Identity tokens, and the OpenSSL RSA-OAEP that user-name passwords need on a None channel.
#include "user_identity_token.h"

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <memory>

#include "service_messages.h"

namespace oee::opcua {
namespace {

constexpr std::string_view kRsaOaep = "http://www.w3.org/2001/04/xmlenc#rsa-oaep";
constexpr std::string_view kRsaOaepSha256 = "http://opcfoundation.org/UA/security/rsa-oaep-sha2-256";

struct X509Deleter {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct PkeyCtxDeleter {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};

}  // namespace

IdentityTokenChoice choose_identity_token(const std::vector<EndpointDescription>& endpoints, UserTokenType wanted) {
  for (const auto& e : endpoints) {
    if (e.security_mode != MessageSecurityMode::none) continue;
    for (const auto& p : e.user_identity_tokens) {
      if (p.token_type == wanted) return IdentityTokenChoice{&p, e.security_policy_uri};
    }
  }
  throw Error(status::bad_identity_token_invalid,
              wanted == UserTokenType::anonymous ? "server offers no anonymous login on a None endpoint"
                                                 : "server offers no user-name login on a None endpoint");
}

std::string rsa_oaep_encrypt(const std::string& certificate_der, const std::string& plain, bool oaep_sha256) {
  const auto* p = reinterpret_cast<const unsigned char*>(certificate_der.data());
  std::unique_ptr<X509, X509Deleter> cert(d2i_X509(nullptr, &p, static_cast<long>(certificate_der.size())));
  if (!cert) throw Error(status::bad_certificate_invalid, "cannot parse the server certificate");
  std::unique_ptr<EVP_PKEY, PkeyDeleter> key(X509_get_pubkey(cert.get()));
  if (!key || EVP_PKEY_base_id(key.get()) != EVP_PKEY_RSA) {
    throw Error(status::bad_certificate_invalid, "server certificate has no RSA key");
  }
  const size_t key_bytes = static_cast<size_t>(EVP_PKEY_get_size(key.get()));
  const size_t hash_bytes = oaep_sha256 ? 32 : 20;
  if (key_bytes <= 2 * hash_bytes + 2) throw Error(status::bad_certificate_invalid, "RSA key too small");
  const size_t block = key_bytes - 2 * hash_bytes - 2;
  std::string out;
  for (size_t offset = 0; offset < plain.size(); offset += block) {
    std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter> ctx(EVP_PKEY_CTX_new(key.get(), nullptr));
    if (!ctx || EVP_PKEY_encrypt_init(ctx.get()) <= 0 ||
        EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING) <= 0 ||
        (oaep_sha256 && (EVP_PKEY_CTX_set_rsa_oaep_md(ctx.get(), EVP_sha256()) <= 0 ||
                         EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), EVP_sha256()) <= 0))) {
      throw Error(status::bad_internal_error, "OpenSSL RSA-OAEP setup failed");
    }
    const size_t n = std::min(block, plain.size() - offset);
    size_t out_len = key_bytes;
    std::string encrypted(key_bytes, '\0');
    if (EVP_PKEY_encrypt(ctx.get(), reinterpret_cast<unsigned char*>(encrypted.data()), &out_len,
                         reinterpret_cast<const unsigned char*>(plain.data() + offset), n) <= 0) {
      throw Error(status::bad_internal_error, "OpenSSL RSA-OAEP encryption failed");
    }
    out.append(encrypted.data(), out_len);
  }
  return out;
}

ExtensionObject make_identity_token(const IdentityTokenChoice& choice, const std::string& user_name,
                                    const std::string& password, const std::string& server_certificate,
                                    const std::string& server_nonce) {
  ExtensionObject token;
  token.encoding = ExtensionObject::Encoding::binary;
  std::vector<uint8_t> body;
  BinaryWriter w(body);
  if (choice.policy->token_type == UserTokenType::anonymous) {
    token.type_id = NodeId(0, type_id::anonymous_identity_token);
    w.string(choice.policy->policy_id);
  } else {
    token.type_id = NodeId(0, type_id::user_name_identity_token);
    // The token policy's security policy wins; empty means the endpoint's (OPC 10000-4 7.41).
    std::string policy = choice.policy->security_policy_uri;
    if (policy.empty()) policy = choice.endpoint_security_policy_uri;
    std::string secret = password;
    std::string algorithm;
    if (policy != kSecurityPolicyNoneUri) {
      if (policy.ends_with("#Basic128Rsa15")) {
        throw Error(status::bad_security_policy_rejected, "Basic128Rsa15 (RSA PKCS#1 v1.5) is not supported");
      }
      const bool sha256 = policy.ends_with("#Aes256_Sha256_RsaPss");
      if (server_certificate.empty()) throw Error(status::bad_certificate_invalid, "server sent no certificate to encrypt the password");
      // Legacy encrypted secret: length, password, server nonce (OPC 10000-4 7.41.2.2).
      std::string plain;
      const uint32_t length = static_cast<uint32_t>(password.size() + server_nonce.size());
      for (int i = 0; i < 4; ++i) plain += static_cast<char>((length >> (8 * i)) & 0xFF);
      plain += password;
      plain += server_nonce;
      secret = rsa_oaep_encrypt(server_certificate, plain, sha256);
      algorithm = sha256 ? kRsaOaepSha256 : kRsaOaep;
    }
    w.string(choice.policy->policy_id);
    w.string(user_name);
    w.string(secret);
    if (algorithm.empty()) w.null_string(); else w.string(algorithm);
  }
  token.body.assign(body.begin(), body.end());
  return token;
}

}  // namespace oee::opcua
