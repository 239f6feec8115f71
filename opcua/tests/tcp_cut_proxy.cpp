#include "tcp_cut_proxy.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace oee::opcua::testing {

TcpCutProxy::TcpCutProxy(uint16_t upstream_port) : upstream_port_(upstream_port) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listen_fd_, 16) != 0) {
    throw std::runtime_error("proxy: cannot listen");
  }
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

TcpCutProxy::~TcpCutProxy() {
  stopping_ = true;
  ::shutdown(listen_fd_, SHUT_RDWR);
  acceptor_.join();
  ::close(listen_fd_);
  cut();
  for (auto& t : pumps_) t.join();
}

void TcpCutProxy::cut() {
  std::lock_guard lock(mutex_);
  for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
}

void TcpCutProxy::accept_loop() {
  while (!stopping_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    const int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    if (refuse_) {
      ::close(client);
      continue;
    }
    const int server = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(upstream_port_);
    if (::connect(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(client);
      ::close(server);
      continue;
    }
    std::lock_guard lock(mutex_);
    open_fds_.push_back(client);
    open_fds_.push_back(server);
    pumps_.emplace_back([this, client, server] { pump(client, server); });
  }
}

namespace {

bool send_all(int fd, const char* data, size_t size) {
  size_t sent = 0;
  while (sent < size) {
    const ssize_t m = ::send(fd, data + sent, size - sent, MSG_NOSIGNAL);
    if (m <= 0) return false;
    sent += static_cast<size_t>(m);
  }
  return true;
}

}  // namespace

bool TcpCutProxy::forward_rewritten(std::string& pending, int client_fd) {
  while (pending.size() >= 8) {
    uint32_t size = 0;
    std::memcpy(&size, pending.data() + 4, 4);
    if (size < 8) return false;
    if (pending.size() < size) return true;
    std::string message = pending.substr(0, size);
    pending.erase(0, size);
    bool keep = true;
    {
      std::lock_guard lock(mutex_);
      if (rewriter_) keep = rewriter_(message);
    }
    if (!send_all(client_fd, message.data(), message.size()) || !keep) return false;
  }
  return true;
}

void TcpCutProxy::pump(int client_fd, int server_fd) {
  char buffer[65536];
  pollfd fds[2] = {{client_fd, POLLIN, 0}, {server_fd, POLLIN, 0}};
  bool open = true;
  uint64_t from_server = 0;
  bool rewriting = false;
  {
    std::lock_guard lock(mutex_);
    rewriting = static_cast<bool>(rewriter_);
  }
  std::string pending;  // server bytes not yet framed (rewriting only)
  while (open) {
    if (::poll(fds, 2, 200) < 0) break;
    for (int i = 0; i < 2 && open; ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      const ssize_t n = ::recv(fds[i].fd, buffer, sizeof buffer, 0);
      if (n <= 0) {
        open = false;
        break;
      }
      if (i == 1 && swallow_) {  // from the server: lost on the way
        ++swallowed_reads_;
        continue;
      }
      if (i == 1 && rewriting) {
        pending.append(buffer, static_cast<size_t>(n));
        open = forward_rewritten(pending, client_fd);
        continue;
      }
      if (i == 1) {
        std::lock_guard lock(mutex_);
        if (filter_) filter_(buffer, static_cast<size_t>(n));
      }
      ssize_t sent = 0;
      while (sent < n) {
        const ssize_t m = ::send(fds[1 - i].fd, buffer + sent, static_cast<size_t>(n - sent), MSG_NOSIGNAL);
        if (m <= 0) {
          open = false;
          break;
        }
        sent += m;
      }
      if (i == 1 && (from_server += static_cast<uint64_t>(n)) > cut_after_ && cut_after_ > 0) open = false;
    }
  }
  ::shutdown(client_fd, SHUT_RDWR);
  ::shutdown(server_fd, SHUT_RDWR);
  std::lock_guard lock(mutex_);
  open_fds_.erase(std::remove_if(open_fds_.begin(), open_fds_.end(), [&](int fd) { return fd == client_fd || fd == server_fd; }),
                  open_fds_.end());
  ::close(client_fd);
  ::close(server_fd);
}

}  // namespace oee::opcua::testing
