#include "mqtt_packets.h"

namespace oee::transport::packets {
namespace {

void put_u16(std::string& out, std::size_t v) {
  out.push_back(static_cast<char>((v >> 8) & 0xff));
  out.push_back(static_cast<char>(v & 0xff));
}
void put_string(std::string& out, std::string_view s) {
  put_u16(out, s.size());
  out.append(s);
}
std::string packet(std::uint8_t header, const std::string& body) {
  std::string p(1, static_cast<char>(header));
  std::size_t n = body.size();
  do {
    std::uint8_t b = n % 128;
    n /= 128;
    if (n > 0) b |= 0x80;
    p.push_back(static_cast<char>(b));
  } while (n > 0);
  return p + body;
}

}  // namespace

std::string connect(const MqttOptions& options) {
  std::string body;
  put_string(body, "MQTT");
  body.push_back(4);  // protocol level 3.1.1
  std::uint8_t flags = options.clean_session ? 0x02 : 0x00;
  if (!options.username.empty()) flags |= 0x80;
  if (!options.username.empty() && !options.password.empty()) flags |= 0x40;
  body.push_back(static_cast<char>(flags));
  put_u16(body, static_cast<std::size_t>(options.keepalive_s));
  put_string(body, options.client_id);
  if (flags & 0x80) put_string(body, options.username);
  if (flags & 0x40) put_string(body, options.password);
  return packet(kConnect << 4, body);
}

std::string subscribe(std::size_t packet_id, const std::vector<std::string>& filters) {
  std::string body;
  put_u16(body, packet_id);
  for (const auto& filter : filters) {
    put_string(body, filter);
    body.push_back(1);  // QoS 1
  }
  return packet(static_cast<std::uint8_t>(kSubscribe << 4 | 0x02), body);
}

std::string puback(std::size_t packet_id) {
  std::string body;
  put_u16(body, packet_id);
  return packet(kPuback << 4, body);
}

std::string pingreq() { return packet(kPingreq << 4, ""); }
std::string disconnect() { return packet(kDisconnect << 4, ""); }

std::size_t u16_at(std::string_view data, std::size_t at) {
  return (static_cast<std::size_t>(static_cast<std::uint8_t>(data[at])) << 8) | static_cast<std::uint8_t>(data[at + 1]);
}

}  // namespace oee::transport::packets
