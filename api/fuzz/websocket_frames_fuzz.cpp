// libFuzzer target: any bytes as the frames a client sends on /api/v1/live after a valid upgrade,
// read by a Beast server stream with the server's read limits (over Beast's in-memory test stream),
// each message read handed to the live feed's message handler: never a crash, a leak or undefined
// behaviour. Frames must be masked (client to server); Beast answers pings and closes itself.
#include <boost/beast/_experimental/test/stream.hpp>

#include <cstddef>
#include <cstdint>

#include "beast_limits.h"
#include "fuzzed_api.h"

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;

http::request<http::string_body> upgrade_request() {
  http::request<http::string_body> r(http::verb::get, "/api/v1/live", 11);
  r.set(http::field::host, "127.0.0.1");
  r.set(http::field::upgrade, "websocket");
  r.set(http::field::connection, "Upgrade");
  r.set(http::field::sec_websocket_key, "dGhlIHNhbXBsZSBub25jZQ==");
  r.set(http::field::sec_websocket_version, "13");
  r.set(http::field::authorization, std::string("Bearer ") + oee::api::fuzz::kFuzzAdminToken);
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static oee::api::fuzz::FuzzedApi api;
  static const auto request = upgrade_request();
  static const oee::server::HttpRequest converted = oee::server::beast_limits::to_request(request, "127.0.0.1");
  api.tick();
  const oee::server::WebSocketAccept* accept = api.router().websocket("/api/v1/live");
  if (!accept) __builtin_trap();
  oee::server::WebSocketAcceptance acceptance = (*accept)(converted, std::make_shared<oee::api::fuzz::DiscardingConnection>());
  if (acceptance.refusal || !acceptance.handlers.on_message) __builtin_trap();  // the admin token must be accepted

  boost::asio::io_context io;
  beast::test::stream client(io);
  websocket::stream<beast::test::stream> ws(io);
  ws.next_layer().connect(client);
  ws.next_layer().append(beast::string_view(reinterpret_cast<const char*>(data), size));
  ws.next_layer().close_remote();  // the client's bytes end here
  oee::server::beast_limits::limit(ws, api.options());
  beast::error_code ec;
  ws.accept(request, ec);
  beast::flat_buffer buffer;
  while (!ec) {
    ws.read(buffer, ec);
    if (ec) break;
    const auto bytes = buffer.data();
    acceptance.handlers.on_message(std::string_view(static_cast<const char*>(bytes.data()), bytes.size()));
    buffer.consume(buffer.size());
  }
  acceptance.handlers.on_close();
  return 0;
}
