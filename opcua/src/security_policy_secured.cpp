// The RSA/AES security policies in mode Sign or SignAndEncrypt (OPC 10000-6 6.7.2 message chunks,
// 6.7.4 OpenSecureChannel, 6.7.5 key derivation).
#include <openssl/crypto.h>

#include <cstring>
#include <map>
#include <mutex>

#include "oee/opcua/binary_encoding.h"
#include "oee/opcua/security_policy.h"
#include "security_algorithms.h"

namespace oee::opcua {
namespace {

constexpr size_t kAesBlockSize = 16;
constexpr size_t kMaxTokensKept = 3;  // the current one and those the server may still use

struct SymmetricKeys {
  std::string signing, encrypting, iv;
};

SymmetricKeys split_keys(const SecuritySuite& suite, const std::string& material) {
  const size_t s = suite.signing_key_size, e = suite.encryption_key_size;
  return {material.substr(0, s), material.substr(s, e), material.substr(s + e, kAesBlockSize)};
}

void write_u32_at(std::vector<uint8_t>& buffer, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) buffer[at + i] = static_cast<uint8_t>(v >> (8 * i));
}

uint32_t read_u32_at(std::span<const uint8_t> buffer, size_t at) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(buffer[at + i]) << (8 * i);
  return v;
}

std::string_view view(std::span<const uint8_t> s) { return {reinterpret_cast<const char*>(s.data()), s.size()}; }

// Appends PaddingSize, the padding and (for RSA keys above 2048 bits) ExtraPaddingSize so that
// plain + padding + signature fill whole blocks (OPC 10000-6 6.7.2.5).
void append_padding(std::vector<uint8_t>& chunk, size_t plain_size, size_t signature_size, size_t block,
                     bool extra_byte) {
  const size_t fixed = plain_size + 1 + (extra_byte ? 1 : 0) + signature_size;
  const size_t padding = (block - fixed % block) % block;
  chunk.insert(chunk.end(), padding + 1, static_cast<uint8_t>(padding & 0xFF));
  if (extra_byte) chunk.push_back(static_cast<uint8_t>(padding >> 8));
}

// The size of the padding that ends at `end` (exclusive), checked byte by byte.
size_t padding_size(std::span<const uint8_t> chunk, size_t begin, size_t end, bool extra_byte) {
  if (end <= begin + (extra_byte ? 1 : 0)) throw Error(status::bad_security_checks_failed, "chunk has no padding");
  size_t at = end - 1;
  size_t padding = 0;
  if (extra_byte) padding = static_cast<size_t>(chunk[at--]) << 8;
  padding |= chunk[at];
  const size_t total = padding + 1 + (extra_byte ? 1 : 0);
  if (total > end - begin) throw Error(status::bad_security_checks_failed, "padding longer than the chunk");
  for (size_t i = end - total; i < at; ++i) {
    if (chunk[i] != chunk[at]) throw Error(status::bad_security_checks_failed, "malformed padding");
  }
  return total;
}

class SecuredPolicy final : public SecurityPolicy {
 public:
  SecuredPolicy(const SecuritySuite& suite, MessageSecurityMode mode, const ApplicationCredentials& own,
                std::string server_certificate)
      : suite_(suite),
        mode_(mode),
        own_certificate_(own.certificate_der),
        own_key_(parse_private_key(own.private_key)),
        server_certificate_(std::move(server_certificate)),
        server_key_(certificate_public_key(server_certificate_)) {
    if (own_certificate_.empty()) throw Error(status::bad_certificate_invalid, "no client certificate");
    certificate_public_key(own_certificate_);  // parses, or throws
  }

  std::string_view uri() const override { return suite_.uri; }
  MessageSecurityMode mode() const override { return mode_; }
  std::string sender_certificate() const override { return own_certificate_; }
  std::string receiver_certificate_thumbprint() const override { return sha1_thumbprint(server_certificate_); }
  std::string make_client_nonce() override { return random_bytes(suite_.nonce_size); }

  void derive_keys(std::string_view client_nonce, std::string_view server_nonce, uint32_t token_id) override {
    if (server_nonce.size() != suite_.nonce_size) {
      throw Error(kBadNonceInvalid, "server nonce has " + std::to_string(server_nonce.size()) + " bytes, " +
                                        std::string(suite_.name) + " needs " + std::to_string(suite_.nonce_size));
    }
    const size_t length = suite_.signing_key_size + suite_.encryption_key_size + kAesBlockSize;
    TokenKeys keys{split_keys(suite_, p_sha(suite_.sha256, server_nonce, client_nonce, length)),
                   split_keys(suite_, p_sha(suite_.sha256, client_nonce, server_nonce, length))};
    std::lock_guard lock(keys_mutex_);
    tokens_[token_id] = std::move(keys);
    while (tokens_.size() > kMaxTokensKept) tokens_.erase(tokens_.begin());
  }

  size_t max_body_size(size_t chunk_size, size_t header_size, bool asymmetric) const override {
    const size_t prefix = header_size - 8;  // everything before the sequence header
    if (chunk_size <= prefix) return 0;
    const size_t room = chunk_size - prefix;
    if (asymmetric) {
      const size_t key_bytes = rsa_key_bytes(server_key_.get());
      const size_t plain = room / key_bytes * rsa_plain_block_size(key_bytes, suite_.asymmetric_encryption);
      const size_t fixed = 8 + 1 + (key_bytes > 256 ? 1 : 0) + rsa_key_bytes(own_key_.get());
      return plain > fixed ? plain - fixed : 0;
    }
    const size_t signature = suite_.sha256 ? 32 : 20;
    if (mode_ == MessageSecurityMode::sign) return room > 8 + signature ? room - 8 - signature : 0;
    const size_t fixed = 8 + 1 + signature;
    const size_t blocks = room / kAesBlockSize * kAesBlockSize;
    return blocks > fixed ? blocks - fixed : 0;
  }

  void protect_chunk(std::vector<uint8_t>& chunk, size_t security_header_end, bool asymmetric) override {
    if (asymmetric) {
      protect_asymmetric(chunk, security_header_end);
    } else {
      protect_symmetric(chunk, security_header_end);
    }
  }

  size_t unprotect_chunk(std::span<uint8_t> chunk, size_t security_header_end, bool asymmetric) override {
    return asymmetric ? unprotect_asymmetric(chunk, security_header_end)
                      : unprotect_symmetric(chunk, security_header_end);
  }

  std::string_view signature_algorithm_uri() const override { return suite_.signature_algorithm_uri; }
  std::string sign(std::string_view data) const override {
    return rsa_sign(own_key_.get(), suite_.asymmetric_signature, data);
  }
  bool verify(std::string_view data, std::string_view signature) const override {
    return rsa_verify(server_key_.get(), suite_.asymmetric_signature, data, signature);
  }

 private:
  struct TokenKeys {
    SymmetricKeys client, server;  // client: what we send with; server: what we receive with
  };

  TokenKeys keys_for(uint32_t token_id) const {
    std::lock_guard lock(keys_mutex_);
    auto it = tokens_.find(token_id);
    if (it == tokens_.end()) {
      throw Error(status::bad_secure_channel_id_invalid, "no keys for security token " + std::to_string(token_id));
    }
    return it->second;
  }

  bool encrypting() const { return mode_ == MessageSecurityMode::sign_and_encrypt; }

  void protect_asymmetric(std::vector<uint8_t>& chunk, size_t security_header_end) {
    const size_t server_key_bytes = rsa_key_bytes(server_key_.get());
    const size_t block = rsa_plain_block_size(server_key_bytes, suite_.asymmetric_encryption);
    const size_t signature_size = rsa_key_bytes(own_key_.get());
    append_padding(chunk, chunk.size() - security_header_end, signature_size, block, server_key_bytes > 256);
    const size_t plain_size = chunk.size() - security_header_end + signature_size;
    write_u32_at(chunk, 4, static_cast<uint32_t>(security_header_end + plain_size / block * server_key_bytes));
    const std::string signature = rsa_sign(own_key_.get(), suite_.asymmetric_signature, view(chunk));
    chunk.insert(chunk.end(), signature.begin(), signature.end());
    const std::string cipher = rsa_encrypt(server_key_.get(), suite_.asymmetric_encryption,
                                           view(std::span(chunk).subspan(security_header_end)));
    chunk.resize(security_header_end);
    chunk.insert(chunk.end(), cipher.begin(), cipher.end());
  }

  // The server's OpenSecureChannel response: its certificate must be the one we encrypted for.
  void check_asymmetric_header(std::span<const uint8_t> chunk, size_t security_header_end) const {
    BinaryReader r(chunk.data() + 12, security_header_end - 12);
    if (r.string() != suite_.uri) throw Error(status::bad_security_policy_rejected, "server answered with another security policy");
    if (r.string() != server_certificate_) {
      throw Error(kBadCertificateUntrusted, "server signed with a certificate other than its endpoint's");
    }
    if (r.string() != sha1_thumbprint(own_certificate_)) {
      throw Error(status::bad_certificate_invalid, "server encrypted for a certificate that is not ours");
    }
  }

  size_t unprotect_asymmetric(std::span<uint8_t> chunk, size_t security_header_end) {
    check_asymmetric_header(chunk, security_header_end);
    const std::string plain = rsa_decrypt(own_key_.get(), suite_.asymmetric_encryption,
                                          view(chunk.subspan(security_header_end)));
    std::memcpy(chunk.data() + security_header_end, plain.data(), plain.size());
    const size_t end = security_header_end + plain.size();
    const size_t signature_size = rsa_key_bytes(server_key_.get());
    if (end < security_header_end + signature_size) throw Error(status::bad_security_checks_failed, "chunk too short for its signature");
    const size_t signed_end = end - signature_size;
    // The signature covers the header as received, i.e. with the encrypted message size.
    if (!rsa_verify(server_key_.get(), suite_.asymmetric_signature, view(chunk.first(signed_end)),
                    view(chunk.subspan(signed_end, signature_size)))) {
      throw Error(status::bad_security_checks_failed, "OpenSecureChannel response signature check failed");
    }
    return signed_end - padding_size(chunk, security_header_end, signed_end, rsa_key_bytes(own_key_.get()) > 256);
  }

  void protect_symmetric(std::vector<uint8_t>& chunk, size_t security_header_end) {
    const TokenKeys keys = keys_for(read_u32_at(chunk, 12));
    const size_t signature_size = suite_.sha256 ? 32 : 20;
    if (encrypting()) append_padding(chunk, chunk.size() - security_header_end, signature_size, kAesBlockSize, false);
    write_u32_at(chunk, 4, static_cast<uint32_t>(chunk.size() + signature_size));
    const std::string signature = hmac(suite_.sha256, keys.client.signing, view(chunk));
    chunk.insert(chunk.end(), signature.begin(), signature.end());
    if (encrypting()) {
      aes_cbc(true, keys.client.encrypting, keys.client.iv, chunk.data() + security_header_end,
              chunk.size() - security_header_end);
    }
  }

  size_t unprotect_symmetric(std::span<uint8_t> chunk, size_t security_header_end) {
    const TokenKeys keys = keys_for(read_u32_at(chunk, 12));
    const size_t signature_size = suite_.sha256 ? 32 : 20;
    if (encrypting()) {
      if ((chunk.size() - security_header_end) % kAesBlockSize != 0) {
        throw Error(status::bad_security_checks_failed, "encrypted part is not a whole number of AES blocks");
      }
      aes_cbc(false, keys.server.encrypting, keys.server.iv, chunk.data() + security_header_end,
              chunk.size() - security_header_end);
    }
    if (chunk.size() < security_header_end + signature_size) throw Error(status::bad_security_checks_failed, "chunk too short for its signature");
    const size_t signed_end = chunk.size() - signature_size;
    const std::string expected = hmac(suite_.sha256, keys.server.signing, view(chunk.first(signed_end)));
    if (CRYPTO_memcmp(expected.data(), chunk.data() + signed_end, signature_size) != 0) {
      throw Error(status::bad_security_checks_failed, "chunk signature check failed (tampered or wrong keys)");
    }
    return encrypting() ? signed_end - padding_size(chunk, security_header_end, signed_end, false) : signed_end;
  }

  const SecuritySuite& suite_;
  MessageSecurityMode mode_;
  std::string own_certificate_;
  PrivateKey own_key_;
  std::string server_certificate_;
  PrivateKey server_key_;  // public part only
  mutable std::mutex keys_mutex_;  // the sender and the reader thread both look keys up
  std::map<uint32_t, TokenKeys> tokens_;
};

}  // namespace

std::unique_ptr<SecurityPolicy> make_security_policy(std::string_view uri, MessageSecurityMode mode,
                                                     const ApplicationCredentials& own,
                                                     std::string server_certificate_der) {
  const SecuritySuite* suite = find_security_suite(uri);
  if (!suite) throw Error(status::bad_security_policy_rejected, "unsupported security policy " + std::string(uri));
  if (mode != MessageSecurityMode::sign && mode != MessageSecurityMode::sign_and_encrypt) {
    throw Error(kBadSecurityModeRejected, std::string(suite->name) + " needs mode Sign or SignAndEncrypt");
  }
  if (server_certificate_der.empty()) throw Error(status::bad_certificate_invalid, "the endpoint has no server certificate");
  return std::make_unique<SecuredPolicy>(*suite, mode, own, std::move(server_certificate_der));
}

}  // namespace oee::opcua
