// OPC UA source: one subscription per source (publishing interval = sampling_ms), one monitored
// item per tag; data changes carry the source timestamp of the PLC. The client (opcua/) recovers
// the session and subscription by itself after a connection loss; this source only has to get
// connected the first time.
#include <chrono>
#include <cstdio>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <variant>

#include "oee/edge/event_source.h"
#include "oee/edge/packml_preset.h"
#include "oee/edge/run_signal.h"
#include "oee/edge/tag_mapper.h"
#include "oee/opcua/browse_paths.h"
#include "oee/opcua/client.h"
#include "oee/opcua/pki.h"
#include "oee/opcua/node_id.h"
#include "heartbeat.h"
#include "source_thread.h"

namespace oee::edge {
namespace {

// A scalar as a number or a text, or nothing (arrays, structures…).
struct Reading {
  bool is_number = false;
  double number = 0;
  std::string text;
  bool ok = false;
};

Reading reading_of(const opcua::Variant& v) {
  Reading r;
  if (v.is_array || v.values.size() != 1) return r;
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, bool>) {
          r = {true, x ? 1.0 : 0.0, {}, true};
        } else if constexpr (std::is_arithmetic_v<T>) {
          r = {true, static_cast<double>(x), {}, true};
        } else if constexpr (std::is_same_v<T, std::string>) {
          r = {false, 0, x, true};
        } else if constexpr (std::is_same_v<T, opcua::LocalizedText>) {
          r = {false, 0, x.text, true};
        }
      },
      v.values.front());
  return r;
}

class OpcUaSource final : public EventSource {
 public:
  OpcUaSource(const SourceConfig& config, const PlantModel& plant, EventSink sink)
      : config_(config), plant_(plant), sink_(std::move(sink)), heartbeats_(config.heartbeat_ms, tag_machines(config)),
        runs_(config.run_state_file) {
    for (const auto& t : config_.tags) {
      const auto node = opcua::NodeId::parse(t.node);
      if (!node) throw std::invalid_argument("tag line " + std::to_string(t.line) + ": '" + t.node + "' is not an OPC UA node id (ns=1;s=Name)");
      if (plant.find_machine(t.machine) == nullptr) throw std::invalid_argument("opcua tag: unknown machine '" + t.machine + "'");
    }
    // A bad file or PKI fails the start, not each reconnect.
    try {
      if (!config_.pki_dir.empty() && config_.security_policy != "None") {
        pki_ = std::make_shared<opcua::Pki>(config_.pki_dir);
        const opcua::OwnCertificate& own =
            config_.certificate_file.empty()
                ? pki_->own_certificate(kApplicationUri)
                : pki_->use_own_certificate(config_.certificate_file, config_.private_key_file, kApplicationUri);
        credentials_ = opcua::ApplicationCredentials{own.certificate_der, own.private_key_pem};
      } else if (!config_.certificate_file.empty()) {
        credentials_ = opcua::load_credentials(config_.certificate_file, config_.private_key_file);
      }
    } catch (const opcua::Error& e) {
      throw std::invalid_argument(std::string("opcua source: ") + e.what());
    }
  }
  ~OpcUaSource() override { stop(); }

  void start() override {
    thread_.start([this] { run(); });
  }
  void stop() override {
    thread_.stop();
    if (client_) client_->disconnect();
  }
  std::string describe() const override {
    return "opcua " + config_.endpoint + " (" + std::to_string(config_.tags.size()) + " tags)";
  }

 private:
  void on_changes(std::span<const opcua::DataChange> changes) {
    std::lock_guard lock(mutex_);
    if (!handles_ready_) {  // the first values may come before create_monitored_items returned
      for (const auto& c : changes)
        if (c.value != nullptr) early_.emplace_back(c.client_handle, *c.value);
      return;
    }
    std::vector<Event> events;
    bool good = false;
    for (const auto& c : changes)
      if (c.value != nullptr) good = map_change(c.client_handle, *c.value, events) || good;
    runs_.take_events(events);  // after the whole publish: a start carries the product and quantity read with it
    // A good value is a successful read. A subscription reports changes only: a connected machine
    // whose values hold still sends none (docs/edge.md).
    if (good)
      heartbeats_.after_read(std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch()).count(),
                             events);
    if (!events.empty()) sink_(events);
    runs_.after_sink();
  }

  // Under mutex_. Whether the value was a good reading of a known tag.
  bool map_change(std::uint32_t handle, const opcua::DataValue& v, std::vector<Event>& events) {
    const TimeMs now = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
    const auto it = tag_of_handle_.find(handle);
    if (it == tag_of_handle_.end() || !v.has_value || v.status.is_bad()) return false;
    {
      const TimeMs ts = v.source_timestamp.ticks != 0   ? v.source_timestamp.to_unix_ms()
                        : v.server_timestamp.ticks != 0 ? v.server_timestamp.to_unix_ms()
                                                        : now;
      const Reading r = reading_of(v.value);
      if (!r.ok) return false;
      Event e;
      TagMapper& m = mappers_[it->second];
      if (r.is_number ? m.on_number(r.number, ts, e) : m.on_text(r.text, ts, e)) events.push_back(std::move(e));
    }
    return true;
  }

  // The tags to subscribe: the configured ones, with each preset tag replaced by the PackTags
  // found below its PackML object (browsed once, on the first connection).
  void expand_tags() {
    tags_.clear();  // a browse that failed half-way starts again
    for (const auto& t : config_.tags) {
      if (t.preset.empty()) {
        tags_.push_back(t);
        continue;
      }
      const auto root = *opcua::NodeId::parse(t.node);
      std::vector<std::string> paths;
      for (const auto& p : kPackTagSignals) paths.emplace_back(p.path);
      const auto found = opcua::resolve_browse_paths(*client_, root, paths);
      if (!found.front())
        throw std::runtime_error("tag line " + std::to_string(t.line) + ": " + t.node +
                                 " is not a PackML object (no Status.StateCurrent below it)");
      for (std::size_t i = 0; i < found.size(); ++i) {
        if (found[i]) {
          tags_.push_back(packtag_tag(t, kPackTagSignals[i], found[i]->to_string()));
        } else {
          std::fprintf(stderr, "edge: %s: %s has no %s; not read\n", describe().c_str(), t.node.c_str(),
                       std::string(kPackTagSignals[i].path).c_str());
        }
      }
    }
    for (const auto& t : tags_) {
      nodes_.push_back(*opcua::NodeId::parse(t.node));
      mappers_.emplace_back(t, *plant_.find_machine(t.machine));
      runs_.add(t);
    }
    for (auto& m : mappers_) m.attach_run(runs_.for_tag(m.tag()));
    runs_.load();
  }

  void run() {
    opcua::ClientConfig cc;
    cc.endpoint_url = config_.endpoint;
    cc.application_name = "oee edge";
    cc.security_policy = config_.security_policy;
    if (!config_.security_mode.empty()) cc.security_mode = opcua::parse_security_mode(config_.security_mode);
    cc.allow_deprecated_policies = config_.allow_deprecated_policies;
    cc.application_uri = kApplicationUri;
    cc.credentials = credentials_;
    if (pki_) {
      cc.verify_server_certificate = [pki = pki_, url = config_.endpoint](std::string_view der,
                                                                          const opcua::EndpointDescription& e) {
        pki->verify_server_certificate(der, e, url);
      };
    }
    client_ = std::make_unique<opcua::Client>(cc);
    client_->set_event_handler([this](const opcua::ClientEvent& e) {
      std::fprintf(stderr, "edge: %s: %s %s\n", describe().c_str(), opcua::client_event_kind_name(e.kind), e.detail.c_str());
    });
    auto backoff = std::chrono::milliseconds(500);
    while (thread_.running()) {
      try {
        client_->connect();
        if (mappers_.empty()) expand_tags();
        opcua::SubscriptionSettings s;
        s.publishing_interval_ms = config_.sampling_ms > 0 ? config_.sampling_ms : 100;
        const auto sub = client_->create_subscription(
            s, [this](std::uint32_t, std::uint32_t, std::span<const opcua::DataChange> changes) { on_changes(changes); });
        std::vector<opcua::MonitoredItemRequest> items(nodes_.size());
        for (std::size_t i = 0; i < nodes_.size(); ++i) {
          items[i].node_id = nodes_[i];
          items[i].sampling_interval_ms = config_.sampling_ms;
        }
        const auto results = client_->create_monitored_items(sub, items);
        {
          std::lock_guard lock(mutex_);
          for (std::size_t i = 0; i < results.size(); ++i) tag_of_handle_[results[i].client_handle] = i;
          handles_ready_ = true;
          std::vector<Event> events;
          for (const auto& [handle, value] : early_) map_change(handle, value, events);
          runs_.take_events(events);
          early_.clear();
          if (!events.empty()) sink_(events);
          runs_.after_sink();
        }
        for (std::size_t i = 0; i < results.size(); ++i)
          if (results[i].status.is_bad())
            std::fprintf(stderr, "edge: %s: tag %s refused (status 0x%08x)\n", describe().c_str(),
                         tags_[i].node.c_str(), results[i].status.code);
        std::fprintf(stderr, "edge: %s: subscribed\n", describe().c_str());
        break;  // from here the client recovers by itself
      } catch (const std::exception& e) {
        std::fprintf(stderr, "edge: %s: %s; retrying in %lld ms\n", describe().c_str(), e.what(),
                     static_cast<long long>(backoff.count()));
        client_->disconnect();
        const auto until = std::chrono::steady_clock::now() + backoff;
        while (thread_.running() && std::chrono::steady_clock::now() < until)
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
        backoff = std::min(backoff * 2, std::chrono::milliseconds(30000));
      }
    }
  }

  const SourceConfig& config_;
  const PlantModel& plant_;
  EventSink sink_;
  std::deque<TagConfig> tags_;  // what is subscribed; a deque, as the mappers point into it
  std::vector<opcua::NodeId> nodes_;
  std::mutex mutex_;
  Heartbeats heartbeats_;  // under mutex_
  std::vector<TagMapper> mappers_;  // per tag, in config order
  RunSignals runs_;  // under mutex_; the mappers point into it
  std::unordered_map<std::uint32_t, std::size_t> tag_of_handle_;  // monitored item client handle -> tag
  bool handles_ready_ = false;
  std::vector<std::pair<std::uint32_t, opcua::DataValue>> early_;
  std::unique_ptr<opcua::Client> client_;
  static constexpr const char* kApplicationUri = "urn:oee:opcua:client";
  opcua::ApplicationCredentials credentials_;
  std::shared_ptr<opcua::Pki> pki_;
  SourceThread thread_;
};

}  // namespace

std::unique_ptr<EventSource> make_opcua_source(const SourceConfig& config, const PlantModel& plant, EventSink sink) {
  return std::make_unique<OpcUaSource>(config, plant, std::move(sink));
}

}  // namespace oee::edge
