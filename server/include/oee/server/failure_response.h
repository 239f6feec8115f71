#pragma once
// A request that failed inside the server (a handler threw, storage is down): the client gets a
// stable code, a message and a request id; the cause (exception text that may name files, SQL or
// hosts) goes only to the log, under the same request id.
#include <string>
#include <string_view>

#include "oee/server/http.h"

namespace oee::server {

// A new random request id (16 hex digits).
std::string new_request_id();

// Logs `cause` with a new request id, the method and the path (never the query: it may hold
// secrets), and returns the error response carrying that id.
HttpResponse failure_response(int status, std::string_view code, std::string_view message, const HttpRequest& request,
                              std::string_view cause);

}  // namespace oee::server
