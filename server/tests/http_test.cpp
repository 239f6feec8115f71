#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "http_client.h"
#include "websocket_client.h"
#include "oee/server/http_server.h"

namespace oee::server {

namespace {
class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.add("GET", "/hello", [](const HttpRequest& r) {
      return HttpResponse::json("{\"name\":\"" + std::string(r.query_value("name").value_or("?")) + "\"}");
    });
    router_.add("POST", "/echo", [](const HttpRequest& r) {
      HttpResponse out;
      out.content_type = "text/plain";
      out.body = r.body + "|" + std::string(r.header("x-test").value_or(""));
      return out;
    });
    router_.add("GET", "/boom", [](const HttpRequest&) -> HttpResponse { throw std::runtime_error("kaputt"); });
    router_.add_prefix("GET", "/static/", [](const HttpRequest& r) { return HttpResponse::json("\"" + r.path + "\""); });
    HttpServerOptions o;
    o.port = 0;
    o.body_bytes_max = 1024;
    server_ = std::make_unique<HttpServer>(router_, o);
    server_->start();
  }
  Router router_;
  std::unique_ptr<HttpServer> server_;
};
}  // namespace

TEST_F(HttpServerTest, RoutesDecodesAndKeepsTheConnectionAlive) {
  testing::HttpConnection c(server_->port());
  auto r = c.request("GET", "/hello?name=J%C3%BCrgen+M");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "{\"name\":\"Jürgen M\"}");
  EXPECT_NE(r.headers.find("Content-Type: application/json"), std::string::npos);
  r = c.request("POST", "/echo", "payload", "X-Test: yes\r\n");  // same connection
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "payload|yes");
  r = c.request("GET", "/static/app/main.js");
  EXPECT_EQ(r.body, "\"/static/app/main.js\"");
  r = c.request("HEAD", "/hello");
  EXPECT_EQ(r.status, 200);
}

TEST_F(HttpServerTest, ErrorsHaveOneShape) {
  testing::HttpConnection c(server_->port());
  auto r = c.request("GET", "/nope");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, "{\"error\":{\"code\":\"not_found\",\"message\":\"no such route: /nope\"}}");
  r = c.request("DELETE", "/hello");
  EXPECT_EQ(r.status, 405);
  r = c.request("GET", "/hello?name=%zz");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("malformed query string"), std::string::npos);
  // A handler's exception: the client gets a code and a request id, the log gets the cause.
  ::testing::internal::CaptureStdout();
  r = c.request("GET", "/boom");
  const std::string log = ::testing::internal::GetCapturedStdout();
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body.find("kaputt"), std::string::npos) << r.body;
  const std::string prefix = "{\"error\":{\"code\":\"internal\",\"message\":\"the server failed to answer this request\",\"request_id\":\"";
  ASSERT_EQ(r.body.rfind(prefix, 0), 0u) << r.body;
  const std::string id = r.body.substr(prefix.size(), 16);
  EXPECT_NE(r.headers.find("X-Request-Id: " + id), std::string::npos) << r.headers;
  EXPECT_NE(log.find("request_id=" + id + " method=GET path=/boom status=500 code=internal cause=kaputt"), std::string::npos) << log;
}

TEST_F(HttpServerTest, OversizedAndMalformedRequestsAreAnsweredAndClosed) {
  {
    testing::HttpConnection c(server_->port());
    auto r = c.request("POST", "/echo", std::string(4096, 'x'));
    EXPECT_EQ(r.status, 413);
    EXPECT_TRUE(c.closed_by_peer());
  }
  {
    testing::HttpConnection c(server_->port());
    c.send_raw("THIS IS NOT HTTP\r\n\r\n");
    auto r = c.read_reply();
    EXPECT_EQ(r.status, 400);
  }
  // The server still serves others.
  EXPECT_EQ(testing::http_get(server_->port(), "/hello").status, 200);
}

TEST(HttpQuery, ParsesAndRejects) {
  std::map<std::string, std::string, std::less<>> q;
  EXPECT_TRUE(parse_query_string("a=1&b=x%20y&c=&d&&e=a+b", q));
  EXPECT_EQ(q["a"], "1");
  EXPECT_EQ(q["b"], "x y");
  EXPECT_EQ(q["c"], "");
  EXPECT_EQ(q["e"], "a b");
  EXPECT_TRUE(q.count("d"));
  EXPECT_FALSE(parse_query_string("a=%4", q));
  EXPECT_FALSE(parse_query_string("a=%g0", q));
}

TEST(HttpServerBlockingRoutes, OtherConnectionsAreAnsweredWhileABlockingHandlerRuns) {
  // One I/O thread: were the blocking handler run on it, nothing else could be answered until it
  // returns. The handler waits for the test's release (bounded, so a regression fails, not hangs).
  std::mutex mutex;
  std::condition_variable changed;
  bool entered = false, released = false;
  Router router;
  router.add("GET", "/quick", [](const HttpRequest&) { return HttpResponse::json("\"quick\""); });
  router.add_blocking("POST", "/slow", [&](const HttpRequest&) {
    std::unique_lock lock(mutex);
    entered = true;
    changed.notify_all();
    changed.wait_for(lock, std::chrono::seconds(30), [&] { return released; });
    return HttpResponse::json(released ? "\"released\"" : "\"not released\"");
  });
  EXPECT_TRUE(router.blocking(HttpRequest{"POST", "/slow", {}, {}, {}, {}}));
  EXPECT_FALSE(router.blocking(HttpRequest{"GET", "/quick", {}, {}, {}, {}}));
  HttpServerOptions o;
  o.port = 0;
  o.threads = 1;
  o.blocking_threads = 1;
  o.blocking_requests_max = 1;
  HttpServer server(router, o);
  server.start();
  testing::HttpConnection slow(server.port());
  slow.send_raw("POST /slow HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n");
  {
    std::unique_lock lock(mutex);
    ASSERT_TRUE(changed.wait_for(lock, std::chrono::seconds(30), [&] { return entered; }));
  }
  // While the handler blocks, other connections are answered...
  EXPECT_EQ(testing::http_get(server.port(), "/quick").body, "\"quick\"");
  testing::HttpConnection c(server.port());
  EXPECT_EQ(c.request("GET", "/quick").status, 200);
  // ...and a blocking request beyond the limit is refused at once rather than queued.
  const auto busy = c.request("POST", "/slow");
  EXPECT_EQ(busy.status, 503);
  EXPECT_NE(busy.headers.find("Retry-After: 1"), std::string::npos);
  {
    std::lock_guard lock(mutex);
    EXPECT_FALSE(released);  // all of the above happened while the handler was still running
    released = true;
  }
  changed.notify_all();
  EXPECT_EQ(slow.read_reply().body, "\"released\"");
  // The connection stays usable after an answer from the blocking pool.
  EXPECT_EQ(slow.request("GET", "/quick").status, 200);
}

TEST(WebSocketFanOut, SendToAllReachesEveryClientInOrderAndCoalesces) {
  // Two I/O threads, clients dealt to both: send_to_all hands each thread its clients in one batch.
  std::mutex mutex;
  std::vector<std::shared_ptr<WebSocketConnection>> connections;
  Router router;
  router.add_websocket("/live", [&](const HttpRequest&, std::shared_ptr<WebSocketConnection> c) {
    if (c) {
      std::lock_guard lock(mutex);
      connections.push_back(std::move(c));
    }
    return WebSocketAcceptance{};
  });
  HttpServerOptions o;
  o.port = 0;
  o.threads = 2;
  HttpServer server(router, o);
  server.start();
  std::vector<std::unique_ptr<testing::WebSocketClient>> clients;
  for (int i = 0; i < 6; ++i) {
    clients.push_back(std::make_unique<testing::WebSocketClient>(server.port(), "/live"));
    ASSERT_EQ(clients.back()->status, 101);
  }
  // Another implementation of WebSocketConnection gets plain send() calls.
  struct Recorder : WebSocketConnection {
    std::vector<std::string> got;
    bool send(std::shared_ptr<const std::string> text, std::string_view) override {
      got.push_back(*text);
      return true;
    }
    void close() override {}
  };
  auto recorder = std::make_shared<Recorder>();
  std::vector<std::shared_ptr<WebSocketConnection>> all;
  {
    std::lock_guard lock(mutex);
    ASSERT_EQ(connections.size(), 6u);
    all = connections;
  }
  all.push_back(recorder);
  send_to_all(all, std::make_shared<const std::string>("one"));
  send_to_all(all, std::make_shared<const std::string>("two"), "k");
  send_to_all(all, std::make_shared<const std::string>("three"), "k");  // may replace a waiting "two"
  for (auto& c : clients) {
    EXPECT_EQ(c->receive(), "one");
    auto next = c->receive();
    if (next == "two") next = c->receive();
    EXPECT_EQ(next, "three");
  }
  EXPECT_EQ(recorder->got, (std::vector<std::string>{"one", "two", "three"}));
  {
    std::lock_guard lock(mutex);
    connections.clear();
  }
}

}  // namespace oee::server
