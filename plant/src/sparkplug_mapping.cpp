#include "sparkplug_mapping.h"

#include <yaml-cpp/yaml.h>

namespace oee::plant {
namespace {

bool is_signal(const std::string& s) {
  if (s == "state" || s == "product" || s == "reason") return true;
  if (s == "counter:total" || s == "counter:good" || s == "counter:reject") return true;
  if (s == "count:good" || s == "count:reject") return true;
  return s.starts_with("sample:") && s.size() > 7;
}

// A Sparkplug topic element: non-empty, and none of the characters MQTT topics reserve.
std::string topic_id(const YamlFields& r, const YAML::Node& parent, const char* key, const std::string& what) {
  const YAML::Node n = parent[key];
  if (!n) r.fail(parent, what + ": missing '" + key + "'");
  std::string v = r.string(n, what + "." + key);
  if (v.empty() || v.find_first_of("/+#") != std::string::npos)
    r.fail(n, what + "." + key + ": '" + v + "' must be non-empty without '/', '+' or '#'");
  return v;
}

}  // namespace

SparkplugSource read_sparkplug_mapping(const YamlFields& r, const YAML::Node& n, const std::string& what) {
  r.expect_map(n, what);
  r.only_keys(n, what, {"group", "node", "device", "metrics"});
  SparkplugSource source;
  source.group = topic_id(r, n, "group", what);
  source.node = topic_id(r, n, "node", what);
  if (n["device"]) source.device = topic_id(r, n, "device", what);
  const YAML::Node metrics = n["metrics"];
  if (!metrics) r.fail(n, what + ": missing 'metrics' (metric name: signal)");
  r.expect_map(metrics, what + ".metrics");
  for (const auto& kv : metrics) {
    const std::string name = r.string(kv.first, what + ".metrics");
    const std::string signal = r.string(kv.second, what + ".metrics." + name);
    if (!is_signal(signal))
      r.fail(kv.second, what + ".metrics." + name + ": unknown signal '" + signal +
                            "' (state, counter:total|good|reject, count:good|reject, product, sample:NAME, reason)");
    source.metrics[name] = signal;
  }
  if (source.metrics.empty()) r.fail(metrics, what + ".metrics: maps no metric");
  return source;
}

}  // namespace oee::plant
