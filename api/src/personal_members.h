#pragma once
// The personal data members of a user's JSON ("full_name", "email"): read from a request body, and
// written masked into listings (docs/security.md, "Privacy").
#include <nlohmann/json.hpp>

#include "oee/codec/json_writer.h"
#include "oee/auth/accounts.h"
#include "oee/core/personal_data_mask.h"
#include "oee/server/http.h"

namespace oee::api::detail {

// Optional string members; absent ones stay nullopt (unchanged), "" removes. 400 in `error`.
inline bool personal_members(const nlohmann::json& j, auth::PersonalData& out, server::HttpResponse& error) {
  for (auto [name, field] : {std::pair{"full_name", &out.full_name}, std::pair{"email", &out.email}}) {
    const auto it = j.find(name);
    if (it == j.end()) continue;
    if (!it->is_string()) {
      error = server::HttpResponse::error(400, "bad_body", std::string("'") + name + "' must be a string");
      return false;
    }
    *field = it->get<std::string>();
  }
  if (const std::string problem = auth::personal_data_problem(out); !problem.empty()) {
    error = server::HttpResponse::error(400, "bad_body", problem);
    return false;
  }
  return true;
}

// The members present, masked: "J*** D***", "j***@example.com".
inline void masked_personal_fields(codec::JsonWriter& json, const auth::UserInfo& u) {
  if (!u.full_name.empty()) json.string_field("full_name", mask_name(u.full_name));
  if (!u.email.empty()) json.string_field("email", mask_email(u.email));
}

}  // namespace oee::api::detail
