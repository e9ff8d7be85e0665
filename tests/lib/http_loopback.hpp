// The HTTP server's tests on a real loopback socket (tests/unit/daemon/http_server_test.cpp
// and, for the ones that wait out its timeouts, tests/integration/native/daemon/): a
// client of plain POSIX sockets, so that it shares no code with the server, and a
// server on 127.0.0.1:0 whose io_context runs on a thread of its own.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>

#include "daemon/http_server.hpp"

namespace boundwise::test {

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
      : work_(boost::asio::make_work_guard(io_)) {
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
    boost::asio::post(io_, [&] {
      server_->stop();
      done.set_value();
    });
    done.get_future().wait();
  }

  std::atomic<int> calls{0};

 private:
  boost::asio::io_context io_{1};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
};

}  // namespace boundwise::test
