#pragma once
// The seam where message security plugs into the secure channel. Every chunk the channel sends or
// receives goes through a SecurityPolicy: None, or one of the RSA/AES policies (Basic256Sha256,
// Aes128_Sha256_RsaOaep, Aes256_Sha256_RsaPss, and the deprecated Basic128Rsa15 and Basic256) in
// mode Sign or SignAndEncrypt: key derivation from the nonces, HMAC signatures, AES-CBC with
// padding, RSA for the OpenSecureChannel exchange and the session signatures (docs/opcua.md).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
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
  // Keys belong to a token: after a renewal the server may still send with the previous one.
  // Throws Error(BadNonceInvalid) when the server's nonce has the wrong length.
  virtual void derive_keys(std::string_view client_nonce, std::string_view server_nonce, uint32_t token_id) = 0;
  // How much message body fits in a chunk of chunk_size bytes whose headers take header_size
  // bytes, after padding and signature.
  virtual size_t max_body_size(size_t chunk_size, size_t header_size, bool asymmetric) const = 0;
  // chunk holds header, security header, sequence header and body with the message size already
  // counting the plain text; the policy pads, signs and encrypts in place and fixes the size.
  virtual void protect_chunk(std::vector<uint8_t>& chunk, size_t security_header_end, bool asymmetric) = 0;
  // The inverse for a received chunk: verifies and decrypts in place and returns the size of the
  // part that remains (headers and body, without padding and signature); throws Error on failure.
  virtual size_t unprotect_chunk(std::span<uint8_t> chunk, size_t security_header_end, bool asymmetric) = 0;
  // The session's application signatures (CreateSession/ActivateSession) with the policy's
  // asymmetric algorithm: ours signs, the server's certificate verifies. Empty for None.
  virtual std::string_view signature_algorithm_uri() const { return {}; }
  virtual std::string sign(std::string_view) const { return {}; }
  virtual bool verify(std::string_view, std::string_view) const { return true; }
};

// Our application instance certificate (DER) and its RSA private key (PEM or DER).
struct ApplicationCredentials {
  std::string certificate_der;
  std::string private_key;
};

// Reads a certificate (DER or PEM) and its RSA private key (PEM or DER); throws Error naming the
// file that is missing or unusable.
ApplicationCredentials load_credentials(const std::string& certificate_file, const std::string& private_key_file);

std::unique_ptr<SecurityPolicy> make_security_policy_none();
// A secured policy; throws Error(BadSecurityPolicyRejected) for an unknown URI or mode None,
// Error(BadCertificateInvalid) for unusable certificates or keys.
std::unique_ptr<SecurityPolicy> make_security_policy(std::string_view uri, MessageSecurityMode mode,
                                                     const ApplicationCredentials& own,
                                                     std::string server_certificate_der);

// Policy names ("None", "Basic256Sha256", ...) to URIs and back; a full URI is accepted too.
std::optional<std::string> security_policy_uri(std::string_view name_or_uri);
std::string_view security_policy_name(std::string_view uri);
bool security_policy_deprecated(std::string_view uri);
// The policies this client implements, most secure first; deprecated ones only when allowed.
std::vector<std::string_view> supported_security_policies(bool allow_deprecated);
const char* security_mode_name(MessageSecurityMode mode);
std::optional<MessageSecurityMode> parse_security_mode(std::string_view name);

}  // namespace oee::opcua
