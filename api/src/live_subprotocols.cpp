#include "live_subprotocols.h"

#include <sodium.h>

#include <vector>

namespace oee::api {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> offers(std::string_view header) {
  std::vector<std::string_view> out;
  while (!header.empty()) {
    const std::size_t comma = header.find(',');
    out.push_back(trim(header.substr(0, comma)));
    header = comma == std::string_view::npos ? std::string_view{} : header.substr(comma + 1);
  }
  return out;
}

// Unpadded base64url (libsodium's decoder); nullopt for anything else.
std::optional<std::string> decode_base64url(std::string_view text) {
  std::string out(text.size() / 4 * 3 + 3, '\0');
  std::size_t length = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(), text.size(), nullptr, &length,
                        &end, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 || end != text.data() + text.size())
    return std::nullopt;
  out.resize(length);
  return out;
}

}  // namespace

bool offers_subprotocol(std::string_view header, std::string_view protocol) {
  for (const std::string_view offer : offers(header))
    if (offer == protocol) return true;
  return false;
}

std::optional<std::string> bearer_subprotocol(std::string_view header) {
  constexpr std::string_view prefix = "bearer.";
  for (const std::string_view offer : offers(header))
    if (offer.starts_with(prefix)) return decode_base64url(offer.substr(prefix.size()));
  return std::nullopt;
}

}  // namespace oee::api
