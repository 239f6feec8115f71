#pragma once
// Test peers: a child process owned by the test (killed in the destructor, even on failure) and a
// real Mosquitto broker on a free loopback port with its own config and persistence directory.
#include <sys/types.h>

#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "eventually.h"

namespace oee::testing {

// A fresh temporary directory, removed with everything below it when destroyed.
struct TempDir {
  std::string path;
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

// No sleep for "the subscription is in place": our subscribers (MqttClient, AckingSubscriber) write
// SUBSCRIBE before connected() turns true, and a publisher started after that needs a CONNECT/CONNACK
// round trip, so the broker has read the SUBSCRIBE before any PUBLISH of it.

// A loopback TCP port nobody listens on right now.
int free_loopback_port();
// True once something accepts TCP connections on 127.0.0.1:port (polls up to timeout_ms).
bool wait_for_port(int port, int timeout_ms);

// A test certificate authority made with the openssl command in `dir`, a broker certificate for
// the host name `localhost` only (so 127.0.0.1 fails a host name check), and a client certificate.
struct TestCertificates {
  std::string ca_file, server_cert_file, server_key_file, client_cert_file, client_key_file;
};
TestCertificates make_test_certificates(const std::string& dir);
// A new client certificate with this common name from the CA of make_test_certificates(dir),
// moved over `cert_file` and `key_file` (key first), as an operator renewing them would.
void renew_client_certificate(const std::string& dir, const std::string& cn, const std::string& cert_file,
                              const std::string& key_file);
// mosquitto.conf lines (for MosquittoProcess's extra_config) of a TLS listener on 127.0.0.1:port.
std::string tls_listener_config(int port, const TestCertificates& c, bool require_client_certificate);

class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  // Starts argv[0] with the arguments; stdout and stderr go to log_path (appended) when given.
  void start(const std::vector<std::string>& argv, const std::string& log_path = {});
  void terminate();  // SIGTERM, then wait (SIGKILL after 5 s)
  void kill();       // SIGKILL, then wait
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  // Waits for exit; returns the exit status (or -signal), or nullopt-like INT32_MIN on timeout.
  int wait(int timeout_ms);

 private:
  pid_t pid_ = -1;
};

class MosquittoProcess {
 public:
  // `extra_config` is appended to the generated mosquitto.conf (e.g. a bridge section).
  // `password_file`: when given, anonymous clients are refused (mosquitto_passwd format).
  explicit MosquittoProcess(std::string extra_config = {}, std::string password_file = {});
  void start();      // on the same port and persistence dir every time
  void stop();       // SIGTERM: mosquitto saves its persistence file
  void kill();       // SIGKILL
  int port() const { return port_; }
  std::string url() const;
  const std::string& dir() const { return dir_.path; }

 private:
  TempDir dir_;
  int port_;
  std::string extra_config_;
  std::string password_file_;
  ChildProcess process_;
};

// The client ids the broker logged connecting with this user name (with use_identity_as_username:
// the common name of the client certificate); needs its notice log.
std::set<std::string> clients_connected_as(const MosquittoProcess& broker, const std::string& user);

// A Mosquitto whose access control is its dynamic security plugin (admin user "admin"). Unlike
// an acl_file (with which Mosquitto 2.0 grants every subscription and only filters deliveries), the
// plugin refuses a SUBSCRIBE its roles do not allow: SUBACK 0x80.
class DynsecMosquittoProcess {
 public:
  DynsecMosquittoProcess();  // throws when the plugin or mosquitto_ctrl is missing
  void start() { broker_.start(); }
  std::string url() const { return broker_.url(); }
  // `mosquitto_ctrl dynsec COMMAND…` as admin against the running broker; true when it succeeded.
  bool dynsec(const std::vector<std::string>& command);

 private:
  TempDir config_dir_;
  std::string config_file_;
  MosquittoProcess broker_;
};

}  // namespace oee::testing
