// Boost.Beast lives in this file only.
#include <utility>  // before Asio: Boost 1.74 misses it for g++ 12

#include "oee/server/http_server.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/version.hpp>

#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

namespace oee::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr std::size_t kHeaderBytesMax = 16 * 1024;

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

HttpRequest to_request(const http::request<http::string_body>& in, const std::string& remote) {
  HttpRequest r;
  r.method = std::string(in.method_string().data(), in.method_string().size());
  const std::string_view target(in.target().data(), in.target().size());
  const std::size_t q = target.find('?');
  auto path = percent_decode(target.substr(0, q), false);
  r.path = path ? *path : std::string(target.substr(0, q));
  if (q != std::string_view::npos && !parse_query_string(target.substr(q + 1), r.query)) r.query.clear(), r.query["\x01"] = "";
  for (const auto& field : in) {
    const auto name = field.name_string();
    r.headers[lower(std::string_view(name.data(), name.size()))] = std::string(field.value());
  }
  r.body = in.body();
  r.remote_address = remote;
  return r;
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const Router& router, const HttpServerOptions& options)
      : stream_(std::move(socket)), router_(router), options_(options) {
    beast::error_code ec;
    const auto endpoint = stream_.socket().remote_endpoint(ec);
    if (!ec) remote_ = endpoint.address().to_string();
  }

  void start() { read(); }

 private:
  void read() {
    parser_.emplace();
    parser_->header_limit(kHeaderBytesMax);
    parser_->body_limit(options_.body_bytes_max);
    stream_.expires_after(std::chrono::seconds(options_.idle_timeout_s));
    http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&Session::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::operation_aborted) return close();
    if (ec) {
      // A request too large or malformed gets an answer before the connection closes.
      HttpResponse error = ec == http::error::body_limit || ec == http::error::header_limit
                               ? HttpResponse::error(413, "too_large", "request larger than allowed")
                               : HttpResponse::error(400, "bad_request", "malformed HTTP request: " + ec.message());
      return send(std::move(error), false, 11);
    }
    http::request<http::string_body> request = parser_->release();
    HttpRequest req = to_request(request, remote_);
    HttpResponse response;
    if (req.query.count("\x01")) {
      response = HttpResponse::error(400, "bad_request", "malformed query string");
    } else {
      try {
        response = router_.dispatch(req);
      } catch (const std::exception& e) {
        response = HttpResponse::error(500, "internal", e.what());
      }
    }
    if (request.method() == http::verb::head) response.body.clear();
    send(std::move(response), request.keep_alive(), request.version());
  }

  void send(HttpResponse response, bool keep_alive, unsigned version) {
    auto out = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(response.status), version);
    out->set(http::field::server, "oee");
    out->set(http::field::content_type, response.content_type);
    out->set(http::field::cache_control, "no-store");
    for (auto& [name, value] : response.headers) out->set(name, value);
    out->keep_alive(keep_alive);
    out->body() = std::move(response.body);
    out->prepare_payload();
    stream_.expires_after(std::chrono::seconds(options_.idle_timeout_s));
    http::async_write(stream_, *out, [self = shared_from_this(), out](beast::error_code ec, std::size_t) {
      if (ec || out->need_eof()) return self->close();
      self->read();
    });
  }

  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  const Router& router_;
  const HttpServerOptions& options_;
  std::string remote_;
};

}  // namespace

struct HttpServer::Impl {
  Impl(const Router& r, HttpServerOptions o) : router(r), options(std::move(o)), io(options.threads), acceptor(io) {}

  void accept() {
    acceptor.async_accept(asio::make_strand(io), [this](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
      if (!ec) std::make_shared<Session>(std::move(socket), router, options)->start();
      accept();
    });
  }

  const Router& router;
  HttpServerOptions options;
  asio::io_context io;
  tcp::acceptor acceptor;
  std::vector<std::thread> threads;
  std::atomic<std::uint16_t> bound_port{0};
};

HttpServer::HttpServer(const Router& router, HttpServerOptions options)
    : impl_(std::make_unique<Impl>(router, std::move(options))) {}

HttpServer::~HttpServer() { stop(); }

void HttpServer::start() {
  beast::error_code ec;
  const auto address = asio::ip::make_address(impl_->options.address, ec);
  if (ec) throw std::runtime_error("invalid listen address '" + impl_->options.address + "'");
  const tcp::endpoint endpoint(address, impl_->options.port);
  auto& acceptor = impl_->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    throw std::runtime_error("cannot listen on " + impl_->options.address + ":" + std::to_string(impl_->options.port) +
                             ": " + ec.message());
  impl_->bound_port = acceptor.local_endpoint().port();
  impl_->accept();
  for (int i = 0; i < std::max(1, impl_->options.threads); ++i) impl_->threads.emplace_back([this] { impl_->io.run(); });
}

void HttpServer::stop() {
  if (!impl_ || impl_->threads.empty()) return;
  asio::post(impl_->io, [this] {
    beast::error_code ec;
    impl_->acceptor.close(ec);
  });
  impl_->io.stop();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
}

std::uint16_t HttpServer::port() const { return impl_->bound_port; }

}  // namespace oee::server
