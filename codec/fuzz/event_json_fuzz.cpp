// libFuzzer target: any bytes as an MQTT payload must give events or reasons, never a crash.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "oee/codec/event_json.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view payload(reinterpret_cast<const char*>(data), size);
  std::vector<oee::Event> events;
  std::vector<oee::codec::RejectedEvent> rejected;
  std::string error;
  if (oee::codec::parse_event_batch(payload, events, rejected, error, "s/a/l/m")) {
    // What was accepted must survive a round trip unchanged.
    for (const oee::Event& e : events) {
      oee::Event back;
      std::string why;
      if (!oee::codec::parse_event(oee::codec::event_to_json(e), back, why) || !(back == e)) __builtin_trap();
    }
  }
  oee::Event one;
  oee::codec::parse_event(payload, one, error);
  return 0;
}
