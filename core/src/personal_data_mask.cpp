#include "oee/core/personal_data_mask.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace oee {

namespace {

constexpr const char* kMasked = "***";

// Bytes of the UTF-8 sequence starting with `lead` (1 for a stray continuation byte).
std::size_t utf8_length(unsigned char lead) {
  if (lead >= 0xf0) return 4;
  if (lead >= 0xe0) return 3;
  if (lead >= 0xc0) return 2;
  return 1;
}

std::string first_character(std::string_view word) {
  return std::string(word.substr(0, std::min(word.size(), utf8_length(static_cast<unsigned char>(word[0])))));
}

std::string ipv4_network(const unsigned char* bytes) {
  return std::to_string(bytes[0]) + "." + std::to_string(bytes[1]) + "." + std::to_string(bytes[2]) + ".0/24";
}

}  // namespace

std::string mask_email(std::string_view email) {
  const std::size_t at = email.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == email.size()) return kMasked;
  return first_character(email) + kMasked + std::string(email.substr(at));
}

std::string mask_name(std::string_view name) {
  std::string out;
  std::size_t i = 0;
  while (i < name.size()) {
    if (name[i] == ' ') {
      ++i;
      continue;
    }
    const std::size_t end = std::min(name.find(' ', i), name.size());
    if (!out.empty()) out += ' ';
    out += first_character(name.substr(i, end - i)) + kMasked;
    i = end;
  }
  return out.empty() ? kMasked : out;
}

std::string mask_address(std::string_view address) {
  // inet_pton wants a terminated string; longer input is no address anyway.
  char text[INET6_ADDRSTRLEN + 1] = {};
  if (address.empty() || address.size() >= sizeof text) return kMasked;
  std::memcpy(text, address.data(), address.size());
  unsigned char bytes[16];
  if (inet_pton(AF_INET, text, bytes) == 1) return ipv4_network(bytes);
  if (inet_pton(AF_INET6, text, bytes) != 1) return kMasked;
  static constexpr unsigned char kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(bytes, kMappedPrefix, sizeof kMappedPrefix) == 0) return ipv4_network(bytes + 12);
  std::memset(bytes + 6, 0, 10);
  char network[INET6_ADDRSTRLEN];
  inet_ntop(AF_INET6, bytes, network, sizeof network);
  return std::string(network) + "/48";
}

}  // namespace oee
