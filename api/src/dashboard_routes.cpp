// The dashboard's static files under / (open: the data they show needs a token).
#include "dashboard_files.h"
#include "oee/api/routes.h"

namespace oee::api {

namespace {
std::string content_type(std::string_view path) {
  if (path.ends_with(".html")) return "text/html; charset=utf-8";
  if (path.ends_with(".js")) return "text/javascript; charset=utf-8";
  if (path.ends_with(".css")) return "text/css; charset=utf-8";
  if (path.ends_with(".svg")) return "image/svg+xml";
  return "application/octet-stream";
}
}  // namespace

void add_dashboard_routes(server::Router& router) {
  router.add_prefix("GET", "/", [](const server::HttpRequest& r) {
    std::string_view path = r.path == "/" ? std::string_view("/index.html") : std::string_view(r.path);
    // Browsers ask for /favicon.ico whatever the page links: the SVG icon answers it.
    if (path == "/favicon.ico") path = "/favicon.svg";
    for (const DashboardFile& f : dashboard_files()) {
      if (f.path != path) continue;
      server::HttpResponse out;
      out.content_type = content_type(path);
      out.body = std::string(f.content);
      out.headers.emplace_back("X-Content-Type-Options", "nosniff");
      if (path.ends_with(".html"))
        out.headers.emplace_back("Content-Security-Policy", "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self'");
      return out;
    }
    return server::HttpResponse::error(404, "not_found", "no such route: " + r.path);
  });
}

}  // namespace oee::api
