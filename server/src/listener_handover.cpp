#include "oee/server/listener_handover.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace oee::server {

namespace {

constexpr int kFirstHandedFd = 3;  // SD_LISTEN_FDS_START

void check_listening_tcp(int fd) {
  int listening = 0, type = 0;
  socklen_t len = sizeof listening;
  if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0)
    throw std::runtime_error("the handed-over descriptor 3 is not a socket: " + std::string(std::strerror(errno)));
  len = sizeof type;
  ::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len);
  sockaddr_storage address{};
  len = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &len);
  const bool inet = address.ss_family == AF_INET || address.ss_family == AF_INET6;
  if (!listening || type != SOCK_STREAM || !inet)
    throw std::runtime_error("the handed-over descriptor 3 is not a listening TCP socket (a .socket unit needs ListenStream=)");
}

}  // namespace

int take_inherited_listener() {
  const char* pid = std::getenv("LISTEN_PID");
  const char* fds = std::getenv("LISTEN_FDS");
  const bool for_us = pid && fds && std::strtol(pid, nullptr, 10) == ::getpid();
  const long count = for_us ? std::strtol(fds, nullptr, 10) : 0;
  ::unsetenv("LISTEN_PID");
  ::unsetenv("LISTEN_FDS");
  ::unsetenv("LISTEN_FDNAMES");
  if (count <= 0) return -1;
  if (count > 1) throw std::runtime_error("LISTEN_FDS=" + std::string(fds) + ": oee serve takes one listening socket");
  check_listening_tcp(kFirstHandedFd);
  ::fcntl(kFirstHandedFd, F_SETFD, FD_CLOEXEC);
  return kFirstHandedFd;
}

std::string check_successor(const std::string& program) {
  if (::access(program.c_str(), X_OK) != 0) return program + ": " + std::strerror(errno);
  const pid_t child = ::fork();
  if (child < 0) return std::string("fork: ") + std::strerror(errno);
  if (child == 0) {
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::execl(program.c_str(), program.c_str(), "serve", "--help", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  return program + " serve --help did not exit 0 (status " + std::to_string(status) + ")";
}

std::string exec_with_listener(const std::vector<std::string>& argv, int listen_fd) {
  if (listen_fd != kFirstHandedFd && ::dup2(listen_fd, kFirstHandedFd) < 0) return std::string("dup2: ") + std::strerror(errno);
  ::fcntl(kFirstHandedFd, F_SETFD, 0);  // this one descriptor survives the exec
  // LISTEN_PID is this process's: exec keeps the pid.
  ::setenv("LISTEN_PID", std::to_string(::getpid()).c_str(), 1);
  ::setenv("LISTEN_FDS", "1", 1);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  ::execv(args[0], args.data());
  return argv[0] + ": " + std::strerror(errno);
}

std::string own_executable() {
  std::error_code ec;
  const auto path = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : path.string();
}

}  // namespace oee::server
