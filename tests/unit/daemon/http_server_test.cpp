// The HTTP server on a real loopback socket (port 0): normal and keep-alive requests,
// HEAD, and every way a client can misbehave — garbage, oversized bodies and headers,
// too many connections — plus stop(), listen errors and a throwing handler. The
// client is plain POSIX sockets so that it shares no code with the server
// (tests/lib/http_loopback.hpp). What waits out the read timeout (a stalled request, an
// idle keep-alive connection) is in the integration tier:
// tests/integration/native/daemon/http_server_timeouts_test.cpp.
#include "daemon/http_server.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <string>

#include "tests/lib/http_loopback.hpp"
#include "tests/lib/wait_until.hpp"

namespace boundwise {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using test::Client;
using test::Server;

// The slow path: a request it picks waits in the handler on a gate this test opens;
// meanwhile another client is answered, and a slow request beyond max_slow_pending is
// refused at once.
TEST(HttpServer, SlowRequestsRunOffTheServerThreadAndAreBounded) {
  std::promise<void> gate;
  std::shared_future<void> opened = gate.get_future().share();
  std::promise<void> entered;
  std::future<void> has_entered = entered.get_future();
  std::once_flag entered_once;
  HttpLimits limits;
  limits.max_slow_pending = 1;
  Server server(
      limits,
      [opened, &entered, &entered_once](const HttpRequest& r) {
        if (r.target == "/slow") {
          std::call_once(entered_once, [&] { entered.set_value(); });
          opened.wait();
        }
        HttpResponse res;
        res.body = "done " + r.target;
        return res;
      },
      [](const HttpRequest& r) { return r.target == "/slow"; });
  const std::string slow_request = "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n";
  Client slow(server.port());
  ASSERT_TRUE(slow.send(slow_request));
  ASSERT_EQ(has_entered.wait_for(5s), std::future_status::ready)
      << "the slow request never reached the handler";
  Client refused(server.port());
  ASSERT_TRUE(refused.send(slow_request));
  EXPECT_EQ(refused.read_response().status, 503);  // at once, not after the gate
  Client fast(server.port());
  ASSERT_TRUE(fast.send("GET /fast HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto f = fast.read_response();  // answered while the slow handler still blocks
  EXPECT_EQ(f.status, 200);
  EXPECT_EQ(f.body, "done /fast");
  gate.set_value();
  auto r = slow.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "done /slow");
}

TEST(HttpServer, AnswersAGet) {
  Server server;
  ASSERT_NE(server.port(), 0);
  Client c(server.port());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.send("GET /recommend?workload=a HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto r = c.read_response();
  ASSERT_TRUE(r.complete);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "hello GET /recommend?workload=a");
  EXPECT_EQ(r.headers["content-type"], "text/plain; charset=utf-8");
  EXPECT_EQ(r.headers["server"], "boundwise");
}

TEST(HttpServer, KeepAliveServesSeveralRequestsOnOneConnection) {
  Server server;
  Client c(server.port());
  ASSERT_TRUE(c.send("GET /a HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto first = c.read_response();
  ASSERT_TRUE(first.complete);
  EXPECT_EQ(first.body, "hello GET /a");
  EXPECT_NE(first.headers["connection"], "close");
  ASSERT_TRUE(c.send("GET /b HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto second = c.read_response();
  ASSERT_TRUE(second.complete);
  EXPECT_EQ(second.body, "hello GET /b");
  EXPECT_EQ(server.calls.load(), 2);
}

TEST(HttpServer, PipelinedRequestsAreAnsweredInOrder) {
  Server server;
  Client c(server.port());
  ASSERT_TRUE(c.send("GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(c.read_response().body, "hello GET /1");
  EXPECT_EQ(c.read_response().body, "hello GET /2");
}

TEST(HttpServer, ConnectionCloseAndHttp10CloseAfterTheResponse) {
  Server server;
  Client a(server.port());
  ASSERT_TRUE(a.send("GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  EXPECT_EQ(a.read_response().status, 200);
  EXPECT_TRUE(a.closed_by_server());
  Client b(server.port());
  ASSERT_TRUE(b.send("GET /b HTTP/1.0\r\n\r\n"));
  EXPECT_EQ(b.read_response().body, "hello GET /b");
  EXPECT_TRUE(b.closed_by_server());
}

TEST(HttpServer, HeadSendsTheLengthButNoBody) {
  Server server;
  Client c(server.port());
  ASSERT_TRUE(c.send("HEAD /x HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto head = c.read_response(/*head=*/true);
  ASSERT_TRUE(head.complete);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.headers["content-length"], std::to_string(std::string("hello HEAD /x").size()));
  // Had a body been sent, it would be read as the start of the next response.
  ASSERT_TRUE(c.send("GET /y HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto next = c.read_response();
  ASSERT_TRUE(next.complete);
  EXPECT_EQ(next.status, 200);
  EXPECT_EQ(next.body, "hello GET /y");
}

TEST(HttpServer, GarbageGets400AndIsClosed) {
  Server server;
  Client c(server.port());
  ASSERT_TRUE(c.send(std::string("\x16\x03\x01\x02\x00garbage\r\n\r\n", 16)));
  auto r = c.read_response();
  ASSERT_TRUE(r.complete);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.headers["connection"], "close");
  EXPECT_TRUE(c.closed_by_server());
  EXPECT_EQ(server.calls.load(), 0);
}

TEST(HttpServer, OversizedBodyGets413AndIsClosed) {
  HttpLimits limits;
  limits.max_body_bytes = 1024;
  Server server(limits);
  Client c(server.port());
  ASSERT_TRUE(c.send("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" +
                     std::string(2048, 'a')));
  auto r = c.read_response();
  ASSERT_TRUE(r.complete);
  EXPECT_EQ(r.status, 413);
  EXPECT_TRUE(c.closed_by_server());
  EXPECT_EQ(server.calls.load(), 0);
}

TEST(HttpServer, BodyWithinTheLimitIsAccepted) {
  HttpLimits limits;
  limits.max_body_bytes = 1024;
  Server server(limits);
  Client c(server.port());
  ASSERT_TRUE(
      c.send("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 512\r\n\r\n" + std::string(512, 'a')));
  auto r = c.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "hello POST /x");
}

TEST(HttpServer, OversizedHeaderGets431) {
  HttpLimits limits;
  limits.max_header_bytes = 1024;
  Server server(limits);
  Client c(server.port());
  ASSERT_TRUE(
      c.send("GET /x HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(4096, 'b') + "\r\n\r\n"));
  auto r = c.read_response();
  ASSERT_TRUE(r.complete);
  EXPECT_EQ(r.status, 431);
  EXPECT_TRUE(c.closed_by_server());
}

TEST(HttpServer, ConnectionsOverTheCapGet503) {
  HttpLimits limits;
  limits.max_connections = 2;
  Server server(limits);
  // Two served connections, proven open by a keep-alive request each.
  auto a = std::make_unique<Client>(server.port());
  Client b(server.port());
  ASSERT_TRUE(a->send("GET /a HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_EQ(a->read_response().status, 200);
  ASSERT_TRUE(b.send("GET /b HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_EQ(b.read_response().status, 200);

  Client over(server.port());
  ASSERT_TRUE(over.connected());
  auto rejected = over.read_response();
  ASSERT_TRUE(rejected.complete);
  EXPECT_EQ(rejected.status, 503);
  EXPECT_TRUE(over.closed_by_server());

  // A slot frees once the server has seen a client leave.
  a.reset();
  EXPECT_TRUE(test::wait_until(
      [&] {
        Client again(server.port());
        again.send("GET /c HTTP/1.1\r\nHost: x\r\n\r\n");
        return again.read_response().status == 200;
      },
      5s));
}

// stop(), posted from the test thread to the server's: open connections are closed
// and the port no longer accepts.
TEST(HttpServer, StopClosesConnectionsAndTheListener) {
  Server server;
  std::uint16_t port = server.port();
  Client c(port);
  ASSERT_TRUE(c.send("GET /x HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_EQ(c.read_response().status, 200);
  server.stop();
  EXPECT_TRUE(c.closed_by_server());
  Client late(port);
  EXPECT_FALSE(late.connected());
}

TEST(HttpServer, AThrowingHandlerCostsOneRequest) {
  Server server;
  Client c(server.port());
  ASSERT_TRUE(c.send("GET /throw HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(c.read_response().status, 500);
  Client d(server.port());
  ASSERT_TRUE(d.send("GET /fine HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(d.read_response().body, "hello GET /fine");
}

TEST(HttpServer, ResponseStatusAndAllowComeFromTheHandler) {
  Server server({}, [](const HttpRequest&) {
    HttpResponse r;
    r.status = 405;
    r.allow = "GET, HEAD";
    r.content_type = "application/json";
    r.body = "{}";
    return r;
  });
  Client c(server.port());
  ASSERT_TRUE(c.send("DELETE /metrics HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto r = c.read_response();
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.headers["allow"], "GET, HEAD");
  EXPECT_EQ(r.headers["content-type"], "application/json");
}

TEST(HttpServer, ListenErrorsSayWhereAndWhy) {
  Server taken;
  asio::io_context io;
  HttpServer second(io, [](const HttpRequest&) { return HttpResponse{}; });
  Status st = second.listen("127.0.0.1", taken.port());
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message,
            "listen 127.0.0.1:" + std::to_string(taken.port()) + ": Address already in use");
  Status bad = second.listen("not-an-address", 80);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message.rfind("listen not-an-address:80: ", 0), 0u) << bad.error().message;
}

TEST(HttpServer, DestroyedWithOpenConnectionsBeforeItsIoContext) {
  // The agent's order: the server dies first, the io_context's queued handlers later.
  // Their sessions must not reach back into the destroyed server (ASan builds check).
  asio::io_context io;
  int calls = 0;
  auto server = std::make_unique<HttpServer>(io, [&calls](const HttpRequest&) {
    ++calls;
    return HttpResponse{};
  });
  ASSERT_TRUE(server->listen("127.0.0.1", 0));
  std::uint16_t port = server->port();
  Client idle(port);
  Client half(port);
  half.send("GET / HTTP/1.1\r\n");
  Client full(port);
  full.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  // Accepted in order, so once the complete request has been handled the idle and the
  // half-sent connections have sessions reading too.
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (calls == 0 && std::chrono::steady_clock::now() < deadline) io.run_one_for(100ms);
  ASSERT_EQ(calls, 1) << "the complete request never reached the handler";
  server.reset();
  io.restart();
  // What the server left queued (aborted reads, the pending response) runs now; the
  // io_context then runs out of work, since stop() closed every session.
  io.run_for(5s);
  EXPECT_TRUE(io.stopped()) << "handlers still pending 5 s after the server was destroyed";
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(idle.closed_by_server());
}

}  // namespace
}  // namespace boundwise
