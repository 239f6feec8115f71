#pragma once
// HTTP requests, responses and routing as the API sees them: plain structs, no Beast in sight, so
// API code compiles fast and tests call handlers directly.
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace oee::server {

struct HttpRequest {
  std::string method;  // "GET", "POST", …
  std::string path;    // without the query string, percent-decoded
  std::map<std::string, std::string, std::less<>> query;  // decoded
  std::map<std::string, std::string, std::less<>> headers;  // names lower-case
  std::string body;
  std::string remote_address;

  std::optional<std::string_view> query_value(std::string_view name) const;
  std::optional<std::string_view> header(std::string_view lower_case_name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  static HttpResponse json(std::string body, int status = 200);
  // The one error shape of the API: {"error":{"code":"…","message":"…"}}.
  static HttpResponse error(int status, std::string_view code, std::string_view message);
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

// Exact paths, and prefixes ending in '/' for static files.
class Router {
 public:
  void add(std::string method, std::string path, HttpHandler handler);
  void add_prefix(std::string method, std::string prefix, HttpHandler handler);
  HttpResponse dispatch(const HttpRequest& request) const;
  // Routes as "METHOD path" (for the API document's consistency test).
  std::vector<std::string> routes() const;

 private:
  struct Route {
    std::string method, path;
    bool prefix;
    HttpHandler handler;
  };
  std::vector<Route> routes_;
};

// Splits "a=1&b=x%20y" into decoded pairs; false when the encoding is malformed.
bool parse_query_string(std::string_view text, std::map<std::string, std::string, std::less<>>& out);
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space);

}  // namespace oee::server
