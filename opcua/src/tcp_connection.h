#pragma once
// A TCP connection carrying UA-TCP messages: connect with a timeout, write whole buffers, read
// one framed message (8-byte header + body) at a time with a bound on its size.
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace oee::opcua {

struct EndpointAddress {
  std::string host;
  uint16_t port = 4840;
};
// Throws Error(BadTcpEndpointUrlInvalid) unless the URL is opc.tcp://host[:port][/path].
EndpointAddress parse_endpoint_url(const std::string& url);

class TcpConnection {
 public:
  static std::unique_ptr<TcpConnection> connect(const EndpointAddress& address, int timeout_ms);
  ~TcpConnection();
  TcpConnection(const TcpConnection&) = delete;
  TcpConnection& operator=(const TcpConnection&) = delete;

  // Throws Error(BadConnectionClosed) when the peer is gone.
  void send_all(std::span<const uint8_t> data);
  // Waits up to timeout_ms for a whole message; false on timeout. A message larger than
  // max_message_bytes or shorter than its header throws Error: the stream cannot be resynchronised.
  bool receive_message(std::vector<uint8_t>& message, int timeout_ms, uint32_t max_message_bytes);
  // Makes a blocked receive_message return with an error (used to stop the reader thread).
  void shutdown();

 private:
  explicit TcpConnection(int fd) : fd_(fd) {}
  int fd_;
  std::vector<uint8_t> buffer_;
  size_t buffer_start_ = 0;
};

}  // namespace oee::opcua
