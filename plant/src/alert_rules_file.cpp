#include "alert_rules_file.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace oee::plant {

namespace {

DurationMs positive_seconds(const YamlFields& r, const YAML::Node& n, const std::string& what) {
  const double s = r.number(n, what);
  if (s <= 0 || s > 1e7) r.fail(n, what + ": must be > 0 seconds (at most 10^7)");
  return std::llround(s * 1000);
}

// Keys a kind does not use would not take effect: they are errors, not silently ignored.
void check_keys_of_kind(const YamlFields& r, const YAML::Node& n, const std::string& what, AlertKind kind) {
  const bool oee = kind == AlertKind::oee_below_target;
  const bool edge = kind == AlertKind::edge_queue_growing;
  auto refuse = [&](const char* key, bool used) {
    if (n[key] && !used)
      r.fail(n[key], what + "." + key + ": has no effect for kind " + std::string(alert_kind_name(kind)));
  };
  refuse("for_s", !oee);
  refuse("target", oee);
  refuse("after_shift_start_s", oee);
  refuse("node", !edge);
  refuse("edge", edge);
  if (!oee && !n["for_s"]) r.fail(n, what + ": missing 'for_s' (seconds the condition must last)");
}

void read_oee_rule(const YamlFields& r, const YAML::Node& n, const std::string& what, const PlantModel& plant,
                   AlertRule& rule) {
  if (rule.node.empty()) r.fail(n, what + ": missing 'node' (the line or machine whose shift OEE is watched)");
  if (const auto t = n["target"]) {
    rule.target = r.number(t, what + ".target");
    if (rule.target <= 0 || rule.target > 1) r.fail(t, what + ".target: must be a fraction in (0, 1]");
  } else if (const MachineSpec* m = plant.find_machine(rule.node); m && m->targets.oee > 0) {
    rule.target = m->targets.oee;
  } else {
    r.fail(n, what + ": missing 'target' (only a machine with targets.oee has one of its own)");
  }
  rule.at_minute = 60;
  if (const auto a = n["after_shift_start_s"]) {
    // The rule is evaluated at a minute of the shift: a value between whole minutes would be cut.
    const std::int64_t s = r.integer(a, what + ".after_shift_start_s", 0, 24 * 3600);
    if (s % 60 != 0) r.fail(a, what + ".after_shift_start_s: must be whole minutes (a multiple of 60)");
    rule.at_minute = static_cast<int>(s / 60);
  }
}

AlertRule read_rule(const YamlFields& r, const YAML::Node& n, const std::string& what, const PlantModel& plant) {
  r.expect_map(n, what);
  r.only_keys(n, what, {"name", "kind", "node", "edge", "for_s", "target", "after_shift_start_s"});
  if (!n["name"] || !n["kind"]) r.fail(n, what + ": needs 'name' and 'kind'");
  AlertRule rule;
  rule.name = r.string(n["name"], what + ".name");
  if (rule.name.empty() || rule.name.size() > 64 || rule.name.find('/') != std::string::npos)
    r.fail(n["name"], what + ".name: '" + rule.name + "' must be 1 to 64 characters without '/'");
  const std::string kind = r.string(n["kind"], what + ".kind");
  const auto parsed = parse_alert_kind(kind);
  if (!parsed)
    r.fail(n["kind"], what + ".kind: '" + kind + "' is not a kind (machine_down, oee_below_target, no_data, edge_queue_growing)");
  rule.kind = *parsed;
  check_keys_of_kind(r, n, what, rule.kind);
  if (const auto v = n["node"]) {
    rule.node = r.string(v, what + ".node");
    if (!plant.has_node(rule.node)) r.fail(v, what + ".node: no node '" + rule.node + "' in the plant");
  }
  if (const auto v = n["edge"]) rule.node = r.string(v, what + ".edge");
  if (const auto v = n["for_s"]) rule.for_ms = positive_seconds(r, v, what + ".for_s");
  if (rule.kind == AlertKind::oee_below_target) read_oee_rule(r, n, what, plant, rule);
  return rule;
}

// An inline value, or the first line of a file (relative to the plant file's directory).
std::string secret(const YamlFields& r, const YAML::Node& n, const std::string& what, const char* key) {
  const std::string file_key = std::string(key) + "_file";
  if (n[key] && n[file_key]) r.fail(n, what + ": give '" + key + "' or '" + file_key + "', not both");
  if (const auto v = n[key]) return r.string(v, what + "." + key);
  const auto f = n[file_key];
  if (!f) return "";
  std::filesystem::path path = r.string(f, what + "." + file_key);
  if (path.is_relative()) path = std::filesystem::path(r.file()).parent_path() / path;
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line) || line.empty())
    r.fail(f, what + "." + file_key + ": cannot read a secret from '" + path.string() + "'");
  return line;
}

// A CA file (PEM), relative to the plant file's directory; it must exist.
std::string ca_file(const YamlFields& r, const YAML::Node& n, const std::string& what) {
  std::filesystem::path path = r.string(n, what);
  if (path.is_relative()) path = std::filesystem::path(r.file()).parent_path() / path;
  if (!std::filesystem::is_regular_file(path)) r.fail(n, what + ": no file '" + path.string() + "'");
  return path.string();
}

WebhookTarget read_webhook(const YamlFields& r, const YAML::Node& n, const std::string& what) {
  r.expect_map(n, what);
  r.only_keys(n, what, {"url", "secret", "secret_file", "max_attempts", "ca_file"});
  if (!n["url"]) r.fail(n, what + ": missing 'url'");
  WebhookTarget w;
  w.url = r.string(n["url"], what + ".url");
  const bool https = w.url.rfind("https://", 0) == 0;
  if (!(https && w.url.size() > 8) && !(w.url.rfind("http://", 0) == 0 && w.url.size() > 7))
    r.fail(n["url"], what + ".url: must be an http:// or https:// URL");
  if (const auto v = n["ca_file"]) {
    if (!https) r.fail(v, what + ".ca_file: has no effect on an http:// URL");
    w.ca_file = ca_file(r, v, what + ".ca_file");
  }
  w.secret = secret(r, n, what, "secret");
  if (const auto v = n["max_attempts"]) w.max_attempts = static_cast<int>(r.integer(v, what + ".max_attempts", 1, 20));
  return w;
}

EmailTarget read_email(const YamlFields& r, const YAML::Node& n, const std::string& what) {
  r.expect_map(n, what);
  r.only_keys(n, what, {"smtp_host", "smtp_port", "from", "to", "username", "password", "password_file", "min_interval_s",
                        "starttls", "ca_file"});
  if (!n["smtp_host"] || !n["from"] || !n["to"]) r.fail(n, what + ": needs 'smtp_host', 'from' and 'to'");
  EmailTarget e;
  e.smtp_host = r.string(n["smtp_host"], what + ".smtp_host");
  if (const auto v = n["smtp_port"]) e.smtp_port = static_cast<int>(r.integer(v, what + ".smtp_port", 1, 65535));
  e.from = r.string(n["from"], what + ".from");
  r.expect_list(n["to"], what + ".to");
  for (const auto& t : n["to"]) e.to.push_back(r.string(t, what + ".to"));
  if (e.to.empty()) r.fail(n["to"], what + ".to: must not be empty");
  if (const auto v = n["username"]) e.username = r.string(v, what + ".username");
  e.password = secret(r, n, what, "password");
  if (!e.password.empty() && e.username.empty()) r.fail(n, what + ": a password needs a 'username'");
  if (const auto v = n["starttls"]) {
    const std::string mode = r.string(v, what + ".starttls");
    if (mode == "auto") e.starttls = EmailTarget::StartTls::auto_;
    else if (mode == "required") e.starttls = EmailTarget::StartTls::required;
    else if (mode == "never") e.starttls = EmailTarget::StartTls::never;
    else r.fail(v, what + ".starttls: '" + mode + "' is not auto, required or never");
  }
  if (e.starttls == EmailTarget::StartTls::never && !e.username.empty())
    r.fail(n, what + ": a 'username' with starttls: never would send the password in clear text");
  if (const auto v = n["ca_file"]) {
    if (e.starttls == EmailTarget::StartTls::never) r.fail(v, what + ".ca_file: has no effect with starttls: never");
    e.ca_file = ca_file(r, v, what + ".ca_file");
  }
  if (const auto v = n["min_interval_s"]) e.min_interval_ms = positive_seconds(r, v, what + ".min_interval_s");
  return e;
}

}  // namespace

void read_alerts(const YamlFields& r, const YAML::Node& alerts, const PlantModel& plant, std::vector<AlertRule>& rules,
                 AlertNotifications& notifications) {
  r.expect_map(alerts, "alerts");
  r.only_keys(alerts, "alerts", {"rules", "webhooks", "email"});
  if (const auto list = alerts["rules"]) {
    r.expect_list(list, "alerts.rules");
    std::set<std::string> names;
    for (std::size_t i = 0; i < list.size(); ++i) {
      const std::string what = "alerts.rules[" + std::to_string(i) + "]";
      rules.push_back(read_rule(r, list[i], what, plant));
      if (!names.insert(rules.back().name).second)
        r.fail(list[i]["name"], what + ".name: duplicate rule '" + rules.back().name + "'");
    }
  }
  if (const auto list = alerts["webhooks"]) {
    r.expect_list(list, "alerts.webhooks");
    for (std::size_t i = 0; i < list.size(); ++i)
      notifications.webhooks.push_back(read_webhook(r, list[i], "alerts.webhooks[" + std::to_string(i) + "]"));
  }
  if (const auto list = alerts["email"]) {
    r.expect_list(list, "alerts.email");
    for (std::size_t i = 0; i < list.size(); ++i)
      notifications.emails.push_back(read_email(r, list[i], "alerts.email[" + std::to_string(i) + "]"));
  }
  if (rules.empty() && !(notifications.webhooks.empty() && notifications.emails.empty()))
    r.fail(alerts, "alerts: webhooks or email without rules would never send anything");
}

}  // namespace oee::plant
