#include "oee/api/trusted_proxies.h"

#include <arpa/inet.h>

#include <charconv>
#include <optional>

namespace oee::api {

namespace {

constexpr std::size_t kForwardedAddressBytesMax = 64;

// An IPv4 or IPv6 address as 16 bytes (IPv4 mapped to ::ffff:a.b.c.d, as a dual-stack socket
// reports it), or nullopt.
std::optional<std::array<unsigned char, 16>> parse_address(std::string_view text) {
  if (text.size() > 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  const std::string s(text);
  std::array<unsigned char, 16> out{};
  if (::inet_pton(AF_INET6, s.c_str(), out.data()) == 1) return out;
  out[10] = out[11] = 0xff;
  if (::inet_pton(AF_INET, s.c_str(), out.data() + 12) == 1) return out;
  return std::nullopt;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

void TrustedProxies::add(std::string_view cidr) {
  const std::size_t slash = cidr.find('/');
  const std::string_view address = cidr.substr(0, slash);
  const auto bytes = parse_address(address);
  if (!bytes) throw TrustedProxyError("--trusted-proxy: '" + std::string(cidr) + "' is not an IPv4 or IPv6 address or CIDR");
  const bool v4 = address.find(':') == std::string_view::npos;
  const int bits_max = v4 ? 32 : 128;
  int bits = bits_max;
  if (slash != std::string_view::npos) {
    const std::string_view b = cidr.substr(slash + 1);
    const auto [end, ec] = std::from_chars(b.data(), b.data() + b.size(), bits);
    if (ec != std::errc() || end != b.data() + b.size() || bits < 0 || bits > bits_max)
      throw TrustedProxyError("--trusted-proxy: '" + std::string(cidr) + "': the prefix length must be 0 to " + std::to_string(bits_max));
  }
  networks_.push_back(Network{*bytes, v4 ? bits + 96 : bits});
}

bool TrustedProxies::contains(std::string_view address) const {
  if (networks_.empty()) return false;
  const auto bytes = parse_address(address);
  if (!bytes) return false;
  for (const Network& n : networks_) {
    const int whole = n.prefix_bits / 8, rest = n.prefix_bits % 8;
    bool match = std::equal(n.bytes.begin(), n.bytes.begin() + whole, bytes->begin());
    if (match && rest) {
      const unsigned char mask = static_cast<unsigned char>(0xff << (8 - rest));
      match = (n.bytes[whole] & mask) == ((*bytes)[whole] & mask);
    }
    if (match) return true;
  }
  return false;
}

std::string TrustedProxies::client_address(const server::HttpRequest& request) const {
  if (!contains(request.remote_address)) return request.remote_address;
  const auto forwarded = request.header("x-forwarded-for");
  if (!forwarded) return request.remote_address;
  std::string_view rest = *forwarded;
  std::string_view hop = request.remote_address;
  while (!rest.empty()) {
    const std::size_t comma = rest.rfind(',');
    const std::string_view entry = trim(comma == std::string_view::npos ? rest : rest.substr(comma + 1));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(0, comma);
    if (entry.empty()) continue;
    hop = entry.substr(0, kForwardedAddressBytesMax);
    if (!contains(hop)) break;
  }
  return std::string(hop);
}

}  // namespace oee::api
