#pragma once
// A minimal blocking WebSocket client for tests (RFC 6455 text frames, client masking): real
// sockets against the real server.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>

namespace oee::testing {

class WebSocketClient {
 public:
  // Connects and upgrades; `status` is the HTTP status of the handshake answer (101 when upgraded).
  WebSocketClient(std::uint16_t port, const std::string& target, const std::string& extra_headers = {}) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) throw std::runtime_error("connect failed");
    send_all("GET " + target + " HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" + extra_headers + "\r\n");
    while (buffer_.find("\r\n\r\n") == std::string::npos)
      if (!fill(5000)) throw std::runtime_error("no handshake answer");
    const std::size_t end = buffer_.find("\r\n\r\n");
    handshake = buffer_.substr(0, end);
    status = std::stoi(handshake.substr(9, 3));
    buffer_.erase(0, end + 4);
  }
  ~WebSocketClient() { ::close(fd_); }
  WebSocketClient(const WebSocketClient&) = delete;
  WebSocketClient& operator=(const WebSocketClient&) = delete;

  void send_text(const std::string& text) {
    std::string frame;
    frame += static_cast<char>(0x81);
    if (text.size() < 126) {
      frame += static_cast<char>(0x80 | text.size());
    } else {
      frame += static_cast<char>(0x80 | 126);
      frame += static_cast<char>((text.size() >> 8) & 0xff);
      frame += static_cast<char>(text.size() & 0xff);
    }
    const unsigned char mask[4] = {0x12, 0x34, 0x56, 0x78};
    frame.append(reinterpret_cast<const char*>(mask), 4);
    for (std::size_t i = 0; i < text.size(); ++i) frame += static_cast<char>(text[i] ^ mask[i % 4]);
    send_all(frame);
  }

  // The next text message, or nullopt after `timeout_ms` or when the connection closed.
  std::optional<std::string> receive(int timeout_ms = 5000) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
      if (buffer_.size() >= 2) {
        const auto b = [&](std::size_t i) { return static_cast<unsigned char>(buffer_[i]); };
        const int opcode = b(0) & 0x0f;
        std::size_t length = b(1) & 0x7f, header = 2;
        if (length == 126 && buffer_.size() >= 4) length = (b(2) << 8) | b(3), header = 4;
        else if (length == 127 && buffer_.size() >= 10) {
          length = 0;
          for (int i = 2; i < 10; ++i) length = (length << 8) | b(static_cast<std::size_t>(i));
          header = 10;
        }
        if ((b(1) & 0x7f) < 126 || buffer_.size() >= header) {
          if (buffer_.size() >= header + length) {
            std::string payload = buffer_.substr(header, length);
            buffer_.erase(0, header + length);
            if (opcode == 0x8) {
              closed = true;
              return std::nullopt;
            }
            if (opcode == 0x1) return payload;
            continue;  // ping/pong: skip
          }
        }
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
      if (left <= 0 || !fill(static_cast<int>(left))) return std::nullopt;
    }
  }

  int status = 0;
  std::string handshake;
  bool closed = false;

 private:
  void send_all(const std::string& data) {
    std::size_t sent = 0;
    while (sent < data.size()) {
      const ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return;
      sent += static_cast<std::size_t>(n);
    }
  }
  bool fill(int timeout_ms) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return false;
    char buf[65536];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) {
      closed = true;
      return false;
    }
    buffer_.append(buf, static_cast<std::size_t>(n));
    return true;
  }
  int fd_ = -1;
  std::string buffer_;
};

}  // namespace oee::testing
