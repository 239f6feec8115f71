#include "paging.h"

#include <cctype>
#include <string_view>

#include "query_params.h"

namespace oee::api::detail {

bool page_params(const server::HttpRequest& r, std::int64_t default_limit, Page& page, std::string& error) {
  if (!int_param(r, "limit", default_limit, 1, kPageLimitMax, page.limit, error)) return false;
  if (const auto c = r.query_value("cursor")) {
    if (c->empty() || c->size() > 1024) {
      error = "'cursor' must be the 'next' of a previous page";
      return false;
    }
    page.cursor = std::string(*c);
  }
  return true;
}

bool integer_cursor(const std::string& cursor, std::int64_t& out, std::string& error) {
  const auto [p, ec] = std::from_chars(cursor.data(), cursor.data() + cursor.size(), out);
  if (ec == std::errc() && p == cursor.data() + cursor.size()) return true;
  error = "'cursor' must be the 'next' of a previous page of this route";
  return false;
}

bool id_page_params(const server::HttpRequest& r, std::int64_t& limit, std::int64_t& before, std::string& error) {
  Page page;
  if (!page_params(r, 100, page, error) || !int_param(r, "before", 0, 0, INT64_MAX, before, error) ||
      (page.cursor && !integer_cursor(*page.cursor, before, error)))
    return false;
  limit = page.limit;
  return true;
}

namespace {
void append_query_escaped(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
}
}  // namespace

void link_next(server::HttpResponse& response, const server::HttpRequest& r, const std::string& next) {
  std::string url = "<" + r.path + "?";
  for (const auto& [name, value] : r.query) {
    if (name == "cursor") continue;
    append_query_escaped(url, name);
    url += '=';
    append_query_escaped(url, value);
    url += '&';
  }
  url += "cursor=";
  append_query_escaped(url, next);
  response.headers.emplace_back("Link", url + ">; rel=\"next\"");
}

server::HttpResponse close_id_page(codec::JsonWriter& json, const server::HttpRequest& r, std::optional<std::int64_t> oldest_id) {
  const std::string next = oldest_id ? std::to_string(*oldest_id) : "";
  if (oldest_id) json.int_field("next_before", *oldest_id).string_field("next", next);
  json.end_object();
  server::HttpResponse response = server::HttpResponse::json(std::move(json.text()));
  if (oldest_id) link_next(response, r, next);
  return response;
}

server::HttpResponse close_cursor_page(codec::JsonWriter& json, const server::HttpRequest& r, const std::string& next) {
  if (!next.empty()) json.string_field("next", next);
  json.end_object();
  server::HttpResponse response = server::HttpResponse::json(std::move(json.text()));
  if (!next.empty()) link_next(response, r, next);
  return response;
}

server::HttpResponse close_array_page(codec::JsonWriter& json, const server::HttpRequest& r, const std::string& next) {
  json.end_array();
  server::HttpResponse response = server::HttpResponse::json(std::move(json.text()));
  if (!next.empty()) link_next(response, r, next);
  return response;
}

}  // namespace oee::api::detail
