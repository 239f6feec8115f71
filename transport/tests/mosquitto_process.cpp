#include "mosquitto_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <climits>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

namespace oee::testing {

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "oee-test-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
}

int free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    ::close(fd);
    throw std::runtime_error("no free port");
  }
  ::close(fd);
  return ntohs(a.sin_port);
}

bool wait_for_port(int port, int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    if (ok) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0) kill();
}

void ChildProcess::start(const std::vector<std::string>& argv, const std::string& log_path) {
  if (pid_ > 0) throw std::logic_error("process already running");
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    if (!log_path.empty()) {
      const int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
        ::close(fd);
      }
    }
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  pid_ = pid;
}

int ChildProcess::wait(int timeout_ms) {
  if (pid_ <= 0) return 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
    }
    if (std::chrono::steady_clock::now() >= deadline) return INT_MIN;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void ChildProcess::terminate() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  if (wait(5000) == INT_MIN) kill();
}

void ChildProcess::kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  wait(INT_MAX);
}

namespace {
std::string user_name() {
  const passwd* pw = ::getpwuid(::getuid());
  return pw != nullptr ? pw->pw_name : "root";
}
}  // namespace

TestCertificates make_test_certificates(const std::string& dir) {
  const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
  std::ofstream(dir + "/server.ext") << "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n";
  std::ofstream(dir + "/client.ext") << "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n";
  const std::string script =
      "cd '" + dir + "' && openssl req -x509" + ec + " -keyout ca.key -out ca.pem -days 2 -subj /CN=oee-test-ca" +
      " && openssl req" + ec + " -keyout server.key -out server.csr -subj /CN=localhost" +
      " && openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile server.ext" +
      " && openssl req" + ec + " -keyout client.key -out client.csr -subj /CN=oee-test-client" +
      " && openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem -days 2 -extfile client.ext";
  if (std::system(("(" + script + ") >'" + dir + "/openssl.log' 2>&1").c_str()) != 0)
    throw std::runtime_error("openssl could not make the test certificates (see " + dir + "/openssl.log)");
  return {dir + "/ca.pem", dir + "/server.pem", dir + "/server.key", dir + "/client.pem", dir + "/client.key"};
}

void renew_client_certificate(const std::string& dir, const std::string& cn, const std::string& cert_file,
                              const std::string& key_file) {
  const std::string script = "cd '" + dir + "' && openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes" +
                             " -keyout renewed.key -out renewed.csr -subj /CN=" + cn +
                             " && openssl x509 -req -in renewed.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out renewed.pem" +
                             " -days 2 -extfile client.ext";
  if (std::system(("(" + script + ") >>'" + dir + "/openssl.log' 2>&1").c_str()) != 0)
    throw std::runtime_error("openssl could not renew the client certificate (see " + dir + "/openssl.log)");
  std::filesystem::rename(dir + "/renewed.key", key_file);
  std::filesystem::rename(dir + "/renewed.pem", cert_file);
}

std::set<std::string> clients_connected_as(const MosquittoProcess& broker, const std::string& user) {
  std::set<std::string> ids;
  std::ifstream in(broker.dir() + "/mosquitto.log");
  for (std::string line; std::getline(in, line);) {
    const auto as = line.find(" as "), open = line.find(" (", line.find(" as ") + 1);
    if (line.find("New client connected") == std::string::npos || line.find("u'" + user + "'") == std::string::npos ||
        as == std::string::npos || open == std::string::npos)
      continue;
    ids.insert(line.substr(as + 4, open - as - 4));
  }
  return ids;
}

std::string tls_listener_config(int port, const TestCertificates& c, bool require_client_certificate) {
  return "listener " + std::to_string(port) + " 127.0.0.1\ncafile " + c.ca_file + "\ncertfile " + c.server_cert_file +
         "\nkeyfile " + c.server_key_file + "\nrequire_certificate " + (require_client_certificate ? "true" : "false") + "\n";
}

MosquittoProcess::MosquittoProcess(std::string extra_config, std::string password_file)
    : port_(free_loopback_port()), extra_config_(std::move(extra_config)), password_file_(std::move(password_file)) {}

std::string MosquittoProcess::url() const { return "mqtt://127.0.0.1:" + std::to_string(port_); }

void MosquittoProcess::start() {
  const std::string conf = dir_.path + "/mosquitto.conf";
  {
    std::ofstream f(conf);
    f << "listener " << port_ << " 127.0.0.1\n"
      << (password_file_.empty() ? "allow_anonymous true\n" : "allow_anonymous false\npassword_file " + password_file_ + "\n")
      << "user " << user_name() << "\n"  // as root, mosquitto would drop to `mosquitto` and lose our dir
      << "persistence true\n"
      << "persistence_location " << dir_.path << "/\n"
      << "autosave_interval 1\n"
      << "max_queued_messages 0\n"
      << "max_queued_bytes 0\n"
      << "max_inflight_messages 0\n"
      << "log_dest stderr\n"
      << "log_type error\nlog_type warning\nlog_type notice\n"
      << extra_config_ << "\n";
  }
  process_.start({"/usr/sbin/mosquitto", "-c", conf}, dir_.path + "/mosquitto.log");
  if (!wait_for_port(port_, 10000)) throw std::runtime_error("mosquitto did not start on port " + std::to_string(port_));
}

namespace {

constexpr const char* kDynsecPlugin = "/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so";
constexpr const char* kMosquittoCtrl = "/usr/bin/mosquitto_ctrl";

bool mosquitto_ctrl(std::vector<std::string> args) {
  args.insert(args.begin(), kMosquittoCtrl);
  ChildProcess tool;
  tool.start(args);
  return tool.wait(10000) == 0;
}

std::string dynsec_config_file(const std::string& dir) {
  if (!std::filesystem::exists(kDynsecPlugin) || !std::filesystem::exists(kMosquittoCtrl))
    throw std::runtime_error(std::string("Mosquitto's dynamic security plugin needs ") + kDynsecPlugin + " and " + kMosquittoCtrl);
  const std::string file = dir + "/dynamic-security.json";
  if (!mosquitto_ctrl({"dynsec", "init", file, "admin", "admin-pw"})) throw std::runtime_error("mosquitto_ctrl dynsec init failed");
  return file;
}

}  // namespace

DynsecMosquittoProcess::DynsecMosquittoProcess()
    : config_file_(dynsec_config_file(config_dir_.path)),
      broker_(std::string("plugin ") + kDynsecPlugin + "\nplugin_opt_config_file " + config_file_ + "\n") {}

bool DynsecMosquittoProcess::dynsec(const std::vector<std::string>& command) {
  std::vector<std::string> args = {"-h", "127.0.0.1", "-p", std::to_string(broker_.port()), "-u", "admin", "-P", "admin-pw", "dynsec"};
  args.insert(args.end(), command.begin(), command.end());
  return mosquitto_ctrl(args);
}

void MosquittoProcess::stop() { process_.terminate(); }
void MosquittoProcess::kill() { process_.kill(); }

}  // namespace oee::testing
