// libFuzzer target: any bytes a client sends on a connection, read as the server reads them (Beast's
// parser with the server's header and body limits, pipelined requests one after another), each
// request turned into an HttpRequest (path and query decoding, headers) and answered by the real
// routes (JSON bodies, authentication, the WebSocket upgrade's acceptance): never a crash, a leak or
// undefined behaviour, and every request answered with an HTTP status.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "beast_limits.h"
#include "fuzzed_api.h"

namespace {

namespace beast = boost::beast;
namespace limits = oee::server::beast_limits;

void check_status(int status) {
  if (status < 100 || status > 599) __builtin_trap();
}

// The upgrade's acceptance as the server asks for it; an accepted client is at once gone again.
void upgrade(const oee::server::WebSocketAccept& accept, const oee::server::HttpRequest& request) {
  oee::server::WebSocketAcceptance a = accept(request, std::make_shared<oee::api::fuzz::DiscardingConnection>());
  if (a.refusal) return check_status(a.refusal->status);
  if (a.handlers.on_close) a.handlers.on_close();
}

// Answers one parsed request as the server would; whether the connection stays open after it.
bool answer(const oee::api::fuzz::FuzzedApi& api, limits::RequestParser& parser) {
  const auto request = parser.release();
  const oee::server::HttpRequest r = limits::to_request(request, "127.0.0.1");
  if (limits::malformed_query(r)) return request.keep_alive();  // answered 400 before any route
  if (beast::websocket::is_upgrade(request))
    if (const auto* accept = api.router().websocket(r.path)) return upgrade(*accept, r), false;
  try {
    check_status(api.router().dispatch(r).status);
  } catch (const std::exception&) {
    // The server answers 500 for these (failure_response); anything else would end the process.
  }
  return request.keep_alive();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static oee::api::fuzz::FuzzedApi api;
  api.tick();
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  while (!rest.empty()) {
    limits::RequestParser parser;
    limits::limit(parser, api.options());
    parser.eager(true);
    beast::error_code ec;
    bool closed = false;
    while (!ec && !closed && !parser.is_done()) {
      const std::size_t used = parser.put(boost::asio::buffer(rest.data(), rest.size()), ec);
      rest.remove_prefix(used);
      if (ec == beast::http::error::need_more) ec = {};
      // Every byte given and more needed: the client closed the connection mid-request.
      if (!ec && used == 0 && !parser.is_done()) parser.put_eof(ec), closed = true;
    }
    if (ec) check_status(limits::parse_failure(ec).status);  // answered, then the connection closes
    if (ec || !parser.is_done()) return 0;
    if (!answer(api, parser)) return 0;
  }
  return 0;
}
