// UA-TCP Hello/Acknowledge (OPC 10000-6 7.1.2) and the secure channel (6.7).
#include "secure_channel.h"

#include <algorithm>
#include <cstring>

#include "oee/opcua/binary_encoding.h"
#include "service_messages.h"

namespace oee::opcua {
namespace {

constexpr uint32_t kProtocolVersion = 0;
constexpr uint32_t kRequestTypeIssue = 0, kRequestTypeRenew = 1;
constexpr size_t kMessageHeaderSize = 8;         // type, chunk type, size
constexpr uint32_t kMinBufferSize = 8192;        // smallest buffer the spec allows

void write_u32_at(std::vector<uint8_t>& buffer, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) buffer[at + i] = static_cast<uint8_t>(v >> (8 * i));
}

[[noreturn]] void throw_error_message(const std::vector<uint8_t>& message) {
  BinaryReader r(message.data() + kMessageHeaderSize, message.size() - kMessageHeaderSize);
  try {
    const StatusCode code = r.status_code();
    const std::string reason = r.string();
    throw Error(code.is_bad() ? code : status::bad_tcp_internal_error, "server sent ERR: " + reason);
  } catch (const DecodeError&) {
    throw Error(status::bad_tcp_internal_error, "server sent a malformed ERR message");
  }
}

}  // namespace

SecureChannel::SecureChannel(std::unique_ptr<TcpConnection> connection, std::unique_ptr<SecurityPolicy> security,
                             TransportLimits ours)
    : connection_(std::move(connection)),
      security_(std::move(security)),
      ours_(ours),
      assembler_(ChunkLimits{ours.receive_buffer_size, ours.max_message_size, ours.max_chunk_count, 16},
                 security_.get()) {
  ours_.receive_buffer_size = std::max(ours_.receive_buffer_size, kMinBufferSize);
  ours_.send_buffer_size = std::max(ours_.send_buffer_size, kMinBufferSize);
}

std::chrono::steady_clock::time_point SecureChannel::token_created_at() const {
  return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(token_created_ns_.load()));
}

void SecureChannel::open(const std::string& endpoint_url, uint32_t requested_lifetime_ms, int timeout_ms) {
  // Hello
  std::vector<uint8_t> hello;
  BinaryWriter w(hello);
  w.bytes("HELF", 4);
  w.u32(0);  // size, patched below
  w.u32(kProtocolVersion);
  w.u32(ours_.receive_buffer_size);
  w.u32(ours_.send_buffer_size);
  w.u32(ours_.max_message_size);
  w.u32(ours_.max_chunk_count);
  w.string(endpoint_url);
  write_u32_at(hello, 4, static_cast<uint32_t>(hello.size()));
  connection_->send_all(hello);

  std::vector<uint8_t> message;
  if (!connection_->receive_message(message, timeout_ms, ours_.receive_buffer_size)) {
    throw Error(status::bad_timeout, "no Acknowledge from the server");
  }
  if (std::memcmp(message.data(), "ERR", 3) == 0) throw_error_message(message);
  if (std::memcmp(message.data(), "ACK", 3) != 0) throw Error(status::bad_tcp_message_type_invalid, "expected ACK");
  try {
    BinaryReader r(message.data() + kMessageHeaderSize, message.size() - kMessageHeaderSize);
    r.u32();  // protocol version
    peer_.receive_buffer_size = r.u32();
    peer_.send_buffer_size = r.u32();
    peer_.max_message_size = r.u32();
    peer_.max_chunk_count = r.u32();
  } catch (const DecodeError&) {
    throw Error(status::bad_decoding_error, "malformed ACK");
  }
  if (peer_.receive_buffer_size < kMinBufferSize || peer_.send_buffer_size > ours_.receive_buffer_size) {
    throw Error(status::bad_tcp_internal_error, "server acknowledged unusable buffer sizes");
  }

  // OpenSecureChannel(Issue)
  const uint32_t request_id = next_request_id();
  const auto body = encode_open_request(kRequestTypeIssue, request_id, requested_lifetime_ms);
  send_chunks("OPN", body, request_id, true);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    const int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          deadline - std::chrono::steady_clock::now()).count());
    if (left <= 0) throw Error(status::bad_timeout, "no OpenSecureChannel response");
    auto reply = receive(left);
    if (!reply) continue;
    if (reply->type != MessageType::open || reply->request_id != request_id) {
      throw Error(status::bad_tcp_message_type_invalid, "expected the OpenSecureChannel response");
    }
    if (reply->aborted) throw Error(reply->abort_status, "OpenSecureChannel aborted: " + reply->abort_reason);
    apply_open_response(*reply);
    return;
  }
}

std::vector<uint8_t> SecureChannel::encode_open_request(uint32_t request_type, uint32_t request_id,
                                                        uint32_t requested_lifetime_ms) {
  // Every issue and renewal has a fresh nonce, so every token has fresh keys.
  std::string nonce = security_->make_client_nonce();
  std::vector<uint8_t> body;
  BinaryWriter w(body);
  begin_request(w, type_id::open_secure_channel_request, RequestHeader{{}, request_id, 0});
  w.u32(kProtocolVersion);
  w.u32(request_type);
  w.u32(static_cast<uint32_t>(security_->mode()));
  w.string(nonce);
  std::lock_guard lock(nonce_mutex_);
  client_nonce_ = std::move(nonce);
  w.u32(requested_lifetime_ms);
  return body;
}

void SecureChannel::apply_open_response(const AssembledMessage& message) {
  try {
    BinaryReader r(message.body);
    begin_response(r, type_id::open_secure_channel_response, "OpenSecureChannel");
    r.u32();  // server protocol version
    const uint32_t channel_id = r.u32();
    const uint32_t token_id = r.u32();
    r.date_time();  // createdAt: server clock, we time the lifetime with ours
    const uint32_t lifetime_ms = r.u32();
    const std::string server_nonce = r.string();
    {
      std::lock_guard lock(nonce_mutex_);
      security_->derive_keys(client_nonce_, server_nonce, token_id);
    }
    channel_id_ = channel_id;
    token_id_ = token_id;
    revised_lifetime_ms_ = lifetime_ms;
    token_created_ns_ = std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::steady_clock::now().time_since_epoch())
                            .count();
  } catch (const DecodeError& e) {
    throw Error(status::bad_decoding_error, std::string("OpenSecureChannel response: ") + e.what());
  }
}

void SecureChannel::send_renew(uint32_t request_id, uint32_t requested_lifetime_ms) {
  const auto body = encode_open_request(kRequestTypeRenew, request_id, requested_lifetime_ms);
  send_chunks("OPN", body, request_id, true);
}

void SecureChannel::send_message(uint32_t request_id, std::span<const uint8_t> body) {
  send_chunks("MSG", body, request_id, false);
}

void SecureChannel::send_close() {
  std::vector<uint8_t> body;
  BinaryWriter w(body);
  const uint32_t request_id = next_request_id();
  begin_request(w, type_id::close_secure_channel_request, RequestHeader{{}, request_id, 0});
  send_chunks("CLO", body, request_id, false);
}

void SecureChannel::send_chunks(const char* type, std::span<const uint8_t> body, uint32_t request_id, bool asymmetric) {
  // Security header: for OPN the asymmetric one, else the token id.
  std::vector<uint8_t> security_header;
  {
    BinaryWriter w(security_header);
    if (asymmetric) {
      w.string(security_->uri());
      const std::string certificate = security_->sender_certificate();
      const std::string thumbprint = security_->receiver_certificate_thumbprint();
      if (certificate.empty()) w.null_string(); else w.string(certificate);
      if (thumbprint.empty()) w.null_string(); else w.string(thumbprint);
    } else {
      w.u32(token_id_.load());
    }
  }
  const size_t header_size = kMessageHeaderSize + 4 + security_header.size() + 8;
  const size_t max_body = security_->max_body_size(peer_.receive_buffer_size, header_size, asymmetric);
  if (max_body == 0) throw Error(status::bad_tcp_internal_error, "send buffer too small for a chunk");
  const size_t chunk_count = body.empty() ? 1 : (body.size() + max_body - 1) / max_body;
  if ((peer_.max_chunk_count && chunk_count > peer_.max_chunk_count) ||
      (peer_.max_message_size && body.size() > peer_.max_message_size)) {
    throw Error(StatusCode{0x80B80000u} /* BadRequestTooLarge */,
                std::to_string(body.size()) + " bytes in " + std::to_string(chunk_count) + " chunks exceed the server's limits");
  }
  std::lock_guard lock(send_mutex_);
  std::vector<uint8_t> chunk;
  chunk.reserve(std::min(body.size(), max_body) + header_size);
  for (size_t i = 0; i < chunk_count; ++i) {
    const size_t offset = i * max_body;
    const size_t size = std::min(max_body, body.size() - std::min(body.size(), offset));
    chunk.clear();
    BinaryWriter w(chunk);
    w.bytes(type, 3);
    w.u8(i + 1 == chunk_count ? 'F' : 'C');
    w.u32(0);
    w.u32(channel_id_.load());
    w.bytes(security_header.data(), security_header.size());
    const size_t security_header_end = chunk.size();
    w.u32(next_sequence_number_++);
    w.u32(request_id);
    if (size) w.bytes(body.data() + offset, size);
    write_u32_at(chunk, 4, static_cast<uint32_t>(chunk.size()));
    security_->protect_chunk(chunk, security_header_end, asymmetric);
    connection_->send_all(chunk);
  }
  chunks_sent_ += chunk_count;
  uint64_t seen = max_chunks_sent_.load();
  while (chunk_count > seen && !max_chunks_sent_.compare_exchange_weak(seen, chunk_count)) {
  }
}

std::optional<AssembledMessage> SecureChannel::receive(int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    const int left = static_cast<int>(std::max<int64_t>(
        0, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count()));
    if (!connection_->receive_message(receive_buffer_, left, ours_.receive_buffer_size)) return std::nullopt;
    if (std::memcmp(receive_buffer_.data(), "ERR", 3) == 0) throw_error_message(receive_buffer_);
    auto message = assembler_.add_chunk(receive_buffer_);
    ++chunks_received_;
    if (message) {
      uint64_t seen = max_chunks_received_.load();
      while (message->chunk_count > seen && !max_chunks_received_.compare_exchange_weak(seen, message->chunk_count)) {
      }
      if (message->type == MessageType::close) throw Error(status::bad_secure_channel_closed, "server closed the channel");
      return message;
    }
  }
}

}  // namespace oee::opcua
