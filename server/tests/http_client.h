#pragma once
// A minimal blocking HTTP/1.1 client for tests: real sockets against the real server.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>
#include <string>

namespace oee::testing {

struct HttpReply {
  int status = 0;
  std::string headers;
  std::string body;
};

class HttpConnection {
 public:
  // `source`: the loopback address to connect from (e.g. "127.0.0.2"), so tests can be several clients.
  explicit HttpConnection(std::uint16_t port, const char* source = nullptr) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (source) {
      sockaddr_in from{};
      from.sin_family = AF_INET;
      ::inet_pton(AF_INET, source, &from.sin_addr);
      if (::bind(fd_, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0) throw std::runtime_error("bind failed");
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) throw std::runtime_error("connect failed");
  }
  ~HttpConnection() { ::close(fd_); }
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  void send_raw(const std::string& data) {
    std::size_t sent = 0;
    while (sent < data.size()) {
      const ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return;
      sent += static_cast<std::size_t>(n);
    }
  }

  HttpReply request(const std::string& method, const std::string& target, const std::string& body = {},
                    const std::string& extra_headers = {}) {
    send_raw(method + " " + target + " HTTP/1.1\r\nHost: localhost\r\n" + extra_headers +
             "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
    return read_reply(method == "HEAD");
  }

  HttpReply read_reply(bool head = false) {
    while (buffer_.find("\r\n\r\n") == std::string::npos)
      if (!fill()) throw std::runtime_error("connection closed before the headers");
    const std::size_t end = buffer_.find("\r\n\r\n");
    HttpReply r;
    r.headers = buffer_.substr(0, end);
    r.status = std::stoi(r.headers.substr(9, 3));
    buffer_.erase(0, end + 4);
    std::size_t length = 0;
    const std::size_t cl = lower(r.headers).find("content-length: ");
    if (cl != std::string::npos) length = std::stoul(r.headers.substr(cl + 16));
    if (head) length = 0;
    while (buffer_.size() < length)
      if (!fill()) throw std::runtime_error("connection closed in the body");
    r.body = buffer_.substr(0, length);
    buffer_.erase(0, length);
    return r;
  }

  // True when the server closed the connection.
  bool closed_by_peer() {
    char c;
    return ::recv(fd_, &c, 1, 0) == 0;
  }

 private:
  static std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  }
  bool fill() {
    char buf[65536];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return false;
    buffer_.append(buf, static_cast<std::size_t>(n));
    return true;
  }
  int fd_ = -1;
  std::string buffer_;
};

inline HttpReply http_get(std::uint16_t port, const std::string& target, const std::string& extra_headers = {}) {
  return HttpConnection(port).request("GET", target, {}, extra_headers);
}

}  // namespace oee::testing
