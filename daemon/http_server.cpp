// The Beast HTTP server. The only translation unit that includes Beast (it is slow to
// compile). Sessions are callback-driven on the server's io_context thread; requests
// on the slow path are handled on a one-thread pool and answered back on it.
#include "daemon/http_server.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <list>
#include <optional>
#include <type_traits>
#include <utility>

namespace boundwise {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

std::shared_ptr<spdlog::logger> log() {
  auto l = spdlog::get("http");
  return l ? l : spdlog::default_logger();
}

const char* reason_text(int status) {
  switch (status) {
    case 400:
      return "malformed request";
    case 408:
      return "request not received in time";
    case 413:
      return "request body too large";
    case 431:
      return "request header too large";
    case 503:
      return "busy: too many connections or requests waiting";
    case 500:
      return "internal error";
    default:
      return "error";
  }
}

// State shared by the server and its pending operations. Sessions and the accept
// handler hold it by shared_ptr: in the agent the HttpServer is destroyed before the
// io_context, whose queued completion handlers still reference it until they are
// destroyed; a plain reference would be a use-after-free at shutdown.
class SessionBase {
 public:
  virtual ~SessionBase() = default;
  virtual void close() = 0;
};

struct Shared {
  Shared(asio::io_context& context, HttpServer::Handler h, HttpLimits l)
      : io(context), acceptor(context), handler(std::move(h)), limits(l) {}

  asio::io_context& io;
  tcp::acceptor acceptor;
  HttpServer::Handler handler;
  HttpLimits limits;
  std::optional<ssl::context> tls;  // set: every connection speaks TLS
  std::list<std::weak_ptr<SessionBase>> sessions;
  int active = 0;
  bool stopped = true;
  // The slow path: requests is_slow picks are handled on `slow_pool`.
  std::function<bool(const HttpRequest&)> is_slow;
  std::unique_ptr<asio::thread_pool> slow_pool;
  int slow_pending = 0;  // on the slow path, queued or running
};

// The handler's response; a throwing handler (a bug) costs that request a 500.
HttpResponse call_handler(Shared& server, const HttpRequest& request) {
  try {
    return server.handler(request);
  } catch (const std::exception& e) {
    log()->error("handler for {} {}: {}", request.method, request.target, e.what());
    HttpResponse r;
    r.status = 500;
    r.content_type = "application/json";
    r.body = "{\"error\":\"internal error\"}\n";
    return r;
  }
}

// One connection. Stream is beast::tcp_stream (plain HTTP) or an ssl_stream over it.
// A response whose body is a view of a shared string: the pre-rendered /metrics and
// /recommend are written without a per-response copy (the copy, and the page faults
// of a fresh buffer for it, were most of /recommend's tail latency; BENCHMARKS.md).
// The message keeps its text alive until the write completes.
struct Outgoing : http::response<http::span_body<char const>> {
  explicit Outgoing(std::shared_ptr<const std::string> text) : text_(std::move(text)) {
    body() = http::span_body<char const>::value_type(text_->data(), text_->size());
  }

 private:
  std::shared_ptr<const std::string> text_;
};

template <class Stream>
class Session : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

 public:
  template <class... StreamArgs>
  Session(std::shared_ptr<Shared> server, StreamArgs&&... args)
      : server_(std::move(server)),
        stream_(std::forward<StreamArgs>(args)...),
        read_timer_(server_->io) {
    ++server_->active;
  }
  ~Session() override { --server_->active; }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void start() {
    if constexpr (kTls) {
      // The handshake is bounded by the read timeout too: a client that connects and
      // says nothing must not hold a connection slot.
      arm_read_timer();
      stream_.async_handshake(ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                self->read_timer_.cancel();
                                if (ec || self->server_->stopped) {
                                  log()->debug("TLS handshake: {}", ec.message());
                                  self->close();
                                  return;
                                }
                                self->read();
                              });
    } else {
      read();
    }
  }

  void reject(int status) { write_error(status); }

  void close() override {
    read_timer_.cancel();
    // No TLS close_notify: the connection is going away either because the client
    // misbehaved or because the agent stops; the socket is closed either way.
    beast::error_code ec;
    socket().shutdown(tcp::socket::shutdown_both, ec);
    beast::get_lowest_layer(stream_).close();
  }

 private:
  tcp::socket& socket() { return beast::get_lowest_layer(stream_).socket(); }

  void arm_read_timer() {
    // Our own timer rather than tcp_stream's expiry: the stream's expiry closes the
    // socket, and a stalled client should still get its 408.
    beast::get_lowest_layer(stream_).expires_never();
    timed_out_ = false;
    read_timer_.expires_after(std::chrono::milliseconds(server_->limits.read_timeout_ms));
    read_timer_.async_wait([weak = this->weak_from_this()](beast::error_code ec) {
      auto self = weak.lock();
      if (ec || !self) return;
      self->timed_out_ = true;
      beast::error_code ignored;
      self->socket().cancel(ignored);
    });
  }

  void read() {
    parser_.emplace();
    apply_limits(*parser_, server_->limits);
    arm_read_timer();
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                       self->on_read(ec);
                     });
  }

  void on_read(beast::error_code ec) {
    read_timer_.cancel();
    if (server_->stopped) {
      // A read that completed just before stop(): the handler's state may be gone.
      close();
      return;
    }
    if (timed_out_) {
      // A connection that sent nothing at all after a response is an idle keep-alive:
      // close it quietly; one that stalled mid-request gets a 408.
      if (buffer_.size() == 0 && !parser_->got_some()) {
        close();
      } else {
        write_error(408);
      }
      return;
    }
    if (ec == http::error::end_of_stream || ec == asio::error::connection_reset ||
        ec == asio::error::operation_aborted || ec == asio::ssl::error::stream_truncated) {
      close();
      return;
    }
    if (ec) {
      write_error(status_for_parse_error(ec));
      return;
    }
    auto& req = parser_->get();
    HttpRequest request = to_request(req);
    const Reply reply{req.version(), req.keep_alive(), req.method() == http::verb::head};
    if (server_->is_slow && server_->slow_pool && server_->is_slow(request)) {
      if (server_->slow_pending >= server_->limits.max_slow_pending) {
        write_error(503);
        return;
      }
      ++server_->slow_pending;
      asio::post(*server_->slow_pool, [self = this->shared_from_this(), request, reply] {
        HttpResponse response = call_handler(*self->server_, request);
        asio::post(self->server_->io, [self, reply, response = std::move(response)]() mutable {
          --self->server_->slow_pending;
          if (self->server_->stopped) {
            self->close();
            return;
          }
          self->respond(std::move(response), reply);
        });
      });
      return;
    }
    respond(call_handler(*server_, request), reply);
  }

  // What a response must repeat of its request.
  struct Reply {
    unsigned version;
    bool keep_alive;
    bool head;
  };

  void respond(HttpResponse response, const Reply& reply) {
    auto res = std::make_shared<Outgoing>(
        response.shared_body ? response.shared_body
                             : std::make_shared<const std::string>(std::move(response.body)));
    res->version(reply.version);
    res->result(static_cast<unsigned>(response.status));
    res->set(http::field::server, "boundwise");
    res->set(http::field::content_type, response.content_type);
    if (!response.allow.empty()) res->set(http::field::allow, response.allow);
    if (!response.www_authenticate.empty()) {
      res->set(http::field::www_authenticate, response.www_authenticate);
    }
    if (!response.content_security_policy.empty()) {
      res->set("Content-Security-Policy", response.content_security_policy);
      res->set("X-Content-Type-Options", "nosniff");
    }
    res->keep_alive(reply.keep_alive);
    res->prepare_payload();
    // HEAD: the Content-Length of the GET answer, no body.
    if (reply.head) res->body() = {};
    write(res, !reply.keep_alive);
  }

  void write_error(int status) {
    auto res = std::make_shared<Outgoing>(std::make_shared<const std::string>(
        std::string("{\"error\":\"") + reason_text(status) + "\"}\n"));
    res->version(11);
    res->result(static_cast<unsigned>(status));
    res->set(http::field::server, "boundwise");
    res->set(http::field::content_type, "application/json");
    res->set(http::field::connection, "close");
    res->prepare_payload();
    write(res, true);
  }

  void write(const std::shared_ptr<Outgoing>& res, bool close_after) {
    beast::get_lowest_layer(stream_).expires_after(
        std::chrono::milliseconds(server_->limits.read_timeout_ms));
    http::async_write(
        stream_, *res,
        [self = this->shared_from_this(), res, close_after](beast::error_code ec, std::size_t) {
          if (ec || close_after || self->server_->stopped) {
            self->close();
            return;
          }
          self->read();
        });
  }

  std::shared_ptr<Shared> server_;
  Stream stream_;
  asio::steady_timer read_timer_;
  bool timed_out_ = false;
  beast::flat_buffer buffer_{std::size_t{64} * 1024};
  std::optional<RequestParser> parser_;
};

template <class S>
void serve(const std::shared_ptr<Shared>& server, const std::shared_ptr<S>& session) {
  server->sessions.push_back(session);
  // `active` counts this session too: the cap is on connections being served.
  if (server->active > server->limits.max_connections) {
    session->reject(503);
  } else {
    session->start();
  }
}

void accept(const std::shared_ptr<Shared>& server) {
  server->acceptor.async_accept([server](beast::error_code ec, tcp::socket socket) {
    if (server->stopped) return;
    if (ec) {
      if (ec == asio::error::operation_aborted) return;
      log()->warn("accept: {}", ec.message());
      if (ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space) {
        // Out of file descriptors: retrying at once would spin; back off briefly.
        auto timer =
            std::make_shared<asio::steady_timer>(server->io, std::chrono::milliseconds(100));
        timer->async_wait([server, timer](beast::error_code) {
          if (!server->stopped) accept(server);
        });
        return;
      }
      accept(server);
      return;
    }
    server->sessions.remove_if([](const auto& w) { return w.expired(); });
    if (server->tls) {
      serve(server, std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(
                        server, std::move(socket), *server->tls));
    } else {
      serve(server, std::make_shared<Session<beast::tcp_stream>>(server, std::move(socket)));
    }
    accept(server);
  });
}

}  // namespace

struct HttpServer::Impl {
  std::shared_ptr<Shared> shared;
};

HttpServer::HttpServer(asio::io_context& io, Handler handler, HttpLimits limits)
    : impl_(
          std::make_unique<Impl>(Impl{std::make_shared<Shared>(io, std::move(handler), limits)})) {}

HttpServer::~HttpServer() {
  stop();
  // Pending handlers may keep the shared state alive past us; what the handler
  // captured (the agent's state) may not be.
  impl_->shared->handler = nullptr;
}

Status HttpServer::enable_tls(const std::string& cert_file, const std::string& key_file) {
  ssl::context context(ssl::context::tls_server);
  // TLS 1.2 and 1.3 only; OpenSSL's default cipher list for them.
  context.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                      ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                      ssl::context::single_dh_use);
  beast::error_code ec;
  context.use_certificate_chain_file(cert_file, ec);
  if (ec) return Error{"TLS certificate " + cert_file + ": " + ec.message()};
  context.use_private_key_file(key_file, ssl::context::pem, ec);
  if (ec) return Error{"TLS key " + key_file + ": " + ec.message()};
  if (SSL_CTX_check_private_key(context.native_handle()) != 1) {
    return Error{"TLS key " + key_file + " does not match the certificate " + cert_file};
  }
  impl_->shared->tls.emplace(std::move(context));
  return Ok{};
}

Status HttpServer::listen(const std::string& host, std::uint16_t port) {
  std::string where =
      (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
  beast::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) return Error{"listen " + where + ": bad address: " + ec.message()};
  tcp::endpoint endpoint(address, port);
  auto& acceptor = impl_->shared->acceptor;
  if (acceptor.is_open()) return Error{"listen " + where + ": already listening"};
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    beast::error_code ignored;
    acceptor.close(ignored);
    return Error{"listen " + where + ": " + ec.message()};
  }
  impl_->shared->stopped = false;
  if (impl_->shared->is_slow && !impl_->shared->slow_pool) {
    impl_->shared->slow_pool = std::make_unique<asio::thread_pool>(1);
  }
  accept(impl_->shared);
  return Ok{};
}

void HttpServer::set_slow_path(std::function<bool(const HttpRequest&)> is_slow) {
  impl_->shared->is_slow = std::move(is_slow);
}

std::uint16_t HttpServer::port() const {
  beast::error_code ec;
  auto endpoint = impl_->shared->acceptor.local_endpoint(ec);
  return ec ? 0 : endpoint.port();
}

void HttpServer::stop() {
  Shared& s = *impl_->shared;
  if (s.stopped) return;
  s.stopped = true;
  beast::error_code ec;
  s.acceptor.close(ec);
  for (auto& weak : s.sessions) {
    if (auto session = weak.lock()) session->close();
  }
  s.sessions.clear();
  if (s.slow_pool) {
    // Queued slow requests are dropped (their connections are closed); one in progress
    // finishes first, so the handler is never called after stop() returns.
    s.slow_pool->stop();
    s.slow_pool->join();
    s.slow_pool.reset();
  }
}

}  // namespace boundwise
