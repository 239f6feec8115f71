#include "oee/edge/edge_config.h"
#include "oee/fileio/encryption_key.h"
#include "oee/plant/yaml_fields.h"

#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cmath>
#include <map>
#include <set>
#include <utility>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace oee::edge {

EdgeConfigError::EdgeConfigError(const std::string& file, int line, const std::string& message)
    : std::runtime_error(file + (line > 0 ? ":" + std::to_string(line) : std::string()) + ": " + message) {}

namespace {

class Reader : public plant::YamlFields {
 public:
  explicit Reader(std::string file)
      : YamlFields(std::move(file), [](const std::string& f, int line, const std::string& message) {
          throw EdgeConfigError(f, line, message);
        }) {}
};

std::string resolve_path(const std::string& base_dir, const std::string& p) {
  if (p.empty() || p.front() == '/') return p;
  return (std::filesystem::path(base_dir) / p).lexically_normal().string();
}

// A tag's fields as text with their line, whether they came from YAML or from a CSV row: one
// validation for both.
struct TagField {
  std::string value;
  int line = 0;
};
using TagFields = std::map<std::string, TagField, std::less<>>;

class TagParser {
 public:
  TagParser(std::string file, const TagFields& f, std::string what, int line)
      : file_(std::move(file)), f_(f), what_(std::move(what)), line_(line) {}

  [[noreturn]] void fail(std::string_view key, const std::string& message) const {
    const auto it = f_.find(key);
    throw EdgeConfigError(file_, it != f_.end() ? it->second.line : line_,
                          what_ + (key.empty() ? "" : "." + std::string(key)) + ": " + message);
  }
  const std::string* get(std::string_view key) const {
    const auto it = f_.find(key);
    return it == f_.end() || it->second.value.empty() ? nullptr : &it->second.value;
  }
  const std::string& require(std::string_view key) const {
    if (const std::string* v = get(key)) return *v;
    throw EdgeConfigError(file_, line_, what_ + ": missing '" + std::string(key) + "'");
  }
  double number(std::string_view key) const {
    const std::string& v = require(key);
    char* end = nullptr;
    const double d = std::strtod(v.c_str(), &end);
    if (*end != '\0' || !std::isfinite(d)) fail(key, "'" + v + "' is not a number");
    return d;
  }
  std::int64_t integer(std::string_view key, std::int64_t min, std::int64_t max) const {
    const std::string& v = require(key);
    std::int64_t out = 0;
    const auto r = std::from_chars(v.data(), v.data() + v.size(), out);
    if (r.ec != std::errc() || r.ptr != v.data() + v.size()) fail(key, "'" + v + "' is not an integer");
    if (out < min || out > max) fail(key, std::to_string(out) + " is out of range [" + std::to_string(min) + ", " + std::to_string(max) + "]");
    return out;
  }
  bool order_is_big(std::string_view key) const {
    const std::string& v = require(key);
    if (v == "big") return true;
    if (v == "little") return false;
    fail(key, "'" + v + "' is not 'big' or 'little'");
  }

  TagConfig parse(SourceType type) const {
    TagConfig tag;
    tag.line = line_;
    const std::initializer_list<const char*> modbus_keys = {"register", "format", "byte_order", "word_order", "scale",
                                                            "machine", "signal", "rollover", "product", "quantity"};
    const std::initializer_list<const char*> opcua_keys = {"node",     "scale",   "machine", "signal",
                                                           "rollover", "preset",  "product", "quantity"};
    const auto& allowed = type == SourceType::modbus ? modbus_keys : opcua_keys;
    for (const auto& [key, field] : f_) {
      bool ok = false;
      for (const char* a : allowed) ok = ok || key == a;
      if (!ok) {
        std::string list;
        for (const char* a : allowed) list += std::string(list.empty() ? "" : ", ") + a;
        fail(key, "unknown key (expected one of: " + list + ")");
      }
    }
    tag.machine = require("machine");
    if (get("preset")) return parse_preset(tag);
    parse_signal(tag);
    parse_run_defaults(tag);
    if (get("rollover")) {
      if (tag.signal != SignalKind::counter) fail("rollover", "only for counter signals");
      tag.rollover = integer("rollover", 1, INT64_MAX);
    }
    if (get("scale")) {
      tag.scale = number("scale");
      if (tag.scale == 0) fail("scale", "must not be 0");
      // A cumulative counter only grows: a negative scale would make every part a decrease.
      if (tag.signal == SignalKind::counter && tag.scale < 0) fail("scale", "must be positive for a counter");
      if (tag.rollover > 0 && std::llround(static_cast<double>(tag.rollover) * tag.scale) < 2)
        fail("scale", "makes the counter's rollover (in raw units) less than 2");
    }
    if (type == SourceType::modbus) {
      parse_register(tag);
      if (const std::string* f = get("format")) {
        if (*f == "uint16") tag.format = ValueFormat::uint16;
        else if (*f == "int16") tag.format = ValueFormat::int16;
        else if (*f == "uint32") tag.format = ValueFormat::uint32;
        else if (*f == "int32") tag.format = ValueFormat::int32;
        else if (*f == "float32") tag.format = ValueFormat::float32;
        else fail("format", "unknown format '" + *f + "' (uint16, int16, uint32, int32, float32)");
      }
      if ((tag.area == RegisterArea::coil || tag.area == RegisterArea::discrete) && tag.format != ValueFormat::uint16)
        fail("", "coils and discrete inputs are single bits (no format)");
      if (get("byte_order")) tag.byte_order_big = order_is_big("byte_order");
      if (get("word_order")) tag.word_order_big = order_is_big("word_order");
      const bool wide = tag.format == ValueFormat::uint32 || tag.format == ValueFormat::int32 || tag.format == ValueFormat::float32;
      if (wide && tag.address > 65534) fail("register", "a 32-bit value needs two registers");
    } else {
      tag.node = require("node");
    }
    return tag;
  }

 private:
  // `preset: packml` with `node` (the PackML object) and `machine`: the preset sets the signals.
  TagConfig parse_preset(TagConfig& tag) const {
    tag.preset = require("preset");
    if (tag.preset != "packml") fail("preset", "unknown preset '" + tag.preset + "' (packml)");
    for (const char* key : {"signal", "scale", "rollover", "product", "quantity"})
      if (get(key)) fail(key, "not with a preset (it sets the signals of its PackTags)");
    tag.node = require("node");
    return tag;
  }
  void parse_signal(TagConfig& tag) const {
    const std::string& s = require("signal");
    const auto colon = s.find(':');
    const std::string kind = s.substr(0, colon);
    const std::string name = colon == std::string::npos ? "" : s.substr(colon + 1);
    if (kind == "state" && colon == std::string::npos) {
      tag.signal = SignalKind::state;
    } else if (kind == "product" && colon == std::string::npos) {
      tag.signal = SignalKind::product;
    } else if (kind == "counter" && (name == "total" || name == "good" || name == "reject")) {
      tag.signal = SignalKind::counter;
    } else if (kind == "count" && (name == "good" || name == "reject")) {
      tag.signal = SignalKind::count;
    } else if (kind == "reason" && colon == std::string::npos) {
      tag.signal = SignalKind::reason;
    } else if ((kind == "run" || kind == "run_quantity") && colon == std::string::npos) {
      tag.signal = kind == "run" ? SignalKind::run : SignalKind::run_quantity;
    } else if (kind == "sample") {
      tag.signal = SignalKind::sample;
    } else {
      fail("signal", "unknown signal '" + s + "' (state, counter:total|good|reject, count:good|reject, product, reason, run, run_quantity, sample[:name])");
    }
    tag.signal_name = name;
  }
  // A run tag's fixed product and planned quantity (for a machine without such tags).
  void parse_run_defaults(TagConfig& tag) const {
    for (const char* key : {"product", "quantity"})
      if (get(key) && tag.signal != SignalKind::run) fail(key, "only for run tags (the product and quantity of its runs)");
    if (const std::string* p = get("product")) tag.run_product = *p;
    if (get("quantity")) tag.run_quantity = integer("quantity", 1, std::int64_t{1} << 40);
  }
  void parse_register(TagConfig& tag) const {
    const std::string& s = require("register");
    const auto colon = s.find(':');
    const std::string area = s.substr(0, colon);
    if (area == "holding") tag.area = RegisterArea::holding;
    else if (area == "input") tag.area = RegisterArea::input;
    else if (area == "coil") tag.area = RegisterArea::coil;
    else if (area == "discrete") tag.area = RegisterArea::discrete;
    else fail("register", "'" + s + "': expected holding:N, input:N, coil:N or discrete:N");
    if (colon == std::string::npos) fail("register", "'" + s + "': missing the address after ':'");
    const std::string addr = s.substr(colon + 1);
    int v = -1;
    const auto r = std::from_chars(addr.data(), addr.data() + addr.size(), v);
    if (addr.empty() || r.ec != std::errc() || r.ptr != addr.data() + addr.size() || v < 0 || v > 65535)
      fail("register", "bad address '" + addr + "' (0..65535)");
    tag.address = v;
  }

  std::string file_;
  const TagFields& f_;
  std::string what_;
  int line_;
};

TagConfig parse_tag(const Reader& r, const YAML::Node& n, const std::string& what, SourceType type,
                    const std::string& file) {
  r.expect_map(n, what);
  TagFields fields;
  for (const auto& kv : n) {
    const std::string key = kv.first.as<std::string>();
    fields[key] = TagField{r.string(kv.second, what + "." + key), Reader::line(kv.second)};
  }
  return TagParser(file, fields, what, Reader::line(n)).parse(type);
}

// A CSV tag table (a PLC tag export): a header naming the columns (the tag keys), then one tag per
// line. Read line by line: 100K tags cost no more memory than the tags themselves.
void parse_tags_csv(const std::string& path, SourceType type, std::vector<TagConfig>& out) {
  std::ifstream f(path);
  if (!f) throw EdgeConfigError(path, 0, "cannot read the tag table");
  std::string line;
  std::vector<std::string> columns;
  auto split = [](const std::string& l) {
    std::vector<std::string> cells;
    std::string cell;
    bool quoted = false;
    for (char ch : l) {
      if (ch == '"') quoted = !quoted;
      else if (ch == ',' && !quoted) cells.push_back(std::exchange(cell, {}));
      else if (ch != '\r') cell += ch;
    }
    cells.push_back(cell);
    for (auto& c : cells) {
      while (!c.empty() && c.front() == ' ') c.erase(0, 1);
      while (!c.empty() && c.back() == ' ') c.pop_back();
    }
    return cells;
  };
  int number = 0;
  TagFields fields;
  while (std::getline(f, line)) {
    ++number;
    if (line.empty() || line[0] == '#') continue;
    auto cells = split(line);
    if (columns.empty()) {
      columns = std::move(cells);
      continue;
    }
    if (cells.size() != columns.size())
      throw EdgeConfigError(path, number, std::to_string(cells.size()) + " cells, the header has " + std::to_string(columns.size()));
    fields.clear();
    for (std::size_t i = 0; i < cells.size(); ++i) fields[columns[i]] = TagField{std::move(cells[i]), number};
    out.push_back(TagParser(path, fields, "tag", number).parse(type));
  }
  if (columns.empty()) throw EdgeConfigError(path, 0, "empty tag table (expected a header line)");
}

// The OPC UA source's security keys; the client checks the rest (e.g. the certificate's contents).
void parse_opcua_security(const Reader& r, const YAML::Node& n, const std::string& what, const std::string& base_dir,
                          SourceConfig& s) {
  static const std::set<std::string> kPolicies = {"None", "best", "Basic256Sha256", "Aes128_Sha256_RsaOaep",
                                                  "Aes256_Sha256_RsaPss", "Basic128Rsa15", "Basic256"};
  if (n["security_policy"]) {
    s.security_policy = r.string(n["security_policy"], what + ".security_policy");
    if (!kPolicies.count(s.security_policy)) {
      r.fail(n["security_policy"], what + ".security_policy: unknown policy '" + s.security_policy +
                                       "' (None, best, Basic256Sha256, Aes128_Sha256_RsaOaep, Aes256_Sha256_RsaPss)");
    }
  }
  if (n["allow_deprecated_policies"]) s.allow_deprecated_policies = r.boolean(n["allow_deprecated_policies"], what + ".allow_deprecated_policies");
  if ((s.security_policy == "Basic128Rsa15" || s.security_policy == "Basic256") && !s.allow_deprecated_policies) {
    r.fail(n["security_policy"], what + ".security_policy: " + s.security_policy +
                                     " is deprecated; set allow_deprecated_policies: true to use it");
  }
  if (n["security_mode"]) {
    s.security_mode = r.string(n["security_mode"], what + ".security_mode");
    if (s.security_mode != "Sign" && s.security_mode != "SignAndEncrypt") {
      r.fail(n["security_mode"], what + ".security_mode: expected Sign or SignAndEncrypt");
    }
  }
  for (const auto& [key, target] : {std::pair{"certificate", &s.certificate_file}, std::pair{"private_key", &s.private_key_file}}) {
    if (!n[key]) continue;
    *target = resolve_path(base_dir, r.string(n[key], what + "." + key));
    if (::access(target->c_str(), R_OK) != 0) r.fail(n[key], what + "." + key + ": cannot read '" + *target + "'");
  }
  if (n["pki_dir"]) s.pki_dir = resolve_path(base_dir, r.string(n["pki_dir"], what + ".pki_dir"));
  if (s.certificate_file.empty() != s.private_key_file.empty()) {
    r.fail(n, what + ": 'certificate' and 'private_key' go together");
  }
  // Policy None signs and encrypts nothing and checks no certificate: these keys would be ignored.
  if (s.security_policy == "None") {
    for (const char* key : {"security_mode", "pki_dir", "certificate"})
      if (n[key]) r.fail(n[key], what + "." + key + ": has no effect with security_policy None (set best or a policy)");
  }
  if (s.security_policy != "None" && s.certificate_file.empty() && s.pki_dir.empty()) {
    r.fail(n, what + ": security_policy " + s.security_policy + " needs 'pki_dir' or 'certificate' and 'private_key'");
  }
}

// A machine's run tag needs its product and quantity from a tag of the same source or its own keys;
// a run_quantity tag needs the run tag it belongs to.
void check_run_tags(const std::vector<TagConfig>& tags, const std::string& what, const std::string& file) {
  std::map<std::string, const TagConfig*, std::less<>> run_of;
  std::set<std::string, std::less<>> with_product, with_quantity;
  for (const TagConfig& t : tags) {
    if (t.signal == SignalKind::product) with_product.insert(t.machine);
    if (t.signal == SignalKind::run_quantity) with_quantity.insert(t.machine);
    if (t.signal != SignalKind::run) continue;
    if (const auto [it, fresh] = run_of.emplace(t.machine, &t); !fresh)
      throw EdgeConfigError(file, t.line, what + ": a second run tag for " + t.machine + " (the first at line " +
                                              std::to_string(it->second->line) + ")");
  }
  for (const TagConfig& t : tags)
    if (t.signal == SignalKind::run_quantity && !run_of.count(t.machine))
      throw EdgeConfigError(file, t.line, what + ": run_quantity for " + t.machine + " without a run tag in this source");
  for (const auto& [machine, t] : run_of) {
    if (!with_product.count(machine) && t->run_product.empty())
      throw EdgeConfigError(file, t->line, what + ": the run tag of " + machine +
                                               " needs a 'product' (the machine has no product tag in this source)");
    if (!with_quantity.count(machine) && t->run_quantity == 0)
      throw EdgeConfigError(file, t->line, what + ": the run tag of " + machine +
                                               " needs a 'quantity' (the machine has no run_quantity tag in this source)");
  }
}

SourceConfig parse_source(const Reader& r, const YAML::Node& n, const std::string& what, const std::string& file,
                          const std::string& base_dir) {
  r.expect_map(n, what);
  SourceConfig s;
  s.line = Reader::line(n);
  if (!n["type"]) r.fail(n, what + ": missing 'type' (simulator, modbus or opcua)");
  const std::string type = r.string(n["type"], what + ".type");
  if (type == "simulator") {
    s.type = SourceType::simulator;
    r.only_keys(n, what, {"type", "seed", "speed", "start", "skip", "until"});
    if (n["seed"]) s.seed = static_cast<std::uint64_t>(r.integer(n["seed"], what + ".seed", 0, INT64_MAX));
    if (n["speed"]) {
      s.speed = r.number(n["speed"], what + ".speed");
      if (s.speed <= 0 || s.speed > 1e6) r.fail(n["speed"], what + ".speed: must be in (0, 1000000]");
    }
    if (n["start"]) s.start_ms = r.integer(n["start"], what + ".start (epoch ms)", 0, INT64_MAX / 4);
    if (n["skip"]) {  // only a fixed start makes the same stream again, so that skipping means something
      if (!s.start_ms) r.fail(n["skip"], what + ".skip: needs a fixed 'start'");
      s.skip = static_cast<std::uint64_t>(r.integer(n["skip"], what + ".skip", 0, INT64_MAX));
    }
    if (n["until"]) {  // a fixed stretch of simulated time: a demo or a test that must end
      if (!s.start_ms) r.fail(n["until"], what + ".until: needs a fixed 'start'");
      s.until_ms = r.integer(n["until"], what + ".until (epoch ms)", 0, INT64_MAX / 4);
      if (*s.until_ms <= *s.start_ms) r.fail(n["until"], what + ".until: must be after 'start'");
    }
  } else if (type == "modbus") {
    s.type = SourceType::modbus;
    r.only_keys(n, what, {"type", "address", "unit", "poll_ms", "timeout_ms", "tags", "tags_csv"});
    if (!n["address"]) r.fail(n, what + ": missing 'address' (host:port)");
    const std::string addr = r.string(n["address"], what + ".address");
    const auto colon = addr.rfind(':');
    s.host = addr.substr(0, colon);
    if (colon != std::string::npos) {
      const std::string port = addr.substr(colon + 1);
      char* end = nullptr;
      const long v = std::strtol(port.c_str(), &end, 10);
      if (port.empty() || *end != '\0' || v <= 0 || v > 65535) r.fail(n["address"], what + ".address: bad port in '" + addr + "'");
      s.port = static_cast<int>(v);
    }
    if (s.host.empty()) r.fail(n["address"], what + ".address: missing host in '" + addr + "'");
    if (n["unit"]) s.unit = static_cast<int>(r.integer(n["unit"], what + ".unit", 0, 255));
    if (n["poll_ms"]) s.poll_ms = static_cast<int>(r.integer(n["poll_ms"], what + ".poll_ms", 10, 3'600'000));
    if (n["timeout_ms"]) s.timeout_ms = static_cast<int>(r.integer(n["timeout_ms"], what + ".timeout_ms", 10, 60'000));
  } else if (type == "opcua") {
    s.type = SourceType::opcua;
    r.only_keys(n, what, {"type", "endpoint", "sampling_ms", "tags", "tags_csv", "security_policy", "security_mode",
                          "allow_deprecated_policies", "certificate", "private_key", "pki_dir"});
    if (!n["endpoint"]) r.fail(n, what + ": missing 'endpoint'");
    s.endpoint = r.string(n["endpoint"], what + ".endpoint");
    if (n["sampling_ms"]) s.sampling_ms = static_cast<int>(r.integer(n["sampling_ms"], what + ".sampling_ms", 0, 3'600'000));
    parse_opcua_security(r, n, what, base_dir, s);
  } else {
    r.fail(n["type"], what + ".type: unknown source type '" + type + "' (simulator, modbus or opcua)");
  }
  if (s.type != SourceType::simulator) {
    const YAML::Node tags = n["tags"];
    if (tags) {
      if (!tags.IsSequence()) r.fail(tags, what + ".tags: expected a list");
      s.tags.reserve(tags.size());
      for (std::size_t i = 0; i < tags.size(); ++i)
        s.tags.push_back(parse_tag(r, tags[i], what + ".tags[" + std::to_string(i) + "]", s.type, file));
    }
    if (n["tags_csv"]) parse_tags_csv(resolve_path(base_dir, r.string(n["tags_csv"], what + ".tags_csv")), s.type, s.tags);
    if (s.tags.empty()) r.fail(n, what + ": no tags (give 'tags' or 'tags_csv')");
    check_run_tags(s.tags, what, file);
  }
  return s;
}

std::string read_password_file(const Reader& r, const YAML::Node& at, const std::string& path) {
  std::ifstream f(path);
  if (!f) r.fail(at, "mqtt.password_file: cannot read '" + path + "'");
  std::string pw;
  std::getline(f, pw);
  while (!pw.empty() && (pw.back() == '\r' || pw.back() == ' ')) pw.pop_back();
  return pw;
}

// A Sparkplug id is one topic level: not empty, no '/', '+' or '#'.
std::string sparkplug_id(const Reader& r, const YAML::Node& n, const std::string& what) {
  const std::string id = r.string(n, what);
  if (id.empty() || id.find_first_of("/+#") != std::string::npos)
    r.fail(n, what + ": '" + id + "' is not a Sparkplug id (1 or more characters without '/', '+' or '#')");
  return id;
}

// mqtt.format and mqtt.sparkplug: {group, node, primary_host}.
void parse_mqtt_format(const Reader& r, const YAML::Node& m, MqttConfig& c) {
  if (m["format"]) {
    const std::string f = r.string(m["format"], "mqtt.format");
    if (f == "sparkplug") c.format = MqttFormat::sparkplug;
    else if (f != "json") r.fail(m["format"], "mqtt.format: unknown format '" + f + "' (json or sparkplug)");
  }
  const YAML::Node sp = m["sparkplug"];
  if (c.format == MqttFormat::json) {
    if (sp) r.fail(sp, "mqtt.sparkplug: only with mqtt.format: sparkplug");
    return;
  }
  if (!sp) r.fail(m, "mqtt.sparkplug: missing (format sparkplug needs {group: …, node: …})");
  r.expect_map(sp, "mqtt.sparkplug");
  r.only_keys(sp, "mqtt.sparkplug", {"group", "node", "primary_host"});
  if (!sp["group"]) r.fail(sp, "mqtt.sparkplug: missing 'group' (the Sparkplug group id)");
  if (!sp["node"]) r.fail(sp, "mqtt.sparkplug: missing 'node' (the edge node id)");
  c.sparkplug.group = sparkplug_id(r, sp["group"], "mqtt.sparkplug.group");
  c.sparkplug.node = sparkplug_id(r, sp["node"], "mqtt.sparkplug.node");
  if (sp["primary_host"]) c.sparkplug.primary_host = sparkplug_id(r, sp["primary_host"], "mqtt.sparkplug.primary_host");
  if (m["commit_ack"] && c.commit_ack)
    r.fail(m["commit_ack"], "mqtt.commit_ack: not with format sparkplug (a Sparkplug host sends no commit reports; "
                            "records leave the queue on the broker's acknowledgement)");
  c.commit_ack = false;
}

}  // namespace

// queue.encryption_key_file's key, else OEE_ENCRYPTION_KEY's; a bad one fails at its line.
std::optional<std::array<unsigned char, 32>> queue_key(const Reader& r, const YAML::Node& root, const std::string& base_dir) {
  const YAML::Node q = root["queue"];
  const bool named = q && q["encryption_key_file"];  // (a default YAML::Node is a defined null)
  try {
    return fileio::load_encryption_key(named ? resolve_path(base_dir, r.string(q["encryption_key_file"], "queue.encryption_key_file")) : "");
  } catch (const fileio::KeyError& e) {
    r.fail(named ? q["encryption_key_file"] : root, std::string("queue.encryption_key_file: ") + e.what());
  }
}

EdgeConfig parse_edge_config(const std::string& yaml_text, const std::string& file, const std::string& base_dir) {
  const Reader r(file);
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    throw EdgeConfigError(file, e.mark.is_null() ? 0 : e.mark.line + 1, "not valid YAML: " + e.msg);
  }
  if (!root.IsMap()) throw EdgeConfigError(file, 0, "expected a mapping at the top");
  r.only_keys(root, "edge config", {"id", "data_dir", "queue", "mqtt", "plant", "sources", "drain_timeout_ms",
                                          "heartbeat_s"});
  EdgeConfig c;
  c.file = file;
  if (!root["id"]) r.fail(root, "missing 'id' (the edge id: src of its events and MQTT client id)");
  c.id = r.string(root["id"], "id");
  if (c.id.empty() || c.id.size() > 128 || c.id.find_first_of("/#+ \t") != std::string::npos)
    r.fail(root["id"], "id: must be 1..128 characters without '/', '#', '+' or blanks");
  if (!root["data_dir"]) r.fail(root, "missing 'data_dir' (where the queue lives)");
  c.data_dir = resolve_path(base_dir, r.string(root["data_dir"], "data_dir"));
  if (const auto q = root["queue"]) {
    r.expect_map(q, "queue");
    r.only_keys(q, "queue", {"max_bytes", "group_commit_ms", "encryption_key_file"});
    if (q["max_bytes"]) c.queue_max_bytes = static_cast<std::uint64_t>(r.integer(q["max_bytes"], "queue.max_bytes", 1 << 20, INT64_MAX));
    if (q["group_commit_ms"]) c.queue_group_commit_ms = static_cast<std::uint32_t>(r.integer(q["group_commit_ms"], "queue.group_commit_ms", 0, 50));
  }
  c.encryption_key = queue_key(r, root, base_dir);
  if (root["drain_timeout_ms"])
    c.drain_timeout_ms = static_cast<int>(r.integer(root["drain_timeout_ms"], "drain_timeout_ms", 0, 3'600'000));
  if (root["heartbeat_s"]) c.heartbeat_s = static_cast<int>(r.integer(root["heartbeat_s"], "heartbeat_s", 0, 86'400));
  const auto m = root["mqtt"];
  if (!m) r.fail(root, "missing 'mqtt'");
  r.expect_map(m, "mqtt");
  r.only_keys(m, "mqtt", {"brokers", "username", "password", "password_file", "client_id", "tls", "keepalive_s",
                          "reconnect_min_ms", "reconnect_max_ms", "max_events_per_message", "max_inflight_messages",
                          "status_interval_ms", "commit_ack", "resend_after_ms", "format", "sparkplug"});
  const auto brokers = m["brokers"];
  if (!brokers || !brokers.IsSequence() || brokers.size() == 0) r.fail(m, "mqtt.brokers: expected a non-empty list of URLs");
  for (std::size_t i = 0; i < brokers.size(); ++i) {
    const std::string url = r.string(brokers[i], "mqtt.brokers[" + std::to_string(i) + "]");
    if (url.rfind("mqtt://", 0) != 0 && url.rfind("mqtts://", 0) != 0 && url.rfind("tcp://", 0) != 0)
      r.fail(brokers[i], "mqtt.brokers[" + std::to_string(i) + "]: '" + url + "' is not mqtt://host:port or mqtts://host:port");
    c.mqtt.brokers.push_back(url);
  }
  if (m["username"]) c.mqtt.username = r.string(m["username"], "mqtt.username");
  if (m["password"]) c.mqtt.password = r.string(m["password"], "mqtt.password");
  if (m["password"] && m["password_file"]) r.fail(m["password_file"], "mqtt.password_file: give it or mqtt.password, not both");
  if (m["password_file"])
    c.mqtt.password = read_password_file(r, m["password_file"], resolve_path(base_dir, r.string(m["password_file"], "mqtt.password_file")));
  // MQTT sends a password only after a user name (MQTT 3.1.1, 3.1.2.9): alone it would be dropped.
  if ((m["password"] || m["password_file"]) && !m["username"])
    r.fail(m["password"] ? m["password"] : m["password_file"], "mqtt.password: needs mqtt.username");
  c.mqtt.client_id = m["client_id"] ? r.string(m["client_id"], "mqtt.client_id") : "oee-edge-" + c.id;
  if (const auto t = m["tls"]) {
    r.expect_map(t, "mqtt.tls");
    r.only_keys(t, "mqtt.tls", {"ca_file", "cert_file", "key_file", "insecure"});
    if (t["ca_file"]) c.mqtt.tls_ca_file = resolve_path(base_dir, r.string(t["ca_file"], "mqtt.tls.ca_file"));
    if (t["cert_file"]) c.mqtt.tls_cert_file = resolve_path(base_dir, r.string(t["cert_file"], "mqtt.tls.cert_file"));
    if (t["key_file"]) c.mqtt.tls_key_file = resolve_path(base_dir, r.string(t["key_file"], "mqtt.tls.key_file"));
    if (t["insecure"]) c.mqtt.tls_insecure = r.boolean(t["insecure"], "mqtt.tls.insecure");
  }
  auto int_opt = [&](const char* key, int& out, int min, int max) {
    if (m[key]) out = static_cast<int>(r.integer(m[key], std::string("mqtt.") + key, min, max));
  };
  int_opt("keepalive_s", c.mqtt.keepalive_s, 5, 3600);
  int_opt("reconnect_min_ms", c.mqtt.reconnect_min_ms, 10, 600'000);
  int_opt("reconnect_max_ms", c.mqtt.reconnect_max_ms, 10, 3'600'000);
  int_opt("max_events_per_message", c.mqtt.max_events_per_message, 1, 100'000);
  int_opt("max_inflight_messages", c.mqtt.max_inflight_messages, 1, 10'000);
  int_opt("status_interval_ms", c.mqtt.status_interval_ms, 100, 3'600'000);
  int_opt("resend_after_ms", c.mqtt.resend_after_ms, 100, 3'600'000);
  if (m["commit_ack"]) c.mqtt.commit_ack = r.boolean(m["commit_ack"], "mqtt.commit_ack");
  if (c.mqtt.reconnect_max_ms < c.mqtt.reconnect_min_ms) r.fail(m, "mqtt.reconnect_max_ms: below reconnect_min_ms");
  parse_mqtt_format(r, m, c.mqtt);
  // Keys of a mode that is off are refused, not ignored.
  if (m["resend_after_ms"] && !c.mqtt.commit_ack)
    r.fail(m["resend_after_ms"], "mqtt.resend_after_ms: only with commit_ack (it resends what no commit report confirmed)");
  if (m["status_interval_ms"] && c.mqtt.format == MqttFormat::sparkplug)
    r.fail(m["status_interval_ms"], "mqtt.status_interval_ms: not with format sparkplug (its births and deaths say the node's state)");

  if (!root["plant"]) r.fail(root, "missing 'plant' (the plant file: machine paths and state maps)");
  c.plant_file = resolve_path(base_dir, r.string(root["plant"], "plant"));
  const auto sources = root["sources"];
  if (!sources || !sources.IsSequence() || sources.size() == 0) r.fail(root, "sources: expected a non-empty list");
  for (std::size_t i = 0; i < sources.size(); ++i)
    c.sources.push_back(parse_source(r, sources[i], "sources[" + std::to_string(i) + "]", file, base_dir));
  std::map<std::string, int, std::less<>> run_tag_line;  // a machine's orders come from one source
  for (SourceConfig& s : c.sources) {
    s.heartbeat_ms = static_cast<DurationMs>(c.heartbeat_s) * 1000;
    for (const TagConfig& t : s.tags) {
      if (t.signal != SignalKind::run) continue;
      s.run_state_file = c.data_dir + "/runs";
      if (const auto [it, fresh] = run_tag_line.emplace(t.machine, t.line); !fresh)
        throw EdgeConfigError(file, t.line, "a second run tag for " + t.machine + " (the first at line " +
                                                std::to_string(it->second) + "): a machine's orders come from one source");
    }
  }
  if (c.mqtt.format == MqttFormat::sparkplug)  // its metrics carry no run events (docs/sparkplug.md)
    for (const SourceConfig& s : c.sources)
      for (const TagConfig& t : s.tags)
        if (t.signal == SignalKind::run || t.signal == SignalKind::run_quantity)
          throw EdgeConfigError(file, t.line, "signal run: not with mqtt.format sparkplug (Sparkplug metrics carry no runs)");
  return c;
}

EdgeConfig load_edge_config(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw EdgeConfigError(path, 0, "cannot read the file");
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string dir = std::filesystem::path(path).parent_path().string();
  return parse_edge_config(ss.str(), path, dir.empty() ? "." : dir);
}

}  // namespace oee::edge
