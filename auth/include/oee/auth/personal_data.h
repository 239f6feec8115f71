#pragma once
// A user's personal data beyond the login name (GDPR): an optional full name and e-mail, kept in
// the users table of auth.sqlite and nowhere else, erased with the user (docs/security.md).
#include <optional>
#include <string>
#include <string_view>

namespace oee::auth {

inline constexpr std::size_t kFullNameBytesMax = 128;
inline constexpr std::size_t kEmailBytesMax = 254;

struct PersonalData {
  // nullopt: not given (unchanged on an update); empty: none (removed on an update).
  std::optional<std::string> full_name;
  std::optional<std::string> email;
};

// Why `data` cannot be stored (too long, control characters, not an e-mail address), or empty.
std::string personal_data_problem(const PersonalData& data);

}  // namespace oee::auth
