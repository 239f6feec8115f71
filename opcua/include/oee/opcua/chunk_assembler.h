#pragma once
// Secure-channel chunks (OPC 10000-6 6.7.2) in, whole messages out. Checks the chunk headers and
// sequence numbers, joins intermediate chunks per request id, turns abort chunks into an error for
// that request, and enforces the negotiated limits (chunk size, chunk count, message size).
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "oee/opcua/security_policy.h"
#include "oee/opcua/status_code.h"

namespace oee::opcua {

struct ChunkLimits {
  uint32_t max_chunk_size = 65536;        // our receive buffer
  uint32_t max_message_size = 16u << 20;  // 0 = no limit
  uint32_t max_chunk_count = 4096;        // 0 = no limit
  uint32_t max_open_messages = 16;        // messages being assembled at once
};

enum class MessageType : uint8_t { open, message, close };

struct AssembledMessage {
  MessageType type = MessageType::message;
  uint32_t secure_channel_id = 0;
  uint32_t token_id = 0;  // symmetric messages only
  uint32_t request_id = 0;
  bool aborted = false;          // the sender gave up; abort_status says why
  StatusCode abort_status;
  std::string abort_reason;
  std::string security_policy_uri;  // OpenSecureChannel only
  std::vector<uint8_t> body;        // starts with the encoding NodeId of the service message
  uint32_t chunk_count = 0;
};

class ChunkAssembler {
 public:
  explicit ChunkAssembler(ChunkLimits limits = {}, SecurityPolicy* security = nullptr)
      : limits_(limits), security_(security) {}

  // chunk is one whole UA-TCP message of type OPN, MSG or CLO (header included). Returns the
  // message a final or abort chunk completes; throws Error (BadTcpMessageTooLarge,
  // BadSequenceNumberInvalid, BadDecodingError, ...) on violations: the channel must then close.
  std::optional<AssembledMessage> add_chunk(std::span<uint8_t> chunk);

  size_t open_messages() const { return partial_.size(); }
  uint64_t chunks_received() const { return chunks_received_; }

 private:
  ChunkLimits limits_;
  SecurityPolicy* security_;
  std::map<uint32_t, AssembledMessage> partial_;
  std::optional<uint32_t> last_sequence_number_;
  uint64_t chunks_received_ = 0;
};

}  // namespace oee::opcua
