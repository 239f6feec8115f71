// POSIX sockets: the client needs one connection and blocking reads on its own thread, which plain
// sockets with poll() do without pulling Asio into the library's users.
#include "tcp_connection.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>

#include "oee/opcua/status_code.h"

namespace oee::opcua {
namespace {

constexpr std::string_view kScheme = "opc.tcp://";

int remaining_ms(std::chrono::steady_clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

}  // namespace

EndpointAddress parse_endpoint_url(const std::string& url) {
  std::string_view rest = url;
  if (!rest.starts_with(kScheme)) throw Error(status::bad_tcp_endpoint_url_invalid, "expected opc.tcp://host:port: " + url);
  rest.remove_prefix(kScheme.size());
  rest = rest.substr(0, rest.find('/'));
  EndpointAddress address;
  std::string_view host = rest;
  if (!rest.empty() && rest.front() == '[') {  // [IPv6]:port
    const size_t close = rest.find(']');
    if (close == std::string_view::npos) throw Error(status::bad_tcp_endpoint_url_invalid, url);
    host = rest.substr(1, close - 1);
    rest.remove_prefix(close + 1);
    if (!rest.empty() && rest.front() != ':') throw Error(status::bad_tcp_endpoint_url_invalid, url);
  } else {
    const size_t colon = rest.rfind(':');
    host = rest.substr(0, colon);
    rest = colon == std::string_view::npos ? std::string_view{} : rest.substr(colon);
  }
  if (!rest.empty()) {
    rest.remove_prefix(1);
    auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), address.port);
    if (ec != std::errc() || ptr != rest.data() + rest.size() || address.port == 0) {
      throw Error(status::bad_tcp_endpoint_url_invalid, "bad port in " + url);
    }
  }
  if (host.empty()) throw Error(status::bad_tcp_endpoint_url_invalid, "no host in " + url);
  address.host = std::string(host);
  return address;
}

std::unique_ptr<TcpConnection> TcpConnection::connect(const EndpointAddress& address, int timeout_ms) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(address.port);
  if (getaddrinfo(address.host.c_str(), port.c_str(), &hints, &found) != 0 || !found) {
    throw Error(status::bad_tcp_endpoint_url_invalid, "cannot resolve " + address.host);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  std::string last_error = "no address";
  for (addrinfo* ai = found; ai; ai = ai->ai_next) {
    const int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (fd < 0) continue;
    int rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      rc = ::poll(&p, 1, remaining_ms(deadline));
      int err = 0;
      socklen_t len = sizeof err;
      if (rc == 1 && ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0) {
        rc = 0;
      } else {
        last_error = rc == 0 ? "connect timed out" : std::strerror(err ? err : errno);
        rc = -1;
      }
    } else if (rc != 0) {
      last_error = std::strerror(errno);
    }
    if (rc == 0) {
      ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
      const int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      freeaddrinfo(found);
      return std::unique_ptr<TcpConnection>(new TcpConnection(fd));
    }
    ::close(fd);
  }
  freeaddrinfo(found);
  throw Error(status::bad_connection_rejected, address.host + ":" + port + ": " + last_error);
}

TcpConnection::~TcpConnection() {
  if (fd_ >= 0) ::close(fd_);
}

void TcpConnection::shutdown() { ::shutdown(fd_, SHUT_RDWR); }

void TcpConnection::send_all(std::span<const uint8_t> data) {
  size_t sent = 0;
  while (sent < data.size()) {
    const ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw Error(status::bad_connection_closed, std::string("send: ") + std::strerror(errno));
    sent += static_cast<size_t>(n);
  }
}

bool TcpConnection::receive_message(std::vector<uint8_t>& message, int timeout_ms, uint32_t max_message_bytes) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    const size_t available = buffer_.size() - buffer_start_;
    if (available >= 8) {
      const uint8_t* h = buffer_.data() + buffer_start_;
      const uint32_t size = uint32_t(h[4]) | uint32_t(h[5]) << 8 | uint32_t(h[6]) << 16 | uint32_t(h[7]) << 24;
      if (size < 8) throw Error(status::bad_tcp_message_type_invalid, "message shorter than its header");
      if (size > max_message_bytes) {
        throw Error(status::bad_tcp_message_too_large,
                    std::to_string(size) + " bytes, limit " + std::to_string(max_message_bytes));
      }
      if (available >= size) {
        message.assign(h, h + size);
        buffer_start_ += size;
        if (buffer_start_ == buffer_.size()) {
          buffer_.clear();
          buffer_start_ = 0;
        }
        return true;
      }
    }
    if (buffer_start_ > 0 && buffer_start_ * 2 > buffer_.size()) {  // compact, keeping memory bounded
      buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(buffer_start_));
      buffer_start_ = 0;
    }
    pollfd p{fd_, POLLIN, 0};
    const int rc = ::poll(&p, 1, remaining_ms(deadline));
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) throw Error(status::bad_connection_closed, std::string("poll: ") + std::strerror(errno));
    if (rc == 0) return false;
    uint8_t chunk[65536];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw Error(status::bad_connection_closed, n == 0 ? "closed by the server" : std::strerror(errno));
    buffer_.insert(buffer_.end(), chunk, chunk + n);
  }
}

}  // namespace oee::opcua
