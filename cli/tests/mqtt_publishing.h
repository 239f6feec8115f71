#pragma once
// `oee serve --mqtt` fed by a test (cli/tests): a Mosquitto broker on a free loopback port, the
// events of an `oee simulate` file published to it on the contract's topics, acknowledged, and how
// many of them a server stored.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "../../server/tests/http_client.h"
#include "child_process.h"
#include "demo_crash_scenario.h"
#include "oee/transport/mqtt_client.h"
#include "../../transport/tests/eventually.h"

namespace oee::testing {

inline int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// A Mosquitto broker on a free loopback port: persistent sessions, no limit on the messages it
// queues for a subscriber that is away.
class Broker {
 public:
  explicit Broker(const std::filesystem::path& dir) : port_(free_port()) {
    const auto conf = dir / "mosquitto.conf";
    std::ofstream(conf) << "listener " << port_ << " 127.0.0.1\nallow_anonymous true\nuser root\n"
                        << "max_queued_messages 0\nmax_queued_bytes 0\nlog_dest stderr\n"
                        << "log_type error\nlog_type warning\nlog_type notice\nlog_type information\nlog_type subscribe\n";
    process_ = std::make_unique<ChildProcess>(std::vector<std::string>{"/usr/sbin/mosquitto", "-c", conf.string()},
                                             (dir / "mosquitto.log").string());
    EXPECT_TRUE(process_->wait_for_output("running", std::chrono::seconds(10))) << process_->output();
  }
  std::string url() const { return "mqtt://127.0.0.1:" + std::to_string(port_); }
  // Whether the broker took `client_id`'s subscription to `filter` within the timeout (its log).
  bool subscribed(const std::string& client_id, const std::string& filter, std::chrono::milliseconds timeout) {
    return process_->wait_for_output(client_id + " 1 " + filter, timeout);
  }
  // Whether the broker's log shows `text` within the timeout.
  bool logged(const std::string& text, std::chrono::milliseconds timeout) { return process_->wait_for_output(text, timeout); }
  std::string log() const { return process_->output(); }

 private:
  int port_;
  std::unique_ptr<ChildProcess> process_;
};

// The simulated events of the file, one JSON array per message of at most 100 events of one
// machine, each on its machine's topic.
inline std::vector<std::pair<std::string, std::string>> messages_of(const std::filesystem::path& events_file, std::size_t& events) {
  std::map<std::string, std::vector<std::string>> by_machine;
  std::ifstream in(events_file);
  events = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    by_machine[nlohmann::json::parse(line)["machine"].get<std::string>()].push_back(line);
    ++events;
  }
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [machine, lines] : by_machine)
    for (std::size_t i = 0; i < lines.size(); i += 100) {
      std::string payload = "[";
      for (std::size_t j = i; j < std::min(lines.size(), i + 100); ++j) payload += (j > i ? "," : "") + lines[j];
      out.emplace_back("oee/v1/" + machine + "/events", payload + "]");
    }
  return out;
}

// Three hours of the demo plant up to about now (`oee simulate --seed 1`, kept in DIR/published.jsonl)
// as messages_of them: the KPI window is the first two hours, the last one settles it (as `oee
// replay --as-of`). Needs OEE_BINARY and OEE_DEMO_PLANT_FILE (demo_crash_scenario.h).
struct DemoHours {
  TimeMs start = 0, window_end = 0;
  std::size_t events = 0;
  std::vector<std::pair<std::string, std::string>> messages;
};
inline DemoHours three_demo_hours(const std::filesystem::path& dir) {
  DemoHours d;
  const TimeMs now = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  d.start = floor_to(now - 3 * kMsPerHour, kMsPerMinute);
  d.window_end = d.start + 2 * kMsPerHour;
  const auto file = dir / "published.jsonl";
  run_oee("simulate --plant " + std::string(OEE_DEMO_PLANT_FILE) + " --seed 1 --from " + format_rfc3339(d.start) + " --to " +
          format_rfc3339(d.window_end + kMsPerHour) + " --out " + file.string());
  d.messages = messages_of(file, d.events);
  return d;
}

// A QoS 1 publisher that waits for the broker's acknowledgement of everything it sent.
class Publisher {
 public:
  Publisher(const std::string& broker, const std::string& client_id) {
    transport::MqttOptions o;
    o.brokers = {broker};
    o.client_id = client_id;
    transport::MqttHandlers h;
    h.on_published = [this](int, std::uint64_t) { ++acknowledged_; };
    client_ = std::make_unique<transport::MqttClient>(o, h);
    client_->start();
    EXPECT_TRUE(eventually([&] { return client_->connected(); }, std::chrono::seconds(10)));
  }
  void publish(const std::vector<std::pair<std::string, std::string>>& messages, std::size_t from, std::size_t to) {
    for (std::size_t i = from; i < to; ++i) {
      ASSERT_TRUE(client_->publish(messages[i].first, messages[i].second)) << i;
      ++sent_;
    }
    EXPECT_TRUE(eventually([&] { return acknowledged_.load() == sent_; }, std::chrono::seconds(60))) << acknowledged_ << " of " << sent_;
  }

 private:
  std::unique_ptr<transport::MqttClient> client_;
  std::atomic<std::size_t> acknowledged_{0};
  std::size_t sent_ = 0;
};

// The events a server stored, summed over its sources.
inline std::int64_t stored_events(std::uint16_t port, const std::string& auth) {
  const auto j = nlohmann::json::parse(http_get(port, "/api/v1/sources", auth).body, nullptr, false);
  std::int64_t n = 0;
  if (j.is_array())
    for (const auto& s : j) n += s.value("events", std::int64_t{0});
  return n;
}

}  // namespace oee::testing
