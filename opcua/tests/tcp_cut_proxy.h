#pragma once
// A loopback TCP proxy a test can cut: every connection through it dies at once (as on a network
// failure) while the server keeps running, and new connections go through again.
#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace oee::opcua::testing {

class TcpCutProxy {
 public:
  explicit TcpCutProxy(uint16_t upstream_port);
  ~TcpCutProxy();
  uint16_t port() const { return port_; }
  void cut();  // resets every open connection
  // While on, bytes from the server are swallowed: responses the server sent never arrive.
  void swallow_server_bytes(bool on) { swallow_ = on; }
  // How many reads from the server were swallowed so far (what a test waits on while swallowing).
  uint64_t swallowed_reads() const { return swallowed_reads_; }
  // While on, new connections are closed as soon as they arrive (the network is still down).
  void refuse_connections(bool on) { refuse_ = on; }
  // While above 0, each connection dies once the server has sent more than this many bytes over
  // it: a failure that comes back after every reconnect.
  void cut_after_server_bytes(uint64_t n) { cut_after_ = n; }
  // Sees (and may change) every read from the server before it is forwarded: to capture what
  // travels on the wire or to tamper with it. Empty: bytes pass as they are.
  using ServerBytesFilter = std::function<void(char* data, size_t size)>;
  void set_server_bytes_filter(ServerBytesFilter filter) {
    std::lock_guard lock(mutex_);
    filter_ = std::move(filter);
  }
  // Sees every whole UA-TCP message from the server (reads are framed first) and may replace it,
  // at any size; returns false to close the connection once it is forwarded. For a peer that
  // answers what the real server would not: an ERR in place of a chunk too large, a re-signed
  // OpenSecureChannel response. Set it before the client connects.
  using ServerMessageRewriter = std::function<bool(std::string& message)>;
  void set_server_message_rewriter(ServerMessageRewriter rewriter) {
    std::lock_guard lock(mutex_);
    rewriter_ = std::move(rewriter);
  }

 private:
  void accept_loop();
  void pump(int client_fd, int server_fd);
  // Frames `pending` into messages, rewrites and forwards the whole ones; false: close.
  bool forward_rewritten(std::string& pending, int client_fd);
  uint16_t upstream_port_;
  uint16_t port_ = 0;
  int listen_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> swallow_{false};
  std::atomic<uint64_t> swallowed_reads_{0};
  std::atomic<bool> refuse_{false};
  std::atomic<uint64_t> cut_after_{0};
  std::thread acceptor_;
  std::mutex mutex_;
  std::vector<int> open_fds_;
  ServerBytesFilter filter_;
  ServerMessageRewriter rewriter_;
  std::vector<std::thread> pumps_;
};

}  // namespace oee::opcua::testing
