// HTTPS with a certificate and key, and the drain on stop: a request in progress finishes, idle
// keep-alive connections are closed, and new connections are refused.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <future>
#include <thread>

#include "http_client.h"
#include "oee/server/http_server.h"

namespace oee::server {

namespace {

std::string shell(const std::string& command) {
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

}  // namespace

TEST(HttpServerLifecycle, ServesHttpsWithTheGivenCertificate) {
  const auto dir = std::filesystem::temp_directory_path() / ("oee-tls-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string cert = (dir / "cert.pem").string(), key = (dir / "key.pem").string();
  shell("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost -keyout " + key + " -out " + cert + " 2>&1");
  ASSERT_TRUE(std::filesystem::exists(cert));
  Router router;
  router.add("GET", "/healthz", [](const HttpRequest&) { return HttpResponse::json("{\"status\":\"ok\"}"); });
  HttpServerOptions o;
  o.port = 0;
  o.tls_certificate_file = cert;
  o.tls_private_key_file = key;
  HttpServer server(router, o);
  server.start();
  EXPECT_TRUE(server.tls());
  const std::string url = "https://127.0.0.1:" + std::to_string(server.port()) + "/healthz";
  EXPECT_EQ(shell("curl -s --max-time 5 --cacert " + cert + " --resolve localhost:" + std::to_string(server.port()) +
                  ":127.0.0.1 https://localhost:" + std::to_string(server.port()) + "/healthz"),
            "{\"status\":\"ok\"}");
  // Plain HTTP on the TLS port gets no answer.
  EXPECT_EQ(shell("curl -s --max-time 5 http://127.0.0.1:" + std::to_string(server.port()) + "/healthz"), "");
  server.stop();
  // A key that does not exist: a clear error at start.
  HttpServerOptions bad = o;
  bad.tls_private_key_file = (dir / "missing.pem").string();
  HttpServer broken(router, bad);
  try {
    broken.start();
    ADD_FAILURE() << "started without its key";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot load the TLS private key"), std::string::npos) << e.what();
  }
  std::filesystem::remove_all(dir);
}

TEST(HttpServerLifecycle, StopDrainsRequestsInProgress) {
  Router router;
  std::atomic<bool> entered{false};
  std::promise<void> release;  // the slow request is in progress until the test sees stop() draining
  std::shared_future<void> released = release.get_future().share();
  router.add("GET", "/slow", [&entered, released](const HttpRequest&) {
    entered = true;
    released.wait_for(std::chrono::seconds(30));  // bounded: a failing test must not hang here
    return HttpResponse::json("{\"done\":true}");
  });
  router.add("GET", "/fast", [](const HttpRequest&) { return HttpResponse::json("{}"); });
  HttpServerOptions o;
  o.port = 0;
  HttpServer server(router, o);
  server.start();
  const std::uint16_t port = server.port();
  testing::HttpConnection idle(port);
  EXPECT_EQ(idle.request("GET", "/fast").status, 200);  // kept alive, then idle
  auto slow = std::async(std::launch::async, [port] { return testing::http_get(port, "/slow"); });
  while (!entered) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  auto stopping = std::async(std::launch::async, [&server] { server.stop(5000); });
  EXPECT_TRUE(idle.closed_by_peer());  // blocks until stop() drains, the slow request still running
  release.set_value();
  stopping.get();
  const auto reply = slow.get();
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, "{\"done\":true}");
  EXPECT_NE(reply.headers.find("Connection: close"), std::string::npos) << reply.headers;
  EXPECT_THROW(testing::HttpConnection refused(port), std::runtime_error);
}

}  // namespace oee::server
