// The HTTP server on a real loopback socket (port 0): normal and keep-alive requests,
// HEAD, and every way a client can misbehave — garbage, oversized bodies and headers,
// stalling, too many connections — plus stop(), listen errors and a throwing handler.
// The client is plain POSIX sockets so that it shares no code with the server.
#include "daemon/http_server.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <cctype>
#include <chrono>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>

namespace boundwise {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// A connected client socket with a receive timeout, so a broken server fails the
// test instead of hanging it.
class Client {
 public:
  explicit Client(std::uint16_t port, int recv_timeout_ms = 5000) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{recv_timeout_ms / 1000, (recv_timeout_ms % 1000) * 1000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~Client() { close(); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return connected_; }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  bool send(const std::string& data) {
    std::size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ::send(fd_, data.data() + done, data.size() - done, MSG_NOSIGNAL);
      if (n <= 0) return false;
      done += static_cast<std::size_t>(n);
    }
    return true;
  }

  struct Response {
    bool complete = false;
    int status = 0;
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;
  };

  // Reads one response; the body by Content-Length, none when `head`.
  Response read_response(bool head = false) {
    Response r;
    std::size_t end;
    while ((end = pending_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) return r;
    }
    std::string head_text = pending_.substr(0, end);
    pending_.erase(0, end + 4);
    std::size_t line_end = head_text.find("\r\n");
    std::string status_line = head_text.substr(0, line_end);
    if (status_line.rfind("HTTP/1.", 0) != 0 || status_line.size() < 12) return r;
    r.status = std::stoi(status_line.substr(9, 3));
    std::size_t pos = line_end == std::string::npos ? head_text.size() : line_end + 2;
    while (pos < head_text.size()) {
      std::size_t next = head_text.find("\r\n", pos);
      if (next == std::string::npos) next = head_text.size();
      std::string line = head_text.substr(pos, next - pos);
      std::size_t colon = line.find(':');
      if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        std::size_t v = line.find_first_not_of(' ', colon + 1);
        r.headers[name] = v == std::string::npos ? "" : line.substr(v);
      }
      pos = next + 2;
    }
    std::size_t length =
        r.headers.count("content-length") ? std::stoul(r.headers["content-length"]) : 0;
    if (!head) {
      while (pending_.size() < length) {
        if (!fill()) return r;
      }
      r.body = pending_.substr(0, length);
      pending_.erase(0, length);
    }
    r.complete = true;
    return r;
  }

  // True if the server closed the connection (EOF) before the receive timeout, with
  // no further bytes.
  bool closed_by_server() {
    if (!pending_.empty()) return false;
    char c;
    ssize_t n = ::recv(fd_, &c, 1, 0);
    return n == 0 || (n < 0 && errno == ECONNRESET);
  }

 private:
  bool fill() {
    char buf[4096];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return false;
    pending_.append(buf, static_cast<std::size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  std::string pending_;
};

// A server on 127.0.0.1:0 whose io_context runs on a thread of its own.
class Server {
 public:
  explicit Server(HttpLimits limits = {}, HttpServer::Handler handler = {},
                  std::function<bool(const HttpRequest&)> is_slow = {})
      : work_(asio::make_work_guard(io_)) {
    if (!handler) {
      handler = [this](const HttpRequest& r) {
        ++calls;
        if (r.target == "/throw") throw std::runtime_error("handler bug");
        HttpResponse res;
        res.content_type = "text/plain; charset=utf-8";
        res.body = "hello " + r.method + " " + r.target;
        return res;
      };
    }
    server_ = std::make_unique<HttpServer>(io_, std::move(handler), limits);
    if (is_slow) server_->set_slow_path(std::move(is_slow));
    Status st = server_->listen("127.0.0.1", 0);
    if (!st) throw std::runtime_error(st.error().message);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~Server() {
    // stop() before releasing the work guard: once the guard is gone, an io_context
    // with nothing pending returns from run() and a posted stop() would never run.
    stop();
    work_.reset();
    io_.stop();
    thread_.join();
  }
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  std::uint16_t port() const { return server_->port(); }

  // HttpServer is used from its io_context thread only.
  void stop() {
    std::promise<void> done;
    asio::post(io_, [&] {
      server_->stop();
      done.set_value();
    });
    done.get_future().wait();
  }

  std::atomic<int> calls{0};

 private:
  asio::io_context io_{1};
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
};

// The slow path: a request it picks waits in the handler on a gate this test opens;
// meanwhile another client is answered, and a slow request beyond max_slow_pending is
// refused at once.
TEST(HttpServer, SlowRequestsRunOffTheServerThreadAndAreBounded) {
  std::promise<void> gate;
  std::shared_future<void> opened = gate.get_future().share();
  std::atomic<bool> entered{false};
  HttpLimits limits;
  limits.max_slow_pending = 1;
  Server server(
      limits,
      [opened, &entered](const HttpRequest& r) {
        if (r.target == "/slow") {
          entered = true;
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
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!entered && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  ASSERT_TRUE(entered) << "the slow request never reached the handler";
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

TEST(HttpServer, StalledRequestGets408WithinTheTimeout) {
  HttpLimits limits;
  limits.read_timeout_ms = 300;
  Server server(limits);
  Client c(server.port());
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(c.send("GET /x HTTP/1.1\r\nHost: x\r\n"));  // half a header, then silence
  auto r = c.read_response();
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(r.complete);
  EXPECT_EQ(r.status, 408);
  EXPECT_GE(elapsed, 250ms);
  EXPECT_LT(elapsed, 3s);
  EXPECT_TRUE(c.closed_by_server());
}

TEST(HttpServer, IdleKeepAliveIsClosedQuietly) {
  HttpLimits limits;
  limits.read_timeout_ms = 300;
  Server server(limits);
  Client c(server.port());
  ASSERT_TRUE(c.send("GET /x HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_EQ(c.read_response().status, 200);
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(c.closed_by_server());  // no 408 for a client that was between requests
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
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

  // A slot frees once a client leaves.
  a.reset();
  bool served = false;
  for (int attempt = 0; attempt < 50 && !served; ++attempt) {
    Client again(server.port());
    again.send("GET /c HTTP/1.1\r\nHost: x\r\n\r\n");
    served = again.read_response().status == 200;
    if (!served) std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(served);
}

// Disabled: hung (60 s timeout) in a clean-clone CI run on a loaded machine while it
// passed in a developer build; the race between stop() on the test thread and the
// server's io thread is not understood yet. The shutdown path is exercised by the
// integration tests (SIGTERM of the agent).
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
  for (int i = 0; i < 20; ++i) io.run_for(5ms);  // accept and start reading
  server.reset();
  io.restart();
  io.run_for(50ms);
  EXPECT_LE(calls, 1);
  EXPECT_TRUE(idle.closed_by_server());
}

}  // namespace
}  // namespace boundwise
