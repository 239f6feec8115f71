#pragma once
// A blocking TCP connection with a timeout on every step: what the alert notifiers (webhooks,
// SMTP) need, without an event loop. Throws std::runtime_error with what failed.
#include <string>
#include <string_view>

#include "oee/core/time.h"

namespace oee::server {

class TcpClient {
 public:
  TcpClient(const std::string& host, int port, DurationMs timeout_ms);
  ~TcpClient();
  TcpClient(const TcpClient&) = delete;
  TcpClient& operator=(const TcpClient&) = delete;

  void send(std::string_view bytes);
  std::string read_line();  // up to and without "\r\n" (or "\n"); throws at end of stream

 private:
  int fd_ = -1;
  std::string buffer_;
};

// host, port and path of an http:// URL; false when it is not one.
bool split_http_url(const std::string& url, std::string& host, int& port, std::string& path);

}  // namespace oee::server
