// The agent end to end in one process: windows close on the collection thread while
// the HTTP thread serves /metrics, /recommend and /readyz from what each close
// published. Run under ThreadSanitizer in CI (tests/run-all.sh), this is the test
// that the two threads share only immutable snapshots. The agent watches the test
// process itself with procfs and node only (no privilege needed), on the live /proc
// and the wall clock (five 200 ms windows), hence the integration tier.
#include "daemon/agent.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

namespace boundwise {
namespace {

using namespace std::chrono_literals;

std::uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// One GET over a fresh connection; the whole response, or "" when it failed.
std::string get(std::uint16_t port, const std::string& path) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    std::string request = "GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
        static_cast<ssize_t>(request.size())) {
      char buf[65536];
      ssize_t n;
      while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) out.append(buf, static_cast<std::size_t>(n));
    }
  }
  ::close(fd);
  return out;
}

TEST(Agent, HttpServesPublishedSnapshotsWhileWindowsClose) {
  Config config;
  config.listen_port = free_port();
  config.window = 200ms;
  config.discovery_interval = 100ms;
  config.sample_rate_hz = 50;
  config.targets = {TargetSelector{.name = "self", .pid = ::getpid()}};
  config.collectors_enabled = {{"ebpf", false}, {"python", false}};
  config.log_level = "warn";
  Agent agent(config);
  ASSERT_TRUE(agent.start().ok());
  std::thread runner([&] { agent.run(); });

  // Poll every endpoint from this thread while windows close on the agent's.
  bool ready = false;
  int windows_seen = 0;
  std::string metrics;
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline && windows_seen < 5) {
    metrics = get(config.listen_port, "/metrics");
    ASSERT_NE(metrics.find("HTTP/1.1 200"), std::string::npos) << metrics.substr(0, 200);
    auto at = metrics.find("\nboundwise_windows_total ");
    if (at != std::string::npos) {
      windows_seen = std::stoi(metrics.substr(at + 25));
    }
    std::string recommend = get(config.listen_port, "/recommend");
    ASSERT_NE(recommend.find("HTTP/1.1 200"), std::string::npos) << recommend.substr(0, 200);
    ready = ready || get(config.listen_port, "/readyz").find("HTTP/1.1 200") != std::string::npos;
  }
  agent.stop();
  runner.join();
  EXPECT_GE(windows_seen, 5) << "windows stopped closing";
  EXPECT_TRUE(ready);
  // Where the agent's own time went, by stage.
  for (const char* stage : {"discovery", "sampling", "assembly", "classify", "publish", "http"}) {
    EXPECT_NE(metrics.find("boundwise_agent_stage_seconds_total{stage=\"" + std::string(stage)),
              std::string::npos)
        << stage;
  }
}

}  // namespace
}  // namespace boundwise
