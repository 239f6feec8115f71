#pragma once
// The live feed's token in the WebSocket handshake's Sec-WebSocket-Protocol header, the one header
// a browser may set on a WebSocket: the client offers `oee.live.v1` and `bearer.<token as base64url,
// no padding>` (a protocol name allows no ':'), and the server answers `oee.live.v1`, never the token.
// So the token stays out of URLs (proxy and access logs).
#include <optional>
#include <string>
#include <string_view>

namespace oee::api {

inline constexpr std::string_view kLiveSubprotocol = "oee.live.v1";

// Whether the comma-separated offers of a Sec-WebSocket-Protocol header include `protocol`.
bool offers_subprotocol(std::string_view header, std::string_view protocol);
// The token of the header's `bearer.` offer, or nullopt when there is none or it is not base64url.
std::optional<std::string> bearer_subprotocol(std::string_view header);

}  // namespace oee::api
