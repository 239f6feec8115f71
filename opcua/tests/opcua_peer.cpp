#include "opcua_peer.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace oee::opcua::testing {

uint16_t free_tcp_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

OpcuaPeer::OpcuaPeer(PeerOptions options) : options_(options), port_(free_tcp_port()) {
  char dir[] = "/tmp/oee-opcua-peer-XXXXXX";
  if (!::mkdtemp(dir)) throw std::runtime_error("mkdtemp failed");
  dir_ = dir;
}

OpcuaPeer::~OpcuaPeer() {
  stop();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string OpcuaPeer::log() const {
  std::ifstream in(dir_ + "/server.log");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void OpcuaPeer::start() {
  ++starts_;
  const std::string log_path = dir_ + "/server.log";
  const std::string ready_path = dir_ + "/ready." + std::to_string(starts_);
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    ::setpgid(0, 0);
    const int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    const int out_fd = ::open(ready_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(out_fd, 1);
    ::dup2(log_fd, 2);
    ::setenv("NODE_PATH", OEE_NODE_PATH, 1);
    const std::string port = std::to_string(port_);
    const std::string counters = std::to_string(options_.counters);
    const std::string rate = std::to_string(options_.rate_ms);
    const std::string pki = dir_ + "/pki";
    if (options_.small_buffers) {
      ::execlp("node", "node", OEE_OPCUA_PEER_SCRIPT, "--port", port.c_str(), "--counters", counters.c_str(),
               "--rate-ms", rate.c_str(), "--pki", pki.c_str(), "--small-buffers", static_cast<char*>(nullptr));
    } else {
      ::execlp("node", "node", OEE_OPCUA_PEER_SCRIPT, "--port", port.c_str(), "--counters", counters.c_str(),
               "--rate-ms", rate.c_str(), "--pki", pki.c_str(), static_cast<char*>(nullptr));
    }
    ::_exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  while (std::chrono::steady_clock::now() < deadline) {
    std::ifstream in(ready_path);
    std::string line;
    if (std::getline(in, line) && line.rfind("READY", 0) == 0) return;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("node-opcua peer exited during start:\n" + log());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  stop();
  throw std::runtime_error("node-opcua peer not ready in time:\n" + log());
}

void OpcuaPeer::stop() {
  if (pid_ <= 0) return;
  ::kill(-pid_, SIGTERM);
  for (int i = 0; i < 100; ++i) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  kill_hard();
}

void OpcuaPeer::kill_hard() {
  if (pid_ <= 0) return;
  ::kill(-pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

}  // namespace oee::opcua::testing
