// The one HTTP server of the agent (Boost.Beast on the agent's io_context): serves
// every endpoint through a handler function, with a body limit, header limit, read
// timeout and connection cap. Malformed → 400, oversized → 413, slow → 408; the
// connection is then closed.
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "classifier/result.hpp"
#include "daemon/http_handler.hpp"
#include "daemon/http_request.hpp"

namespace boundwise {

class HttpServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;

  HttpServer(boost::asio::io_context& io, Handler handler, HttpLimits limits = {});
  ~HttpServer();

  // Serve HTTPS with this PEM certificate chain and key (call before listen()).
  // Error: the files cannot be loaded or do not match.
  Status enable_tls(const std::string& cert_file, const std::string& key_file);
  // Binds and starts accepting. Error: "listen 127.0.0.1:9977: Address already in use".
  Status listen(const std::string& host, std::uint16_t port);
  // The bound port (useful when listening on port 0).
  std::uint16_t port() const;
  // Requests for which `is_slow` holds (called on the server's thread: it must be
  // cheap) are handled on a worker thread of the server's, one at a time, at most
  // HttpLimits::max_slow_pending waiting (503 beyond), so that a slow handler (a
  // bcrypt check of basic-auth credentials) never delays other clients' answers. The
  // handler must then be safe to call from that thread and the server's at once.
  // Call before listen().
  void set_slow_path(std::function<bool(const HttpRequest&)> is_slow);
  // Stops accepting, closes open connections, and waits for a slow request in
  // progress.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace boundwise
