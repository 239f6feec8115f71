// Alerts end to end below the API: rules of a plant file evaluated against the real ingest path,
// their changes POSTed to a real HTTP server on loopback (signed, retried after a 503) and mailed
// to a real SMTP server (Python's smtpd) on loopback, rate limited.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <sstream>
#include <mutex>
#include <thread>

#include "hook_receiver.h"
#include "mosquitto_process.h"
#include "oee/codec/event_json.h"
#include "oee/server/alert_email.h"
#include "oee/server/alert_monitor.h"
#include "oee/server/alert_webhooks.h"
#include "oee/storage/event_store.h"

namespace oee::server {

namespace {

using namespace std::chrono_literals;

std::string header(const std::string& head, const std::string& name) {
  const auto at = head.find(name + ": ");
  if (at == std::string::npos) return "";
  const auto start = at + name.size() + 2;
  return head.substr(start, head.find("\r\n", start) - start);
}

Event event(const std::string& json) {
  Event e;
  std::string error;
  if (!codec::parse_event(json, e, error)) throw std::runtime_error(error);
  return e;
}

std::string file_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

// Python's debugging SMTP server on a free loopback port, writing the mails it takes to `log`:
// its port.
int start_smtp_sink(testing::ChildProcess& smtp, const std::string& log) {
  const int port = testing::free_loopback_port();
  smtp.start({"/usr/bin/python3", "-u", "-W", "ignore", "-m", "smtpd", "-n", "-c", "DebuggingServer",
              "127.0.0.1:" + std::to_string(port)},
             log);
  return port;
}

}  // namespace

TEST(AlertSignature, IsTheHmacSha256OfTheBody) {
  // RFC 4231, test case 2.
  EXPECT_EQ(webhook_signature("Jefe", "what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(AlertNotify, AMachineDownFiresResolvesAndIsAcknowledgedWithWebhookAndEmail) {
  testing::TempDir dir;
  testing::HookReceiver hooks(1);  // the first delivery gets a 503: it must be retried
  const std::string smtp_log = dir.path + "/smtpd.log";
  testing::ChildProcess smtp;
  const int smtp_port = start_smtp_sink(smtp, smtp_log);
  ASSERT_TRUE(testing::wait_for_port(smtp_port, 10'000)) << file_text(smtp_log);

  const std::string yaml = R"(timezone: UTC
sites: [{id: s1, areas: [{id: a1, lines: [{id: l1, machines: [{id: press, ideal_cycle_time_s: 1.0}]}]}]}]
alerts:
  rules: [{name: down1, kind: machine_down, node: s1/a1/l1, for_s: 60}]
  webhooks: [{url: "http://127.0.0.1:)" + std::to_string(hooks.port()) + R"(/hook", secret: s3cret, max_attempts: 3}]
  email: [{smtp_host: 127.0.0.1, smtp_port: )" + std::to_string(smtp_port) + R"(, from: oee@plant, to: [lead@plant], min_interval_s: 2}]
)";
  auto plant = plant::load_plant_yaml(yaml, "plant.yaml");
  const auto notifications = plant.alert_notifications;
  std::atomic<TimeMs> now{*parse_timestamp("2026-11-10T10:00:00Z")};
  PlantService service(std::move(plant), [&](const PlantModel& p, const ShiftCalendar& c) {
    return storage::open_sqlite_store(dir.path + "/oee.sqlite", p, c);
  }, [&] { return now.load(); });
  AlertWebhooks webhooks(notifications.webhooks, {50, 1000});
  // The mails' own clock: the rate limit is tested against it, not against how long a loaded
  // machine takes between the first mail and the changes after it (under ASan that passed 2 s once,
  // and the resolution went out alone).
  std::atomic<TimeMs> mail_clock{0};
  AlertEmail email(notifications.emails, [&] { return mail_clock.load(); });
  AlertMonitor monitor(service);
  monitor.add_listener([&](const AlertChange& c) { webhooks.send(c); });
  monitor.add_listener([&](const AlertChange& c) { email.send(c); });
  webhooks.start();
  email.start();

  service.ingest({event(R"({"ts":"2026-11-10T09:59:30Z","machine":"s1/a1/l1/press","type":"state","state":"stopped"})")}, "test");
  EXPECT_TRUE(monitor.evaluate().empty());  // down 30 s of the rule's 60
  now = *parse_timestamp("2026-11-10T10:00:30Z");
  auto changes = monitor.evaluate();
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].transition, AlertTransition::fired);
  EXPECT_EQ(changes[0].alert.id, "down1/s1/a1/l1/press");
  EXPECT_TRUE(monitor.evaluate().empty());  // still down: no second firing

  ASSERT_TRUE(testing::eventually([&] { return email.mails_sent() == 1; }, 20s)) << file_text(smtp_log);
  service.ingest({event(R"({"ts":"2026-11-10T10:00:40Z","machine":"s1/a1/l1/press","type":"state","state":"running"})")}, "test");
  now = *parse_timestamp("2026-11-10T10:00:45Z");
  changes = monitor.evaluate();
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].transition, AlertTransition::resolved);
  ASSERT_TRUE(monitor.acknowledge("down1/s1/a1/l1/press", std::nullopt, "ann"));
  EXPECT_FALSE(monitor.acknowledge("down1/s1/a1/l1/press", std::nullopt, "bob"));
  const auto listed = monitor.alerts();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].acknowledged_by, "ann");

  // Webhooks: fired (after one 503 and a retry), resolved, acknowledged; each signed. A retried
  // delivery may arrive after later ones: the order is not part of the contract.
  ASSERT_TRUE(testing::eventually([&] { return hooks.requests().size() == 3; }, 20s));
  const auto requests = hooks.requests();
  const char* events[] = {"\"event\":\"fired\"", "\"event\":\"resolved\"", "\"event\":\"acknowledged\""};
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(std::count_if(requests.begin(), requests.end(), [&](const auto& q) { return q.body.find(events[i]) != std::string::npos; }), 1)
        << events[i];
    EXPECT_NE(requests[i].body.find("\"subject\":\"s1/a1/l1/press\""), std::string::npos);
    EXPECT_EQ(header(requests[i].head, "X-Oee-Signature"), webhook_signature("s3cret", requests[i].body));
    EXPECT_EQ(requests[i].head.rfind("POST /hook HTTP/1.1", 0), 0u);
  }
  // The receiver has a request before its sender has the answer: the count follows.
  EXPECT_TRUE(testing::eventually([&] { return webhooks.delivered() == 3; }, 20s)) << webhooks.delivered();
  EXPECT_EQ(webhooks.given_up(), 0u);

  // E-mail: the firing at once; the resolution and the acknowledgement, within the 2 s limit of
  // the first, wait for it, then go together in the second mail.
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(email.mails_sent(), 1u);
  mail_clock = 2'000;
  ASSERT_TRUE(testing::eventually([&] { return email.mails_sent() == 2; }, 20s)) << file_text(smtp_log);
  ASSERT_TRUE(testing::eventually([&] { return occurrences(file_text(smtp_log), "END MESSAGE") == 2; }, 20s)) << file_text(smtp_log);
  const std::string mails = file_text(smtp_log);
  EXPECT_EQ(occurrences(mails, "Subject: [OEE] 1 alert change: fired: down1 (machine_down) on s1/a1/l1/press"), 1u) << mails;
  EXPECT_EQ(occurrences(mails, "Subject: [OEE] 2 alert changes: resolved: down1"), 1u) << mails;
  EXPECT_NE(mails.find("acknowledged by ann"), std::string::npos);
  EXPECT_NE(mails.find("lead@plant"), std::string::npos);
  webhooks.stop();
  email.stop();
  smtp.terminate();
}

// An alert resolved because the plant file lost its rule says so in its mail.
TEST(AlertNotify, TheMailOfAResolutionForARemovedRuleSaysWhy) {
  testing::TempDir dir;
  const std::string smtp_log = dir.path + "/smtpd.log";
  testing::ChildProcess smtp;
  const int smtp_port = start_smtp_sink(smtp, smtp_log);
  ASSERT_TRUE(testing::wait_for_port(smtp_port, 10'000)) << file_text(smtp_log);
  plant::EmailTarget target;
  target.smtp_host = "127.0.0.1";
  target.smtp_port = smtp_port;
  target.from = "oee@plant";
  target.to = {"lead@plant"};
  AlertEmail email(std::vector<plant::EmailTarget>{target});
  email.start();
  AlertChange change{AlertTransition::resolved, {}};
  change.alert.rule = "old";
  change.alert.kind = AlertKind::no_data;
  change.alert.subject = "s1/a1/l1/press";
  change.alert.id = "old/s1/a1/l1/press";
  change.alert.fired_ts = *parse_timestamp("2026-11-10T10:00:00Z");
  change.alert.resolved_ts = *parse_timestamp("2026-11-10T10:05:00Z");
  change.alert.resolution = AlertResolution::rule_removed;
  email.send(change);
  ASSERT_TRUE(testing::eventually([&] { return occurrences(file_text(smtp_log), "END MESSAGE") == 1; }, 20s)) << file_text(smtp_log);
  EXPECT_EQ(occurrences(file_text(smtp_log), "resolved: old (no_data) on s1/a1/l1/press, fired 2026-11-10T10:00:00Z,"
                                             " resolved 2026-11-10T10:05:00Z (rule_removed)"),
            2u)  // the subject and the body
      << file_text(smtp_log);
  email.stop();
  smtp.terminate();
}

TEST(AlertNotify, AWebhookThatNeverAnswersIsGivenUpAfterItsAttempts) {
  const int closed_port = testing::free_loopback_port();  // nobody listens: every attempt fails
  plant::WebhookTarget t;
  t.url = "http://127.0.0.1:" + std::to_string(closed_port) + "/hook";
  t.max_attempts = 3;
  AlertWebhooks webhooks({t}, {10, 40});
  webhooks.start();
  AlertChange c;
  c.alert.id = "r/x";
  webhooks.send(c);
  ASSERT_TRUE(testing::eventually([&] { return webhooks.given_up() == 1; }, 20s));
  EXPECT_EQ(webhooks.delivered(), 0u);
}

}  // namespace oee::server
