// Boost.Beast lives in this file and beast_limits.h only.
#include <utility>  // before Asio: Boost 1.74 misses it for g++ 12

#include "oee/server/http_server.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/version.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include "beast_limits.h"
#include "oee/server/connection_limits.h"
#include "oee/server/failure_response.h"
#include "oee/server/tls_context_reloader.h"

#include <sys/socket.h>

#include <array>
#include <atomic>
#include <chrono>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

namespace oee::server {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

namespace {

using beast_limits::kHeaderBytesMax;
using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// A connection the server can ask to finish (drain on stop).
class Connection {
 public:
  virtual ~Connection() = default;
  virtual void drain() = 0;
};

// What every connection shares with the server.
struct Shared {
  Shared(const Router& r, const HttpServerOptions& o)
      : router(r), options(o), limits(o.connections_max, o.connections_per_address_max) {}
  const Router& router;
  const HttpServerOptions& options;
  ConnectionLimits limits;
  std::atomic<std::size_t> refusals{0};  // refused connections still being answered
  std::atomic<bool> draining{false};
  asio::thread_pool* blocking_pool = nullptr;
  std::atomic<std::size_t> blocking_requests{0};  // queued or running on blocking_pool
  std::mutex mutex;
  std::map<Connection*, std::weak_ptr<Connection>> connections;

  void enter(const std::shared_ptr<Connection>& c) {
    std::lock_guard lock(mutex);
    connections.emplace(c.get(), c);
  }
  void leave(Connection* c) {
    std::lock_guard lock(mutex);
    connections.erase(c);
  }
  std::size_t open() {
    std::lock_guard lock(mutex);
    return connections.size();
  }
};

template <class Stream>
void shut_down(Stream& stream) {
  beast::error_code ec;
  beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_both, ec);
}

// A WebSocket connection of this server: lives on one I/O thread (its home io_context), so a
// fan-out can hand a whole group of connections to their thread at once (send_to_all).
class HomedWebSocket : public WebSocketConnection {
 public:
  explicit HomedWebSocket(asio::io_context& home) : home_(home) {}
  asio::io_context& home() const { return home_; }

 protected:
  asio::io_context& home_;
};

template <class Executor>
asio::io_context& home_of(const Executor& executor) {
  return static_cast<asio::io_context&>(asio::query(executor, asio::execution::context));
}

template <class Stream>
class WebSocketSession : public Connection,
                         public HomedWebSocket,
                         public std::enable_shared_from_this<WebSocketSession<Stream>> {
 public:
  WebSocketSession(Stream&& stream, Shared& shared, ConnectionLimits::Slot slot)
      : HomedWebSocket(home_of(stream.get_executor())), ws_(std::move(stream)), shared_(shared), slot_(std::move(slot)) {}
  ~WebSocketSession() override { shared_.leave(this); }

  void run(http::request<http::string_body> upgrade, const WebSocketAccept& accept, const HttpRequest& request) {
    shared_.enter(this->shared_from_this());
    WebSocketAcceptance acceptance = accept(request, this->shared_from_this());
    if (acceptance.refusal) return refuse(std::move(*acceptance.refusal), upgrade.version());
    handlers_ = std::move(acceptance.handlers);
    beast::get_lowest_layer(ws_).expires_never();
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_.set_option(websocket::stream_base::decorator([protocol = acceptance.protocol](websocket::response_type& r) {
      r.set(http::field::server, "oee");
      // A browser that offered subprotocols drops a connection whose answer names none of them.
      if (!protocol.empty()) r.set(http::field::sec_websocket_protocol, protocol);
    }));
    beast_limits::limit(ws_, shared_.options);
    ws_.async_accept(upgrade, [self = this->shared_from_this()](beast::error_code ec) {
      if (ec) return self->finish();
      {
        std::lock_guard lock(self->mutex_);
        self->open_ = true;
      }
      if (auto* m = self->shared_.options.metrics) ++m->websocket_clients;
      self->flush();
      self->read();
    });
  }

  bool send(std::shared_ptr<const std::string> text, std::string_view coalesce_key) override {
    Metrics* m = shared_.options.metrics;
    std::unique_lock lock(mutex_);
    if (closed_) return false;
    if (!coalesce_key.empty()) {
      // Replace a waiting message of the same key (never the one being written).
      for (std::size_t i = writing_ ? 1 : 0; i < queue_.size(); ++i) {
        if (queue_[i].first != coalesce_key) continue;
        queued_bytes_ += text->size() - queue_[i].second->size();
        if (m) m->websocket_queue_bytes += static_cast<std::int64_t>(text->size()) - static_cast<std::int64_t>(queue_[i].second->size());
        queue_[i].second = std::move(text);
        if (m) ++m->websocket_messages_coalesced;
        return true;
      }
    }
    if (queued_bytes_ + text->size() > shared_.options.websocket_queue_bytes_max) {
      // Too far behind: dropped, so it never holds memory or slows the others.
      closed_ = true;
      if (m) ++m->websocket_clients_dropped;
      asio::post(ws_.get_executor(), [self = this->shared_from_this()] { shut_down(self->ws_.next_layer()); });
      return false;
    }
    queued_bytes_ += text->size();
    if (m) {
      m->websocket_queue_bytes += static_cast<std::int64_t>(text->size());
      ++m->websocket_messages_sent;
    }
    queue_.emplace_back(std::string(coalesce_key), std::move(text));
    if (writing_ || !open_) return true;
    writing_ = true;
    // On its own thread (a send_to_all batch) the write starts here: no hand-off per client.
    if (home_.get_executor().running_in_this_thread()) {
      lock.unlock();
      write_front();
    } else {
      asio::post(ws_.get_executor(), [self = this->shared_from_this()] { self->write_front(); });
    }
    return true;
  }

  void close() override {
    asio::post(ws_.get_executor(), [self = this->shared_from_this()] {
      // Logout, revocation and drain may each ask; Beast allows one close in flight.
      if (!self->ws_.is_open() || self->close_started_) return;
      self->close_started_ = true;
      self->ws_.async_close(websocket::close_code::going_away, [self](beast::error_code) {});
    });
  }

  void drain() override { close(); }

 private:
  void refuse(HttpResponse response, unsigned version) {
    auto out = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(response.status), version);
    out->set(http::field::server, "oee");
    out->set(http::field::content_type, response.content_type);
    for (auto& [name, value] : response.headers) out->set(name, value);
    out->keep_alive(false);
    out->body() = std::move(response.body);
    out->prepare_payload();
    http::async_write(ws_.next_layer(), *out, [self = this->shared_from_this(), out](beast::error_code, std::size_t) {
      shut_down(self->ws_.next_layer());
    });
  }

  void flush() {
    std::lock_guard lock(mutex_);
    if (!writing_ && !queue_.empty() && !closed_) {
      writing_ = true;
      asio::post(ws_.get_executor(), [self = this->shared_from_this()] { self->write_front(); });
    }
  }

  void write_front() {
    std::shared_ptr<const std::string> text;
    {
      std::lock_guard lock(mutex_);
      if (queue_.empty() || closed_) {
        writing_ = false;
        return;
      }
      text = queue_.front().second;
    }
    ws_.text(true);
    ws_.async_write(asio::buffer(*text), [self = this->shared_from_this(), text](beast::error_code ec, std::size_t) {
      Metrics* m = self->shared_.options.metrics;
      std::unique_lock lock(self->mutex_);
      if (!self->queue_.empty()) {
        self->queued_bytes_ -= self->queue_.front().second->size();
        if (m) m->websocket_queue_bytes -= static_cast<std::int64_t>(self->queue_.front().second->size());
        self->queue_.pop_front();
      }
      if (ec || self->queue_.empty() || self->closed_) {
        self->writing_ = false;
        return;
      }
      lock.unlock();
      self->write_front();  // already on this connection's thread
    });
  }

  void read() {
    ws_.async_read(buffer_, [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->finish();
      if (self->handlers_.on_message) {
        const auto data = self->buffer_.data();
        self->handlers_.on_message(std::string_view(static_cast<const char*>(data.data()), data.size()));
      }
      self->buffer_.consume(self->buffer_.size());
      self->read();
    });
  }

  void finish() {
    bool was_open = false;
    {
      std::lock_guard lock(mutex_);
      if (finished_) return;
      finished_ = true;
      closed_ = true;
      was_open = open_;
      if (Metrics* m = shared_.options.metrics) m->websocket_queue_bytes -= static_cast<std::int64_t>(queued_bytes_);
      queue_.clear();
      queued_bytes_ = 0;
    }
    if (was_open)
      if (Metrics* m = shared_.options.metrics) --m->websocket_clients;
    if (handlers_.on_close) handlers_.on_close();
    handlers_ = {};  // drops what the handlers hold (they may hold this connection)
  }

  websocket::stream<Stream> ws_;
  Shared& shared_;
  ConnectionLimits::Slot slot_;
  beast::flat_buffer buffer_;
  WebSocketHandlers handlers_;
  std::mutex mutex_;
  std::deque<std::pair<std::string, std::shared_ptr<const std::string>>> queue_;
  std::size_t queued_bytes_ = 0;
  bool writing_ = false, open_ = false, closed_ = false, finished_ = false;
  bool close_started_ = false;  // touched only on this connection's executor
};

template <class Stream>
class HttpSession : public Connection, public std::enable_shared_from_this<HttpSession<Stream>> {
 public:
  template <class... Args>
  HttpSession(Shared& shared, ConnectionLimits::Slot slot, tcp::socket socket, Args&... args)
      : stream_(std::move(socket), args...), shared_(shared), slot_(std::move(slot)) {
    beast::error_code ec;
    const auto endpoint = beast::get_lowest_layer(stream_).socket().remote_endpoint(ec);
    if (!ec) remote_ = endpoint.address().to_string();
    if (Metrics* m = shared_.options.metrics) ++m->http_connections;
  }
  ~HttpSession() override {
    shared_.leave(this);
    if (Metrics* m = shared_.options.metrics) --m->http_connections;
  }

  void start() {
    shared_.enter(this->shared_from_this());
    if constexpr (std::is_same_v<Stream, TlsStream>) {
      expire_in(shared_.options.header_timeout_s);
      stream_.async_handshake(ssl::stream_base::server, [self = this->shared_from_this()](beast::error_code ec) {
        if (ec) return self->close();
        self->read();
      });
    } else {
      read();
    }
  }

  void drain() override {
    asio::post(stream_.get_executor(), [self = this->shared_from_this()] {
      // Only a kept-alive connection waiting for its next request closes now: a new connection's
      // first request (maybe still on its way) and a request in progress are answered first.
      if (self->between_requests_) self->close();
    });
  }

 private:
  void expire_in(int seconds) { beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(seconds)); }

  void read() {
    if (shared_.draining && !first_request_) return close();
    busy_ = false;
    parser_.emplace();
    beast_limits::limit(*parser_, shared_.options);
    // A new client sends its request at once, and pipelined bytes are a request begun: the header
    // deadline runs from now. Otherwise the connection may idle until the next request starts.
    if (first_request_ || buffer_.size() > 0) return read_header();
    expire_in(shared_.options.idle_timeout_s);
    between_requests_ = true;
    stream_.async_read_some(buffer_.prepare(kHeaderBytesMax), [self = this->shared_from_this()](beast::error_code ec, std::size_t n) {
      self->between_requests_ = false;
      if (ec) return self->close();  // the client left, or stayed quiet past the idle timeout: not counted
      self->buffer_.commit(n);
      self->read_header();
    });
  }

  // One deadline for all the headers and one for the whole body, so trickling bytes (slowloris)
  // cannot keep a connection.
  void read_header() {
    first_request_ = false;
    expire_in(shared_.options.header_timeout_s);
    http::async_read_header(stream_, buffer_, *parser_, [self = this->shared_from_this()](beast::error_code ec, std::size_t n) {
      if (ec || self->parser_->is_done()) return self->on_read(ec, n);
      self->expire_in(self->shared_.options.body_timeout_s);
      http::async_read(self->stream_, self->buffer_, *self->parser_, [self](beast::error_code ec2, std::size_t n2) {
        self->on_read(ec2, n2);
      });
    });
  }

  void on_read(beast::error_code ec, std::size_t) {
    busy_ = true;
    if (ec == beast::error::timeout)
      if (Metrics* m = shared_.options.metrics) ++m->http_read_timeouts;
    if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::operation_aborted) return close();
    if (ec) return send(beast_limits::parse_failure(ec), false, 11, std::chrono::steady_clock::now());
    const auto started = std::chrono::steady_clock::now();
    http::request<http::string_body> request = parser_->release();
    HttpRequest req = beast_limits::to_request(request, remote_);
    if (websocket::is_upgrade(request) && !beast_limits::malformed_query(req)) {
      if (const WebSocketAccept* accept = shared_.router.websocket(req.path)) {
        auto ws = std::make_shared<WebSocketSession<Stream>>(std::move(stream_), shared_, std::move(slot_));
        ws->run(std::move(request), *accept, req);
        return;  // the connection is the WebSocket's now
      }
    }
    const bool head = request.method() == http::verb::head, keep_alive = request.keep_alive();
    const unsigned version = request.version();
    if (!beast_limits::malformed_query(req) && shared_.router.blocking(req)) return answer_off_io_thread(std::move(req), head, keep_alive, version, started);
    HttpResponse response = answer(req);
    if (head) response.body.clear();
    send(std::move(response), keep_alive && !shared_.draining, version, started);
  }

  HttpResponse answer(const HttpRequest& req) const {
    if (beast_limits::malformed_query(req)) return HttpResponse::error(400, "bad_request", "malformed query string");
    try {
      return shared_.router.dispatch(req);
    } catch (const std::exception& e) {
      return failure_response(500, "internal", "the server failed to answer this request", req, e.what());
    }
  }

  // A blocking route (a password hash) runs on the blocking pool; the answer is written back on
  // this connection's thread, so the I/O threads keep serving every other connection meanwhile.
  void answer_off_io_thread(HttpRequest req, bool head, bool keep_alive, unsigned version, std::chrono::steady_clock::time_point started) {
    if (shared_.blocking_requests.fetch_add(1) >= shared_.options.blocking_requests_max) {
      --shared_.blocking_requests;
      HttpResponse busy = HttpResponse::error(503, "busy", "too many requests of this kind in progress; try again shortly");
      busy.headers.emplace_back("Retry-After", "1");
      return send(std::move(busy), keep_alive && !shared_.draining, version, started);
    }
    asio::post(*shared_.blocking_pool, [self = this->shared_from_this(), req = std::move(req), head, keep_alive, version, started] {
      HttpResponse response = self->answer(req);
      if (head) response.body.clear();
      --self->shared_.blocking_requests;
      asio::post(self->stream_.get_executor(), [self, response = std::move(response), keep_alive, version, started]() mutable {
        self->send(std::move(response), keep_alive && !self->shared_.draining, version, started);
      });
    });
  }

  void send(HttpResponse response, bool keep_alive, unsigned version, std::chrono::steady_clock::time_point started) {
    auto out = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(response.status), version);
    out->set(http::field::server, "oee");
    out->set(http::field::content_type, response.content_type);
    out->set(http::field::cache_control, "no-store");
    for (auto& [name, value] : response.headers) out->set(name, value);
    out->keep_alive(keep_alive);
    out->body() = std::move(response.body);
    out->prepare_payload();
    if (Metrics* m = shared_.options.metrics)
      m->observe_request(response.status, std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started).count());
    expire_in(shared_.options.idle_timeout_s);
    http::async_write(stream_, *out, [self = this->shared_from_this(), out](beast::error_code ec, std::size_t) {
      if (ec || out->need_eof()) return self->close();
      self->read();
    });
  }

  void close() { shut_down(stream_); }

  Stream stream_;
  Shared& shared_;
  ConnectionLimits::Slot slot_;
  beast::flat_buffer buffer_;
  std::optional<beast_limits::RequestParser> parser_;
  std::string remote_;
  bool busy_ = false, first_request_ = true, between_requests_ = false;
};

// A connection over a cap: answered 503 before its request is read. It then reads (and drops)
// what the client sends until the client closes or 2 s pass, because closing a socket with unread
// bytes resets it, and a reset can discard the answer before the client reads it.
class Refusal : public std::enable_shared_from_this<Refusal> {
 public:
  static constexpr std::size_t kInFlightMax = 256;  // beyond this, refused connections close at once

  Refusal(Shared& shared, tcp::socket socket) : stream_(std::move(socket)), shared_(shared) { ++shared_.refusals; }
  ~Refusal() { --shared_.refusals; }

  void start() {
    stream_.expires_after(std::chrono::seconds(2));
    asio::async_write(stream_, asio::buffer(answer()), [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return;
      beast::error_code ignored;
      self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
      self->discard();
    });
  }

 private:
  static const std::string& answer() {
    static const std::string text = [] {
      const HttpResponse r = HttpResponse::error(503, "too_many_connections", "the server holds as many connections as it may (in total or from your address); try again shortly");
      return "HTTP/1.1 503 Service Unavailable\r\nServer: oee\r\nContent-Type: " + r.content_type +
             "\r\nCache-Control: no-store\r\nRetry-After: 1\r\nConnection: close\r\nContent-Length: " +
             std::to_string(r.body.size()) + "\r\n\r\n" + r.body;
    }();
    return text;
  }

  void discard() {
    stream_.async_read_some(asio::buffer(scratch_), [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (!ec) self->discard();
    });
  }

  beast::tcp_stream stream_;
  Shared& shared_;
  std::array<char, 4096> scratch_{};
};

// The address a connection counts against: IPv6 clients by /64 (one host usually holds a whole /64).
std::string limit_key(const tcp::socket& socket) {
  beast::error_code ec;
  const auto endpoint = socket.remote_endpoint(ec);
  if (ec) return {};
  asio::ip::address a = endpoint.address();
  if (a.is_v6() && a.to_v6().is_v4_mapped()) a = asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
  if (!a.is_v6()) return a.to_string();
  auto bytes = a.to_v6().to_bytes();
  std::fill(bytes.begin() + 8, bytes.end(), 0);
  return asio::ip::address_v6(bytes).to_string() + "/64";
}

void bind_listener(tcp::acceptor& acceptor, const std::string& address_text, std::uint16_t port) {
  beast::error_code ec;
  const auto address = asio::ip::make_address(address_text, ec);
  if (ec) throw std::runtime_error("invalid listen address '" + address_text + "'");
  const tcp::endpoint endpoint(address, port);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) throw std::runtime_error("cannot listen on " + address_text + ":" + std::to_string(port) + ": " + ec.message());
}

// A socket already bound and listening (systemd, or the process an upgrade replaced).
void take_listener(tcp::acceptor& acceptor, int fd) {
  sockaddr_storage address{};
  socklen_t len = sizeof address;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &len) != 0)
    throw std::runtime_error("the inherited listening socket cannot be read");
  beast::error_code ec;
  acceptor.assign(address.ss_family == AF_INET6 ? tcp::v6() : tcp::v4(), fd, ec);
  if (ec) throw std::runtime_error("cannot serve the inherited listening socket: " + ec.message());
}

}  // namespace

struct HttpServer::Impl {
  Impl(const Router& r, HttpServerOptions o)
      : options(std::move(o)),
        shared(r, options),
        ios(make_contexts(options.threads)),
        blocking_pool(static_cast<std::size_t>(std::max(1, options.blocking_threads))),
        acceptor(*ios.front()),
        tls_check(*ios.front()) {
    shared.blocking_pool = &blocking_pool;
  }

  // One single-threaded io_context per I/O thread, connections dealt round-robin: a connection's
  // handlers all run on its thread (no strand), and a fan-out to thousands of WebSockets costs one
  // hand-off per thread instead of one per client (send_to_all).
  static std::vector<std::unique_ptr<asio::io_context>> make_contexts(int threads) {
    std::vector<std::unique_ptr<asio::io_context>> out;
    for (int i = 0; i < std::max(1, threads); ++i) out.push_back(std::make_unique<asio::io_context>(1));
    return out;
  }

  void accept() {
    asio::io_context& home = *ios[next_home++ % ios.size()];
    acceptor.async_accept(home, [this](beast::error_code ec, tcp::socket socket) {
      // A connection accepted just before the listener closed or was handed over is still served.
      if (!ec && socket.is_open()) {
        // Small messages (WebSocket updates, API answers) go out at once: with Nagle's algorithm a
        // second update to a client waits for the ACK of the first, which the client delays.
        beast::error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        start_session(std::move(socket));
      }
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
      accept();
    });
  }

  void start_session(tcp::socket socket) {
    std::optional<ConnectionLimits::Slot> slot = shared.limits.admit(limit_key(socket));
    if (!slot) return refuse(std::move(socket));
    if (tls) {
      // The SSL object made from it holds its own reference to the context in use now; Asio's
      // wrapper takes over the one added here and drops it at the end of this block.
      SSL_CTX* native = tls->current().get();
      SSL_CTX_up_ref(native);
      ssl::context context(native);
      std::make_shared<HttpSession<TlsStream>>(shared, std::move(*slot), std::move(socket), context)->start();
    } else {
      std::make_shared<HttpSession<PlainStream>>(shared, std::move(*slot), std::move(socket))->start();
    }
  }

  // Polls the certificate and key files for a change (options.tls_reload_check_ms).
  void check_tls_files() {
    tls_check.expires_after(std::chrono::milliseconds(options.tls_reload_check_ms));
    tls_check.async_wait([this](beast::error_code ec) {
      if (ec) return;
      tls->reload_if_changed();
      check_tls_files();
    });
  }

  // Over TLS, or with many refusals still being answered, the connection just closes.
  void refuse(tcp::socket socket) {
    if (Metrics* m = options.metrics) ++m->http_connections_refused;
    if (tls || shared.refusals.load() >= Refusal::kInFlightMax) return;  // the socket closes here
    std::make_shared<Refusal>(shared, std::move(socket))->start();
  }

  HttpServerOptions options;
  Shared shared;
  std::vector<std::unique_ptr<asio::io_context>> ios;
  // Keeps each io_context's run() going while it has no connection yet.
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> keep_running;
  std::size_t next_home = 0;
  asio::thread_pool blocking_pool;  // after the io_contexts: destroyed (joined) before them
  tcp::acceptor acceptor;
  std::unique_ptr<TlsContextReloader> tls;  // null: plain HTTP
  asio::steady_timer tls_check;
  std::vector<std::thread> threads;
  std::atomic<std::uint16_t> bound_port{0};
  std::string bound_address;
};

HttpServer::HttpServer(const Router& router, HttpServerOptions options)
    : impl_(std::make_unique<Impl>(router, std::move(options))) {}

HttpServer::~HttpServer() { stop(); }

void HttpServer::start() {
  auto& o = impl_->options;
  if (!o.tls_certificate_file.empty() || !o.tls_private_key_file.empty()) {
    if (o.tls_certificate_file.empty() || o.tls_private_key_file.empty())
      throw std::runtime_error("TLS needs both a certificate and a private key");
    impl_->tls = std::make_unique<TlsContextReloader>(o.tls_certificate_file, o.tls_private_key_file, o.metrics);
  }
  if (o.listen_fd >= 0)
    take_listener(impl_->acceptor, o.listen_fd);
  else
    bind_listener(impl_->acceptor, o.address, o.port);
  const tcp::endpoint bound = impl_->acceptor.local_endpoint();
  impl_->bound_port = bound.port();
  impl_->bound_address = bound.address().to_string();
  impl_->accept();
  if (impl_->tls && o.tls_reload_check_ms > 0) impl_->check_tls_files();
  for (auto& io : impl_->ios) {
    impl_->keep_running.push_back(asio::make_work_guard(*io));
    impl_->threads.emplace_back([&io = *io] { io.run(); });
  }
}

void HttpServer::stop(int drain_timeout_ms) {
  if (!impl_ || impl_->threads.empty()) return;
  impl_->shared.draining = true;
  asio::post(*impl_->ios.front(), [this] {
    beast::error_code ec;
    impl_->acceptor.close(ec);
    impl_->tls_check.cancel();
  });
  std::vector<std::shared_ptr<Connection>> open;
  {
    std::lock_guard lock(impl_->shared.mutex);
    for (auto& [raw, weak] : impl_->shared.connections)
      if (auto c = weak.lock()) open.push_back(std::move(c));
  }
  for (auto& c : open) c->drain();
  open.clear();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(drain_timeout_ms);
  while (impl_->shared.open() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  // Blocking work still queued is dropped (its connections close); running work finishes first.
  impl_->blocking_pool.stop();
  impl_->blocking_pool.join();
  impl_->keep_running.clear();
  for (auto& io : impl_->ios) io->stop();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
}

std::uint16_t HttpServer::port() const { return impl_->bound_port; }

std::string HttpServer::address() const { return impl_->bound_address; }

int HttpServer::hand_over_listener() {
  if (!impl_ || impl_->threads.empty()) return -1;
  // On the acceptor's thread: its pending accept ends (operation_aborted) and is not renewed.
  std::promise<int> released;
  asio::post(*impl_->ios.front(), [this, &released] {
    beast::error_code ec;
    const int fd = impl_->acceptor.is_open() ? impl_->acceptor.release(ec) : -1;
    released.set_value(ec ? -1 : fd);
  });
  return released.get_future().get();
}

void send_to_all(const std::vector<std::shared_ptr<WebSocketConnection>>& connections,
                 const std::shared_ptr<const std::string>& text, std::string_view coalesce_key) {
  std::map<asio::io_context*, std::vector<std::shared_ptr<WebSocketConnection>>> by_home;
  for (const auto& c : connections) {
    if (auto* homed = dynamic_cast<HomedWebSocket*>(c.get()))
      by_home[&homed->home()].push_back(c);
    else
      c->send(text, coalesce_key);
  }
  for (auto& [home, group] : by_home)
    asio::post(*home, [group = std::move(group), text, key = std::string(coalesce_key)] {
      for (const auto& c : group) c->send(text, key);
    });
}
bool HttpServer::tls() const { return impl_->tls != nullptr; }

std::string HttpServer::reload_tls() { return impl_->tls ? impl_->tls->reload() : std::string(); }

}  // namespace oee::server
