#pragma once
// How personal data is shown where it must not appear whole: exports, listings and logs. Masking
// keeps enough to recognise a record one already knows (the first letter, the e-mail's domain,
// the client's network), not enough to find the person. Pure functions, no I/O.
#include <string>
#include <string_view>

namespace oee {

// "jane.doe@example.com" -> "j***@example.com"; anything without a local part and a domain -> "***".
std::string mask_email(std::string_view email);
// Each word to its first character (a whole UTF-8 sequence) and "***": "Jane Doe" -> "J*** D***".
std::string mask_name(std::string_view name);
// A client address to its network: IPv4 to its /24 ("192.0.2.0/24"), IPv6 to its /48
// ("2001:db8:1::/48"), an IPv4-mapped IPv6 address as IPv4; anything else -> "***".
std::string mask_address(std::string_view address);

}  // namespace oee
