#pragma once
// A webhook receiver for tests: a real HTTP server on a loopback port that keeps each request.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace oee::testing {

// An HTTP server on a loopback port: answers 503 to the first `failures` requests, then 200, and
// keeps each request's headers and body.
class HookReceiver {
 public:
  struct Request {
    std::string head, body;
  };
  explicit HookReceiver(int failures) : failures_(failures) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 8) != 0) throw std::runtime_error("bind");
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~HookReceiver() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  int port() const { return port_; }
  std::vector<Request> requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  void serve() {
    for (;;) {
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string in;
      char buf[4096];
      std::size_t need = std::string::npos;
      while (need == std::string::npos || in.size() < need) {
        const ssize_t n = ::recv(c, buf, sizeof buf, 0);
        if (n <= 0) break;
        in.append(buf, static_cast<std::size_t>(n));
        const auto end = in.find("\r\n\r\n");
        if (end != std::string::npos && need == std::string::npos) {
          const auto cl = in.find("Content-Length: ");
          need = end + 4 + (cl < end ? std::stoul(in.substr(cl + 16)) : 0);
        }
      }
      const auto end = in.find("\r\n\r\n");
      const bool fail = answered_++ < failures_;
      {
        std::lock_guard lock(mutex_);
        if (!fail && end != std::string::npos) requests_.push_back({in.substr(0, end), in.substr(end + 4)});
      }
      const std::string reply = fail ? "HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n" : "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
      ::send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
      ::close(c);
    }
  }
  int fd_ = -1, port_ = 0, failures_ = 0, answered_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::vector<Request> requests_;
};

}  // namespace oee::testing
