// The connection caps' bookkeeping: a place per connection, given back when the connection (or the
// WebSocket it became) ends, in total and per address.
#include <gtest/gtest.h>

#include "oee/server/connection_limits.h"

namespace oee::server {

TEST(ConnectionLimits, CapsInTotalAndPerAddressAndGivesPlacesBack) {
  ConnectionLimits limits(3, 2);
  auto a1 = limits.admit("10.0.0.1");
  auto a2 = limits.admit("10.0.0.1");
  ASSERT_TRUE(a1 && a2);
  EXPECT_FALSE(limits.admit("10.0.0.1")) << "over the per-address cap";
  auto b1 = limits.admit("10.0.0.2");
  ASSERT_TRUE(b1);
  EXPECT_FALSE(limits.admit("10.0.0.3")) << "over the total cap";
  EXPECT_EQ(limits.open(), 3u);
  a1.reset();  // that connection ended
  EXPECT_EQ(limits.open(), 2u);
  EXPECT_TRUE(limits.admit("10.0.0.1")) << "its place is back (and released again at once)";
  EXPECT_EQ(limits.open(), 2u);
}

TEST(ConnectionLimits, APlaceMovesWithItsConnection) {
  ConnectionLimits limits(1, 1);
  auto slot = limits.admit("10.0.0.1");
  ASSERT_TRUE(slot);
  ConnectionLimits::Slot websocket = std::move(*slot);  // an HTTP connection became a WebSocket
  slot.reset();  // the HTTP session ends: the place stays with the WebSocket
  EXPECT_EQ(limits.open(), 1u);
  EXPECT_FALSE(limits.admit("10.0.0.2"));
  websocket = ConnectionLimits::Slot();
  EXPECT_EQ(limits.open(), 0u);
  EXPECT_TRUE(limits.admit("10.0.0.2"));
}

}  // namespace oee::server
