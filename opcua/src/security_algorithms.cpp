// The security policies' algorithm suites and their OpenSSL 3 primitives.
#include "security_algorithms.h"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include <array>

namespace oee::opcua {
namespace {

constexpr std::string_view kRsaSha1 = "http://www.w3.org/2000/09/xmldsig#rsa-sha1";
constexpr std::string_view kRsaSha256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
constexpr std::string_view kRsaPssSha256 = "http://opcfoundation.org/UA/security/rsa-pss-sha2-256";
constexpr std::string_view kRsa15 = "http://www.w3.org/2001/04/xmlenc#rsa-1_5";
constexpr std::string_view kRsaOaep = "http://www.w3.org/2001/04/xmlenc#rsa-oaep";
constexpr std::string_view kRsaOaepSha256 = "http://opcfoundation.org/UA/security/rsa-oaep-sha2-256";

constexpr std::array<SecuritySuite, 5> kSuites{{
    {"Basic128Rsa15", "http://opcfoundation.org/UA/SecurityPolicy#Basic128Rsa15", true, RsaSignature::pkcs1_sha1,
     RsaPadding::pkcs1, false, 16, 16, 16, kRsaSha1, kRsa15},
    {"Basic256", "http://opcfoundation.org/UA/SecurityPolicy#Basic256", true, RsaSignature::pkcs1_sha1,
     RsaPadding::oaep_sha1, false, 24, 32, 32, kRsaSha1, kRsaOaep},
    {"Basic256Sha256", "http://opcfoundation.org/UA/SecurityPolicy#Basic256Sha256", false, RsaSignature::pkcs1_sha256,
     RsaPadding::oaep_sha1, true, 32, 32, 32, kRsaSha256, kRsaOaep},
    {"Aes128_Sha256_RsaOaep", "http://opcfoundation.org/UA/SecurityPolicy#Aes128_Sha256_RsaOaep", false,
     RsaSignature::pkcs1_sha256, RsaPadding::oaep_sha1, true, 32, 16, 32, kRsaSha256, kRsaOaep},
    {"Aes256_Sha256_RsaPss", "http://opcfoundation.org/UA/SecurityPolicy#Aes256_Sha256_RsaPss", false,
     RsaSignature::pss_sha256, RsaPadding::oaep_sha256, true, 32, 32, 32, kRsaPssSha256, kRsaOaepSha256},
}};

struct PkeyCtxDeleter {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
using PkeyCtx = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter>;

const unsigned char* bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }
unsigned char* bytes(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

[[noreturn]] void fail(const char* what) { throw Error(status::bad_security_checks_failed, what); }

void set_padding(EVP_PKEY_CTX* ctx, RsaPadding padding) {
  const bool ok =
      padding == RsaPadding::pkcs1
          ? EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) > 0
          : EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) > 0 &&
                (padding == RsaPadding::oaep_sha1 || (EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha256()) > 0 &&
                                                      EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) > 0));
  if (!ok) fail("OpenSSL RSA padding setup failed");
}

const EVP_MD* signature_md(RsaSignature algorithm) {
  return algorithm == RsaSignature::pkcs1_sha1 ? EVP_sha1() : EVP_sha256();
}

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

// A digest context set up for signing or verifying; *pctx is owned by it.
std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> signature_context(EVP_PKEY* key, RsaSignature algorithm, bool sign) {
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> md(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  const int ok = sign ? EVP_DigestSignInit(md.get(), &pctx, signature_md(algorithm), nullptr, key)
                      : EVP_DigestVerifyInit(md.get(), &pctx, signature_md(algorithm), nullptr, key);
  if (!md || ok <= 0) fail("OpenSSL signature setup failed");
  if (algorithm == RsaSignature::pss_sha256 &&
      (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
       EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) <= 0)) {
    fail("OpenSSL RSA-PSS setup failed");
  }
  return md;
}

}  // namespace

const SecuritySuite* find_security_suite(std::string_view uri) {
  for (const auto& suite : kSuites) {
    if (suite.uri == uri) return &suite;
  }
  return nullptr;
}

PrivateKey certificate_public_key(std::string_view certificate_der) {
  const unsigned char* p = bytes(certificate_der);
  X509* cert = d2i_X509(nullptr, &p, static_cast<long>(certificate_der.size()));
  if (!cert) throw Error(status::bad_certificate_invalid, "cannot parse the certificate");
  PrivateKey key(X509_get_pubkey(cert));
  X509_free(cert);
  if (!key || EVP_PKEY_base_id(key.get()) != EVP_PKEY_RSA) {
    throw Error(status::bad_certificate_invalid, "certificate has no RSA key");
  }
  return key;
}

PrivateKey parse_private_key(std::string_view pem_or_der) {
  EVP_PKEY* key = nullptr;
  if (pem_or_der.starts_with("-----")) {
    BIO* bio = BIO_new_mem_buf(pem_or_der.data(), static_cast<int>(pem_or_der.size()));
    key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
  } else {
    const unsigned char* p = bytes(pem_or_der);
    key = d2i_AutoPrivateKey(nullptr, &p, static_cast<long>(pem_or_der.size()));
  }
  if (!key || EVP_PKEY_base_id(key) != EVP_PKEY_RSA) {
    EVP_PKEY_free(key);
    throw Error(status::bad_certificate_invalid, "cannot parse the RSA private key (PEM or DER)");
  }
  return PrivateKey(key);
}

size_t rsa_key_bytes(EVP_PKEY* key) { return static_cast<size_t>(EVP_PKEY_get_size(key)); }

std::string sha1_thumbprint(std::string_view certificate_der) {
  std::string out(SHA_DIGEST_LENGTH, '\0');
  SHA1(bytes(certificate_der), certificate_der.size(), bytes(out));
  return out;
}

std::string rsa_sign(EVP_PKEY* key, RsaSignature algorithm, std::string_view data) {
  auto md = signature_context(key, algorithm, true);
  size_t size = rsa_key_bytes(key);
  std::string out(size, '\0');
  if (EVP_DigestSign(md.get(), bytes(out), &size, bytes(data), data.size()) <= 0) fail("OpenSSL RSA signing failed");
  out.resize(size);
  return out;
}

bool rsa_verify(EVP_PKEY* key, RsaSignature algorithm, std::string_view data, std::string_view signature) {
  auto md = signature_context(key, algorithm, false);
  return EVP_DigestVerify(md.get(), bytes(signature), signature.size(), bytes(data), data.size()) == 1;
}

size_t rsa_plain_block_size(size_t key_bytes, RsaPadding padding) {
  const size_t overhead = padding == RsaPadding::pkcs1 ? 11 : padding == RsaPadding::oaep_sha1 ? 42 : 66;
  return key_bytes > overhead ? key_bytes - overhead : 0;
}

std::string rsa_encrypt(EVP_PKEY* key, RsaPadding padding, std::string_view plain) {
  const size_t key_bytes = rsa_key_bytes(key);
  const size_t block = rsa_plain_block_size(key_bytes, padding);
  if (block == 0) throw Error(status::bad_certificate_invalid, "RSA key too small");
  std::string out;
  for (size_t offset = 0; offset < plain.size(); offset += block) {
    PkeyCtx ctx(EVP_PKEY_CTX_new(key, nullptr));
    if (!ctx || EVP_PKEY_encrypt_init(ctx.get()) <= 0) fail("OpenSSL RSA encryption setup failed");
    set_padding(ctx.get(), padding);
    const std::string_view part = plain.substr(offset, block);
    std::string encrypted(key_bytes, '\0');
    size_t size = key_bytes;
    if (EVP_PKEY_encrypt(ctx.get(), bytes(encrypted), &size, bytes(part), part.size()) <= 0) {
      fail("OpenSSL RSA encryption failed");
    }
    out.append(encrypted.data(), size);
  }
  return out;
}

std::string rsa_decrypt(EVP_PKEY* key, RsaPadding padding, std::string_view cipher) {
  const size_t key_bytes = rsa_key_bytes(key);
  if (cipher.size() % key_bytes != 0) fail("RSA cipher text is not a whole number of blocks");
  std::string out;
  for (size_t offset = 0; offset < cipher.size(); offset += key_bytes) {
    PkeyCtx ctx(EVP_PKEY_CTX_new(key, nullptr));
    if (!ctx || EVP_PKEY_decrypt_init(ctx.get()) <= 0) fail("OpenSSL RSA decryption setup failed");
    set_padding(ctx.get(), padding);
    std::string plain(key_bytes, '\0');
    size_t size = key_bytes;
    if (EVP_PKEY_decrypt(ctx.get(), bytes(plain), &size, bytes(cipher.substr(offset, key_bytes)), key_bytes) <= 0) {
      fail("RSA decryption failed (not encrypted for our certificate?)");
    }
    out.append(plain.data(), size);
  }
  return out;
}

std::string hmac(bool sha256, std::string_view key, std::string_view data) {
  std::string out(EVP_MAX_MD_SIZE, '\0');
  unsigned int size = 0;
  if (!HMAC(sha256 ? EVP_sha256() : EVP_sha1(), key.data(), static_cast<int>(key.size()), bytes(data), data.size(),
            bytes(out), &size)) {
    fail("OpenSSL HMAC failed");
  }
  out.resize(size);
  return out;
}

std::string p_sha(bool sha256, std::string_view secret, std::string_view seed, size_t length) {
  std::string out;
  std::string a(seed);  // A(0)
  while (out.size() < length) {
    a = hmac(sha256, secret, a);  // A(i) = HMAC(secret, A(i-1))
    out += hmac(sha256, secret, a + std::string(seed));
  }
  out.resize(length);
  return out;
}

void aes_cbc(bool encrypt, std::string_view key, std::string_view iv, uint8_t* data, size_t size) {
  const EVP_CIPHER* cipher = key.size() == 16 ? EVP_aes_128_cbc() : EVP_aes_256_cbc();
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  int out = 0;
  const bool ok = ctx && EVP_CipherInit_ex(ctx, cipher, nullptr, bytes(key), bytes(iv), encrypt ? 1 : 0) == 1 &&
                  EVP_CIPHER_CTX_set_padding(ctx, 0) == 1 &&
                  EVP_CipherUpdate(ctx, data, &out, data, static_cast<int>(size)) == 1;
  EVP_CIPHER_CTX_free(ctx);
  if (!ok || static_cast<size_t>(out) != size) fail("AES-CBC failed (not a whole number of blocks?)");
}

std::string random_bytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(bytes(out), static_cast<int>(n)) != 1) throw Error(status::bad_internal_error, "no random bytes from OpenSSL");
  return out;
}

}  // namespace oee::opcua
