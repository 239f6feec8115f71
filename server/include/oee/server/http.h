#pragma once
// HTTP requests, responses and routing as the API sees them: plain structs, no Beast in sight, so
// API code compiles fast and tests call handlers directly.
#include <functional>
#include <memory>
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
  // The one error shape of the API: {"error":{"code":"…","message":"…"}}; with a `request_id` (a
  // failure whose cause went to the log under it) also "request_id" and the X-Request-Id header.
  static HttpResponse error(int status, std::string_view code, std::string_view message, std::string_view request_id = {});
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

// One WebSocket connection as the API sees it (text messages only). Thread-safe.
class WebSocketConnection {
 public:
  virtual ~WebSocketConnection() = default;
  // Queues a message. With a `coalesce_key`, a message of the same key still waiting in the queue is
  // replaced instead (a slow client gets the newest state, not every one). A client whose queue
  // grows past its limit is dropped. False once the connection is closed.
  virtual bool send(std::shared_ptr<const std::string> text, std::string_view coalesce_key = {}) = 0;
  virtual void close() = 0;
};

// Queues one message on many connections, as send() on each would, but hands the connections of
// this server to their I/O thread in one batch per thread (the writes start there, one syscall per
// client, no hand-off per client): the live feed's fan-out to thousands of clients. Other
// WebSocketConnection implementations get send().
void send_to_all(const std::vector<std::shared_ptr<WebSocketConnection>>& connections,
                 const std::shared_ptr<const std::string>& text, std::string_view coalesce_key = {});

struct WebSocketHandlers {
  std::function<void(std::string_view message)> on_message;
  std::function<void()> on_close;  // once, after the connection is gone
};

// Decides on an upgrade request: `refusal` set (e.g. a 401) refuses it; otherwise the handlers
// serve the connection.
struct WebSocketAcceptance {
  std::optional<HttpResponse> refusal;
  WebSocketHandlers handlers;
  std::string protocol;  // the subprotocol chosen among the client's offers (Sec-WebSocket-Protocol); empty: none
};
using WebSocketAccept = std::function<WebSocketAcceptance(const HttpRequest&, std::shared_ptr<WebSocketConnection>)>;

// Exact paths, and prefixes ending in '/' for static files.
class Router {
 public:
  void add(std::string method, std::string path, HttpHandler handler);
  void add_prefix(std::string method, std::string prefix, HttpHandler handler);
  // A handler that may block for long (a password hash): the server runs it on its few
  // blocking-work threads, never on an I/O thread, so the other connections' requests go on.
  void add_blocking(std::string method, std::string path, HttpHandler handler);
  // Whether `request` goes to a route added with add_blocking.
  bool blocking(const HttpRequest& request) const;
  // A WebSocket endpoint (GET with Upgrade: websocket).
  void add_websocket(std::string path, WebSocketAccept accept);
  HttpResponse dispatch(const HttpRequest& request) const;
  const WebSocketAccept* websocket(std::string_view path) const;
  // Routes as "METHOD path" (for the API document's consistency test).
  std::vector<std::string> routes() const;

 private:
  struct Route {
    std::string method, path;
    bool prefix;
    HttpHandler handler;
    bool blocking = false;
  };
  const Route* match(const HttpRequest& request, bool& path_known) const;
  std::vector<Route> routes_;
  std::vector<std::pair<std::string, WebSocketAccept>> websockets_;
};

// Splits "a=1&b=x%20y" into decoded pairs; false when the encoding is malformed.
bool parse_query_string(std::string_view text, std::map<std::string, std::string, std::less<>>& out);
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space);

}  // namespace oee::server
