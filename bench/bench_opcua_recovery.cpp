// OPC UA recovery time: a client (the edge's, default reconnect backoff 100 ms .. 3 s) subscribed to
// ten counters of the node-opcua test server (opcua/tests/peer/server.js) while the server is
// SIGKILLed, stays down 1 s and starts again, empty, on the same port. The figure is the wall time
// from the server's READY to the client's `reconnected` event (channel and session usable again).
// The test (OpcuaRecoveryTest.ServerRestartIsRecoveredAndTheGapReported) checks that recovery
// happens and the gap is reported; how fast it is belongs here (docs/opcua.md: "back within 5 s").
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "oee/opcua/client.h"
#include "opcua_peer.h"

using namespace std::chrono_literals;
using namespace oee::opcua;
using Clock = std::chrono::steady_clock;

namespace {

// What the client reports from its threads: data changes seen and its recovery events.
struct Watch {
  std::mutex m;
  std::condition_variable cv;
  std::size_t changes = 0;
  bool lost = false;
  std::optional<Clock::time_point> reconnected;

  template <class P>
  bool wait(std::chrono::milliseconds timeout, P&& predicate) {
    std::unique_lock lock(m);
    return cv.wait_for(lock, timeout, predicate);
  }
};

std::vector<MonitoredItemRequest> counters(int n) {
  std::vector<MonitoredItemRequest> items(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) items[static_cast<std::size_t>(i)].node_id = NodeId(1, "Counter." + std::to_string(i));
  return items;
}

// One restart: seconds from the server ready again to `reconnected`; negative when it failed.
double recovery_s() {
  testing::OpcuaPeer peer(testing::PeerOptions{10, 200, false});
  peer.start();
  Watch w;
  ClientConfig c;
  c.endpoint_url = peer.url();
  Client client(c);
  client.set_event_handler([&](const ClientEvent& e) {
    std::lock_guard lock(w.m);
    if (e.kind == ClientEvent::Kind::connection_lost) w.lost = true;
    if (e.kind == ClientEvent::Kind::reconnected && !w.reconnected) w.reconnected = Clock::now();
    w.cv.notify_all();
  });
  client.connect();
  const uint32_t sub = client.create_subscription(SubscriptionSettings{200, 100, 5, 0, 0}, [&](uint32_t, uint32_t, auto changes) {
    std::lock_guard lock(w.m);
    w.changes += changes.size();
    w.cv.notify_all();
  });
  client.create_monitored_items(sub, counters(10));
  if (!w.wait(15s, [&] { return w.changes >= 50; })) return -1;
  peer.kill_hard();
  if (!w.wait(15s, [&] { return w.lost; })) return -1;
  std::this_thread::sleep_for(1s);  // the subject: the server stays down a while, the client keeps trying
  peer.start();
  const auto ready = Clock::now();
  if (!w.wait(60s, [&] { return w.reconnected.has_value(); })) return -1;
  // The client may be back between the server's READY line and start() returning: that is 0 s.
  const double s = std::max(0.0, std::chrono::duration<double>(*w.reconnected - ready).count());
  client.disconnect();
  return s;
}

}  // namespace

int main() {
  const int rounds = std::getenv("BENCH_QUICK") != nullptr ? 3 : 10;
  std::vector<double> times;
  for (int r = 0; r < rounds; ++r) {
    const double s = recovery_s();
    if (s < 0) {
      std::fprintf(stderr, "opcua recovery round %d: the client did not recover\n", r);
      return 1;
    }
    std::fprintf(stderr, "opcua recovery round %d: %.3f s\n", r, s);
    times.push_back(s);
  }
  std::printf("BENCH\tOPC UA server restart -> client reconnected, worst of %d (s)\t%.3f\ts\t-\t-\tlower\t<= 5\n", rounds,
              *std::max_element(times.begin(), times.end()));
  return 0;
}
