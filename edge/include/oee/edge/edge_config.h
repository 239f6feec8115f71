#pragma once
// The edge agent's configuration file (YAML, docs/edge.md): identity, queue, MQTT, plant and
// sources with their tags. Loading validates everything and names file and line on error.
#include <array>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "oee/core/time.h"

namespace oee::edge {

class EdgeConfigError : public std::runtime_error {
 public:
  EdgeConfigError(const std::string& file, int line, const std::string& message);
};

// What a tag means for its machine.
enum class SignalKind : std::uint8_t {
  state,    // raw value -> canonical state through the machine's state map
  counter,  // cumulative counter (total, good or reject), with rollover
  count,    // increments (good or reject): each new non-zero value is added
  product,  // the product from now on
  sample,   // a process value kept as history: `sample` events (GET /api/v1/tags?tag=sample.NAME)
  reason,   // the stop reason (e.g. PackML Admin.StopReason.ID): a `reason` event for the stop at that time
  run,           // the order id of the production run: a change ends the old run, starts the new one
  run_quantity,  // the planned quantity of the run the order id starts
};

enum class RegisterArea : std::uint8_t { holding, input, coil, discrete };
enum class ValueFormat : std::uint8_t { uint16, int16, uint32, int32, float32 };

struct TagConfig {
  int line = 0;  // in the config file, for messages
  std::string machine;
  SignalKind signal = SignalKind::state;
  std::string signal_name;  // counter: total|good|reject; count: good|reject; sample: free name
  std::int64_t rollover = 0;
  double scale = 1.0;
  // run: the product and planned quantity of its runs when the machine has no such tag ("", 0: none).
  std::string run_product;
  std::int64_t run_quantity = 0;
  // Modbus
  RegisterArea area = RegisterArea::holding;
  int address = 0;
  ValueFormat format = ValueFormat::uint16;
  bool byte_order_big = true;  // bytes within a register (Modbus standard: big)
  bool word_order_big = true;  // 32-bit values: the first register holds the high word
  // OPC UA
  std::string node;
  // "packml": `node` is a PackML object; the source reads its PackTags (packml_preset.h).
  std::string preset;
};

enum class SourceType : std::uint8_t { simulator, modbus, opcua };

struct SourceConfig {
  int line = 0;
  SourceType type = SourceType::simulator;
  // simulator
  std::uint64_t seed = 1;
  double speed = 1.0;                 // simulated seconds per wall-clock second
  std::optional<std::int64_t> start_ms;  // simulated start; default: now
  std::uint64_t skip = 0;             // events of the stream dropped before the queue's first (needs start_ms)
  std::optional<std::int64_t> until_ms;  // the simulated instant the stream ends at (needs start_ms)
  // modbus
  std::string host;
  int port = 502;
  int unit = 1;
  int poll_ms = 1000;
  int timeout_ms = 1000;
  // opcua
  std::string endpoint;
  int sampling_ms = 1000;
  // Message security (docs/opcua.md): a policy name, "None" or "best"; mode Sign or
  // SignAndEncrypt (empty: the best the policy offers); our certificate and key files.
  std::string security_policy = "None";
  std::string security_mode;
  bool allow_deprecated_policies = false;
  std::string certificate_file, private_key_file;
  std::string pki_dir;  // own/ certificate (created on first use) and server verification
  std::vector<TagConfig> tags;
  // The edge's heartbeat_s: a heartbeat event per machine this often while the source reads it.
  DurationMs heartbeat_ms = 10'000;
  // Where the open orders of its run tags outlive a restart (data_dir/runs, one file for all sources,
  // a line per machine; "" when it has no run tag): run_signal.h.
  std::string run_state_file;
};

// What the edge publishes: the JSON event contract (docs/mqtt.md) or Sparkplug B (docs/sparkplug.md).
enum class MqttFormat : std::uint8_t { json, sparkplug };

struct SparkplugConfig {
  std::string group;         // Sparkplug group id
  std::string node;          // edge node id; the devices are the machines
  std::string primary_host;  // host id whose STATE online the node waits for before its birth ("" = none)
};

struct MqttConfig {
  std::vector<std::string> brokers;
  std::string username;
  std::string password;  // read from password_file when given
  std::string client_id;  // default: "oee-edge-<id>"
  std::string tls_ca_file, tls_cert_file, tls_key_file;
  bool tls_insecure = false;
  int keepalive_s = 30;
  int reconnect_min_ms = 2000;
  int reconnect_max_ms = 60000;
  int max_events_per_message = 1000;
  int max_inflight_messages = 64;
  int status_interval_ms = 5000;
  // End-to-end acknowledgement (docs/mqtt.md): keep events until the server reports them committed;
  // send again what the broker acknowledged and the server still misses after resend_after_ms.
  bool commit_ack = true;  // Sparkplug: false (a Sparkplug host sends no commit reports)
  int resend_after_ms = 10000;
  MqttFormat format = MqttFormat::json;
  SparkplugConfig sparkplug;  // format sparkplug only
};

struct EdgeConfig {
  std::string file;  // the config file's path
  std::string id;
  std::string data_dir;
  std::uint64_t queue_max_bytes = 1ull << 30;
  std::uint32_t queue_group_commit_ms = 5;
  // The master key of encryption at rest, from queue.encryption_key_file, else OEE_ENCRYPTION_KEY
  // (`oee edge --encryption-key-file` overrides both); none: the queue is not encrypted.
  std::optional<std::array<unsigned char, 32>> encryption_key;
  int drain_timeout_ms = 5000;  // on a clean stop, how long to wait for the queue to empty
  // A heartbeat event per machine this often while its source reads it (a sign of life for the
  // plant's no_data_after_s); 0 = off. Copied into every SourceConfig.
  int heartbeat_s = 10;
  MqttConfig mqtt;
  std::string plant_file;  // resolved against the config file's folder
  std::vector<SourceConfig> sources;
};

// Throws EdgeConfigError ("edge.yaml:14: sources[1].tags[0].format: unknown format 'uint64' …").
// Tag machines are checked against the plant by the agent (it loads the plant).
EdgeConfig load_edge_config(const std::string& path);
EdgeConfig parse_edge_config(const std::string& yaml_text, const std::string& file_name_for_errors,
                             const std::string& base_dir = ".");

}  // namespace oee::edge
