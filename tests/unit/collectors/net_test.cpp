// Pure parts of the ebpf net tool (collectors/ebpf/net_counters.hpp): kernel endpoint keys
// become the names procfs gives, cumulative counters become window deltas, and the
// window's histograms give the quantiles /recommend shows.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>

#include "classifier/histogram.hpp"
#include "classifier/window.hpp"
#include "collectors/ebpf/net_counters.hpp"

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

TEST(MeasuredDependency, WindowDeltasScaledByTheAttachedFraction) {
  NetCounters before = with_requests(10, 200'000'000);
  NetCounters now = with_requests(30, 200'000'000);
  auto window = net_delta(now, before, 0.5);
  ASSERT_TRUE(window);
  const MeasuredDependency& d = *window;
  EXPECT_EQ(d.request_latency.count(), 20u);  // a sample: not scaled
  EXPECT_NEAR(d.request_latency.sum_seconds, 4.0, 1e-9);
  EXPECT_DOUBLE_EQ(d.requests, 40);  // counts: divided by the attached fraction
  EXPECT_DOUBLE_EQ(d.bytes_sent, 4000);
  EXPECT_DOUBLE_EQ(d.bytes_received, 40000);
  EXPECT_EQ(d.connect_latency.count(), 0u);
}

// The map entry was recreated (its counters went backwards): the window gets no value
// for it rather than a count from the restart (collectors/counter_delta.hpp).
TEST(MeasuredDependency, CounterThatWentBackwardsGivesNoValue) {
  EXPECT_FALSE(net_delta(with_requests(3, 1'000'000), with_requests(50, 1'000'000), 1.0));
  NetCounters bytes_reset = with_requests(60, 1'000'000);
  bytes_reset.bytes_received = 0;
  EXPECT_FALSE(net_delta(bytes_reset, with_requests(50, 1'000'000), 1.0));
}

// n requests served in `service_ns` each, after waiting `queued_ns` to be accepted,
// out of `arrivals` connections.
InboundCounters served(std::uint64_t n, std::uint64_t service_ns, std::uint64_t queued_ns,
                       std::uint64_t arrivals) {
  InboundCounters c;
  c.slots[bw_latency_slot(service_ns)] = n;
  c.sum_ns = n * service_ns;
  c.requests = n;
  c.total_slots[bw_latency_slot(service_ns + queued_ns)] = n;
  c.total_sum_ns = n * (service_ns + queued_ns);
  c.arrivals = arrivals;
  return c;
}

// Connections that waited to be accepted: the latency from arrival is kept beside the
// service time, and the arrivals (more than were served) are counted like requests.
TEST(Inbound, QueuedConnectionsKeepTheirWaitAndArrivals) {
  MeasuredNet net;
  ASSERT_TRUE(
      inbound_delta(served(40, 100'000'000, 2'000'000'000, 100), served(0, 1, 0, 0), 1.0, net));
  ASSERT_TRUE(net.inbound_latency && net.inbound_total_latency);
  EXPECT_NEAR(net.inbound_latency->sum_seconds, 4.0, 1e-9);
  EXPECT_NEAR(net.inbound_total_latency->sum_seconds, 84.0, 1e-9);
  EXPECT_DOUBLE_EQ(net.inbound_requests, 40);
  EXPECT_DOUBLE_EQ(net.inbound_arrivals, 100);
  // Duty-cycled at half the window: counts doubled, histograms as measured.
  MeasuredNet half;
  ASSERT_TRUE(inbound_delta(served(40, 100'000'000, 0, 40), InboundCounters{}, 0.5, half));
  EXPECT_DOUBLE_EQ(half.inbound_requests, 80);
  EXPECT_DOUBLE_EQ(half.inbound_arrivals, 80);
  // Nobody waited: the latency from arrival is the service latency, not kept twice.
  EXPECT_FALSE(half.inbound_total_latency);
}

// Connections arrived, none served yet (every worker busy the whole window): the
// arrivals count, no latency. Nothing at all, or counters that went backwards: no value.
TEST(Inbound, ArrivalsWithoutRequestsAndResets) {
  MeasuredNet net;
  InboundCounters before = served(10, 100'000'000, 0, 10);
  InboundCounters now = before;
  now.arrivals = 30;
  ASSERT_TRUE(inbound_delta(now, before, 1.0, net));
  EXPECT_DOUBLE_EQ(net.inbound_arrivals, 20);
  EXPECT_FALSE(net.inbound_latency);
  MeasuredNet untouched;
  EXPECT_FALSE(inbound_delta(before, before, 1.0, untouched));
  EXPECT_FALSE(inbound_delta(served(1, 1, 0, 1), before, 1.0, untouched));
  EXPECT_EQ(untouched, MeasuredNet{});
}

TEST(NetQuantiles, HistogramOf200msRequestsGivesP95Within10Percent) {
  NetCounters now;
  for (int i = 0; i < 95; ++i) now.req_slots[bw_latency_slot(200'000'000 + i * 100'000)] += 1;
  for (int i = 0; i < 5; ++i) now.req_slots[bw_latency_slot(2'000'000)] += 1;
  auto d = net_delta(now, NetCounters{}, 1.0);
  ASSERT_TRUE(d);
  auto q = histogram_quantiles(d->request_latency);
  ASSERT_TRUE(q);
  EXPECT_NEAR(q->p95, 0.2, 0.02);
  EXPECT_NEAR(q->p50, 0.2, 0.02);
}

}  // namespace
}  // namespace boundwise::ebpf
