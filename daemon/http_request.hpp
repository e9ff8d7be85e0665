// From bytes on the wire to an HttpRequest: the Beast parser settings and the mapping
// of parse errors to status codes. Shared by the server and the HTTP fuzz target, so
// that what is fuzzed is what the server runs. Includes Beast: keep it out of headers
// that other translation units include.
#pragma once

#include <boost/beast/http.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>  // before Asio: Boost 1.74 + GCC 12 need std::exchange declared

#include "daemon/http_handler.hpp"

namespace boundwise {

struct HttpLimits {
  std::size_t max_header_bytes = std::size_t{8} * 1024;
  std::size_t max_body_bytes = std::size_t{16} * 1024;
  int read_timeout_ms = 5'000;
  int max_connections = 64;
  // Requests waiting for the slow path (HttpServer::set_slow_path) at most; beyond it
  // a request is answered 503 at once.
  int max_slow_pending = 4;
};

using RequestParser = boost::beast::http::request_parser<boost::beast::http::string_body>;

inline void apply_limits(RequestParser& parser, const HttpLimits& limits) {
  parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
  parser.body_limit(limits.max_body_bytes);
}

// The status a request that failed to parse gets: 413 body too large, 431 header
// too large, 400 anything else malformed.
inline int status_for_parse_error(const boost::beast::error_code& ec) {
  namespace http = boost::beast::http;
  if (ec == http::error::body_limit) return 413;
  if (ec == http::error::header_limit) return 431;
  return 400;
}

// What the endpoint handler sees of a parsed request.
inline HttpRequest to_request(const RequestParser::value_type& req) {
  HttpRequest r;
  r.method = std::string(req.method_string());
  r.target = std::string(req.target());
  r.authorization = std::string(req[boost::beast::http::field::authorization]);
  return r;
}

}  // namespace boundwise
