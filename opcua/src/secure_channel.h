#pragma once
// The UA-TCP connection handshake (Hello/Acknowledge) and the secure channel on top of it:
// OpenSecureChannel issue and renew, MSG chunking within the negotiated limits, CloseSecureChannel.
// Sending is thread-safe; receive() belongs to one reader thread.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "oee/opcua/chunk_assembler.h"
#include "oee/opcua/security_policy.h"
#include "tcp_connection.h"

namespace oee::opcua {

struct TransportLimits {
  uint32_t receive_buffer_size = 65536;
  uint32_t send_buffer_size = 65536;
  uint32_t max_message_size = 16u << 20;
  uint32_t max_chunk_count = 4096;
};

class SecureChannel {
 public:
  SecureChannel(std::unique_ptr<TcpConnection> connection, std::unique_ptr<SecurityPolicy> security,
                TransportLimits ours);

  // Hello/Acknowledge and OpenSecureChannel(Issue), synchronously: call before the reader starts.
  void open(const std::string& endpoint_url, uint32_t requested_lifetime_ms, int timeout_ms);

  uint32_t next_request_id() { return ++last_request_id_; }
  // One service request (body starts with its encoding NodeId), split into chunks. Throws
  // Error(BadRequestTooLarge) before sending if it exceeds what the server accepts.
  void send_message(uint32_t request_id, std::span<const uint8_t> body);
  // OpenSecureChannel(Renew); the response arrives through receive() and goes to apply_open_response.
  void send_renew(uint32_t request_id, uint32_t requested_lifetime_ms);
  void send_close();

  // The next whole message, or nullopt after timeout_ms. Throws Error when the connection is
  // broken or the server sent ERR (its status and reason).
  std::optional<AssembledMessage> receive(int timeout_ms);
  // Takes the token of an OpenSecureChannel response (issue or renew).
  void apply_open_response(const AssembledMessage& message);

  void shutdown() { connection_->shutdown(); }
  const SecurityPolicy& security() const { return *security_; }

  uint32_t revised_lifetime_ms() const { return revised_lifetime_ms_.load(); }
  std::chrono::steady_clock::time_point token_created_at() const;
  const TransportLimits& negotiated() const { return peer_; }
  uint64_t chunks_sent() const { return chunks_sent_.load(); }
  uint64_t chunks_received() const { return chunks_received_.load(); }
  uint64_t max_chunks_per_sent_message() const { return max_chunks_sent_.load(); }
  uint64_t max_chunks_per_received_message() const { return max_chunks_received_.load(); }

 private:
  void send_chunks(const char* type, std::span<const uint8_t> body, uint32_t request_id, bool asymmetric);
  std::vector<uint8_t> encode_open_request(uint32_t request_type, uint32_t request_id,
                                           uint32_t requested_lifetime_ms);

  std::unique_ptr<TcpConnection> connection_;
  std::unique_ptr<SecurityPolicy> security_;
  TransportLimits ours_;
  TransportLimits peer_;  // receive_buffer_size: largest chunk we may send, etc.
  ChunkAssembler assembler_;
  std::mutex nonce_mutex_;  // the supervisor renews, the reader applies the response
  std::string client_nonce_;

  std::mutex send_mutex_;
  uint32_t next_sequence_number_ = 1;
  std::atomic<uint32_t> channel_id_{0};
  std::atomic<uint32_t> token_id_{0};
  std::atomic<uint32_t> revised_lifetime_ms_{0};
  std::atomic<int64_t> token_created_ns_{0};
  std::atomic<uint32_t> last_request_id_{0};
  std::atomic<uint64_t> chunks_sent_{0}, chunks_received_{0}, max_chunks_sent_{0}, max_chunks_received_{0};
  std::vector<uint8_t> receive_buffer_;
};

}  // namespace oee::opcua
