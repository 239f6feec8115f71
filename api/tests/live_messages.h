// Reading the live WebSocket's messages in API tests.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "../../server/tests/websocket_client.h"

namespace oee::api {

// The next message of a type (skipping others), as JSON; null after 100 others or a closed socket.
inline nlohmann::json next_of(testing::WebSocketClient& ws, const std::string& type) {
  for (int i = 0; i < 100; ++i) {
    const auto m = ws.receive();
    if (!m) break;
    auto j = nlohmann::json::parse(*m);
    if (j["type"] == type) return j;
  }
  return {};
}

}  // namespace oee::api
