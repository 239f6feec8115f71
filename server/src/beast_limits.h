#pragma once
// How the server reads what clients send, with Beast: the request parser and its limits, a parsed
// request turned into an HttpRequest, the answer to a request that cannot be parsed, and the
// WebSocket read limits. The server and its fuzz targets (api/fuzz) share these, so the fuzzers
// exercise the configuration that serves.
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <cctype>
#include <string>
#include <string_view>

#include "oee/server/http.h"
#include "oee/server/http_server.h"

namespace oee::server::beast_limits {

inline constexpr std::size_t kHeaderBytesMax = 16 * 1024;
using RequestParser = boost::beast::http::request_parser<boost::beast::http::string_body>;

inline void limit(RequestParser& parser, const HttpServerOptions& options) {
  parser.header_limit(kHeaderBytesMax);
  parser.body_limit(options.body_bytes_max);
}

template <class NextLayer>
void limit(boost::beast::websocket::stream<NextLayer>& ws, const HttpServerOptions& options) {
  ws.read_message_max(options.websocket_message_bytes_max);
  // permessage-deflate stays off (its default): Boost 1.74's deflate holds much memory per client.
}

// A request too large or malformed gets this answer before its connection closes.
inline HttpResponse parse_failure(const boost::beast::error_code& ec) {
  namespace http = boost::beast::http;
  return ec == http::error::body_limit || ec == http::error::header_limit
             ? HttpResponse::error(413, "too_large", "request larger than allowed")
             : HttpResponse::error(400, "bad_request", "malformed HTTP request: " + ec.message());
}

// The query "\x01" marks a malformed query string (answered 400 by the server).
inline HttpRequest to_request(const boost::beast::http::request<boost::beast::http::string_body>& in, const std::string& remote) {
  HttpRequest r;
  r.method = std::string(in.method_string().data(), in.method_string().size());
  const std::string_view target(in.target().data(), in.target().size());
  const std::size_t q = target.find('?');
  auto path = percent_decode(target.substr(0, q), false);
  r.path = path ? *path : std::string(target.substr(0, q));
  if (q != std::string_view::npos && !parse_query_string(target.substr(q + 1), r.query)) r.query.clear(), r.query["\x01"] = "";
  for (const auto& field : in) {
    const auto name = field.name_string();
    std::string lower(name.data(), name.size());
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    r.headers[lower] = std::string(field.value());
  }
  r.body = in.body();
  r.remote_address = remote;
  return r;
}

inline bool malformed_query(const HttpRequest& r) { return r.query.count("\x01") > 0; }

}  // namespace oee::server::beast_limits
