#pragma once
// Paging of the list routes (docs/api.md): `limit` (1 to 10,000) items per page and an opaque
// `cursor` that resumes after the last item of the previous page. The cursor of the next page is
// sent as `next` in object responses and, on every list route, as a `Link: <…>; rel="next"` header
// (the only place for it on routes that answer a bare JSON array).
#include <charconv>
#include <optional>
#include <string>

#include "oee/codec/json_writer.h"
#include "oee/server/http.h"

namespace oee::api::detail {

inline constexpr std::int64_t kPageLimitMax = 10'000;

struct Page {
  std::int64_t limit = 0;
  std::optional<std::string> cursor;  // as sent, not yet read by the route
};

// `limit` (default `default_limit`, at most kPageLimitMax) and `cursor`; false with `error`.
bool page_params(const server::HttpRequest& r, std::int64_t default_limit, Page& page, std::string& error);

// A cursor that is one integer (a time in ms or an id); false with `error` when it is not.
bool integer_cursor(const std::string& cursor, std::int64_t& out, std::string& error);

// The parameters of a route paged by id, newest first (dead letters, conflicts, audit): `limit`
// (default 100) and where the page starts, `before` or the previous page's `cursor`.
bool id_page_params(const server::HttpRequest& r, std::int64_t& limit, std::int64_t& before, std::string& error);

// Sets the `Link` header to this request with `cursor` = next.
void link_next(server::HttpResponse& response, const server::HttpRequest& r, const std::string& next);

// Closes the object response of a route paged by id, newest first (`json` is after its items
// array): with `oldest_id` when the page is full, `next_before` (as before `next`) and `next`. A
// full page may be followed by an empty one.
server::HttpResponse close_id_page(codec::JsonWriter& json, const server::HttpRequest& r, std::optional<std::int64_t> oldest_id);

// Closes an object response (`json` is after its last member): adds `next` and the Link header when
// there is a next page.
server::HttpResponse close_cursor_page(codec::JsonWriter& json, const server::HttpRequest& r, const std::string& next);

// A bare array response (`json` is after its last element, the array is closed here): the cursor
// goes in the Link header only.
server::HttpResponse close_array_page(codec::JsonWriter& json, const server::HttpRequest& r, const std::string& next);

}  // namespace oee::api::detail
