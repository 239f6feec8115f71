#include "oee/edge/edge_config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

using oee::edge::EdgeConfigError;
using oee::edge::parse_edge_config;

namespace {

const char* kValid = R"(id: line1-edge
data_dir: /var/lib/oee/edge
queue: {max_bytes: 1073741824}
mqtt: {brokers: ["mqtt://127.0.0.1:1883", "mqtt://127.0.0.1:1884"], username: edge, password: pw}
plant: plant.yaml
sources:
  - {type: simulator, seed: 1, speed: 1.0}
  - type: modbus
    address: 127.0.0.1:5020
    unit: 1
    poll_ms: 500
    tags:
      - {register: holding:0, format: uint16, machine: s1/a1/l1/filler, signal: state}
      - {register: holding:1, format: uint32, word_order: big, machine: s1/a1/l1/filler, signal: "counter:total", rollover: 4294967296}
      - {register: input:10, format: float32, byte_order: little, word_order: little, scale: 0.1, machine: s1/a1/l1/filler, signal: "sample:temperature"}
      - {register: coil:3, machine: s1/a1/l1/filler, signal: "count:reject"}
  - type: opcua
    endpoint: opc.tcp://127.0.0.1:4840
    sampling_ms: 1000
    tags:
      - {node: "ns=1;s=Filler.State", machine: s1/a1/l1/filler, signal: state}
)";

// The message of the error the text raises ("" when it loads).
std::string error_of(const std::string& text) {
  try {
    parse_edge_config(text, "edge.yaml", "/etc/oee");
  } catch (const EdgeConfigError& e) {
    return e.what();
  }
  return "";
}

std::string replace(std::string s, const std::string& from, const std::string& to) {
  const auto p = s.find(from);
  if (p != std::string::npos) s.replace(p, from.size(), to);
  return s;
}

}  // namespace

TEST(EdgeConfig, LoadsTheContractExample) {
  const auto c = parse_edge_config(kValid, "edge.yaml", "/etc/oee");
  EXPECT_EQ(c.id, "line1-edge");
  EXPECT_EQ(c.queue_max_bytes, 1073741824u);
  EXPECT_EQ(c.mqtt.brokers.size(), 2u);
  EXPECT_EQ(c.mqtt.client_id, "oee-edge-line1-edge");
  EXPECT_EQ(c.plant_file, "/etc/oee/plant.yaml");
  ASSERT_EQ(c.sources.size(), 3u);
  const auto& mb = c.sources[1];
  EXPECT_EQ(mb.host, "127.0.0.1");
  EXPECT_EQ(mb.port, 5020);
  ASSERT_EQ(mb.tags.size(), 4u);
  EXPECT_EQ(mb.tags[1].format, oee::edge::ValueFormat::uint32);
  EXPECT_EQ(mb.tags[1].rollover, 4294967296);
  EXPECT_EQ(mb.tags[1].signal, oee::edge::SignalKind::counter);
  EXPECT_EQ(mb.tags[1].signal_name, "total");
  EXPECT_EQ(mb.tags[1].line, 14);
  EXPECT_FALSE(mb.tags[2].byte_order_big);
  EXPECT_EQ(mb.tags[3].area, oee::edge::RegisterArea::coil);
  EXPECT_EQ(c.sources[2].tags[0].node, "ns=1;s=Filler.State");
}

TEST(EdgeConfig, ErrorsNameFileLineAndKey) {
  EXPECT_EQ(error_of(replace(kValid, "format: uint32", "format: uint64")),
            "edge.yaml:14: sources[1].tags[1].format: unknown format 'uint64' (uint16, int16, uint32, int32, float32)");
  EXPECT_NE(error_of(replace(kValid, "holding:0", "holding:x")).find("edge.yaml:13: sources[1].tags[0].register"), std::string::npos);
  EXPECT_NE(error_of(replace(kValid, "signal: state}", "signal: temperature}")).find("edge.yaml:13:"), std::string::npos);
  EXPECT_NE(error_of(replace(kValid, "type: simulator", "type: plc")).find("unknown source type 'plc'"), std::string::npos);
  EXPECT_NE(error_of(replace(kValid, "mqtt://127.0.0.1:1883", "http://x")).find("edge.yaml:4: mqtt.brokers[0]"), std::string::npos);
  EXPECT_NE(error_of(replace(kValid, "unit: 1", "unit: 999")).find("edge.yaml:10: sources[1].unit: 999 is out of range"), std::string::npos);
  EXPECT_NE(error_of(replace(kValid, "poll_ms: 500", "poll_ms: 500\n    colour: red")).find("unknown key 'colour'"), std::string::npos);
  EXPECT_NE(error_of(replace(kValid, "id: line1-edge", "id: a/b")).find("edge.yaml:1: id"), std::string::npos);
  EXPECT_NE(error_of("sources: [").find("not valid YAML"), std::string::npos);
  EXPECT_NE(error_of(replace(kValid, "rollover: 4294967296", "rollover: -1")).find("rollover"), std::string::npos);
  EXPECT_NE(error_of(replace(kValid, "rollover: 4294967296", "rollover: 4294967296, scale: -1")).find("must be positive for a counter"), std::string::npos);
  EXPECT_NE(error_of(replace(kValid, "rollover: 4294967296", "rollover: 4, scale: 0.1")).find("rollover (in raw units) less than 2"), std::string::npos);
  EXPECT_NE(error_of(replace(kValid, "{register: coil:3,", "{register: coil:3, format: float32,")).find("single bits"), std::string::npos);
}

TEST(EdgeConfig, HeartbeatSecondsDefaultTenReachEverySourceAndZeroTurnsThemOff) {
  const auto defaults = parse_edge_config(kValid, "edge.yaml", "/etc/oee");
  EXPECT_EQ(defaults.heartbeat_s, 10);
  for (const auto& s : defaults.sources) EXPECT_EQ(s.heartbeat_ms, 10'000);
  const auto set = parse_edge_config(replace(kValid, "plant: plant.yaml", "plant: plant.yaml\nheartbeat_s: 3"), "edge.yaml", "/etc/oee");
  for (const auto& s : set.sources) EXPECT_EQ(s.heartbeat_ms, 3'000);
  const auto off = parse_edge_config(replace(kValid, "plant: plant.yaml", "plant: plant.yaml\nheartbeat_s: 0"), "edge.yaml", "/etc/oee");
  for (const auto& s : off.sources) EXPECT_EQ(s.heartbeat_ms, 0);
  EXPECT_NE(error_of(replace(kValid, "plant: plant.yaml", "plant: plant.yaml\nheartbeat_s: -1")).find("edge.yaml:6: heartbeat_s"),
            std::string::npos)
      << error_of(replace(kValid, "plant: plant.yaml", "plant: plant.yaml\nheartbeat_s: -1"));
}

TEST(EdgeConfig, TagsFromACsvTableWithLineNumbers) {
  std::string dir_template = (std::filesystem::temp_directory_path() / "oee-edge-csv-XXXXXX").string();
  const std::string dir = ::mkdtemp(dir_template.data());
  {
    std::ofstream csv(dir + "/tags.csv");
    csv << "register,format,word_order,machine,signal,rollover\n"
        << "holding:0,uint16,,s1/a1/l1/filler,state,\n"
        << "# a comment\n"
        << "holding:1,uint32,little,s1/a1/l1/filler,counter:total,65536\n";
  }
  const std::string yaml = R"(id: e
data_dir: d
mqtt: {brokers: ["mqtt://127.0.0.1:1883"]}
plant: p.yaml
sources:
  - {type: modbus, address: "127.0.0.1:502", tags_csv: tags.csv}
)";
  const auto c = parse_edge_config(yaml, "edge.yaml", dir);
  ASSERT_EQ(c.sources[0].tags.size(), 2u);
  EXPECT_EQ(c.sources[0].tags[1].address, 1);
  EXPECT_FALSE(c.sources[0].tags[1].word_order_big);
  EXPECT_EQ(c.sources[0].tags[1].rollover, 65536);
  EXPECT_EQ(c.sources[0].tags[1].line, 4);
  { std::ofstream(dir + "/tags.csv", std::ios::app) << "holding:x,uint16,,s1/a1/l1/filler,state,\n"; }
  try {
    parse_edge_config(yaml, "edge.yaml", dir);
    ADD_FAILURE() << "bad register accepted";
  } catch (const EdgeConfigError& e) {
    EXPECT_EQ(std::string(e.what()), dir + "/tags.csv:5: tag.register: bad address 'x' (0..65535)");
  }
  std::filesystem::remove_all(dir);
}

TEST(EdgeConfig, EndToEndAcknowledgementIsOnByDefaultAndCanBeTuned) {
  const auto c = parse_edge_config(kValid, "edge.yaml", "/etc/oee");
  EXPECT_TRUE(c.mqtt.commit_ack);
  EXPECT_EQ(c.mqtt.resend_after_ms, 10000);
  const auto tuned = parse_edge_config(replace(kValid, "password: pw}", "password: pw, resend_after_ms: 2500}"), "edge.yaml", "/etc/oee");
  EXPECT_EQ(tuned.mqtt.resend_after_ms, 2500);
  EXPECT_FALSE(parse_edge_config(replace(kValid, "password: pw}", "password: pw, commit_ack: false}"), "edge.yaml", "/etc/oee").mqtt.commit_ack);
  // A key of a mode that is off is refused, not ignored.
  EXPECT_NE(error_of(replace(kValid, "password: pw}", "password: pw, commit_ack: false, resend_after_ms: 2500}"))
                .find("mqtt.resend_after_ms: only with commit_ack"), std::string::npos);
  EXPECT_NE(error_of(replace(kValid, "password: pw}", "password: pw, status_interval_ms: 500, format: sparkplug, sparkplug: {group: g, node: n}}"))
                .find("mqtt.status_interval_ms: not with format sparkplug"), std::string::npos);
  EXPECT_NE(error_of(replace(kValid, "username: edge, ", "")).find("edge.yaml:4: mqtt.password: needs mqtt.username"), std::string::npos);
  EXPECT_NE(error_of(replace(kValid, "password: pw}", "password: pw, password_file: /dev/null}")).find("not both"), std::string::npos);
  EXPECT_NE(error_of(replace(kValid, "password: pw}", "password: pw, resend_after_ms: 5}")).find("edge.yaml:4"), std::string::npos);
  EXPECT_NE(error_of(replace(kValid, "password: pw}", "password: pw, commit_ack: maybe}")).find("mqtt.commit_ack"),
            std::string::npos);
}

TEST(EdgeConfig, SparkplugFormatNeedsGroupAndNodeAndTakesNoCommitReports) {
  const auto json = parse_edge_config(kValid, "edge.yaml", "/etc/oee");
  EXPECT_EQ(json.mqtt.format, oee::edge::MqttFormat::json);  // the default
  const std::string sp = "password: pw, format: sparkplug,\n  sparkplug: {group: berlin, node: pet1-edge, primary_host: scada}}";
  const auto c = parse_edge_config(replace(kValid, "password: pw}", sp), "edge.yaml", "/etc/oee");
  EXPECT_EQ(c.mqtt.format, oee::edge::MqttFormat::sparkplug);
  EXPECT_EQ(c.mqtt.sparkplug.group, "berlin");
  EXPECT_EQ(c.mqtt.sparkplug.node, "pet1-edge");
  EXPECT_EQ(c.mqtt.sparkplug.primary_host, "scada");
  EXPECT_FALSE(c.mqtt.commit_ack);  // a Sparkplug host reports no commits: records leave on PUBACK
  const auto no_host = parse_edge_config(replace(kValid, "password: pw}", "password: pw, format: sparkplug, sparkplug: {group: g, node: n}}"),
                                         "edge.yaml", "/etc/oee");
  EXPECT_EQ(no_host.mqtt.sparkplug.primary_host, "");
  auto error = [&](const std::string& mqtt_tail) { return error_of(replace(kValid, "password: pw}", "password: pw, " + mqtt_tail)); };
  EXPECT_EQ(error("format: protobuf}"), "edge.yaml:4: mqtt.format: unknown format 'protobuf' (json or sparkplug)");
  EXPECT_EQ(error("format: sparkplug}"),
            "edge.yaml:4: mqtt.sparkplug: missing (format sparkplug needs {group: …, node: …})");
  EXPECT_EQ(error("format: sparkplug,\n  sparkplug: {node: n}}"), "edge.yaml:5: mqtt.sparkplug: missing 'group' (the Sparkplug group id)");
  EXPECT_EQ(error("format: sparkplug,\n  sparkplug: {group: g}}"), "edge.yaml:5: mqtt.sparkplug: missing 'node' (the edge node id)");
  EXPECT_EQ(error("format: sparkplug,\n  sparkplug: {group: g, node: \"a/b\"}}"),
            "edge.yaml:5: mqtt.sparkplug.node: 'a/b' is not a Sparkplug id (1 or more characters without '/', '+' or '#')");
  EXPECT_EQ(error("format: sparkplug,\n  sparkplug: {group: \"g+\", node: n}}"),
            "edge.yaml:5: mqtt.sparkplug.group: 'g+' is not a Sparkplug id (1 or more characters without '/', '+' or '#')");
  EXPECT_NE(error("format: sparkplug,\n  sparkplug: {group: g, node: n, device: d}}").find("edge.yaml:5: mqtt.sparkplug: unknown key 'device'"),
            std::string::npos);
  EXPECT_EQ(error("sparkplug: {group: g, node: n}}"), "edge.yaml:4: mqtt.sparkplug: only with mqtt.format: sparkplug");
  EXPECT_NE(error("commit_ack: true, format: sparkplug,\n  sparkplug: {group: g, node: n}}")
                .find("edge.yaml:4: mqtt.commit_ack: not with format sparkplug"),
            std::string::npos);
}

TEST(EdgeConfig, SimulatorSkipNeedsAFixedStart) {
  const auto c = parse_edge_config(replace(kValid, "speed: 1.0}", "speed: 1.0, start: 1000, skip: 42}"), "edge.yaml", "/etc/oee");
  EXPECT_EQ(c.sources[0].skip, 42u);
  EXPECT_EQ(parse_edge_config(kValid, "edge.yaml", "/etc/oee").sources[0].skip, 0u);
  EXPECT_NE(error_of(replace(kValid, "speed: 1.0}", "speed: 1.0, skip: 42}")).find("edge.yaml:7: sources[0].skip: needs a fixed 'start'"),
            std::string::npos)
      << error_of(replace(kValid, "speed: 1.0}", "speed: 1.0, skip: 42}"));
  EXPECT_NE(error_of(replace(kValid, "speed: 1.0}", "speed: 1.0, start: 1000, skip: -1}")).find("sources[0].skip"), std::string::npos);
}

TEST(EdgeConfig, SimulatorUntilNeedsAFixedStartBeforeIt) {
  const auto c = parse_edge_config(replace(kValid, "speed: 1.0}", "speed: 1.0, start: 1000, until: 5000}"), "edge.yaml", "/etc/oee");
  EXPECT_EQ(c.sources[0].until_ms, std::optional<std::int64_t>(5000));
  EXPECT_FALSE(parse_edge_config(kValid, "edge.yaml", "/etc/oee").sources[0].until_ms.has_value());
  EXPECT_NE(error_of(replace(kValid, "speed: 1.0}", "speed: 1.0, until: 5000}")).find("edge.yaml:7: sources[0].until: needs a fixed 'start'"),
            std::string::npos);
  EXPECT_NE(error_of(replace(kValid, "speed: 1.0}", "speed: 1.0, start: 5000, until: 5000}")).find("sources[0].until: must be after 'start'"),
            std::string::npos);
}

TEST(EdgeConfig, QueueEncryptionKeyFromAPrivateFileOrTheEnvironment) {
  const auto dir = std::filesystem::temp_directory_path() / ("oee-edge-key-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string hex = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
  std::ofstream(dir / "rest.key") << hex << "\n";
  std::filesystem::permissions(dir / "rest.key", std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  const std::string with_key = replace(kValid, "queue: {max_bytes: 1073741824}",
                                       "queue: {max_bytes: 1073741824, encryption_key_file: rest.key}");
  ::unsetenv("OEE_ENCRYPTION_KEY");
  const auto c = parse_edge_config(with_key, "edge.yaml", dir.string());  // relative to the config's directory
  ASSERT_TRUE(c.encryption_key.has_value());
  EXPECT_EQ((*c.encryption_key)[1], 0x11);
  EXPECT_FALSE(parse_edge_config(kValid, "edge.yaml", dir.string()).encryption_key.has_value());

  std::filesystem::permissions(dir / "rest.key", std::filesystem::perms::group_read, std::filesystem::perm_options::add);
  try {
    parse_edge_config(with_key, "edge.yaml", dir.string());
    ADD_FAILURE() << "a key file the group may read was accepted";
  } catch (const EdgeConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("edge.yaml:3: queue.encryption_key_file:"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("chmod 600"), std::string::npos) << e.what();
  }

  ::setenv("OEE_ENCRYPTION_KEY", hex.c_str(), 1);
  EXPECT_TRUE(parse_edge_config(kValid, "edge.yaml", dir.string()).encryption_key.has_value());
  ::unsetenv("OEE_ENCRYPTION_KEY");
  std::filesystem::remove_all(dir);
}

// Issue 15: `preset: packml` on an OPC UA tag names the PackML object; the preset sets the signals.
TEST(EdgeConfig, PackmlPresetTagNamesTheObjectAndRefusesSignals) {
  const std::string tag = R"({node: "ns=1;s=Filler.State", machine: s1/a1/l1/filler, signal: state})";
  const auto c = parse_edge_config(replace(kValid, tag, R"({preset: packml, node: "ns=1;i=5001", machine: s1/a1/l1/filler})"),
                                   "edge.yaml", "/etc/oee");
  const auto& t = c.sources[2].tags.at(0);
  EXPECT_EQ(t.preset, "packml");
  EXPECT_EQ(t.node, "ns=1;i=5001");
  EXPECT_EQ(t.machine, "s1/a1/l1/filler");
  EXPECT_EQ(error_of(replace(kValid, tag, R"({preset: omac, node: "ns=1;i=5001", machine: s1/a1/l1/filler})")),
            "edge.yaml:21: sources[2].tags[0].preset: unknown preset 'omac' (packml)");
  EXPECT_NE(error_of(replace(kValid, tag, R"({preset: packml, node: "ns=1;i=5001", machine: m, signal: state})"))
                .find("edge.yaml:21: sources[2].tags[0].signal: not with a preset"),
            std::string::npos);
  EXPECT_NE(error_of(replace(kValid, tag, R"({preset: packml, machine: m})")).find("node"), std::string::npos);
  // The stop reason is a signal of its own (what the preset gives Admin.StopReason.ID).
  const auto reason = parse_edge_config(replace(kValid, tag, R"({node: "ns=1;i=7016", machine: m, signal: reason})"),
                                        "edge.yaml", "/etc/oee");
  EXPECT_EQ(reason.sources[2].tags.at(0).signal, oee::edge::SignalKind::reason);
  EXPECT_NE(error_of(replace(kValid, tag, R"({node: "ns=1;i=7016", machine: m, signal: "reason:x"})")).find("unknown signal"),
            std::string::npos);
  EXPECT_NE(error_of(replace(kValid, "{register: coil:3,", "{preset: packml, register: coil:3,")).find("unknown key"),
            std::string::npos);
}

TEST(EdgeConfig, OpcUaSecurityKeysAreCheckedWithFileAndLine) {
  char dir[] = "/tmp/oee-edge-uasec-XXXXXX";
  ASSERT_TRUE(::mkdtemp(dir));
  const std::string base = dir;
  std::ofstream(base + "/client.der") << "x";
  std::ofstream(base + "/client.key") << "x";
  const std::string secured = replace(kValid, "    sampling_ms: 1000\n",
                                      "    sampling_ms: 1000\n    security_policy: best\n    security_mode: Sign\n"
                                      "    certificate: client.der\n    private_key: client.key\n");
  const auto c = parse_edge_config(secured, "edge.yaml", base);
  EXPECT_EQ(c.sources[2].security_policy, "best");
  EXPECT_EQ(c.sources[2].security_mode, "Sign");
  EXPECT_EQ(c.sources[2].certificate_file, base + "/client.der");
  EXPECT_EQ(c.sources[2].private_key_file, base + "/client.key");
  auto error_in = [&](const std::string& text) {
    try {
      parse_edge_config(text, "edge.yaml", base);
    } catch (const EdgeConfigError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(error_in(replace(secured, "security_policy: best", "security_policy: Rot13"))
                .find("edge.yaml:20: sources[2].security_policy: unknown policy 'Rot13'"), std::string::npos);
  EXPECT_NE(error_in(replace(secured, "security_policy: best", "security_policy: Basic256")).find("deprecated"), std::string::npos);
  EXPECT_EQ(error_in(replace(secured, "security_policy: best", "security_policy: Basic256\n    allow_deprecated_policies: true")), "");
  EXPECT_NE(error_in(replace(secured, "security_mode: Sign", "security_mode: Encrypt"))
                .find("edge.yaml:21: sources[2].security_mode: expected Sign or SignAndEncrypt"), std::string::npos);
  EXPECT_NE(error_in(replace(secured, "certificate: client.der", "certificate: missing.der"))
                .find("edge.yaml:22: sources[2].certificate: cannot read '" + base + "/missing.der'"), std::string::npos);
  EXPECT_NE(error_in(replace(secured, "    private_key: client.key\n", "")).find("'certificate' and 'private_key' go together"),
            std::string::npos);
  const std::string bare = replace(replace(secured, "    private_key: client.key\n", ""), "    certificate: client.der\n", "");
  EXPECT_NE(error_in(bare).find("needs 'pki_dir' or 'certificate' and 'private_key'"), std::string::npos);
  const auto with_pki = parse_edge_config(replace(bare, "security_mode: Sign\n", "security_mode: Sign\n    pki_dir: pki\n"),
                                          "edge.yaml", base);
  EXPECT_EQ(with_pki.sources[2].pki_dir, base + "/pki");
  // Without a policy (None) a mode, a PKI or a certificate would be ignored: each is refused.
  const std::string none = replace(secured, "    security_policy: best\n", "");
  EXPECT_NE(error_in(none).find("edge.yaml:20: sources[2].security_mode: has no effect with security_policy None"), std::string::npos);
  EXPECT_NE(error_in(replace(none, "    security_mode: Sign\n", "")).find("sources[2].certificate: has no effect"), std::string::npos);
  EXPECT_NE(error_in(replace(replace(bare, "    security_policy: best\n", ""), "security_mode: Sign\n", "pki_dir: pki\n"))
                .find("sources[2].pki_dir: has no effect"), std::string::npos);
  std::filesystem::remove_all(base);
}

TEST(EdgeConfig, RunTagsTakeTheirProductAndQuantityFromTagsOrTheirOwnKeys) {
  const std::string coil = R"(      - {register: coil:3, machine: s1/a1/l1/filler, signal: "count:reject"})";
  const std::string order = R"(      - {register: holding:20, format: uint32, machine: s1/a1/l1/filler, signal: run})";
  const std::string qty = R"(      - {register: holding:22, format: uint32, machine: s1/a1/l1/filler, signal: run_quantity})";
  const std::string product = R"(      - {register: holding:24, machine: s1/a1/l1/filler, signal: product})";
  auto with = [&](const std::string& tags) { return replace(kValid, coil, coil + "\n" + tags); };
  // Order, quantity and product tags: no fixed values needed.
  const auto c = parse_edge_config(with(order + "\n" + qty + "\n" + product), "edge.yaml", "/etc/oee");
  EXPECT_EQ(c.sources[1].tags.at(4).signal, oee::edge::SignalKind::run);
  EXPECT_EQ(c.sources[1].tags.at(5).signal, oee::edge::SignalKind::run_quantity);
  EXPECT_EQ(c.sources[1].run_state_file, "/var/lib/oee/edge/runs");  // the open orders outlive a restart
  EXPECT_EQ(c.sources[2].run_state_file, "");  // no run tag
  // The order tag alone, with the fixed product and quantity of its runs.
  const auto fixed = parse_edge_config(with(replace(order, "signal: run}", "signal: run, product: cap, quantity: 500}")),
                                       "edge.yaml", "/etc/oee");
  EXPECT_EQ(fixed.sources[1].tags.at(4).run_product, "cap");
  EXPECT_EQ(fixed.sources[1].tags.at(4).run_quantity, 500);
  // Errors name the line: a run tag without a product or a quantity, a quantity without a run, two runs.
  EXPECT_EQ(error_of(with(order + "\n" + qty)),
            "edge.yaml:17: sources[1]: the run tag of s1/a1/l1/filler needs a 'product' (the machine has no product tag in this source)");
  EXPECT_EQ(error_of(with(order + "\n" + product)),
            "edge.yaml:17: sources[1]: the run tag of s1/a1/l1/filler needs a 'quantity' (the machine has no run_quantity tag in this source)");
  EXPECT_EQ(error_of(with(qty)), "edge.yaml:17: sources[1]: run_quantity for s1/a1/l1/filler without a run tag in this source");
  EXPECT_EQ(error_of(with(order + "\n" + qty + "\n" + product + "\n" + replace(order, "holding:20", "holding:30"))),
            "edge.yaml:20: sources[1]: a second run tag for s1/a1/l1/filler (the first at line 17)");
  EXPECT_EQ(error_of(with(replace(order, "signal: run}", "signal: run, product: cap, quantity: 0}"))),
            "edge.yaml:17: sources[1].tags[4].quantity: 0 is out of range [1, 1099511627776]");
  EXPECT_EQ(error_of(with(replace(product, "signal: product}", "signal: product, quantity: 5}"))),
            "edge.yaml:17: sources[1].tags[4].quantity: only for run tags (the product and quantity of its runs)");
  // A machine's orders come from one source: the open orders are kept by machine, for all sources.
  const std::string opcua_order = R"(      - {node: "ns=1;s=Filler.Order", machine: s1/a1/l1/filler, signal: run, product: cap, quantity: 5})";
  const std::string both = with(order + "\n" + qty + "\n" + product) + opcua_order + "\n";
  EXPECT_EQ(error_of(both),
            "edge.yaml:25: a second run tag for s1/a1/l1/filler (the first at line 17): a machine's orders come from one source");
  const auto other_machine = parse_edge_config(replace(both, "machine: s1/a1/l1/filler, signal: run, product: cap",
                                                       "machine: s1/a1/l1/capper, signal: run, product: cap"),
                                               "edge.yaml", "/etc/oee");
  EXPECT_EQ(other_machine.sources[2].run_state_file, other_machine.sources[1].run_state_file);  // one file
  // Sparkplug metrics carry no runs: refused rather than dropped.
  EXPECT_EQ(error_of(replace(with(order + "\n" + qty + "\n" + product), "password: pw}",
                             "password: pw, format: sparkplug, sparkplug: {group: g, node: n}}")),
            "edge.yaml:17: signal run: not with mqtt.format sparkplug (Sparkplug metrics carry no runs)");
}
