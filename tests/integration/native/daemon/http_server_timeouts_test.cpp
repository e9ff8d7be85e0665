// The HTTP server's read timeout on a real loopback socket: a stalled request gets 408
// and an idle keep-alive connection is closed quietly. Each waits out the timeout on
// the wall clock, hence this tier; the rest of the server's tests are unit tests
// (tests/unit/daemon/http_server_test.cpp), with the same client and server fixture.
#include <gtest/gtest.h>

#include <chrono>

#include "daemon/http_server.hpp"
#include "tests/lib/http_loopback.hpp"

namespace boundwise {
namespace {

using namespace std::chrono_literals;
using test::Client;
using test::Server;

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

}  // namespace
}  // namespace boundwise
