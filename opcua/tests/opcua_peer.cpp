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
#include <string_view>
#include <thread>
#include <vector>

extern char** environ;

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
  std::stringstream s;
  for (int i = 1; i <= starts_; ++i) {
    std::ifstream out(dir_ + "/ready." + std::to_string(i));
    s << "--- stdout of start " << i << ":\n" << out.rdbuf();
  }
  std::ifstream err(dir_ + "/server.log");
  s << "--- stderr:\n" << err.rdbuf();
  return s.str();
}

namespace {

std::string find_node_binary() {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const std::string candidate = dir + "/node";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "/usr/bin/node";
}

}  // namespace

void OpcuaPeer::start() {
  ++starts_;
  const std::string log_path = dir_ + "/server.log";
  const std::string ready_path = dir_ + "/ready." + std::to_string(starts_);
  // Everything the child needs is built before fork: the test process has threads (a client
  // may be running), so the child may only make async-signal-safe calls until exec.
  const std::string node = find_node_binary();
  std::vector<std::string> args = {node, OEE_OPCUA_PEER_SCRIPT, "--port", std::to_string(port_), "--counters",
                                   std::to_string(options_.counters), "--rate-ms", std::to_string(options_.rate_ms),
                                   "--pki", dir_ + "/pki"};
  if (options_.small_buffers) args.push_back("--small-buffers");
  if (!options_.security_policies.empty()) {
    args.insert(args.end(), {"--security-policies", options_.security_policies, "--security-modes", options_.security_modes});
  }
  if (options_.disable_discovery) args.push_back("--disable-discovery");
  if (!options_.certificate_file.empty()) {
    args.insert(args.end(), {"--certificate", options_.certificate_file, "--private-key", options_.private_key_file});
  }
  if (options_.accept_user_certificates) args.push_back("--accept-user-certificates");
  if (!options_.allow_anonymous) args.push_back("--no-anonymous");
  args.insert(args.begin() + 1, options_.node_flags.begin(), options_.node_flags.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_strings = {std::string("NODE_PATH=") + OEE_NODE_PATH};
  for (char** e = environ; *e; ++e) {
    if (std::string_view(*e).rfind("NODE_PATH=", 0) != 0) env_strings.emplace_back(*e);
  }
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    ::setpgid(0, 0);
    const int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    const int out_fd = ::open(ready_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ::dup2(out_fd, 1);
    ::dup2(log_fd, 2);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  while (std::chrono::steady_clock::now() < deadline) {
    std::ifstream in(ready_path);  // node-opcua may print warnings to stdout before READY
    for (std::string line; std::getline(in, line);) {
      if (line.rfind("READY", 0) == 0) return;
    }
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
