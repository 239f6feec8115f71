#pragma once
// Which peer addresses are proxies we trust (`--trusted-proxy CIDR`, repeatable), and so whose
// X-Forwarded-For names the client. From any other peer the header is ignored: else anyone could
// pick the address their requests are counted against.
#include <array>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "oee/server/http.h"

namespace oee::api {

// A CIDR or address that does not parse: the message says why.
class TrustedProxyError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

class TrustedProxies {
 public:
  // `cidr` is ADDRESS/BITS or ADDRESS (IPv4 or IPv6); throws TrustedProxyError.
  void add(std::string_view cidr);
  bool contains(std::string_view address) const;
  bool empty() const { return networks_.empty(); }

  // The client's address: the peer's; when the peer is a trusted proxy, the right-most address of
  // X-Forwarded-For that is not a trusted proxy (each proxy appends the peer it saw, so what lies
  // left of the last untrusted hop may be made up).
  std::string client_address(const server::HttpRequest& request) const;

 private:
  struct Network {
    std::array<unsigned char, 16> bytes{};  // IPv4 as IPv4-mapped IPv6
    int prefix_bits = 0;
  };
  std::vector<Network> networks_;
};

}  // namespace oee::api
