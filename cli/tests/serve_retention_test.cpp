// `oee serve --retention-days 2` on a store holding five days of events and dead letters: the run
// at start deletes what is older than two days before the API answers, /metrics counts it, and a
// dead letter made old behind the server's back goes at a later periodic run
// (--retention-interval-s 1). An event older than the cut arriving late over MQTT is dead-lettered
// with its reason, and stores nothing.
#include <sqlite3.h>

#include <filesystem>
#include <string>

#include "demo_crash_scenario.h"
#include "mqtt_publishing.h"
#include "oee/codec/event_json.h"
#include "oee/core/shift_calendar.h"
#include "oee/plant/plant_file.h"
#include "oee/storage/event_store.h"

namespace {

using namespace oee;

const std::string kAdminToken = "serve-retention-test-admin-token";
const std::string kAuth = "Authorization: Bearer " + kAdminToken + "\r\n";
const char* const kMachine = "berlin/bottling/glass2/filler";

// The value of an unlabelled metric in Prometheus text; -1 when absent.
double metric(const std::string& text, const std::string& name) {
  const std::size_t at = text.find("\n" + name + " ");
  return at == std::string::npos ? -1 : std::stod(text.substr(at + name.size() + 2));
}

struct Stored {
  std::int64_t old_events = 0, kept_events = 0, old_letters = 0, kept_letters = 0;
};

// Events every 10 minutes over five days up to an hour ago, none within two hours of the cut (two
// days before now) so the server's own clock cannot move one across it; dead letters likewise.
Stored fill_store(const std::string& file, TimeMs now) {
  const plant::LoadedPlant plant = plant::load_plant_file(OEE_DEMO_PLANT_FILE);
  ShiftCalendar calendar(plant.model, *plant.zone);
  auto store = storage::open_sqlite_store(file, plant.model, calendar);
  const TimeMs cutoff = now - 2 * kMsPerDay;
  Stored s;
  std::vector<Event> events;
  std::int64_t seq = 0;
  for (TimeMs t = floor_to(now - 5 * kMsPerDay, kMsPerHour); t < now - kMsPerHour; t += 10 * kMsPerMinute) {
    if (t > cutoff - 2 * kMsPerHour && t < cutoff + 2 * kMsPerHour) continue;
    Event e;
    e.ts = t;
    e.machine = kMachine;
    e.src = "retention-test";
    e.seq = seq++;
    e.state = seq % 3 == 0 ? "stopped" : "running";
    events.push_back(e);
    ++(t < cutoff ? s.old_events : s.kept_events);
  }
  EXPECT_EQ(store->append(events, now).inserted, events.size());
  for (int day = 5; day >= 0; --day) {
    const TimeMs received = now - day * kMsPerDay - 3 * kMsPerHour;
    store->add_dead_letter({0, received, "oee/v1/x", "{bad", "test letter"});
    ++(received < cutoff ? s.old_letters : s.kept_letters);
  }
  return s;
}

TimeMs now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// A dead letter received three days ago, written into the server's file while it runs.
void insert_old_dead_letter(const std::string& file, TimeMs now) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
  sqlite3_busy_timeout(db, 10'000);
  const std::string sql = "INSERT INTO dead_letters(received, topic, payload, reason) VALUES(" +
                          std::to_string(now - 3 * kMsPerDay) + ", 'oee/v1/x', '{old', 'inserted by the test')";
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  sqlite3_close(db);
}

}  // namespace

TEST(ServeRetention, DeletesOldEventsAndDeadLettersAtStartAndAgainPeriodically) {
  const auto dir = std::filesystem::temp_directory_path() / ("oee-serve-retention-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string file = (dir / "oee.sqlite").string();
  const TimeMs now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch()).count();
  const Stored stored = fill_store(file, now);
  ASSERT_GT(stored.old_events, 0);
  ASSERT_GT(stored.kept_events, 0);
  ::setenv("OEE_ADMIN_TOKEN", kAdminToken.c_str(), 1);
  oee::testing::ChildProcess server({OEE_BINARY, "serve", "--plant", OEE_DEMO_PLANT_FILE, "--data-dir", dir.string(),
                                     "--listen", "127.0.0.1:0", "--retention-days", "2", "--retention-interval-s", "1"},
                                    (dir / "serve.log").string());
  ASSERT_TRUE(server.wait_for_output("listening on", std::chrono::seconds(20))) << server.output();
  const std::uint16_t port = oee::testing::listening_port(server.output());
  ASSERT_NE(port, 0);

  // The run at start is done before the server listens.
  const std::string first = oee::testing::http_get(port, "/metrics", kAuth).body;
  EXPECT_EQ(metric(first, "oee_events_stored"), static_cast<double>(stored.kept_events)) << first;
  EXPECT_EQ(metric(first, "oee_dead_letters"), static_cast<double>(stored.kept_letters)) << first;
  EXPECT_GE(metric(first, "oee_retention_runs_total"), 1);
  EXPECT_EQ(metric(first, "oee_retention_deleted_events_total"), static_cast<double>(stored.old_events)) << first;
  EXPECT_EQ(metric(first, "oee_retention_deleted_dead_letters_total"), static_cast<double>(stored.old_letters)) << first;
  EXPECT_GE(metric(first, "oee_retention_last_run_timestamp_seconds"), static_cast<double>(now / 1000));
  EXPECT_NE(server.output().find("deleted_events=" + std::to_string(stored.old_events)), std::string::npos)
      << server.output();
  // A later periodic run deletes what has become old since.
  insert_old_dead_letter(file, now);
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  std::string later;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  do {
    later = oee::testing::http_get(port, "/metrics", kAuth).body;
    if (metric(later, "oee_retention_deleted_dead_letters_total") == static_cast<double>(stored.old_letters + 1)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  } while (std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(metric(later, "oee_retention_deleted_dead_letters_total"), static_cast<double>(stored.old_letters + 1)) << later;
  EXPECT_EQ(metric(later, "oee_dead_letters"), static_cast<double>(stored.kept_letters)) << later;
  const auto letters = oee::testing::http_get(port, "/api/v1/dead-letters", kAuth);
  EXPECT_EQ(letters.status, 200);
  EXPECT_EQ(letters.body.find("inserted by the test"), std::string::npos) << letters.body;
  EXPECT_GE(metric(later, "oee_retention_runs_total"), 2);
  EXPECT_EQ(metric(later, "oee_retention_failures_total"), 0);
  EXPECT_EQ(server.kill(SIGTERM), 0);
  std::filesystem::remove_all(dir);
}

TEST(ServeRetention, AnEventOlderThanTheCutArrivingOverMqttIsDeadLetteredWithItsReason) {
  using namespace std::chrono_literals;
  const auto dir = std::filesystem::temp_directory_path() / ("oee-serve-retention-late-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string file = (dir / "oee.sqlite").string();
  const TimeMs now = now_ms();
  const Stored stored = fill_store(file, now);
  oee::testing::Broker broker(dir);
  ::setenv("OEE_ADMIN_TOKEN", kAdminToken.c_str(), 1);
  const std::string client_id = "serve-retention-late-test";
  oee::testing::ChildProcess server({OEE_BINARY, "serve", "--plant", OEE_DEMO_PLANT_FILE, "--data-dir", dir.string(),
                                     "--listen", "127.0.0.1:0", "--retention-days", "2", "--mqtt", broker.url(),
                                     "--mqtt-client-id", client_id},
                                    (dir / "serve.log").string());
  ASSERT_TRUE(server.wait_for_output("listening on", 20s)) << server.output();
  ASSERT_TRUE(broker.subscribed(client_id, "oee/v1/#", 30s)) << server.output();
  const std::uint16_t port = oee::testing::listening_port(server.output());
  ASSERT_NE(port, 0);
  // An edge's backlog, four days old: older than the cut the run at start made (two days).
  Event late;
  late.ts = now - 4 * kMsPerDay + 7 * kMsPerMinute;
  late.machine = kMachine;
  late.type = EventType::state;
  late.state = "stopped";
  late.src = "late-edge";
  late.seq = 0;
  oee::testing::Publisher publisher(broker.url(), "serve-retention-late-publisher");
  publisher.publish({{std::string("oee/v1/") + kMachine + "/events", "[" + codec::event_to_json(late) + "]"}}, 0, 1);
  std::string metrics;
  ASSERT_TRUE(oee::testing::eventually([&] {
    metrics = oee::testing::http_get(port, "/metrics", kAuth).body;
    return metric(metrics, "oee_ingest_dead_letters_total") >= 1;
  }, 30s)) << metrics << server.output();
  EXPECT_EQ(metric(metrics, "oee_ingest_dead_letters_total"), 1) << metrics;
  EXPECT_EQ(metric(metrics, "oee_ingest_inserted_total"), 0) << metrics;
  EXPECT_EQ(metric(metrics, "oee_events_stored"), static_cast<double>(stored.kept_events)) << metrics;
  EXPECT_EQ(metric(metrics, "oee_dead_letters"), static_cast<double>(stored.kept_letters + 1)) << metrics;
  const auto letters = oee::testing::http_get(port, "/api/v1/dead-letters", kAuth);
  EXPECT_EQ(letters.status, 200);
  EXPECT_NE(letters.body.find("older than the retention"), std::string::npos) << letters.body;
  EXPECT_NE(letters.body.find("late-edge"), std::string::npos) << letters.body;
  EXPECT_NE(letters.body.find(format_rfc3339(late.ts)), std::string::npos) << letters.body;
  EXPECT_EQ(server.kill(SIGTERM), 0);
  std::filesystem::remove_all(dir);
}
