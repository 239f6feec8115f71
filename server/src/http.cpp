#include "oee/server/http.h"

#include "oee/codec/json_writer.h"

namespace oee::server {

std::optional<std::string_view> HttpRequest::query_value(std::string_view name) const {
  auto it = query.find(name);
  if (it == query.end()) return std::nullopt;
  return std::string_view(it->second);
}

std::optional<std::string_view> HttpRequest::header(std::string_view name) const {
  auto it = headers.find(name);
  if (it == headers.end()) return std::nullopt;
  return std::string_view(it->second);
}

HttpResponse HttpResponse::json(std::string body, int status) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

HttpResponse HttpResponse::error(int status, std::string_view code, std::string_view message, std::string_view request_id) {
  std::string body;
  codec::JsonWriter w(body);
  w.begin_object().key("error").begin_object();
  w.string_field("code", code).string_field("message", message);
  if (!request_id.empty()) w.string_field("request_id", request_id);
  w.end_object().end_object();
  HttpResponse out = json(std::move(body), status);
  if (!request_id.empty()) out.headers.emplace_back("X-Request-Id", std::string(request_id));
  return out;
}

void Router::add(std::string method, std::string path, HttpHandler handler) {
  routes_.push_back({std::move(method), std::move(path), false, std::move(handler)});
}

void Router::add_prefix(std::string method, std::string prefix, HttpHandler handler) {
  routes_.push_back({std::move(method), std::move(prefix), true, std::move(handler)});
}

void Router::add_blocking(std::string method, std::string path, HttpHandler handler) {
  routes_.push_back({std::move(method), std::move(path), false, std::move(handler), true});
}

const Router::Route* Router::match(const HttpRequest& request, bool& path_known) const {
  path_known = false;
  const Route* best = nullptr;
  for (const Route& r : routes_) {
    const bool match = r.prefix ? request.path.starts_with(r.path) : request.path == r.path;
    if (!match) continue;
    path_known = true;
    const bool method_ok = r.method == request.method || (r.method == "GET" && request.method == "HEAD");
    if (!method_ok) continue;
    // Exact routes win over prefixes; longer prefixes over shorter ones.
    if (!best || (best->prefix && (!r.prefix || r.path.size() > best->path.size()))) best = &r;
  }
  return best;
}

bool Router::blocking(const HttpRequest& request) const {
  bool path_known = false;
  const Route* route = match(request, path_known);
  return route && route->blocking;
}

HttpResponse Router::dispatch(const HttpRequest& request) const {
  bool path_known = false;
  if (const Route* best = match(request, path_known)) return best->handler(request);
  if (const WebSocketAccept* ws = websocket(request.path)) {
    // Not an upgrade: the endpoint's own refusal (e.g. 401) if any, else 426.
    if (auto refused = (*ws)(request, nullptr).refusal) return std::move(*refused);
    return HttpResponse::error(426, "upgrade_required", request.path + " is a WebSocket endpoint");
  }
  if (path_known) return HttpResponse::error(405, "method_not_allowed", request.method + " is not allowed on " + request.path);
  return HttpResponse::error(404, "not_found", "no such route: " + request.path);
}

void Router::add_websocket(std::string path, WebSocketAccept accept) { websockets_.emplace_back(std::move(path), std::move(accept)); }

const WebSocketAccept* Router::websocket(std::string_view path) const {
  for (const auto& [p, accept] : websockets_)
    if (p == path) return &accept;
  return nullptr;
}

std::vector<std::string> Router::routes() const {
  std::vector<std::string> out;
  for (const Route& r : routes_) out.push_back(r.method + " " + r.path + (r.prefix ? "*" : ""));
  for (const auto& [path, accept] : websockets_) out.push_back("GET " + path);
  return out;
}

std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      auto hex = [](char h) -> int {
        if (h >= '0' && h <= '9') return h - '0';
        if (h >= 'a' && h <= 'f') return h - 'a' + 10;
        if (h >= 'A' && h <= 'F') return h - 'A' + 10;
        return -1;
      };
      const int hi = hex(text[i + 1]), lo = hex(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

bool parse_query_string(std::string_view text, std::map<std::string, std::string, std::less<>>& out) {
  while (!text.empty()) {
    const std::size_t amp = text.find('&');
    const std::string_view pair = text.substr(0, amp);
    text = amp == std::string_view::npos ? std::string_view{} : text.substr(amp + 1);
    if (pair.empty()) continue;
    const std::size_t eq = pair.find('=');
    auto key = percent_decode(pair.substr(0, eq), true);
    auto value = percent_decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1), true);
    if (!key || !value) return false;
    out[*key] = *value;
  }
  return true;
}

}  // namespace oee::server
