#include "oee/server/mqtt_ingest.h"

#include <algorithm>
#include <fstream>

#include "oee/codec/commit_report.h"
#include "oee/codec/event_json.h"
#include "oee/server/mqtt_ingest_topics.h"

namespace oee::server {

namespace {
constexpr std::string_view kPrefix = "oee/v1/";
constexpr std::size_t kMaxReasonsPerLetter = 20;
constexpr std::size_t kMaxEdgeStatusBytes = 4096;
constexpr std::size_t kMaxEdges = 10000;
// A source gets at most one commit report per this interval from its events (edge statuses always
// get one): the reports follow the commits without a publish per commit under load.
constexpr auto kReportInterval = std::chrono::milliseconds(200);

transport::MqttOptions reporter_options(transport::MqttOptions o) {
  o.client_id += "-reports";
  o.clean_session = true;  // publishes only
  o.subscriptions.clear();
  o.will_topic.clear();
  return o;
}
}  // namespace

bool shared_subscription(const std::vector<std::string>& filters) {
  return std::any_of(filters.begin(), filters.end(), [](const std::string& f) { return f.starts_with("$share/"); });
}

std::string machine_of_events_topic(std::string_view topic) {
  if (!topic.starts_with(kPrefix)) return {};
  const std::string_view rest = topic.substr(kPrefix.size());
  if (!rest.ends_with("/events")) return {};
  const std::string_view path = rest.substr(0, rest.size() - 7);
  if (std::count(path.begin(), path.end(), '/') != 3) return {};
  std::size_t start = 0;
  for (int i = 0; i < 4; ++i) {  // four non-empty levels
    const std::size_t end = std::min(path.find('/', start), path.size());
    if (end == start) return {};
    start = end + 1;
  }
  return std::string(path);
}

std::vector<transport::MqttOptions> subscriber_sessions(transport::MqttOptions options) {
  if (options.subscriptions.empty()) options.subscriptions = {"oee/v1/#"};
  std::vector<std::string> shared, ordinary;
  for (auto& f : options.subscriptions) (shared_subscription({f}) ? shared : ordinary).push_back(std::move(f));
  if (shared.empty() || ordinary.empty()) {
    options.subscriptions = shared.empty() ? std::move(ordinary) : std::move(shared);
    options.clean_session = shared_subscription(options.subscriptions);
    return {std::move(options)};
  }
  transport::MqttOptions share = options;
  share.client_id += "-share";
  share.clean_session = true;
  share.subscriptions = std::move(shared);
  options.clean_session = false;
  options.subscriptions = std::move(ordinary);
  return {std::move(options), std::move(share)};
}

MqttIngest::MqttIngest(PlantService& service, transport::MqttOptions options) : service_(service) {
  if (!options.brokers.empty()) reporter_ = std::make_unique<transport::MqttClient>(reporter_options(options), transport::MqttHandlers{});
  for (auto& session : subscriber_sessions(std::move(options))) {
    subscribers_.push_back(std::make_unique<transport::AckingSubscriber>(
        std::move(session),
        [this](std::span<const transport::ReceivedMessage> batch) { handle_batch(batch); },
        codec::kMaxMessageBytes));
    subscribers_.back()->on_silence_reconnect([this] { ++service_.metrics().mqtt_silence_reconnects; });
    subscribers_.back()->on_session_reset([this] { ++service_.metrics().mqtt_session_resets; });
  }
}

MqttIngest::~MqttIngest() { stop(); }
void MqttIngest::start() {
  if (reporter_) reporter_->start();
  for (auto& s : subscribers_) s->start();
}
void MqttIngest::stop() {
  for (auto& s : subscribers_) s->stop();
  if (reporter_) reporter_->stop();
}
std::string MqttIngest::reload_tls() {
  std::string error;
  for (auto& s : subscribers_)
    if (error.empty()) error = s->reload_tls();
  if (error.empty() && reporter_) error = reporter_->reload_tls();
  return error;
}

bool MqttIngest::connected() const {
  return std::all_of(subscribers_.begin(), subscribers_.end(), [](const auto& s) { return s->connected(); });
}

MqttIngestStats MqttIngest::stats() const {
  std::lock_guard lock(mutex_);
  MqttIngestStats stats = stats_;
  for (const auto& s : subscribers_) stats.subscription_refusals += s->subscription_refusals();
  return stats;
}

std::map<std::string, std::string> MqttIngest::edge_statuses() const {
  std::lock_guard lock(mutex_);
  return edge_statuses_;
}

void MqttIngest::handle(std::string_view topic, std::string_view payload, std::size_t payload_bytes) {
  const transport::ReceivedMessage m{topic, payload, payload_bytes, false};
  handle_batch(std::span(&m, 1));
}

void MqttIngest::handle_batch(std::span<const transport::ReceivedMessage> messages) {
  std::vector<Event> valid;
  std::map<std::string, std::string> statuses;
  for (const auto& m : messages) take_message(m, valid, statuses);
  std::map<std::string, std::set<std::string>> committed;
  const Event* previous = nullptr;  // a message's events are one source's: one insert per run of them
  for (const Event& e : valid) {
    if (!e.has_identity() || (previous && e.src == previous->src && e.inc == previous->inc)) continue;
    committed[e.src].insert(e.inc);
    previous = &e;
  }
  if (!valid.empty()) {
    const IngestReport r = service_.ingest(std::move(valid), "mqtt");
    std::lock_guard lock(mutex_);
    stats_.events_inserted += r.inserted;
    stats_.duplicates += r.duplicates;
  }
  if (!committed.empty()) report_commits(committed, false);
  if (!statuses.empty()) {
    std::map<std::string, std::set<std::string>> asked;
    for (const auto& [edge, inc] : statuses) asked[edge].insert(inc);
    report_commits(asked, true);
  }
}

void MqttIngest::report_commits(const std::map<std::string, std::set<std::string>>& sources, bool force) {
  if (!reporter_) return;
  std::vector<std::pair<std::string, std::string>> due;
  {
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(mutex_);
    if (last_report_.size() > kMaxEdges) last_report_.clear();
    for (const auto& [src, incs] : sources)
      for (const auto& inc : incs) {
        auto& last = last_report_[{src, inc}];
        if (!force && now - last < kReportInterval) continue;
        last = now;
        due.emplace_back(src, inc);
      }
  }
  if (due.empty()) return;
  std::map<std::pair<std::string, std::string>, storage::SourceStats> stored;
  try {
    for (auto& st : service_.with_store([](storage::EventStore& s) { return s.sources(); }))
      stored[{st.src, st.incarnation}] = std::move(st);
  } catch (const std::exception&) {
    return;  // the store cannot say what it holds: no report rather than a wrong one
  }
  for (const auto& key : due) {
    const std::string topic = codec::commit_report_topic(key.first);
    if (topic.empty()) continue;
    const auto it = stored.find(key);
    const codec::CommitReport r = it == stored.end()
                                      ? codec::make_commit_report(key.first, key.second, -1, -1, {})
                                      : codec::make_commit_report(key.first, key.second, it->second.seq_min,
                                                                  it->second.seq_max, it->second.gaps);
    if (reporter_->publish(topic, codec::commit_report_json(r), 1, true)) {
      std::lock_guard lock(mutex_);
      ++stats_.commit_reports;
    }
  }
}

void MqttIngest::take_message(const transport::ReceivedMessage& m, std::vector<Event>& out,
                              std::map<std::string, std::string>& statuses) {
  const std::string_view topic = m.topic, payload = m.payload;
  {
    std::lock_guard lock(mutex_);
    ++stats_.messages;
  }
  const std::string topic_text(topic.substr(0, 1024));
  auto reject = [&](std::string_view what, const std::string& reason) {
    service_.dead_letter(topic_text, what, reason);
    std::lock_guard lock(mutex_);
    ++stats_.dead_letters;
  };
  // Commit reports: this server's or another's, for the edges.
  if (topic.starts_with("oee/v1/_edge/") && topic.ends_with("/committed")) return;
  // Edge status: kept in memory (the newest per edge), not stored as events; its incarnation gets a
  // commit report.
  if (topic.starts_with("oee/v1/_edge/") && topic.ends_with("/status")) {
    const std::string_view id = topic.substr(13, topic.size() - 13 - 7);
    if (id.empty() || id.find('/') != std::string_view::npos) return reject(payload, "edge status topic without a plain edge id");
    auto inc = codec::edge_status_incarnation(payload);
    // One the API cannot give as sent is dead-lettered too; it stays the edge's last (with its problem).
    // A status naming its incarnation was parsed as an object already.
    if (payload.size() > kMaxEdgeStatusBytes)
      reject(payload, "edge status of " + std::to_string(payload.size()) + " bytes exceeds the limit of " +
                          std::to_string(kMaxEdgeStatusBytes) + " bytes");
    else if (!inc && !codec::edge_status_is_object(payload))
      reject(payload, "edge status is not a JSON object");
    if (inc) statuses[std::string(id)] = std::move(*inc);
    std::lock_guard lock(mutex_);
    ++stats_.edge_status_messages;
    if (edge_statuses_.size() < kMaxEdges || edge_statuses_.count(std::string(id)))
      edge_statuses_[std::string(id)] = std::string(payload.substr(0, kMaxEdgeStatusBytes));
    return;
  }
  const std::string machine = machine_of_events_topic(topic);
  if (machine.empty()) return reject(payload, "topic is not oee/v1/<site>/<area>/<line>/<machine>/events");
  if (m.payload_bytes > codec::kMaxMessageBytes || payload.size() < m.payload_bytes)
    return reject(payload, "payload of " + std::to_string(m.payload_bytes) + " bytes exceeds the limit of " +
                               std::to_string(codec::kMaxMessageBytes) + " bytes");
  std::vector<Event> events;
  std::vector<codec::RejectedEvent> rejected;
  std::string error;
  if (!codec::parse_event_batch(payload, events, rejected, error, machine)) return reject(payload, error);
  if (!rejected.empty()) {
    std::string reasons = std::to_string(rejected.size()) + " invalid event(s): ";
    for (std::size_t i = 0; i < rejected.size() && i < kMaxReasonsPerLetter; ++i)
      reasons += (i ? "; " : "") + rejected[i].reason;
    if (rejected.size() > kMaxReasonsPerLetter) reasons += "; …";
    reject(payload, reasons);  // the valid events of the message are still taken
  }
  // Against the topic (an edge's broker ACL covers the topics of its own machines, so an event naming
  // another machine would bypass it) and the plant (unknown machine, unknown state…), here so that
  // the letter names the topic.
  for (auto& e : events) {
    if (e.machine != machine) {
      reject(codec::event_to_json(e), "event names machine '" + e.machine + "' on the events topic of machine '" +
                                          machine + "': an event may only name its topic's machine");
    } else if (std::string why = service_.validate(e); !why.empty()) {
      reject(codec::event_to_json(e), why);
    } else {
      out.push_back(std::move(e));
    }
  }
}

namespace {
bool read_first_line(const std::string& path, std::string& out) {
  std::ifstream f(path);
  if (!f) return false;
  std::getline(f, out);
  while (!out.empty() && (out.back() == '\r' || out.back() == ' ')) out.pop_back();
  return true;
}
}  // namespace

std::string check_mqtt_ingest_config(const MqttIngestConfig& config) {
  for (const auto& topic : config.topics)
    if (std::string why = check_ingest_topic_filter(topic); !why.empty()) return "--mqtt-topic '" + topic + "': " + why;
  for (const auto& url : config.brokers) {
    std::string error;
    const auto b = transport::parse_broker_url(url, error);
    if (!b) return "--mqtt '" + url + "': " + error;
  }
  for (const auto& [flag, path] : {std::pair{"--mqtt-ca-file", &config.ca_file}, std::pair{"--mqtt-cert-file", &config.cert_file},
                                   std::pair{"--mqtt-key-file", &config.key_file}})
    if (!path->empty() && !std::ifstream(*path)) return std::string(flag) + ": cannot read '" + *path + "'";
  if (config.cert_file.empty() != config.key_file.empty()) return "give both --mqtt-cert-file and --mqtt-key-file";
  try {  // loads the TLS files as the ingest will (a file that is no PEM certificate or key is refused here)
    transport::MqttOptions o;
    o.brokers = config.brokers;
    o.client_id = config.client_id;
    o.tls = {config.ca_file, config.cert_file, config.key_file, config.insecure};
    if (!o.brokers.empty()) transport::AckingSubscriber(o, [](auto) {});
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  // MQTT sends a password only after a user name (MQTT 3.1.1, 3.1.2.9): alone it would be dropped.
  if (!config.password_file.empty() && config.username.empty()) return "--mqtt-password-file needs --mqtt-username";
  std::string password;
  if (!config.password_file.empty() && !read_first_line(config.password_file, password))
    return "--mqtt-password-file: cannot read '" + config.password_file + "'";
  return {};
}

transport::MqttOptions mqtt_options_of(const MqttIngestConfig& config) {
  transport::MqttOptions o;
  o.brokers = config.brokers;
  o.client_id = config.client_id;
  o.subscriptions = config.topics;
  o.username = config.username;
  if (!config.password_file.empty()) read_first_line(config.password_file, o.password);
  o.reconnect_min = std::chrono::milliseconds(config.reconnect_min_ms);
  o.reconnect_max = std::chrono::milliseconds(config.reconnect_max_ms);
  o.silence_reconnect = std::chrono::seconds(config.silence_reconnect_s);
  o.keepalive_s = config.keepalive_s;
  o.tls = {config.ca_file, config.cert_file, config.key_file, config.insecure};
  return o;
}

std::unique_ptr<MqttIngest> start_mqtt_ingest(PlantService& service, const MqttIngestConfig& config) {
  auto ingest = std::make_unique<MqttIngest>(service, mqtt_options_of(config));
  ingest->start();
  return ingest;
}

}  // namespace oee::server
