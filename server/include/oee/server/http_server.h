#pragma once
// The HTTP/1.1 and WebSocket server (Boost.Beast, behind a pimpl so Beast's headers stay in one
// file): keep-alive, bounded request sizes, read deadlines and connection caps, a fixed pool of I/O
// threads, each with its own io_context and the connections dealt to it (so a WebSocket fan-out
// hands each thread its clients in one batch: send_to_all in http.h), a small bounded pool for slow
// handlers such as password checks, TCP_NODELAY (small updates go out at once), optional TLS
// (OpenSSL) with a given certificate and key, and a graceful drain on stop.
#include <cstdint>
#include <memory>
#include <string>

#include "oee/server/http.h"
#include "oee/server/metrics.h"

namespace oee::server {

struct HttpServerOptions {
  std::string address = "127.0.0.1";
  std::uint16_t port = 8080;  // 0: any free port (see HttpServer::port())
  int threads = 2;  // I/O threads
  // Routes added with Router::add_blocking (logins: an argon2id hash) run on these threads instead;
  // beyond `blocking_requests_max` queued or running, a request gets 503 with Retry-After.
  int blocking_threads = 1;
  std::size_t blocking_requests_max = 32;
  std::size_t body_bytes_max = 1024 * 1024;
  // Against slowloris, each deadline covers a whole step, not each read: a request's headers must
  // be complete within `header_timeout_s` (of the connection's start, or of the first byte of a
  // later request on a keep-alive connection), its body within `body_timeout_s` of its headers.
  // A keep-alive connection may wait `idle_timeout_s` for its next request; a response must be
  // written within it. A connection that misses a deadline is closed.
  int header_timeout_s = 10;
  int body_timeout_s = 30;
  int idle_timeout_s = 60;
  // Open connections (HTTP and WebSocket) in total and per client address (IPv6: per /64). Over a
  // cap a connection is answered 503 with Retry-After before its request is read (over TLS it is
  // closed instead), and counted in oee_http_connections_refused_total.
  std::size_t connections_max = 16384;
  std::size_t connections_per_address_max = 512;
  // A listening socket inherited from systemd (socket activation) or from the process this one
  // replaced (an upgrade): served instead of binding `address`:`port`. -1: bind.
  int listen_fd = -1;
  // TLS: PEM files; both empty = plain HTTP.
  std::string tls_certificate_file;
  std::string tls_private_key_file;
  // How often the certificate and key files are checked for a change (modification time or size),
  // which reloads them as reload_tls() does; 0: only on reload_tls() (SIGHUP in `oee serve`).
  int tls_reload_check_ms = 5000;
  // A WebSocket client with more than this waiting to be sent is dropped (it never slows others).
  std::size_t websocket_queue_bytes_max = 1024 * 1024;
  std::size_t websocket_message_bytes_max = 64 * 1024;  // from clients
  Metrics* metrics = nullptr;  // request counters and latencies when given
};

class HttpServer {
 public:
  HttpServer(const Router& router, HttpServerOptions options);
  ~HttpServer();
  // Binds and starts serving on background threads; throws std::runtime_error when it cannot bind
  // or the TLS certificate or key cannot be loaded.
  void start();
  // Stops accepting and gives up the listening socket, still open and listening, for a process
  // that takes over (an upgrade): connections wait in its backlog meanwhile, none is refused.
  // Returns its descriptor (-1 when the server was not started); call stop() afterwards.
  int hand_over_listener();
  // The address served (of the inherited socket, when one was given).
  std::string address() const;
  // Stops accepting, lets requests in progress finish (up to `drain_timeout_ms`), closes
  // WebSockets with "going away", then stops the threads.
  void stop(int drain_timeout_ms = 5000);
  std::uint16_t port() const;
  // Loads the TLS certificate and key again for new connections (open ones keep theirs); on error
  // the previous ones stay in use. Returns "" or the error (also logged and counted in /metrics).
  // "" without TLS.
  std::string reload_tls();
  bool tls() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace oee::server
