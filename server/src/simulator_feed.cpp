#include "oee/server/simulator_feed.h"

#include <cstdio>

#include "oee/simulator/plant_simulator.h"

namespace oee::server {

SimulatorFeed::SimulatorFeed(PlantService& service, SimulatorFeedOptions options)
    : service_(service), options_(options) {}

SimulatorFeed::~SimulatorFeed() { stop(); }

void SimulatorFeed::start() { thread_ = std::thread([this] { run(); }); }

void SimulatorFeed::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

namespace {
// The feed's incarnation: the same seed and start regenerate the same events with the same seqs (a
// restart's replay is deduplicated), another seed or start numbers a different stream.
std::string feed_incarnation(const SimulatorFeedOptions& o) {
  return "seed" + std::to_string(o.seed) + "-start" + std::to_string(o.start);
}
void mark_incarnation(std::vector<Event>& batch, const std::string& inc) {
  for (Event& e : batch)
    if (e.has_identity()) e.inc = inc;
}
}  // namespace

void SimulatorFeed::run() {
  // Heartbeats as an edge sends them, so the plant's no_data_after_s sees a live machine.
  simulator::SimulatorOptions sim_options;
  sim_options.heartbeat_ms = simulator::kDefaultHeartbeatMs;
  simulator::PlantSimulator sim(service_.plant(), service_.calendar(), options_.seed, options_.start, sim_options);
  const std::string inc = feed_incarnation(options_);
  std::vector<Event> batch;
  const TimeMs started = service_.now();
  // History: from the start to now, in chunks the store takes in one transaction each.
  TimeMs reported = sim.position();
  while (sim.position() < started) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
    }
    batch.clear();
    sim.advance_to(std::min(started, sim.position() + options_.backfill_chunk_ms), batch);
    mark_incarnation(batch, inc);
    events_fed_ += static_cast<std::int64_t>(batch.size());
    service_.ingest(std::move(batch), "simulator");
    batch = {};
    if (sim.position() - reported >= 6 * kMsPerHour) {
      reported = sim.position();
      std::printf("demo: simulated history stored up to %s (%lld events)\n", format_rfc3339(reported).c_str(),
                  static_cast<long long>(events_fed_.load()));
      std::fflush(stdout);
    }
  }
  caught_up_ = true;
  std::printf("demo: caught up with the present (%lld events); now in real time at %gx\n",
              static_cast<long long>(events_fed_.load()), service_.clock_rate());
  std::fflush(stdout);
  // Real time: the simulated plant keeps up with the service's clock (the demo's runs `--speed`
  // times as fast as the wall clock), so its events are never in the server's future.
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    wake_.wait_for(lock, std::chrono::milliseconds(options_.tick_ms));
    if (stopping_) break;
    const TimeMs target = service_.now();
    lock.unlock();
    batch.clear();
    sim.advance_to(target, batch);
    mark_incarnation(batch, inc);
    if (!batch.empty()) {
      events_fed_ += static_cast<std::int64_t>(batch.size());
      service_.ingest(std::move(batch), "simulator");
      batch = {};
    }
    lock.lock();
  }
}

}  // namespace oee::server
