#pragma once
// Request bodies: a JSON object, bounded by the server's body limit; strings read with a clear 400.
#include <nlohmann/json.hpp>

#include <optional>
#include <string>

#include "oee/server/http.h"

namespace oee::api::detail {

// The body as a JSON object, or a 400 response in `error`.
inline std::optional<nlohmann::json> json_body(const server::HttpRequest& r, server::HttpResponse& error) {
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    error = server::HttpResponse::error(400, "bad_body", "the body must be a JSON object");
    return std::nullopt;
  }
  return j;
}

// A string member (required unless `fallback` is given), at most `bytes_max` long.
inline bool string_member(const nlohmann::json& j, const char* name, std::size_t bytes_max, std::string& out,
                          server::HttpResponse& error, const char* fallback = nullptr) {
  const auto it = j.find(name);
  if (it == j.end() && fallback) {
    out = fallback;
    return true;
  }
  if (it == j.end() || !it->is_string()) {
    error = server::HttpResponse::error(400, "bad_body", std::string("'") + name + "' must be a string");
    return false;
  }
  out = it->get<std::string>();
  if (out.size() > bytes_max) {
    error = server::HttpResponse::error(400, "bad_body", std::string("'") + name + "' must be at most " + std::to_string(bytes_max) + " bytes");
    return false;
  }
  return true;
}

}  // namespace oee::api::detail
