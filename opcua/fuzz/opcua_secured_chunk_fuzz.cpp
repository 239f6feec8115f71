// libFuzzer target: secured chunks (Basic256Sha256, Sign or SignAndEncrypt) into the chunk
// assembler. Byte 0 picks the mode and whether records arrive as they are (signature checks must
// reject them) or are first protected by a peer holding the server's keys (so decryption, padding
// and the assembler behind them are reached). Then records as in opcua_chunk_fuzz: 2-byte length,
// bytes.
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "oee/opcua/chunk_assembler.h"
#include "oee/opcua/security_policy.h"

using namespace oee::opcua;

namespace {

// A throwaway self-signed RSA certificate and key, made once.
ApplicationCredentials make_credentials() {
  EVP_PKEY* key = EVP_RSA_gen(1024);
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("fuzz"), -1, -1, 0);
  X509_set_issuer_name(cert, X509_get_subject_name(cert));
  X509_sign(cert, key, EVP_sha256());
  unsigned char* der = nullptr;
  const int der_size = i2d_X509(cert, &der);
  ApplicationCredentials c;
  c.certificate_der.assign(reinterpret_cast<char*>(der), static_cast<size_t>(der_size));
  OPENSSL_free(der);
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* pem = nullptr;
  const long pem_size = BIO_get_mem_data(bio, &pem);
  c.private_key.assign(pem, static_cast<size_t>(pem_size));
  BIO_free(bio);
  X509_free(cert);
  EVP_PKEY_free(key);
  return c;
}

const std::string kClientNonce(32, 'c'), kServerNonce(32, 's');
constexpr uint32_t kToken = 7;

// Ours, and a peer whose sending keys are our receiving keys (the nonces swapped).
std::unique_ptr<SecurityPolicy> make_policy(MessageSecurityMode mode, bool peer) {
  static const ApplicationCredentials credentials = make_credentials();
  auto p = make_security_policy("http://opcfoundation.org/UA/SecurityPolicy#Basic256Sha256", mode, credentials,
                                credentials.certificate_der);
  if (peer) {
    p->derive_keys(kServerNonce, kClientNonce, kToken);
  } else {
    p->derive_keys(kClientNonce, kServerNonce, kToken);
  }
  return p;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const auto mode = (data[0] & 1) ? MessageSecurityMode::sign_and_encrypt : MessageSecurityMode::sign;
  const bool protect = data[0] & 2;
  auto ours = make_policy(mode, false);
  auto peer = make_policy(mode, true);
  ChunkAssembler assembler(ChunkLimits{8192, 64 * 1024, 16, 4}, ours.get());
  size_t offset = 1;
  while (offset + 2 <= size) {
    const size_t length = static_cast<size_t>(data[offset]) | static_cast<size_t>(data[offset + 1]) << 8;
    offset += 2;
    if (length > size - offset) break;
    std::vector<uint8_t> chunk(data + offset, data + offset + length);
    offset += length;
    if (protect && chunk.size() >= 24 && chunk.size() < 4096) {
      // A well-formed MSG header with our token; the body is the fuzzer's.
      chunk[0] = 'M', chunk[1] = 'S', chunk[2] = 'G';
      for (int i = 0; i < 4; ++i) chunk[4 + i] = static_cast<uint8_t>(chunk.size() >> (8 * i));
      for (int i = 0; i < 4; ++i) chunk[12 + i] = static_cast<uint8_t>(kToken >> (8 * i));
      peer->protect_chunk(chunk, 16, false);
    }
    try {
      auto message = assembler.add_chunk(chunk);
      if (message && !message->aborted && message->body.size() > 64 * 1024) __builtin_trap();  // limit broken
    } catch (const Error&) {
      return 0;  // a protocol violation closes the channel
    }
  }
  return 0;
}
