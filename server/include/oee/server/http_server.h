#pragma once
// The HTTP/1.1 server (Boost.Beast, behind a pimpl so Beast's headers stay in one file):
// keep-alive, bounded request sizes and timeouts, a fixed pool of I/O threads.
#include <cstdint>
#include <memory>
#include <string>

#include "oee/server/http.h"

namespace oee::server {

struct HttpServerOptions {
  std::string address = "127.0.0.1";
  std::uint16_t port = 8080;  // 0: any free port (see HttpServer::port())
  int threads = 2;
  std::size_t body_bytes_max = 1024 * 1024;
  int idle_timeout_s = 60;
};

class HttpServer {
 public:
  HttpServer(const Router& router, HttpServerOptions options);
  ~HttpServer();
  // Binds and starts serving on background threads; throws std::runtime_error when it cannot bind.
  void start();
  void stop();
  std::uint16_t port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace oee::server
