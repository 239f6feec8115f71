// Backfill through a real broker: 1M events queued on an edge (its durable queue), then published
// through Mosquitto (QoS 1, PUBACK-acknowledged) into the server's ingest (oee serve's MqttIngest:
// parse, validate, dedup, SQLite store, acknowledge after commit). Beside it, in the same run:
// `mosquitto_sub` reading the same stream (the broker's own client: the transport ceiling), and
// the bare store insert of the same events in the same batches (the storage ceiling).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "mosquitto_process.h"
#include "oee/codec/commit_report.h"
#include "oee/codec/event_json.h"
#include "oee/edge/durable_queue.h"
#include "oee/edge/queue_publisher.h"
#include "oee/plant/plant_file.h"
#include "oee/server/mqtt_ingest.h"
#include "oee/server/plant_service.h"
#include "oee/storage/event_store.h"
#include "oee/transport/mqtt_client.h"

using namespace oee;
using Clock = std::chrono::steady_clock;

namespace {

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::vector<Event> make_events(const PlantModel& plant, std::size_t n) {
  const auto machines = plant.machines();
  std::vector<Event> v(n);
  const TimeMs start = 1'790'000'000'000;  // 2026-09
  for (std::size_t i = 0; i < n; ++i) {
    Event& e = v[i];
    e.ts = start + static_cast<TimeMs>(i);
    e.machine = machines[i % machines.size()]->path;
    e.type = EventType::count;
    e.good = 1 + static_cast<std::int64_t>(i % 3);
    e.src = "bench-edge";
    e.seq = static_cast<std::int64_t>(i);
  }
  return v;
}

// Counts events ("seq": occurrences) in mosquitto_sub's output; the time the last one arrived.
struct SubCounter {
  std::atomic<std::uint64_t> events{0};
  FILE* pipe = nullptr;
  pid_t pid = -1;
  std::thread reader;
  void start(int port) {
    int fds[2];
    if (::pipe(fds) != 0) return;
    const std::string port_text = std::to_string(port);
    pid = ::fork();
    if (pid == 0) {
      ::dup2(fds[1], 1);
      ::close(fds[0]);
      ::close(fds[1]);
      // stdbuf: mosquitto_sub's stdout is block-buffered into a pipe; we want each message as it comes.
      ::execlp("stdbuf", "stdbuf", "-oL", "mosquitto_sub", "-h", "127.0.0.1", "-p", port_text.c_str(), "-q", "1", "-t",
               "oee/v1/+/+/+/+/events", "-i", "bench-mosquitto-sub", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(fds[1]);
    pipe = ::fdopen(fds[0], "r");
    reader = std::thread([this] {
      static constexpr char kNeedle[] = "\"seq\":";
      char buf[1 << 16];
      std::size_t matched = 0;
      ssize_t n;
      while ((n = ::read(::fileno(pipe), buf, sizeof buf)) > 0) {  // read(): whatever is there, now
        for (ssize_t i = 0; i < n; ++i) {
          matched = buf[i] == kNeedle[matched] ? matched + 1 : (buf[i] == kNeedle[0] ? 1 : 0);
          if (matched == sizeof kNeedle - 1) {
            matched = 0;
            ++events;
          }
        }
      }
    });
  }
  void stop() {
    if (pid > 0) {
      ::kill(pid, SIGINT);
      reader.join();
      ::fclose(pipe);
      ::waitpid(pid, nullptr, 0);
    }
  }
};

}  // namespace

int main() {
  const bool quick = std::getenv("BENCH_QUICK") != nullptr;
  std::size_t n = quick ? 200'000 : 1'000'000;
  if (const char* e = std::getenv("BENCH_EDGE_EVENTS")) n = std::strtoull(e, nullptr, 10);
  auto loaded = plant::load_plant_file(OEE_DEMO_PLANT_FILE);
  const auto events = make_events(loaded.model, n);
  oee::testing::TempDir dir;

  // Baseline: the bare store, in batches of 4000 (what one read window of the publisher holds).
  double store_rate = 0;
  {
    ShiftCalendar calendar(loaded.model, *loaded.zone);
    auto store = storage::open_sqlite_store(dir.path + "/bare.sqlite", loaded.model, calendar);
    const auto t0 = Clock::now();
      for (std::size_t i = 0; i < n; i += 4000)
      store->append(std::span(events).subspan(i, std::min<std::size_t>(4000, n - i)), 0);
    store_rate = static_cast<double>(n) / since(t0);
  }

  // The edge's backlog: n events in its durable queue (as the edge agent encodes them).
  edge::DurableQueueOptions qo;
  qo.dir = dir.path + "/queue";
  qo.max_bytes = 4ull << 30;
  edge::DurableQueue queue(qo);
  {
    std::vector<std::string> records;
    std::string json;
    for (std::size_t i = 0; i < n; ++i) {
      Event e = events[i];
      e.src.clear();
      e.seq = -1;
      json.clear();
      codec::append_event_json(json, e, false);
      records.push_back(edge::make_queue_record(e.machine, json));
      if (records.size() == 10000 || i + 1 == n) {
        std::vector<std::string_view> views(records.begin(), records.end());
        queue.append(views);
        records.clear();
      }
    }
    queue.flush();
  }

  oee::testing::MosquittoProcess broker;
  broker.start();
  server::PlantService service(plant::load_plant_file(OEE_DEMO_PLANT_FILE),
                               [&](const PlantModel& m, const ShiftCalendar& c) {
                                 return storage::open_sqlite_store(dir.path + "/server.sqlite", m, c);
                               });
  transport::MqttOptions so;
  so.brokers = {broker.url()};
  so.client_id = "bench-server";
  server::MqttIngest ingest(service, so);
  ingest.start();
  while (!ingest.connected()) std::this_thread::sleep_for(std::chrono::milliseconds(10));

  edge::PublisherOptions po;
  po.edge_id = "bench-edge";
  po.incarnation = "bench0000000000000";
  edge::QueuePublisher publisher(queue, po);
  transport::MqttOptions eo;
  eo.brokers = {broker.url()};
  eo.client_id = "bench-edge";
  eo.subscriptions = {codec::commit_report_topic(po.edge_id)};  // end to end, as `oee edge`
  transport::MqttHandlers h;
  h.on_published = [&](int mid, std::uint64_t generation) { publisher.on_published(mid, generation); };
  h.on_message = [&](std::string_view, std::string_view payload) { publisher.on_commit_report(payload); };
  transport::MqttClient client(eo, h);
  publisher.set_client(&client);

  SubCounter sub;
  sub.start(broker.port());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // mosquitto_sub subscribed
  const auto t_start = Clock::now();
  client.start();
  publisher.start();
  double stored_s = 0, sub_s = 0;
  auto next_report = Clock::now();
  while (since(t_start) < 300) {
    if (sub_s == 0 && sub.events >= n) sub_s = since(t_start);
    const auto count = service.with_store([](storage::EventStore& s) { return s.event_count(); });
    if (count >= static_cast<std::int64_t>(n)) {
      stored_s = since(t_start);
      break;
    }
    if (Clock::now() >= next_report) {
      const auto st = ingest.stats();
      const auto ps = publisher.stats();
      std::fprintf(stderr, "  %.1f s: stored %lld, ingested %llu messages (%llu dead letters), published %llu events, acked %llu msgs\n",
                   since(t_start), static_cast<long long>(count), static_cast<unsigned long long>(st.messages),
                   static_cast<unsigned long long>(st.dead_letters), static_cast<unsigned long long>(ps.events_published),
                   static_cast<unsigned long long>(ps.messages_acknowledged));
      next_report = Clock::now() + std::chrono::seconds(5);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::fprintf(stderr, "  stored all %zu in %.2f s; waiting for mosquitto_sub (%llu so far)\n", n, stored_s,
               static_cast<unsigned long long>(sub.events.load()));
  while (sub.events < n && since(t_start) < stored_s + 30) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  if (sub_s == 0 && sub.events >= n) sub_s = since(t_start);
  std::fprintf(stderr, "  mosquitto_sub: %llu events after %.2f s\n", static_cast<unsigned long long>(sub.events.load()),
               since(t_start));
  publisher.stop();
  client.stop();
  ingest.stop();
  sub.stop();
  const auto stats = ingest.stats();
  std::printf("pipeline: %zu events, %llu messages ingested, %llu duplicates; stored in %.2f s; mosquitto_sub saw %llu in %.2f s\n",
              n, static_cast<unsigned long long>(stats.messages), static_cast<unsigned long long>(stats.duplicates),
              stored_s, static_cast<unsigned long long>(sub.events.load()), sub_s);
  const double e2e = stored_s > 0 ? static_cast<double>(n) / stored_s : 0;
  std::printf("BENCH\tbackfill of %zu queued events, edge -> mosquitto -> server store (s)\t%.2f\ts\t-\t-\tlower\t<= 10 (1M)\n", n,
              stored_s);
  std::printf("BENCH\tend-to-end edge -> mosquitto -> store (events/s)\t%.0f\tevents/s\tmosquitto_sub, same stream\t%.0f\thigher\t>= 300000\n",
              e2e, sub_s > 0 ? static_cast<double>(n) / sub_s : 0);
  std::printf("BENCH\tend-to-end edge -> mosquitto -> store vs bare store (events/s)\t%.0f\tevents/s\tbare store append, same batches\t%.0f\thigher\t>= 0.5 x baseline\n",
              e2e, store_rate);
  return 0;
}
