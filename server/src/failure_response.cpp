#include "oee/server/failure_response.h"

#include <cstdio>
#include <random>

#include "oee/server/log.h"

namespace oee::server {

std::string new_request_id() {
  thread_local std::mt19937_64 random{std::random_device{}()};
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(random()));
  return hex;
}

HttpResponse failure_response(int status, std::string_view code, std::string_view message, const HttpRequest& request,
                              std::string_view cause) {
  const std::string id = new_request_id();
  log_line("error", "request failed",
           {{"request_id", id}, {"method", request.method}, {"path", request.path}, {"status", std::to_string(status)},
            {"code", std::string(code)}, {"cause", std::string(cause)}});
  return HttpResponse::error(status, code, message, id);
}

}  // namespace oee::server
