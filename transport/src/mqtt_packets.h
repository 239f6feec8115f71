#pragma once
// The MQTT 3.1.1 packets the subscriber sends, encoded, and the numbers of those it reads.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "oee/transport/mqtt_client.h"

namespace oee::transport::packets {

// Packet types (high nibble of the fixed header).
constexpr std::uint8_t kConnect = 1, kConnack = 2, kPublish = 3, kPuback = 4, kSubscribe = 8, kSuback = 9,
                       kPingreq = 12, kPingresp = 13, kDisconnect = 14;
constexpr std::uint8_t kSubscriptionRefused = 0x80;  // a SUBACK return code
constexpr std::size_t kMaxControlPacketBytes = 64 * 1024;  // anything but PUBLISH is tiny

std::string connect(const MqttOptions& options);
// One SUBSCRIBE of every filter at QoS 1.
std::string subscribe(std::size_t packet_id, const std::vector<std::string>& filters);
std::string puback(std::size_t packet_id);
std::string pingreq();
std::string disconnect();

// A big-endian 16-bit number at `at` of `data` (which holds at least at + 2 bytes).
std::size_t u16_at(std::string_view data, std::size_t at);

}  // namespace oee::transport::packets
