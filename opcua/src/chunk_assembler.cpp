// Reassembly of secure-channel chunks (OPC 10000-6 6.7.2, 6.7.3).
#include "oee/opcua/chunk_assembler.h"

#include <cstring>

#include "oee/opcua/binary_encoding.h"

namespace oee::opcua {
namespace {

// After a wrap the sequence number restarts below 1024 (OPC 10000-6 6.7.2.4).
bool follows(uint32_t previous, uint32_t next) {
  if (next == previous + 1) return true;
  return previous > 4294966271u && next < 1024;
}

}  // namespace

std::optional<AssembledMessage> ChunkAssembler::add_chunk(std::span<uint8_t> chunk) {
  if (chunk.size() < 8 + 4 + 8) throw Error(status::bad_tcp_message_type_invalid, "chunk too short");
  if (limits_.max_chunk_size && chunk.size() > limits_.max_chunk_size) {
    throw Error(status::bad_tcp_message_too_large, "chunk larger than the receive buffer");
  }
  MessageType type;
  if (std::memcmp(chunk.data(), "MSG", 3) == 0) {
    type = MessageType::message;
  } else if (std::memcmp(chunk.data(), "OPN", 3) == 0) {
    type = MessageType::open;
  } else if (std::memcmp(chunk.data(), "CLO", 3) == 0) {
    type = MessageType::close;
  } else {
    throw Error(status::bad_tcp_message_type_invalid, "unexpected message type on a secure channel");
  }
  const char chunk_type = static_cast<char>(chunk[3]);
  if (chunk_type != 'F' && chunk_type != 'C' && chunk_type != 'A') {
    throw Error(status::bad_tcp_message_type_invalid, "invalid chunk type");
  }
  ++chunks_received_;
  try {
    BinaryReader header(chunk.data() + 4, chunk.size() - 4);
    if (header.u32() != chunk.size()) throw Error(status::bad_decoding_error, "chunk size mismatch");
    const uint32_t channel_id = header.u32();
    uint32_t token_id = 0;
    std::string policy_uri;
    if (type == MessageType::open) {
      policy_uri = header.string();
      header.string();  // sender certificate
      header.string();  // receiver certificate thumbprint
    } else {
      token_id = header.u32();
    }
    const size_t security_header_end = static_cast<size_t>(header.position() - chunk.data());
    size_t plain_size = chunk.size();
    if (security_) plain_size = security_->unprotect_chunk(chunk, security_header_end, type == MessageType::open);
    if (plain_size < security_header_end + 8 || plain_size > chunk.size()) {
      throw Error(status::bad_decoding_error, "chunk too short for its headers");
    }
    BinaryReader sequence(chunk.data() + security_header_end, plain_size - security_header_end);
    const uint32_t sequence_number = sequence.u32();
    const uint32_t request_id = sequence.u32();
    if (last_sequence_number_ && !follows(*last_sequence_number_, sequence_number)) {
      throw Error(status::bad_sequence_number_invalid,
                  "expected " + std::to_string(*last_sequence_number_ + 1) + ", got " + std::to_string(sequence_number));
    }
    last_sequence_number_ = sequence_number;
    const uint8_t* body = sequence.position();
    const size_t body_size = sequence.remaining();

    auto it = partial_.find(request_id);
    if (it == partial_.end()) {
      if (partial_.size() >= limits_.max_open_messages) {
        throw Error(status::bad_tcp_internal_error, "too many messages being assembled at once");
      }
      AssembledMessage fresh;
      fresh.type = type;
      fresh.secure_channel_id = channel_id;
      fresh.token_id = token_id;
      fresh.request_id = request_id;
      fresh.security_policy_uri = std::move(policy_uri);
      it = partial_.emplace(request_id, std::move(fresh)).first;
    } else if (it->second.type != type) {
      throw Error(status::bad_tcp_message_type_invalid, "chunks of one message have different types");
    }
    AssembledMessage& message = it->second;
    ++message.chunk_count;
    if (chunk_type == 'A') {
      // Abort chunk: the body is an error code and a reason; the request fails, the channel lives.
      AssembledMessage aborted = std::move(message);
      partial_.erase(it);
      aborted.aborted = true;
      aborted.body.clear();
      BinaryReader reason(body, body_size);
      aborted.abort_status = reason.status_code();
      aborted.abort_reason = reason.string();
      return aborted;
    }
    if (limits_.max_chunk_count && message.chunk_count > limits_.max_chunk_count) {
      partial_.erase(it);
      throw Error(status::bad_tcp_message_too_large, "message has more chunks than negotiated");
    }
    if (limits_.max_message_size && message.body.size() + body_size > limits_.max_message_size) {
      partial_.erase(it);
      throw Error(status::bad_tcp_message_too_large, "message larger than negotiated");
    }
    message.body.insert(message.body.end(), body, body + body_size);
    if (chunk_type == 'C') return std::nullopt;
    AssembledMessage done = std::move(message);
    partial_.erase(it);
    return done;
  } catch (const DecodeError& e) {
    throw Error(status::bad_decoding_error, e.what());
  }
}

}  // namespace oee::opcua
