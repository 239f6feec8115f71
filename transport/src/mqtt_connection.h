#pragma once
// The subscriber's connection to a broker: a TCP socket (plain or TLS) with deadlines, and the
// reads and writes of whole MQTT fixed headers and bodies on it.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "oee/transport/mqtt_client.h"

namespace oee::transport {

using Clock = std::chrono::steady_clock;

// The last OpenSSL error as text (and the error queue cleared).
std::string openssl_error();

// A socket with deadlines, plain or TLS: every read and write gives up when the connection stalls.
// With TLS the socket stays blocking (SO_RCVTIMEO/SO_SNDTIMEO bound each call) and OpenSSL's
// auto-retry is off, so a record that carries no application data (a TLS 1.3 session ticket)
// returns to our poll loop instead of blocking for data that may not come.
class Connection {
 public:
  explicit Connection(int fd) : fd_(fd) {}
  ~Connection() {
    if (ssl_ != nullptr) {
      SSL_shutdown(ssl_);
      SSL_free(ssl_);
    }
    ::close(fd_);
  }

  // The TLS handshake, the broker's certificate checked against `ctx`'s CAs and, unless
  // `check_host` is false, against `host` (a DNS name or an IP address). Empty: ok, else why not.
  std::string start_tls(SSL_CTX* ctx, const std::string& host, bool check_host) {
    ssl_ = SSL_new(ctx);
    if (ssl_ == nullptr) return openssl_error();
    SSL_clear_mode(ssl_, SSL_MODE_AUTO_RETRY);
    SSL_set_fd(ssl_, fd_);
    in6_addr any{};
    const bool is_ip = ::inet_pton(AF_INET, host.c_str(), &any) == 1 || ::inet_pton(AF_INET6, host.c_str(), &any) == 1;
    if (!is_ip) SSL_set_tlsext_host_name(ssl_, host.c_str());  // SNI takes names only
    if (check_host && SSL_set1_host(ssl_, host.c_str()) != 1) return "cannot check the host name '" + host + "'";
    ERR_clear_error();
    if (SSL_connect(ssl_) != 1) {
      const long verify = SSL_get_verify_result(ssl_);
      if (verify != X509_V_OK) return std::string("certificate rejected: ") + X509_verify_cert_error_string(verify);
      return "TLS handshake failed: " + openssl_error();
    }
    return {};
  }

  bool send_all(const std::string& data) {
    std::size_t off = 0;
    while (off < data.size()) {
      ssize_t n = 0;
      if (ssl_ != nullptr) {
        n = SSL_write(ssl_, data.data() + off, static_cast<int>(std::min<std::size_t>(data.size() - off, 1 << 30)));
        if (n <= 0) {
          const int err = SSL_get_error(ssl_, static_cast<int>(n));
          if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) continue;
          return false;
        }
      } else {
        n = ::send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
      }
      off += static_cast<std::size_t>(n);
    }
    last_send_ = Clock::now();
    return true;
  }
  // 1: data ready, 0: timeout (or only TLS housekeeping arrived), -1: error or closed.
  int wait_readable(int timeout_ms) {
    if (pos_ < buf_.size()) return 1;
    return fill(timeout_ms);
  }
  // Reads exactly n bytes into out (appending), waiting up to timeout_ms of silence.
  bool read_exact(std::size_t n, std::string& out, int timeout_ms) {
    while (n > 0) {
      if (pos_ == buf_.size()) {
        const auto until = Clock::now() + std::chrono::milliseconds(timeout_ms);
        int r = 0;
        while ((r = fill(timeout_ms)) == 0 && Clock::now() < until) {
        }
        if (r <= 0) return false;
      }
      const std::size_t take = std::min(n, buf_.size() - pos_);
      out.append(buf_.data() + pos_, take);
      pos_ += take;
      n -= take;
    }
    last_receive_ = Clock::now();
    return true;
  }
  bool skip(std::size_t n, int timeout_ms) {
    std::string scratch;
    while (n > 0) {
      scratch.clear();
      const std::size_t take = std::min<std::size_t>(n, 64 * 1024);
      if (!read_exact(take, scratch, timeout_ms)) return false;
      n -= take;
    }
    return true;
  }
  // Fixed header: type/flags byte and remaining length (at most 4 bytes, < 256 MiB).
  bool read_header(std::uint8_t& first, std::size_t& remaining, int timeout_ms) {
    std::string b;
    if (!read_exact(1, b, timeout_ms)) return false;
    first = static_cast<std::uint8_t>(b[0]);
    remaining = 0;
    for (int i = 0, shift = 0; i < 4; ++i, shift += 7) {
      b.clear();
      if (!read_exact(1, b, timeout_ms)) return false;
      const auto byte = static_cast<std::uint8_t>(b[0]);
      remaining |= static_cast<std::size_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return true;
    }
    return false;  // malformed length
  }
  Clock::time_point last_send() const { return last_send_; }
  Clock::time_point last_receive() const { return last_receive_; }

 private:
  // Refills the (consumed) buffer: 1 data, 0 nothing yet, -1 error or closed.
  int fill(int timeout_ms) {
    buf_.resize(64 * 1024);
    pos_ = 0;
    const bool buffered = ssl_ != nullptr && SSL_has_pending(ssl_) == 1;
    if (!buffered) {
      pollfd p{fd_, POLLIN, 0};
      const int r = ::poll(&p, 1, timeout_ms);
      if (r <= 0) {
        buf_.clear();
        return r < 0 && errno != EINTR ? -1 : 0;
      }
    }
    ssize_t n = 0;
    if (ssl_ != nullptr) {
      n = SSL_read(ssl_, buf_.data(), static_cast<int>(buf_.size()));
      if (n <= 0) {
        buf_.clear();
        const int err = SSL_get_error(ssl_, static_cast<int>(n));
        return err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE ? 0 : -1;
      }
    } else {
      n = ::recv(fd_, buf_.data(), buf_.size(), 0);
      if (n <= 0) {
        buf_.clear();
        return n < 0 && errno == EINTR ? 0 : -1;
      }
    }
    buf_.resize(static_cast<std::size_t>(n));
    return 1;
  }

  int fd_;
  SSL* ssl_ = nullptr;
  std::string buf_;
  std::size_t pos_ = 0;
  Clock::time_point last_send_ = Clock::now();
  Clock::time_point last_receive_ = Clock::now();
};

// A connected TCP socket to the broker (send and receive timeouts set), or -1.
int connect_tcp(const BrokerAddress& b, int timeout_ms);

// The TLS context of every connection: the CAs that may sign the broker's certificate (the
// system's when no file is given) and the optional client certificate. Throws when a file is bad.
std::shared_ptr<ssl_ctx_st> make_tls_context(const MqttTlsOptions& tls);

}  // namespace oee::transport
