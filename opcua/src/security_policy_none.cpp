// SecurityPolicy None: chunks travel as they are.
#include "oee/opcua/security_policy.h"

namespace oee::opcua {
namespace {

class SecurityPolicyNone final : public SecurityPolicy {
 public:
  std::string_view uri() const override { return kSecurityPolicyNoneUri; }
  MessageSecurityMode mode() const override { return MessageSecurityMode::none; }
  std::string sender_certificate() const override { return {}; }
  std::string receiver_certificate_thumbprint() const override { return {}; }
  std::string make_client_nonce() override { return {}; }
  void derive_keys(std::string_view, std::string_view, uint32_t) override {}
  size_t max_body_size(size_t chunk_size, size_t header_size, bool) const override {
    return chunk_size > header_size ? chunk_size - header_size : 0;
  }
  void protect_chunk(std::vector<uint8_t>&, size_t, bool) override {}
  size_t unprotect_chunk(std::span<uint8_t> chunk, size_t, bool) override { return chunk.size(); }
};

}  // namespace

std::unique_ptr<SecurityPolicy> make_security_policy_none() { return std::make_unique<SecurityPolicyNone>(); }

}  // namespace oee::opcua
