#pragma once
// The seam where message security plugs into the secure channel. Every chunk the channel sends or
// receives goes through a SecurityPolicy; SecurityPolicy None is the only one implemented, and
// Basic256Sha256 (Sign, SignAndEncrypt) is a second implementation of this interface: key
// derivation from the nonces, HMAC-SHA256 signatures, AES-256-CBC with padding, RSA for the
// OpenSecureChannel exchange (see docs/opcua.md).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace oee::opcua {

enum class MessageSecurityMode : uint32_t { invalid = 0, none = 1, sign = 2, sign_and_encrypt = 3 };

inline constexpr std::string_view kSecurityPolicyNoneUri = "http://opcfoundation.org/UA/SecurityPolicy#None";

class SecurityPolicy {
 public:
  virtual ~SecurityPolicy() = default;
  virtual std::string_view uri() const = 0;
  virtual MessageSecurityMode mode() const = 0;
  // Fields of the asymmetric security header of OpenSecureChannel chunks.
  virtual std::string sender_certificate() const = 0;
  virtual std::string receiver_certificate_thumbprint() const = 0;
  // Nonce the client sends in OpenSecureChannel (empty for None) and the keys derived once the
  // server's nonce arrives.
  virtual std::string make_client_nonce() = 0;
  virtual void derive_keys(std::string_view client_nonce, std::string_view server_nonce) = 0;
  // How much message body fits in a chunk of chunk_size bytes whose headers take header_size
  // bytes, after padding and signature.
  virtual size_t max_body_size(size_t chunk_size, size_t header_size, bool asymmetric) const = 0;
  // chunk holds header, security header, sequence header and body with the message size already
  // counting the plain text; the policy pads, signs and encrypts in place and fixes the size.
  virtual void protect_chunk(std::vector<uint8_t>& chunk, size_t security_header_end, bool asymmetric) = 0;
  // The inverse for a received chunk: verifies and decrypts in place and returns the size of the
  // part that remains (headers and body, without padding and signature); throws Error on failure.
  virtual size_t unprotect_chunk(std::span<uint8_t> chunk, size_t security_header_end, bool asymmetric) = 0;
};

std::unique_ptr<SecurityPolicy> make_security_policy_none();

}  // namespace oee::opcua
