// Pure parts of the ebpf net tool (collectors/ebpf/net_merge.hpp): kernel endpoint keys
// become the names procfs gives, cumulative counters become window deltas, and the
// window's histograms give the quantiles /recommend shows.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>

#include "classifier/histogram.hpp"
#include "classifier/window.hpp"
#include "collectors/ebpf/net_merge.hpp"

namespace boundwise::ebpf {
namespace {

bw_net_key v4_key(const char* addr, std::uint16_t port) {
  bw_net_key k{};
  k.workload = 1;
  k.family = BW_NET_FAMILY_V4;
  k.port = port;
  in_addr a{};
  inet_pton(AF_INET, addr, &a);
  std::memcpy(k.addr, &a, 4);
  return k;
}

bw_net_key v6_key(const char* addr, std::uint16_t port) {
  bw_net_key k{};
  k.workload = 1;
  k.family = BW_NET_FAMILY_V6;
  k.port = port;
  in6_addr a{};
  inet_pton(AF_INET6, addr, &a);
  std::memcpy(k.addr, &a, 16);
  return k;
}

TEST(NetEndpoint, KeysBecomeTheNamesProcfsGives) {
  const std::vector<DependencyRule> none;
  EXPECT_EQ(dependency_name(endpoint_of(v4_key("127.0.0.1", 5432)), none),
            "postgres 127.0.0.1:5432");
  EXPECT_EQ(dependency_name(endpoint_of(v4_key("10.1.2.3", 7000)), none), "10.1.2.3:7000");
  EXPECT_EQ(dependency_name(endpoint_of(v6_key("::1", 6379)), none), "redis [::1]:6379");
  // A dual-stack socket talking IPv4 is named like an IPv4 one.
  EXPECT_EQ(endpoint_of(v6_key("::ffff:10.0.0.5", 5432)).to_string(), "10.0.0.5:5432");
  auto rule = DependencyRule::parse("orders-db", "10.0.0.0/24:5432");
  ASSERT_TRUE(rule);
  EXPECT_EQ(dependency_name(endpoint_of(v6_key("::ffff:10.0.0.5", 5432)), {*rule}), "orders-db");
}

NetCounters with_requests(std::uint64_t n, std::uint64_t ns_each) {
  NetCounters c;
  c.req_slots[bw_latency_slot(ns_each)] = n;
  c.req_sum_ns = n * ns_each;
  c.requests = n;
  c.bytes_sent = 100 * n;
  c.bytes_received = 1000 * n;
  return c;
}

TEST(NetDelta, WindowDeltasScaledByTheAttachedFraction) {
  NetCounters before = with_requests(10, 200'000'000);
  NetCounters now = with_requests(30, 200'000'000);
  NetDelta d = net_delta(now, before, 0.5);
  EXPECT_EQ(d.request_latency.count(), 20u);  // a sample: not scaled
  EXPECT_NEAR(d.request_latency.sum_seconds, 4.0, 1e-9);
  EXPECT_DOUBLE_EQ(d.requests, 40);  // counts: divided by the attached fraction
  EXPECT_DOUBLE_EQ(d.bytes_sent, 4000);
  EXPECT_DOUBLE_EQ(d.bytes_received, 40000);
  EXPECT_EQ(d.connect_latency.count(), 0u);
}

TEST(NetDelta, CounterThatWentBackwardsRestartsFromZero) {
  NetDelta d = net_delta(with_requests(3, 1'000'000), with_requests(50, 1'000'000), 1.0);
  EXPECT_EQ(d.request_latency.count(), 3u);
  EXPECT_DOUBLE_EQ(d.requests, 3);
}

TEST(NetQuantiles, HistogramOf200msRequestsGivesP95Within10Percent) {
  NetCounters now;
  for (int i = 0; i < 95; ++i) now.req_slots[bw_latency_slot(200'000'000 + i * 100'000)] += 1;
  for (int i = 0; i < 5; ++i) now.req_slots[bw_latency_slot(2'000'000)] += 1;
  NetDelta d = net_delta(now, NetCounters{}, 1.0);
  auto q = histogram_quantiles(d.request_latency);
  ASSERT_TRUE(q);
  EXPECT_NEAR(q->p95, 0.2, 0.02);
  EXPECT_NEAR(q->p50, 0.2, 0.02);
}

NetDelta one_request(double seconds) {
  NetDelta d;
  d.request_latency.add(seconds);
  d.requests = 1;
  d.bytes_sent = 10;
  return d;
}

TEST(NetDependencies, LandsInTheDependencyProcfsCreated) {
  std::vector<DependencyWindow> deps(1);
  deps[0].name = "postgres 127.0.0.1:5432";
  deps[0].endpoint = "127.0.0.1:5432";
  deps[0].wait_seconds = 3;
  add_to_dependencies(deps, endpoint_of(v4_key("127.0.0.1", 5432)), one_request(0.2), {}, 10);
  ASSERT_EQ(deps.size(), 1u);
  ASSERT_TRUE(deps[0].request_latency);
  EXPECT_EQ(deps[0].request_latency->count(), 1u);
  EXPECT_EQ(deps[0].requests, 1u);
  EXPECT_EQ(deps[0].bytes_sent, 10u);
  EXPECT_FALSE(deps[0].connect_latency);  // nothing measured: stays unset
}

TEST(NetDependencies, NewOnesWithinTheCapThenOther) {
  std::vector<DependencyWindow> deps;
  add_to_dependencies(deps, endpoint_of(v4_key("10.0.0.1", 7000)), one_request(0.1), {}, 2);
  add_to_dependencies(deps, endpoint_of(v4_key("10.0.0.2", 7000)), one_request(0.1), {}, 2);
  add_to_dependencies(deps, endpoint_of(v4_key("10.0.0.3", 7000)), one_request(0.1), {}, 2);
  add_to_dependencies(deps, endpoint_of(v4_key("10.0.0.4", 7000)), one_request(0.1), {}, 2);
  ASSERT_EQ(deps.size(), 3u);
  EXPECT_EQ(deps[0].name, "10.0.0.1:7000");
  EXPECT_EQ(deps[1].name, "10.0.0.2:7000");
  EXPECT_EQ(deps[2].name, "other");
  EXPECT_EQ(deps[2].folded, 2);
  EXPECT_EQ(deps[2].requests, 2u);
  // A known name still lands in its own entry, and "other" stays last.
  add_to_dependencies(deps, endpoint_of(v4_key("10.0.0.1", 7000)), one_request(0.1), {}, 2);
  EXPECT_EQ(deps[0].requests, 2u);
}

TEST(NetDependencies, MeasuredLatencyReplacesTheProcfsEstimate) {
  WorkloadWindow w;
  DependencyWindow d;
  d.name = "http 127.0.0.1:8080";
  d.blocked_intervals_seconds = {1.0, 1.0, 1.0};  // a coarse procfs estimate
  w.dependencies.push_back(d);
  NetDelta m;
  for (int i = 0; i < 20; ++i) m.request_latency.add(0.2);
  add_to_dependencies(w.dependencies, endpoint_of(v4_key("127.0.0.1", 8080)), m, {}, 10);
  finalize_window(w);
  ASSERT_TRUE(w.dependencies[0].latency);
  EXPECT_NEAR(w.dependencies[0].latency->p95, 0.2, 0.02);
}

}  // namespace
}  // namespace boundwise::ebpf
