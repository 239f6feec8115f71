// Sparkplug B (issue 14): the host's ingest through Mosquitto against the JSON ingest of the same
// events in the same run (metrics/s vs events/s), and the payload decoder's cost per metric against
// the JSON event parser's per event.
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "mosquitto_process.h"
#include "oee/codec/event_json.h"
#include "oee/plant/plant_file.h"
#include "oee/server/mqtt_ingest.h"
#include "oee/server/plant_service.h"
#include "oee/server/sparkplug_host.h"
#include "oee/sparkplug/payload_codec.h"
#include "oee/storage/event_store.h"
#include "oee/transport/mqtt_client.h"

namespace {

using namespace oee;
using namespace std::chrono_literals;
namespace sp = oee::sparkplug;
using Clock = std::chrono::steady_clock;

constexpr const char* kPlant = R"(timezone: UTC
sites: [{id: s1, areas: [{id: a1, lines: [{id: l1, machines: [
  {id: sp, ideal_cycle_time_s: 1.0, sparkplug: {group: bench, node: n1, device: d1, metrics: {"Counts/Total": "counter:total"}}},
  {id: js, ideal_cycle_time_s: 1.0}]}]}]}]
)";

constexpr int kPerMessage = 100;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// One DDATA of kPerMessage counter readings (by alias, historical, one per second from `first`).
std::string sparkplug_batch(std::uint64_t seq, TimeMs t0, std::int64_t first) {
  sp::pb::Payload p;
  p.set_timestamp(static_cast<std::uint64_t>(t0));
  p.set_seq(seq % 256);
  for (int i = 0; i < kPerMessage; ++i) {
    auto* m = p.add_metrics();
    m->set_alias(1);
    m->set_timestamp(static_cast<std::uint64_t>(t0 + (first + i) * 1000));
    m->set_is_historical(true);
    sp::set_metric_value(*m, sp::pb::Int64, std::int64_t{first + i});
  }
  return sp::encode_payload(p);
}

std::string json_batch(TimeMs t0, std::int64_t first) {
  std::vector<Event> events;
  for (int i = 0; i < kPerMessage; ++i) {
    Event e;
    e.ts = t0 + (first + i) * 1000;
    e.type = EventType::counter;
    e.value = first + i;
    events.push_back(e);
  }
  return codec::events_to_json_array(events, false);
}

std::string birth(TimeMs t0, bool node) {
  sp::pb::Payload p;
  p.set_timestamp(static_cast<std::uint64_t>(t0));
  p.set_seq(node ? 0 : 1);
  auto* m = p.add_metrics();
  if (node) {
    m->set_name("bdSeq");
    sp::set_metric_value(*m, sp::pb::UInt64, std::uint64_t{0});
  } else {
    m->set_name("Counts/Total");
    m->set_alias(1);
    sp::set_metric_value(*m, sp::pb::Int64, std::int64_t{0});
  }
  return sp::encode_payload(p);
}

template <typename Done>
double publish_all(transport::MqttClient& client, const std::vector<std::pair<std::string, std::string>>& messages, Done done) {
  const auto start = Clock::now();
  for (const auto& [topic, payload] : messages) {
    while (!client.publish(topic, payload, 1)) std::this_thread::sleep_for(1ms);  // the in-flight window is full
  }
  while (!done()) std::this_thread::sleep_for(2ms);
  return seconds_since(start);
}

void decode_rows(int rounds) {
  const std::string payload = sparkplug_batch(1, 1764892800000, 0);
  const std::string json = json_batch(1764892800000, 0);
  auto start = Clock::now();
  std::size_t metrics = 0;
  for (int r = 0; r < rounds; ++r) metrics += static_cast<std::size_t>(sp::decode_payload(payload).payload->metrics_size());
  const double sparkplug_ns = seconds_since(start) * 1e9 / static_cast<double>(metrics);
  start = Clock::now();
  std::size_t events = 0;
  for (int r = 0; r < rounds; ++r) {
    std::vector<Event> out;
    std::vector<codec::RejectedEvent> rejected;
    std::string error;
    codec::parse_event_batch(json, out, rejected, error, "s1/a1/l1/js");
    events += out.size();
  }
  const double json_ns = seconds_since(start) * 1e9 / static_cast<double>(events);
  std::printf("BENCH\tSparkplug payload decode\t%.1f\tns/metric\tJSON event parse (ns/event)\t%.1f\tlower\t<= 1.0 x baseline\n",
              sparkplug_ns, json_ns);
}

}  // namespace

int main() {
  const bool quick = std::getenv("BENCH_QUICK") != nullptr;
  const int messages = quick ? 100 : 400;
  decode_rows(quick ? 2000 : 20000);

  oee::testing::MosquittoProcess broker;
  broker.start();
  oee::testing::TempDir dir;
  server::PlantService service(plant::load_plant_yaml(kPlant, "plant.yaml"), [&](const PlantModel& p, const ShiftCalendar& c) {
    return storage::open_sqlite_store(dir.path + "/oee.sqlite", p, c);
  });
  transport::MqttOptions o;
  o.brokers = {broker.url()};
  o.client_id = "bench-json-ingest";
  server::MqttIngest json(service, o);
  json.start();
  server::SparkplugHostConfig config;
  config.host_id = "bench";
  config.reorder_timeout_ms = 10000;
  config.mqtt.brokers = {broker.url()};
  config.mqtt.client_id = "bench-host";
  server::SparkplugHost host(service, config);
  host.start();
  transport::MqttOptions po;
  po.brokers = {broker.url()};
  po.client_id = "bench-publisher";
  po.clean_session = true;
  transport::MqttClient publisher(po, {});
  publisher.start();
  while (!json.connected() || !host.connected() || !publisher.connected()) std::this_thread::sleep_for(10ms);

  const TimeMs t0 = (server::system_clock_ms() / 3600000) * 3600000 - 24 * 3600000;
  std::vector<std::pair<std::string, std::string>> sparkplug_messages = {
      {"spBv1.0/bench/NBIRTH/n1", birth(t0, true)}, {"spBv1.0/bench/DBIRTH/n1/d1", birth(t0, false)}};
  std::vector<std::pair<std::string, std::string>> json_messages;
  for (int i = 0; i < messages; ++i) {
    sparkplug_messages.emplace_back("spBv1.0/bench/DDATA/n1/d1", sparkplug_batch(static_cast<std::uint64_t>(i) + 2, t0, 1 + i * kPerMessage));
    json_messages.emplace_back("oee/v1/s1/a1/l1/js/events", json_batch(t0, 1 + i * kPerMessage));
  }
  const std::uint64_t want = static_cast<std::uint64_t>(messages) * kPerMessage;
  const double json_s = publish_all(publisher, json_messages, [&] { return json.stats().events_inserted >= want; });
  const double sparkplug_s = publish_all(publisher, sparkplug_messages, [&] { return host.stats().events_inserted >= want + 1; });
  std::fprintf(stderr, "sparkplug: %llu metrics in %.2f s (%llu commits); json: %llu events in %.2f s\n",
               static_cast<unsigned long long>(want), sparkplug_s, static_cast<unsigned long long>(host.stats().batches),
               static_cast<unsigned long long>(want), json_s);
  std::printf("BENCH\tSparkplug ingest through Mosquitto\t%.0f\tmetrics/s\tJSON ingest of the same events (events/s)\t%.0f\thigher\t>= 1.0 x baseline\n",
              static_cast<double>(want) / sparkplug_s, static_cast<double>(want) / json_s);
  host.stop();
  json.stop();
  publisher.stop();
  return 0;
}
