// `oee serve` against slow and greedy clients over loopback: header and body deadlines close
// slowloris connections, the idle timeout closes quiet keep-alive ones, the connection caps (total
// and per address, several 127.0.0.x addresses) answer 503 and are counted in /metrics; errors have
// one shape; `access_token` works only on the WebSocket route; no token reaches the server's log.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <poll.h>

#include <filesystem>
#include <fstream>
#include <memory>

#include "../../server/tests/http_client.h"
#include "../../server/tests/websocket_client.h"
#include "../../transport/tests/eventually.h"
#include "child_process.h"
#include "demo_crash_scenario.h"

namespace oee::testing {
namespace {

const std::string kAdminToken = "serve-http-limits-test-admin-token";
const std::string kAuth = "Authorization: Bearer " + kAdminToken + "\r\n";

// `oee serve --demo` (one simulated hour of history) with `flags`, its output kept in its directory.
class Server {
 public:
  Server(const std::string& name, const std::vector<std::string>& flags)
      : dir_(std::filesystem::temp_directory_path() / ("oee-http-limits-" + name + "-" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    ::setenv("OEE_ADMIN_TOKEN", kAdminToken.c_str(), 1);
    std::vector<std::string> argv = {OEE_BINARY, "serve", "--demo", "--history-hours", "1", "--data-dir", dir_.string(),
                                     "--listen", "127.0.0.1:0"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    process_ = std::make_unique<ChildProcess>(argv, (dir_ / "serve.log").string());
    if (process_->wait_for_output("listening on", std::chrono::seconds(30))) port_ = listening_port(process_->output());
  }
  ~Server() {
    process_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::uint16_t port() const { return port_; }
  const std::filesystem::path& dir() const { return dir_; }
  // Stops the server (SIGTERM) and returns all it wrote, stdout and stderr.
  std::string stop_and_output() {
    EXPECT_EQ(process_->kill(SIGTERM), 0);
    return process_->output();
  }

 private:
  std::filesystem::path dir_;
  std::unique_ptr<ChildProcess> process_;
  std::uint16_t port_ = 0;
};

// Whether the server has closed the connection (without waiting).
bool closed_by_server(const HttpConnection& c) {
  char buf[4096];
  for (;;) {
    const ssize_t n = ::recv(c.fd(), buf, sizeof buf, MSG_DONTWAIT);
    if (n == 0) return true;
    if (n < 0) return errno != EAGAIN && errno != EWOULDBLOCK;
  }
}

// Sends `trickle` on every connection the server still holds open, every 300 ms (a slow client),
// until the server has closed them all or `deadline_s` passed; returns how many are still open.
std::size_t trickle_until_closed(std::vector<std::unique_ptr<HttpConnection>>& connections, const std::string& trickle,
                                 int deadline_s) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(deadline_s);
  std::vector<HttpConnection*> open;
  for (const auto& c : connections) open.push_back(c.get());
  while (!open.empty() && std::chrono::steady_clock::now() < deadline) {
    // Only the open ones: a closed socket stays readable (EOF) and would turn the pacing into a
    // busy loop that fills the others' headers past the server's size limit.
    std::vector<pollfd> fds;
    for (const HttpConnection* c : open) fds.push_back({c->fd(), POLLIN, 0});
    ::poll(fds.data(), fds.size(), 300);  // paces the trickle; a closing connection wakes it
    std::erase_if(open, [](const HttpConnection* c) { return closed_by_server(*c); });
    for (HttpConnection* c : open) c->send_raw(trickle);
  }
  return open.size();
}

// The value of a counter in the server's /metrics (asked from 127.0.0.1, admin token).
double metric(std::uint16_t port, const std::string& name) {
  const HttpReply r = http_get(port, "/metrics", kAuth);
  EXPECT_EQ(r.status, 200) << r.body;
  const std::size_t at = r.body.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::stod(r.body.substr(at + name.size() + 2));
}

void expect_error_shape(const HttpReply& r, int status, const std::string& code) {
  EXPECT_EQ(r.status, status) << r.body;
  const auto j = nlohmann::json::parse(r.body);
  ASSERT_EQ(j.size(), 1u) << r.body;
  EXPECT_EQ(j["error"]["code"], code) << r.body;
  EXPECT_TRUE(j["error"]["message"].is_string()) << r.body;
}

TEST(ServeHttpLimits, SlowHeadersAreClosedByTheHeaderTimeout) {
  // The idle and body timeouts are long: only the header deadline can close these connections.
  Server server("headers", {"--header-timeout-s", "2", "--idle-timeout-s", "600", "--body-timeout-s", "600"});
  ASSERT_NE(server.port(), 0);
  std::vector<std::unique_ptr<HttpConnection>> slow;
  for (int i = 0; i < 20; ++i) {
    slow.push_back(std::make_unique<HttpConnection>(server.port()));
    slow.back()->send_raw("GET /api/v1/plant HTTP/1.1\r\nHost: localhost\r\n");
  }
  // Each connection sends a header line every 300 ms: a timer per read would never fire.
  EXPECT_EQ(trickle_until_closed(slow, "X-Slow: 1\r\n", 60), 0u);
  // The stream's timer closes the socket, then the server counts the timeout: the last count may
  // come a moment after the client saw its close.
  EXPECT_TRUE(eventually([&] { return metric(server.port(), "oee_http_read_timeouts_total") >= 20; }, std::chrono::seconds(10)))
      << metric(server.port(), "oee_http_read_timeouts_total");
  EXPECT_EQ(http_get(server.port(), "/readyz").status, 200);  // prompt clients are served as before
}

TEST(ServeHttpLimits, SlowBodiesAndIdleConnectionsAreClosed) {
  Server server("body", {"--header-timeout-s", "600", "--body-timeout-s", "2", "--idle-timeout-s", "2"});
  ASSERT_NE(server.port(), 0);
  std::vector<std::unique_ptr<HttpConnection>> slow;
  slow.push_back(std::make_unique<HttpConnection>(server.port()));
  slow.back()->send_raw("POST /api/v1/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                        "Content-Length: 1000\r\n\r\n{\"user\":\"");
  EXPECT_EQ(trickle_until_closed(slow, "a", 60), 0u);
  // (Counted after the close, as above.)
  EXPECT_TRUE(eventually([&] { return metric(server.port(), "oee_http_read_timeouts_total") >= 1; }, std::chrono::seconds(10)));
  EXPECT_EQ(metric(server.port(), "oee_http_read_timeouts_total"), 1);
  // A keep-alive connection answered once, then quiet: closed after the idle timeout.
  HttpConnection quiet(server.port());
  EXPECT_EQ(quiet.request("GET", "/readyz").status, 200);
  pollfd p{quiet.fd(), POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 60'000), 1);
  EXPECT_TRUE(quiet.closed_by_peer());
}

TEST(ServeHttpLimits, ConnectionsOverTheCapsAreRefusedWith503AndCounted) {
  Server server("caps", {"--max-connections", "6", "--max-connections-per-address", "2"});
  ASSERT_NE(server.port(), 0);
  std::vector<std::unique_ptr<HttpConnection>> held;
  for (const char* address : {"127.0.0.2", "127.0.0.2", "127.0.0.3", "127.0.0.3"})
    held.push_back(std::make_unique<HttpConnection>(server.port(), address));
  // A third from 127.0.0.2: over its address's cap. Connections are admitted in the order they are
  // accepted, so the held ones have their places.
  const HttpReply third = HttpConnection(server.port(), "127.0.0.2").request("GET", "/readyz");
  expect_error_shape(third, 503, "too_many_connections");
  EXPECT_NE(third.headers.find("Retry-After: 1"), std::string::npos) << third.headers;
  for (const char* address : {"127.0.0.4", "127.0.0.4"}) held.push_back(std::make_unique<HttpConnection>(server.port(), address));
  // Six open: a new address is over the total cap.
  expect_error_shape(HttpConnection(server.port(), "127.0.0.5").request("GET", "/readyz"), 503, "too_many_connections");
  // The held connections are served.
  EXPECT_EQ(held[2]->request("GET", "/readyz").status, 200);
  held.clear();
  // Their places come back as the server sees them close; refusals meanwhile count too.
  HttpReply metrics;
  const auto answered = [&] {
    try {
      metrics = http_get(server.port(), "/metrics", kAuth);
    } catch (const std::runtime_error&) {  // closed unanswered: refusals beyond those in flight
      return false;
    }
    return metrics.status == 200;
  };
  ASSERT_TRUE(eventually(answered, std::chrono::seconds(30))) << metrics.status;
  const std::string line = "\noee_http_connections_refused_total ";
  ASSERT_NE(metrics.body.find(line), std::string::npos) << metrics.body;
  EXPECT_GE(std::stod(metrics.body.substr(metrics.body.find(line) + line.size())), 2);
}

TEST(ServeHttpLimits, ErrorsHaveOneShape) {
  Server server("errors", {});
  ASSERT_NE(server.port(), 0);
  expect_error_shape(http_get(server.port(), "/api/v1/nothing-here", kAuth), 404, "not_found");
  expect_error_shape(HttpConnection(server.port()).request("DELETE", "/api/v1/plant", {}, kAuth), 405, "method_not_allowed");
  expect_error_shape(http_get(server.port(), "/api/v1/plant"), 401, "unauthenticated");
  expect_error_shape(http_get(server.port(), "/api/v1/plant?x=%zz", kAuth), 400, "bad_request");
  expect_error_shape(HttpConnection(server.port()).request("POST", "/api/v1/login", "{"), 400, "bad_body");
}

// The demo admin's password, from DATA_DIR/demo-logins.txt ("  admin / PASSWORD").
std::string demo_admin_password(const std::filesystem::path& dir) {
  std::ifstream in(dir / "demo-logins.txt");
  std::string line;
  while (std::getline(in, line))
    if (const std::size_t at = line.find("admin / "); at != std::string::npos && line.find("  admin") == 0) return line.substr(at + 8);
  return {};
}

TEST(ServeHttpLimits, AccessTokenOnlyOnTheWebSocketRouteAndNoTokenInTheLog) {
  Server server("tokens", {"--log-format", "json"});
  ASSERT_NE(server.port(), 0);
  std::string password;  // the file is written just after "listening on"
  ASSERT_TRUE(eventually([&] { return !(password = demo_admin_password(server.dir())).empty(); }, std::chrono::seconds(10)));
  const HttpReply login = HttpConnection(server.port()).request("POST", "/api/v1/login",
                                                                R"({"user":"admin","password":")" + password + "\"}");
  ASSERT_EQ(login.status, 200) << login.body;
  const std::string token = nlohmann::json::parse(login.body)["token"];
  const std::string bearer = "Authorization: Bearer " + token + "\r\n";
  EXPECT_EQ(http_get(server.port(), "/api/v1/me", bearer).status, 200);
  // In a REST URL the token is refused, even beside a valid header: URLs land in proxy logs.
  expect_error_shape(http_get(server.port(), "/api/v1/me?access_token=" + token), 401, "token_in_url");
  expect_error_shape(http_get(server.port(), "/api/v1/plant?access_token=" + token, bearer), 401, "token_in_url");
  expect_error_shape(http_get(server.port(), "/api/v1/kpis?access_token=" + kAdminToken), 401, "token_in_url");
  // On the WebSocket route it is how browsers authenticate.
  WebSocketClient browser(server.port(), "/api/v1/live?access_token=" + token);
  EXPECT_EQ(browser.status, 101) << browser.handshake;
  WebSocketClient tool(server.port(), "/api/v1/live", bearer);
  EXPECT_EQ(tool.status, 101) << tool.handshake;
  EXPECT_EQ(WebSocketClient(server.port(), "/api/v1/live?access_token=oee_wrong").status, 401);
  EXPECT_EQ(HttpConnection(server.port()).request("POST", "/api/v1/logout", {}, bearer).status, 200);
  const std::string log = server.stop_and_output();
  EXPECT_NE(log.find("\"msg\":\"stopped\""), std::string::npos) << log;  // the whole log was written
  EXPECT_EQ(log.find(token), std::string::npos) << log;
  EXPECT_EQ(log.find(token.substr(4, 16)), std::string::npos) << "a part of the token is in the log";
  EXPECT_EQ(log.find(kAdminToken), std::string::npos) << log;
}

}  // namespace
}  // namespace oee::testing
