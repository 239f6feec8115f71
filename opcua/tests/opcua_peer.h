#pragma once
// Starts tests/peer/server.js (node-opcua) on a free loopback port, waits for its READY line,
// and stops it (also on test failure). Restartable on the same port.
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace oee::opcua::testing {

struct PeerOptions {
  // A constructor, not aggregate init: PeerOptions{counters, rate, small} stays free of
  // -Wmissing-field-initializers as fields are added.
  PeerOptions(int counters_ = 10, int rate_ms_ = 1000, bool small_buffers_ = false)
      : counters(counters_), rate_ms(rate_ms_), small_buffers(small_buffers_) {}
  int counters = 10;
  int rate_ms = 1000;
  bool small_buffers = false;
  // Secured endpoints only: comma-separated policy names and modes (Sign, SignAndEncrypt).
  std::string security_policies;
  std::string security_modes;
  bool disable_discovery = false;  // no None endpoint at all, not even for GetEndpoints
  // The server's certificate and key (PEM files) instead of node-opcua's own; empty: its own.
  std::string certificate_file;
  std::string private_key_file;
  bool accept_user_certificates = false;  // X.509 user tokens with any certificate (signature checked)
  bool allow_anonymous = true;            // false: a session needs a user name or certificate
  // Flags for node itself, before the script (e.g. --security-revert=CVE-2023-46809).
  std::vector<std::string> node_flags;
};

class OpcuaPeer {
 public:
  explicit OpcuaPeer(PeerOptions options = {});
  ~OpcuaPeer();
  OpcuaPeer(const OpcuaPeer&) = delete;
  OpcuaPeer& operator=(const OpcuaPeer&) = delete;

  void start();      // throws std::runtime_error when the server does not come up in time
  void stop();       // SIGTERM, then SIGKILL
  void kill_hard();  // SIGKILL: a crash, no goodbye to the clients
  std::string url() const { return "opc.tcp://127.0.0.1:" + std::to_string(port_); }
  uint16_t port() const { return port_; }
  std::string log() const;  // the server's stdout and stderr, for failure messages
  // node-opcua's own certificate (PEM), created at its first start.
  std::string certificate_file() const { return dir_ + "/pki/server/own/certs/certificate.pem"; }

 private:
  PeerOptions options_;
  uint16_t port_;
  std::string dir_;
  pid_t pid_ = -1;
  int starts_ = 0;
};

uint16_t free_tcp_port();

}  // namespace oee::opcua::testing
