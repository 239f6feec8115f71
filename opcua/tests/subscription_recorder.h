#pragma once
// Test helpers: records data changes and client events arriving on the client's threads, and
// checks that counters arrive complete and in order.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <string_view>
#include <vector>

#include "oee/opcua/client.h"

namespace oee::opcua::testing {

// Collects data changes and client events from the client's threads.
struct Recorder {
  std::mutex mutex;
  std::condition_variable cv;
  std::map<uint32_t, std::vector<double>> values;  // by client handle
  std::map<uint32_t, std::vector<uint32_t>> sequence_numbers;
  std::vector<ClientEvent> events;
  std::vector<std::chrono::steady_clock::time_point> event_times;
  size_t total = 0;

  DataChangeHandler handler() {
    return [this](uint32_t subscription, uint32_t sequence_number, std::span<const DataChange> changes) {
      std::lock_guard lock(mutex);
      auto& seqs = sequence_numbers[subscription];
      if (seqs.empty() || seqs.back() != sequence_number) seqs.push_back(sequence_number);
      for (const auto& c : changes) {
        double v = -1;
        if (!c.value->value.values.empty()) {
          const auto& s = c.value->value.values.front();
          if (auto* u = std::get_if<uint32_t>(&s)) v = *u;
          if (auto* d = std::get_if<double>(&s)) v = *d;
        }
        values[c.client_handle].push_back(v);
        ++total;
      }
      cv.notify_all();
    };
  }
  ClientEventHandler event_handler() {
    return [this](const ClientEvent& e) {
      std::lock_guard lock(mutex);
      events.push_back(e);
      event_times.push_back(std::chrono::steady_clock::now());
      cv.notify_all();
    };
  }
  template <class P>
  bool wait_for(std::chrono::milliseconds timeout, P&& predicate) {
    std::unique_lock lock(mutex);
    return cv.wait_for(lock, timeout, [&] { return predicate(); });
  }
  bool has_event(ClientEvent::Kind kind) { return find_event(kind) >= 0; }
  int find_event(ClientEvent::Kind kind) {
    for (size_t i = 0; i < events.size(); ++i) {
      if (events[i].kind == kind) return static_cast<int>(i);
    }
    return -1;
  }
};

// Every item's values go up by exactly one from one notification to the next. allowed_repeats:
// how often a value may arrive a second time (node-opcua resends each item's last value after an
// ActivateSession, as OPC 10000-4 allows for TransferSubscriptions).
inline void expect_consecutive(const std::map<uint32_t, std::vector<double>>& values, size_t min_per_item,
                               size_t allowed_repeats = 0) {
  for (const auto& [handle, series] : values) {
    EXPECT_GE(series.size(), min_per_item) << "item " << handle;
    size_t repeats = 0;
    for (size_t i = 1; i < series.size(); ++i) {
      if (series[i] == series[i - 1] && ++repeats <= allowed_repeats) continue;
      if (series[i] != series[i - 1] + 1) {
        ADD_FAILURE() << "item " << handle << ": " << series[i - 1] << " then " << series[i];
        return;
      }
    }
  }
}

// Splits each series where it does not go up by one; returns the number of pieces per item.
inline std::map<uint32_t, size_t> count_runs(const std::map<uint32_t, std::vector<double>>& values) {
  std::map<uint32_t, size_t> runs;
  for (const auto& [handle, series] : values) {
    size_t n = series.empty() ? 0 : 1;
    for (size_t i = 1; i < series.size(); ++i) n += series[i] != series[i - 1] + 1;
    runs[handle] = n;
  }
  return runs;
}

inline MonitoredItemRequest item_for(NodeId id) {
  MonitoredItemRequest item;
  item.node_id = std::move(id);
  return item;
}

// Subscribes to Counter.0 every 100 ms with the recorder's handlers; true once its first value
// arrived (the channel carries data, so a fault injected now hits a running subscription).
inline bool subscribe_counter_and_wait(Client& client, Recorder& recorder) {
  SubscriptionSettings settings;
  settings.publishing_interval_ms = 100;
  const uint32_t sub = client.create_subscription(settings, recorder.handler());
  const MonitoredItemRequest item = item_for(NodeId(1, "Counter.0"));
  client.create_monitored_items(sub, std::span(&item, 1));
  return recorder.wait_for(std::chrono::seconds(10), [&] { return recorder.total >= 1; });
}

// Whether one read from the server holds exactly one whole MSG chunk (a proxy filter's target).
inline bool is_whole_msg_chunk(const char* data, size_t size) {
  if (size < 64 || std::string_view(data, 3) != "MSG") return false;
  uint32_t chunk_size = 0;
  std::memcpy(&chunk_size, data + 4, 4);
  return chunk_size == size;
}

inline std::vector<MonitoredItemRequest> counter_items(int count) {
  std::vector<MonitoredItemRequest> items;
  for (int i = 0; i < count; ++i) {
    MonitoredItemRequest item;
    item.node_id = NodeId(1, "Counter." + std::to_string(i));
    items.push_back(item);
  }
  return items;
}

}  // namespace oee::opcua::testing
