#pragma once
// An `oee edge` feeding a broker with the demo plant's simulator from a fixed start (the stream of
// `oee simulate --seed 1 --from START`), acknowledged end to end by the servers (commit reports),
// so what a server received but never committed is sent again; and what the servers then hold.
#include <nlohmann/json.hpp>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include "../../server/tests/http_client.h"
#include "child_process.h"
#include "oee/core/time.h"
#include "oee/edge/durable_queue.h"

namespace oee::testing {

class SimulatorEdge {
 public:
  static constexpr const char* kId = "three-servers-edge";

  // `until_ms` (optional): the simulated instant the stream ends at, so that it is finite.
  SimulatorEdge(const std::filesystem::path& dir, const std::string& broker, TimeMs start_ms, int speed, TimeMs until_ms = 0)
      : dir_(dir) {
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "edge.yaml") << "id: " << kId << "\ndata_dir: " << (dir / "data").string()
                                     << "\ndrain_timeout_ms: 10000\nmqtt:\n  brokers: [\"" << broker
                                     << "\"]\n  reconnect_min_ms: 200\n  reconnect_max_ms: 1000\n  status_interval_ms: 500\n"
                                     << "  resend_after_ms: 2000\nplant: " << OEE_DEMO_PLANT_FILE << "\nsources:\n"
                                     << "  - {type: simulator, seed: 1, speed: " << speed << ", start: " << start_ms
                                     << (until_ms > 0 ? ", until: " + std::to_string(until_ms) : std::string()) << "}\n";
  }
  // Its stream reached `until_ms`: the queue takes no more.
  bool ended() const { return log().find("reached its end") != std::string::npos; }
  void start() {
    process_ = std::make_unique<ChildProcess>(std::vector<std::string>{OEE_BINARY, "edge", "--config", (dir_ / "edge.yaml").string()},
                                              (dir_ / "edge.log").string());
  }
  // SIGTERM: the source stops, the queue drains to the broker; the exit status.
  int stop() { return process_->kill(SIGTERM); }
  // Once stopped: every seq below this was accepted by the edge's queue.
  std::uint64_t accepted() const {
    edge::DurableQueueOptions o;
    o.dir = (dir_ / "data" / "queue").string();
    return edge::DurableQueue(o).stats().next_id;
  }
  std::string log() const {
    std::ifstream f(dir_ / "edge.log");
    return std::string(std::istreambuf_iterator<char>(f), {});
  }

 private:
  std::filesystem::path dir_;
  std::unique_ptr<ChildProcess> process_;
};

// The row of `src` in a server's GET /api/v1/sources (an empty object when absent).
inline nlohmann::json source_row(std::uint16_t port, const std::string& auth, const std::string& src) {
  const auto rows = nlohmann::json::parse(http_get(port, "/api/v1/sources", auth).body, nullptr, false);
  if (rows.is_array())
    for (const auto& r : rows)
      if (r.value("src", "") == src) return r;
  return nlohmann::json::object();
}

// Whether the server's KPIs of [from, to) have events and no unknown time: that stretch is stored.
inline bool kpis_known(std::uint16_t port, const std::string& auth, TimeMs from, TimeMs to) {
  const auto kpis = http_get(port, "/api/v1/kpis?from=" + format_rfc3339(from) + "&to=" + format_rfc3339(to), auth).body;
  return kpis.find("\"total_count\":0,") == std::string::npos && kpis.find("\"unknown_time_s\":0,") != std::string::npos;
}

}  // namespace oee::testing
