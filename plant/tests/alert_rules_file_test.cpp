#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "oee/plant/plant_file.h"
#include "plant_error_of.h"

namespace oee::plant {

namespace {
const std::string kSites = R"(sites: [{id: s1, areas: [{id: a1, lines: [{id: l1, machines: [
  {id: press, ideal_cycle_time_s: 1.0, targets: {oee: 0.8}}, {id: saw, ideal_cycle_time_s: 2.0}]}]}]}]
)";
std::string with_alerts(const std::string& alerts) { return kSites + "alerts:\n" + alerts; }
}  // namespace

TEST(AlertRulesFile, ReadsRulesAndNotifications) {
  const auto loaded = load_plant_yaml(with_alerts(R"(  rules:
    - {name: down15, kind: machine_down, node: s1/a1/l1, for_s: 900}
    - {name: silent, kind: no_data, for_s: 120}
    - {name: press-oee, kind: oee_below_target, node: s1/a1/l1/press, after_shift_start_s: 7200}
    - {name: line-oee, kind: oee_below_target, node: s1/a1/l1, target: 0.6}
    - {name: backlog, kind: edge_queue_growing, edge: line1-edge, for_s: 600}
  webhooks: [{url: "http://127.0.0.1:9/hook", secret: s3cret, max_attempts: 3}]
  email: [{smtp_host: 127.0.0.1, smtp_port: 2525, from: oee@plant, to: [a@plant, b@plant], min_interval_s: 60}]
)"), "plant.yaml");
  const auto& rules = loaded.model.alert_rules;
  ASSERT_EQ(rules.size(), 5u);
  EXPECT_EQ(rules[0].kind, AlertKind::machine_down);
  EXPECT_EQ(rules[0].node, "s1/a1/l1");
  EXPECT_EQ(rules[0].for_ms, 900'000);
  EXPECT_EQ(rules[1].node, "");  // every machine
  EXPECT_DOUBLE_EQ(rules[2].target, 0.8);  // the machine's own target
  EXPECT_EQ(rules[2].at_minute, 120);
  EXPECT_DOUBLE_EQ(rules[3].target, 0.6);
  EXPECT_EQ(rules[3].at_minute, 60);  // default: one hour into the shift
  EXPECT_EQ(rules[4].node, "line1-edge");
  const auto& n = loaded.alert_notifications;
  ASSERT_EQ(n.webhooks.size(), 1u);
  EXPECT_EQ(n.webhooks[0].secret, "s3cret");
  EXPECT_EQ(n.webhooks[0].max_attempts, 3);
  ASSERT_EQ(n.emails.size(), 1u);
  EXPECT_EQ(n.emails[0].smtp_port, 2525);
  EXPECT_EQ(n.emails[0].to.size(), 2u);
  EXPECT_EQ(n.emails[0].min_interval_ms, 60'000);
}

TEST(AlertRulesFile, ReadsSecretsFromAFileBesideThePlantFile) {
  const auto dir = std::filesystem::temp_directory_path() / ("oee_alert_secret_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "smtp.secret") << "pa55word\n";
  const auto loaded = load_plant_yaml(with_alerts(R"(  rules: [{name: silent, kind: no_data, for_s: 60}]
  email: [{smtp_host: h, from: f, to: [t], username: u, password_file: smtp.secret}]
)"), (dir / "plant.yaml").string());
  EXPECT_EQ(loaded.alert_notifications.emails.at(0).password, "pa55word");
  EXPECT_EQ(error_of(with_alerts("  rules: [{name: s, kind: no_data, for_s: 60}]\n"
                                 "  email: [{smtp_host: h, from: f, to: [t], username: u, password_file: /nonexistent/x}]\n")),
            "plant.yaml:5: alerts.email[0].password_file: cannot read a secret from '/nonexistent/x'");
  std::filesystem::remove_all(dir);
}

TEST(AlertRulesFile, ReadsTheTlsOfWebhooksAndMail) {
  const auto dir = std::filesystem::temp_directory_path() / ("oee_alert_tls_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "ca.pem") << "-----BEGIN CERTIFICATE-----\n";
  const auto loaded = load_plant_yaml(with_alerts(R"(  rules: [{name: silent, kind: no_data, for_s: 60}]
  webhooks: [{url: "https://hooks.plant:8443/in", ca_file: ca.pem}, {url: "https://hooks.plant/in"}]
  email: [{smtp_host: h, from: f, to: [t], username: u, password: p, ca_file: ca.pem}, {smtp_host: h, from: f, to: [t], starttls: never},
          {smtp_host: h, from: f, to: [t], starttls: required}]
)"), (dir / "plant.yaml").string());
  const auto& n = loaded.alert_notifications;
  EXPECT_EQ(n.webhooks.at(0).ca_file, (dir / "ca.pem").string());
  EXPECT_EQ(n.webhooks.at(1).ca_file, "");  // the system's CAs
  EXPECT_EQ(n.emails.at(0).starttls, EmailTarget::StartTls::auto_);
  EXPECT_EQ(n.emails.at(0).ca_file, (dir / "ca.pem").string());
  EXPECT_EQ(n.emails.at(1).starttls, EmailTarget::StartTls::never);
  EXPECT_EQ(n.emails.at(2).starttls, EmailTarget::StartTls::required);
  const std::string rule = "  rules: [{name: s, kind: no_data, for_s: 60}]\n";
  EXPECT_EQ(error_of(with_alerts(rule + "  webhooks: [{url: \"https://h/\", ca_file: /nonexistent/ca.pem}]\n")),
            "plant.yaml:5: alerts.webhooks[0].ca_file: no file '/nonexistent/ca.pem'");
  EXPECT_EQ(error_of(with_alerts(rule + "  webhooks: [{url: \"http://h/\", ca_file: /etc/hostname}]\n")),
            "plant.yaml:5: alerts.webhooks[0].ca_file: has no effect on an http:// URL");
  EXPECT_EQ(error_of(with_alerts(rule + "  email: [{smtp_host: h, from: f, to: [t], starttls: maybe}]\n")),
            "plant.yaml:5: alerts.email[0].starttls: 'maybe' is not auto, required or never");
  EXPECT_EQ(error_of(with_alerts(rule + "  email: [{smtp_host: h, from: f, to: [t], starttls: never, username: u, password: p}]\n")),
            "plant.yaml:5: alerts.email[0]: a 'username' with starttls: never would send the password in clear text");
  std::filesystem::remove_all(dir);
}

TEST(AlertRulesFile, BadRulesAreErrorsWithTheirLine) {
  EXPECT_EQ(error_of(with_alerts("  rules: [{name: x, kind: machine_up, for_s: 60}]\n")),
            "plant.yaml:4: alerts.rules[0].kind: 'machine_up' is not a kind (machine_down, oee_below_target, no_data, "
            "edge_queue_growing)");
  EXPECT_EQ(error_of(with_alerts("  rules: [{name: x, kind: machine_down}]\n")),
            "plant.yaml:4: alerts.rules[0]: missing 'for_s' (seconds the condition must last)");
  EXPECT_EQ(error_of(with_alerts("  rules: [{name: x, kind: machine_down, for_s: 60, node: s1/a9}]\n")),
            "plant.yaml:4: alerts.rules[0].node: no node 's1/a9' in the plant");
  EXPECT_EQ(error_of(with_alerts("  rules: [{name: x, kind: machine_down, for_s: 60, target: 0.5}]\n")),
            "plant.yaml:4: alerts.rules[0].target: has no effect for kind machine_down");
  EXPECT_EQ(error_of(with_alerts("  rules: [{name: x, kind: oee_below_target, node: s1/a1/l1/press, after_shift_start_s: 90}]\n")),
            "plant.yaml:4: alerts.rules[0].after_shift_start_s: must be whole minutes (a multiple of 60)");
  EXPECT_EQ(error_of(with_alerts("  rules: [{name: x, kind: oee_below_target, node: s1/a1/l1/saw}]\n")),
            "plant.yaml:4: alerts.rules[0]: missing 'target' (only a machine with targets.oee has one of its own)");
  EXPECT_EQ(error_of(with_alerts("  rules: [{name: x, kind: no_data, for_s: 1}, {name: x, kind: no_data, for_s: 2}]\n")),
            "plant.yaml:4: alerts.rules[1].name: duplicate rule 'x'");
  EXPECT_EQ(error_of(with_alerts("  rules: [{name: x, kind: no_data, for_s: 1}]\n  webhooks: [{url: \"ftp://h/\"}]\n")),
            "plant.yaml:5: alerts.webhooks[0].url: must be an http:// or https:// URL");
  EXPECT_EQ(error_of(with_alerts("  webhooks: [{url: \"http://h/\"}]\n")),
            "plant.yaml:4: alerts: webhooks or email without rules would never send anything");
}

}  // namespace oee::plant
