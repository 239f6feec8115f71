#pragma once
// A blocking TCP connection with a timeout on every step: what the alert notifiers (webhooks,
// SMTP) need, without an event loop. It can turn into TLS (HTTPS at once, SMTP after STARTTLS).
// Throws std::runtime_error with what failed.
#include <memory>
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

  // TLS from here on: the peer's certificate must chain to `ca_file` (PEM; empty: the system's
  // CAs) and name `host` (a DNS name or an IP address). Bytes read ahead before are dropped.
  void start_tls(const std::string& host, const std::string& ca_file);
  bool tls() const { return tls_ != nullptr; }
  void send(std::string_view bytes);
  std::string read_line();  // up to and without "\r\n" (or "\n"); throws at end of stream

 private:
  struct Tls;
  int fd_ = -1;
  std::string buffer_;
  std::unique_ptr<Tls> tls_;
};

// An http:// or https:// URL's parts; false when it is neither.
struct HttpUrl {
  bool https = false;
  std::string host, path;
  int port = 0;
};
bool split_http_url(const std::string& url, HttpUrl& out);

}  // namespace oee::server
