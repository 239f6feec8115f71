// `oee serve` upgraded in place (SIGUSR2, docs/operations.md): under HTTP load and with events
// arriving over a real Mosquitto, the process hands its listening socket to the program now on
// disk and becomes it. No request fails, no event is lost or doubled, the KPIs equal an offline
// replay. A program on disk that does not run is refused and the old one goes on serving. And a
// listening socket handed over by systemd (socket activation) is served instead of --listen.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "demo_crash_scenario.h"
#include "mqtt_publishing.h"

namespace {

using namespace std::chrono_literals;
using oee::testing::eventually;

const std::string kAdminToken = "serve-upgrade-test-admin-token";
const std::string kAuth = "Authorization: Bearer " + kAdminToken + "\r\n";

// Clients that each open a new connection per request, as browsers and API scripts do, and count
// every answer that is not 200 or every connection that fails, until stopped.
class HttpLoad {
 public:
  HttpLoad(std::uint16_t port, int clients) {
    for (int i = 0; i < clients; ++i)
      threads_.emplace_back([this, port] {
        while (!stop_) {
          try {
            const auto r = oee::testing::http_get(port, "/api/v1/kpis?by=hour", kAuth);
            if (r.status == 200)
              ++ok_;
            else
              fail("HTTP " + std::to_string(r.status));
          } catch (const std::exception& e) {
            fail(e.what());
          }
        }
      });
  }
  ~HttpLoad() { stop(); }
  void stop() {
    stop_ = true;
    for (auto& t : threads_) t.join();
    threads_.clear();
  }
  int ok() const { return ok_; }
  int failed() const { return failed_; }
  std::string first_failure() {
    std::lock_guard lock(mutex_);
    return first_failure_;
  }

 private:
  void fail(const std::string& why) {
    std::lock_guard lock(mutex_);
    if (failed_++ == 0) first_failure_ = why;
  }

  std::mutex mutex_;
  std::string first_failure_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stop_{false};
  std::atomic<int> ok_{0}, failed_{0};
};

// Puts `content` at `path` the way a package manager does: a new file renamed over the old one.
void replace_file(const std::filesystem::path& path, const std::filesystem::path& content) {
  const auto staged = path.string() + ".new";
  std::filesystem::copy_file(content, staged, std::filesystem::copy_options::overwrite_existing);
  std::filesystem::permissions(staged, std::filesystem::perms::owner_all);
  std::filesystem::rename(staged, path);
}

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

std::filesystem::path fresh_dir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / (name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace

TEST(ServeUpgrade, UnderLoadNoRequestFailsAndNoEventIsLostOrDoubled) {
  const auto dir = fresh_dir("oee-serve-upgrade");
  ::setenv("OEE_ADMIN_TOKEN", kAdminToken.c_str(), 1);
  oee::testing::Broker broker(dir);
  const oee::testing::DemoHours demo = oee::testing::three_demo_hours(dir);
  const oee::TimeMs start = demo.start, window_end = demo.window_end;
  const std::size_t events = demo.events;
  const auto& messages = demo.messages;
  ASSERT_GT(events, 1000u);

  // The server runs a copy of the program, so the test can replace it as an upgrade would.
  const auto program = dir / "oee";
  replace_file(program, OEE_BINARY);
  oee::testing::ChildProcess server({program.string(), "serve", "--plant", OEE_DEMO_PLANT_FILE, "--data-dir", (dir / "data").string(),
                                     "--listen", "127.0.0.1:0", "--mqtt", broker.url(), "--mqtt-client-id", "upgrade-test-server",
                                     "--mqtt-reconnect-min-ms", "200",
                                     // The load comes from one address with one token: not what the rate limits are for here.
                                     "--rate-limit-address-per-s", "0", "--rate-limit-token-per-s", "0"},
                                    (dir / "serve.log").string());
  ASSERT_TRUE(server.wait_for_output("mqtt subscriber: connected", 60s)) << server.output();
  // The subscriber can connect before the listener's line is printed (it failed once in ctest).
  ASSERT_TRUE(server.wait_for_output("listening on", 60s)) << server.output();
  const std::uint16_t port = oee::testing::listening_port(server.output());
  ASSERT_NE(port, 0) << server.output();
  oee::testing::Publisher publisher(broker.url(), "upgrade-test-publisher");
  publisher.publish(messages, 0, messages.size() / 3);
  HttpLoad load(port, 4);
  ASSERT_TRUE(eventually([&] { return load.ok() > 20; }, 30s));

  // A program on disk that does not run: refused, the old process goes on serving and ingesting.
  const auto broken = dir / "broken";
  std::ofstream(broken) << "#!/bin/sh\nexit 3\n";
  replace_file(program, broken);
  ASSERT_EQ(::kill(server.pid(), SIGUSR2), 0);
  ASSERT_TRUE(server.wait_for_output("upgrade refused", 20s)) << server.output();
  publisher.publish(messages, messages.size() / 3, 2 * messages.size() / 3);

  // The real program back on disk: the upgrade goes through while requests and events keep coming.
  replace_file(program, OEE_BINARY);
  const int ok_before = load.ok();
  ASSERT_EQ(::kill(server.pid(), SIGUSR2), 0);
  publisher.publish(messages, 2 * messages.size() / 3, messages.size());
  ASSERT_TRUE(eventually([&] { return occurrences(server.output(), "mqtt subscriber: connected") == 2; }, 60s)) << server.output();
  ASSERT_TRUE(eventually([&] { return load.ok() > ok_before + 50; }, 60s));
  ASSERT_TRUE(eventually([&] { return oee::testing::stored_events(port, kAuth) >= static_cast<std::int64_t>(events); }, 120s))
      << oee::testing::stored_events(port, kAuth) << " of " << events;
  load.stop();

  EXPECT_EQ(load.failed(), 0) << load.ok() << " requests answered; first failure: " << load.first_failure();
  EXPECT_EQ(::kill(server.pid(), 0), 0) << "the same process, now the new program";
  EXPECT_EQ(occurrences(server.output(), "upgrading: listening socket kept"), 1u) << server.output();
  EXPECT_EQ(oee::testing::stored_events(port, kAuth), static_cast<std::int64_t>(events));
  EXPECT_TRUE(oee::testing::http_get(port, "/api/v1/dead-letters", kAuth).body.starts_with("{\"total\":0,"));
  oee::testing::expect_kpis_equal_offline_replay(port, kAuth, dir, start, window_end);
  EXPECT_EQ(server.kill(SIGTERM), 0);
  std::filesystem::remove_all(dir);
}

TEST(ServeUpgrade, ASocketHandedOverBySystemdIsServedInsteadOfListen) {
  const auto dir = fresh_dir("oee-serve-socket-activation");
  ::setenv("OEE_ADMIN_TOKEN", kAdminToken.c_str(), 1);
  // The test plays systemd: it binds and listens, and the server gets the socket as descriptor 3.
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof address;
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(::listen(listener, 64), 0);
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &len);
  const std::uint16_t port = ntohs(address.sin_port);
  ASSERT_EQ(::dup2(listener, 3), 3);  // not close-on-exec: the child inherits it, as from systemd
  // LISTEN_PID must be the server's own pid: the shell sets it to its pid, which exec keeps.
  oee::testing::ChildProcess server({"/bin/sh", "-c", std::string("LISTEN_FDS=1 LISTEN_PID=$$ exec ") + OEE_BINARY + " serve --plant " +
                                                          OEE_DEMO_PLANT_FILE + " --data-dir " + (dir / "data").string() +
                                                          " --listen 127.0.0.1:1"},
                                    (dir / "serve.log").string());
  ::close(3);
  ::close(listener);
  ASSERT_TRUE(server.wait_for_output("listening on", 30s)) << server.output();
  EXPECT_EQ(oee::testing::listening_port(server.output()), port) << server.output();
  EXPECT_EQ(oee::testing::http_get(port, "/api/v1/plant", kAuth).status, 200);
  EXPECT_EQ(server.kill(SIGTERM), 0);

  // Something other than a listening socket at descriptor 3: refused with the reason, exit 2.
  oee::testing::ChildProcess refused({"/bin/sh", "-c", std::string("LISTEN_FDS=1 LISTEN_PID=$$ exec ") + OEE_BINARY + " serve --plant " +
                                                           OEE_DEMO_PLANT_FILE + " --data-dir " + (dir / "data2").string() + " 3</dev/null"},
                                     (dir / "refused.log").string());
  ASSERT_TRUE(refused.wait_for_output("descriptor 3 is not a socket", 30s)) << refused.output();
  EXPECT_EQ(refused.wait(), 2);
  std::filesystem::remove_all(dir);
}
