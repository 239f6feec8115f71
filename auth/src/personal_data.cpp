#include "oee/auth/personal_data.h"

#include <algorithm>

namespace oee::auth {

namespace {

bool has_control_character(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

// A plausible address (local@domain.tld, no spaces): enough to catch a wrong field, not RFC 5322.
std::string email_problem(std::string_view email) {
  if (email.size() > kEmailBytesMax) return "'email' must be at most 254 characters";
  const std::size_t at = email.find('@');
  const bool shaped = at != std::string_view::npos && at > 0 && at <= 64 && email.find('@', at + 1) == std::string_view::npos &&
                      email.find('.', at + 2) != std::string_view::npos && email.back() != '.';
  if (!shaped || email.find(' ') != std::string_view::npos || has_control_character(email))
    return "'email' must be an e-mail address (name@domain.tld)";
  return {};
}

}  // namespace

std::string personal_data_problem(const PersonalData& data) {
  if (data.full_name) {
    if (data.full_name->size() > kFullNameBytesMax) return "'full_name' must be at most 128 characters";
    if (has_control_character(*data.full_name)) return "'full_name' must not hold control characters";
  }
  if (data.email && !data.email->empty()) return email_problem(*data.email);
  return {};
}

}  // namespace oee::auth
