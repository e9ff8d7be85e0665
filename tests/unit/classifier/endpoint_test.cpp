// Endpoints, dependency rules and naming.
#include "classifier/endpoint.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "classifier/window.hpp"

namespace boundwise {
namespace {

TEST(IpAddress, ParseAndFormat) {
  EXPECT_EQ(IpAddress::parse("10.0.0.5")->to_string(), "10.0.0.5");
  EXPECT_EQ(IpAddress::parse("::1")->to_string(), "::1");
  EXPECT_EQ(IpAddress::parse("2001:db8:0:0:0:0:0:7")->to_string(), "2001:db8::7");
  EXPECT_EQ(IpAddress::parse("::ffff:10.0.0.5")->to_string(), "10.0.0.5");
  EXPECT_EQ(IpAddress::parse("fe80::1:2")->to_string(), "fe80::1:2");
  for (const char* bad : {"", "10.0.0", "10.0.0.256", "1.2.3.4.5", "a.b.c.d", "1::2::3",
                          "12345::", "1:2:3:4:5:6:7:8:9", "localhost"}) {
    EXPECT_FALSE(IpAddress::parse(bad)) << bad;
  }
}

TEST(Endpoint, ParseAndFormat) {
  EXPECT_EQ(Endpoint::parse("10.0.0.5:5432")->to_string(), "10.0.0.5:5432");
  EXPECT_EQ(Endpoint::parse("[::1]:6379")->to_string(), "[::1]:6379");
  auto bad_port = Endpoint::parse("10.0.0.5:99999");
  ASSERT_FALSE(bad_port);
  EXPECT_NE(bad_port.error().message.find("bad port"), std::string::npos);
  auto name = Endpoint::parse("db.internal:5432");
  ASSERT_FALSE(name);
  EXPECT_NE(name.error().message.find("not an IP address"), std::string::npos);
  EXPECT_FALSE(Endpoint::parse("::1:80"));  // v6 needs brackets
  EXPECT_FALSE(Endpoint::parse("10.0.0.5"));
  EXPECT_FALSE(Endpoint::parse("10.0.0.5:0"));
}

TEST(DependencyRule, HostCidrAndV6) {
  auto host = DependencyRule::parse("db", "10.0.0.5:5432");
  ASSERT_TRUE(host);
  EXPECT_TRUE(host->matches(*Endpoint::parse("10.0.0.5:5432")));
  EXPECT_FALSE(host->matches(*Endpoint::parse("10.0.0.6:5432")));
  EXPECT_FALSE(host->matches(*Endpoint::parse("10.0.0.5:5433")));
  EXPECT_TRUE(host->matches(*Endpoint::parse("[::ffff:10.0.0.5]:5432")));  // v4-mapped
  auto net = DependencyRule::parse("pool", "10.1.0.0/23:6379");
  ASSERT_TRUE(net);
  EXPECT_TRUE(net->matches(*Endpoint::parse("10.1.1.200:6379")));
  EXPECT_FALSE(net->matches(*Endpoint::parse("10.1.2.1:6379")));
  EXPECT_EQ(net->endpoint_text(), "10.1.0.0/23:6379");
  auto v6 = DependencyRule::parse("api", "[2001:db8::/32]:443");
  ASSERT_TRUE(v6);
  EXPECT_TRUE(v6->matches(*Endpoint::parse("[2001:db8:ff::1]:443")));
  EXPECT_FALSE(v6->matches(*Endpoint::parse("[2001:db9::1]:443")));
  auto all = DependencyRule::parse("any", "0.0.0.0/0:53");
  ASSERT_TRUE(all);
  EXPECT_TRUE(all->matches(*Endpoint::parse("8.8.8.8:53")));
  for (const char* bad : {"10.0.0.5", "10.0.0.0/33:1", "10.0.0.0/x:1", "10.0.0.5:70000",
                          "host:5432", "[::1/129]:1"}) {
    EXPECT_FALSE(DependencyRule::parse("x", bad)) << bad;
  }
}

// Each kind of bad rule text gets a message naming what is wrong.
TEST(DependencyRule, ErrorsSayWhatIsWrong) {
  struct Case {
    const char* text;
    const char* says;
  };
  for (const Case& c :
       {Case{"10.0.0.5", "expected HOST:PORT"}, Case{"[::1:5432", "expected HOST:PORT"},
        Case{"[::1]5432", "expected HOST:PORT"}, Case{"::1:5432", "expected HOST:PORT"},
        Case{"db.internal:5432", "\"db.internal\" is not an IP address"},
        Case{"10.0.0.256:1", "not an IP address"},
        Case{"10.0.0.0/33:1", "bad prefix length \"33\" (0-32)"},
        Case{"[2001:db8::/129]:1", "bad prefix length \"129\" (0-128)"},
        Case{"10.0.0.0/:1", "bad prefix length"}, Case{"10.0.0.0/-1:1", "bad prefix length"},
        Case{"10.0.0.5:99999", "bad port \"99999\""}, Case{"10.0.0.5:0", "bad port"},
        Case{"10.0.0.5:", "bad port"}, Case{"10.0.0.5:80x", "bad port"},
        Case{"[::ffff:10.0.0.0/64]:1", "IPv4-mapped"}}) {
    auto rule = DependencyRule::parse("x", c.text);
    ASSERT_FALSE(rule) << c.text;
    EXPECT_NE(rule.error().message.find(c.says), std::string::npos)
        << c.text << " -> " << rule.error().message;
    EXPECT_NE(rule.error().message.find(c.text), std::string::npos) << "quotes the input";
  }
  auto unnamed = DependencyRule::parse("", "10.0.0.5:5432");
  ASSERT_FALSE(unnamed);
  EXPECT_NE(unnamed.error().message.find("no name"), std::string::npos);
}

TEST(DependencyRule, PrefixBoundariesAndHostBits) {
  // Host bits in the network are ignored: 10.1.1.7/23 is 10.1.0.0/23.
  auto rule = DependencyRule::parse("pool", "10.1.1.7/23:6379");
  ASSERT_TRUE(rule);
  EXPECT_TRUE(rule->matches(*Endpoint::parse("10.1.0.0:6379")));
  EXPECT_TRUE(rule->matches(*Endpoint::parse("10.1.1.255:6379")));
  EXPECT_FALSE(rule->matches(*Endpoint::parse("10.0.255.255:6379")));
  EXPECT_FALSE(rule->matches(*Endpoint::parse("10.1.2.0:6379")));
  // A /31 and a /32.
  auto pair = DependencyRule::parse("pair", "192.168.0.4/31:80");
  EXPECT_TRUE(pair->matches(*Endpoint::parse("192.168.0.5:80")));
  EXPECT_FALSE(pair->matches(*Endpoint::parse("192.168.0.6:80")));
  auto single = DependencyRule::parse("one", "192.168.0.4/32:80");
  EXPECT_EQ(single->endpoint_text(), "192.168.0.4:80");
  // v6 with a prefix that is not a multiple of 8.
  auto v6 = DependencyRule::parse("v6", "[2001:db8:8000::/33]:443");
  ASSERT_TRUE(v6);
  EXPECT_TRUE(v6->matches(*Endpoint::parse("[2001:db8:ffff::1]:443")));
  EXPECT_FALSE(v6->matches(*Endpoint::parse("[2001:db8:7fff::1]:443")));
  EXPECT_EQ(v6->endpoint_text(), "[2001:db8:8000::/33]:443");
  // v6 rules never match v4 endpoints, nor v4 rules v6 ones (other than mapped).
  EXPECT_FALSE(v6->matches(*Endpoint::parse("32.1.13.184:443")));
  auto v4 = DependencyRule::parse("v4", "0.0.0.0/0:443");
  EXPECT_FALSE(v4->matches(*Endpoint::parse("[2001:db8::1]:443")));
  EXPECT_TRUE(v4->matches(*Endpoint::parse("[::ffff:1.2.3.4]:443")));
}

TEST(DependencyRule, MappedNetworkIsItsIpv4Network) {
  auto rule = DependencyRule::parse("mapped", "[::ffff:10.0.0.0/104]:5432");
  ASSERT_TRUE(rule);
  EXPECT_EQ(rule->endpoint_text(), "10.0.0.0/8:5432");
  EXPECT_TRUE(rule->matches(*Endpoint::parse("10.200.0.1:5432")));
  EXPECT_TRUE(rule->matches(*Endpoint::parse("[::ffff:10.200.0.1]:5432")));
  EXPECT_FALSE(rule->matches(*Endpoint::parse("11.0.0.1:5432")));
  auto host = DependencyRule::parse("mapped-host", "[::ffff:10.0.0.5]:5432");
  ASSERT_TRUE(host);
  EXPECT_TRUE(host->matches(*Endpoint::parse("10.0.0.5:5432")));
  EXPECT_FALSE(host->matches(*Endpoint::parse("10.0.0.6:5432")));
}

TEST(IpAddress, Ipv6CompressionFollowsRfc5952) {
  auto fmt = [](const char* text) {
    auto a = IpAddress::parse(text);
    return a ? a->to_string() : std::string("<invalid>");
  };
  EXPECT_EQ(fmt("::"), "::");
  EXPECT_EQ(fmt("0:0:0:0:0:0:0:0"), "::");
  EXPECT_EQ(fmt("1::"), "1::");
  EXPECT_EQ(fmt("1:2:3:4:5:6:7::"), "1:2:3:4:5:6:7:0");  // one zero group: not "::"
  EXPECT_EQ(fmt("2001:db8:0:1:1:1:1:1"), "2001:db8:0:1:1:1:1:1");
  EXPECT_EQ(fmt("2001:0:0:1:0:0:0:1"), "2001:0:0:1::1");        // the longest run
  EXPECT_EQ(fmt("2001:db8:0:0:1:0:0:1"), "2001:db8::1:0:0:1");  // first of equal runs
  EXPECT_EQ(fmt("2001:DB8::ABCD"), "2001:db8::abcd");
  EXPECT_EQ(fmt("::ffff:192.168.1.1"), "192.168.1.1");
  EXPECT_EQ(fmt("::192.168.1.1"), "::c0a8:101");  // IPv4-compatible is not mapped
  EXPECT_EQ(fmt("64:ff9b::1.2.3.4"), "64:ff9b::102:304");
  for (const char* bad :
       {":", ":::", ":1", "1:", "1:::2", "::1::", "12345::1", "g::1", "1.2.3.4::", "::ffff:1.2.3",
        "::ffff:1.2.3.4:5", "fe80::1%eth0", "1:2:3:4:5:6:7:8::", "[::1]", " ::1"}) {
    EXPECT_EQ(fmt(bad), "<invalid>") << bad;
  }
  // Families compare distinct; a mapped address formats like its IPv4 address.
  auto mapped = *IpAddress::parse("::ffff:10.0.0.5");
  auto v4 = *IpAddress::parse("10.0.0.5");
  EXPECT_NE(mapped, v4);
  EXPECT_EQ(mapped.unmapped(), v4);
  EXPECT_EQ(v4.unmapped(), v4);
}

TEST(IpAddress, Ipv4RejectsAmbiguousAndOutOfRange) {
  EXPECT_EQ(IpAddress::parse("0.0.0.0")->to_string(), "0.0.0.0");
  EXPECT_EQ(IpAddress::parse("255.255.255.255")->to_string(), "255.255.255.255");
  for (const char* bad : {"010.0.0.1", "1.2.3.04", "256.0.0.0", "1.2.3.", ".1.2.3", "1..2.3",
                          "1.2.3.4 ", "-1.2.3.4", "+1.2.3.4", "1.2.3.4/8", "1234.1.1.1"}) {
    EXPECT_FALSE(IpAddress::parse(bad)) << bad;
  }
}

TEST(Endpoint, MappedAddressesFormatAsIpv4) {
  auto e = Endpoint::parse("[::ffff:127.0.0.1]:6379");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->to_string(), "127.0.0.1:6379");
  EXPECT_EQ(Endpoint::parse("[2001:db8::1]:65535")->to_string(), "[2001:db8::1]:65535");
  EXPECT_EQ(Endpoint::parse("1.2.3.4:1")->port, 1);
  auto no_port = Endpoint::parse("[::1]:");
  ASSERT_FALSE(no_port);
  EXPECT_NE(no_port.error().message.find("bad port \"\""), std::string::npos);
  auto no_colon = Endpoint::parse("[::1]");
  ASSERT_FALSE(no_colon);
  EXPECT_NE(no_colon.error().message.find("expected HOST:PORT"), std::string::npos);
}

TEST(DependencyName, RuleThenServiceThenAddress) {
  std::vector<DependencyRule> rules = {*DependencyRule::parse("orders-db", "10.0.0.5:5432")};
  EXPECT_EQ(dependency_name(*Endpoint::parse("10.0.0.5:5432"), rules), "orders-db");
  EXPECT_EQ(dependency_name(*Endpoint::parse("10.0.0.9:5432"), rules), "postgres 10.0.0.9:5432");
  EXPECT_EQ(dependency_name(*Endpoint::parse("127.0.0.1:6379"), {}), "redis 127.0.0.1:6379");
  EXPECT_EQ(dependency_name(*Endpoint::parse("10.1.2.3:7000"), {}), "10.1.2.3:7000");
  EXPECT_EQ(well_known_service(443), "https");
  EXPECT_FALSE(well_known_service(7000));
  // The first matching rule wins; a v6 endpoint on a well-known port keeps brackets.
  rules.push_back(*DependencyRule::parse("all-10", "10.0.0.0/8:5432"));
  EXPECT_EQ(dependency_name(*Endpoint::parse("10.0.0.5:5432"), rules), "orders-db");
  EXPECT_EQ(dependency_name(*Endpoint::parse("10.9.9.9:5432"), rules), "all-10");
  EXPECT_EQ(dependency_name(*Endpoint::parse("[2001:db8::5]:6379"), rules),
            "redis [2001:db8::5]:6379");
}

TEST(DependencyName, WellKnownServices) {
  struct Case {
    std::uint16_t port;
    const char* name;
  };
  for (const Case& c :
       {Case{5432, "postgres"}, Case{3306, "mysql"}, Case{6379, "redis"}, Case{11211, "memcached"},
        Case{27017, "mongodb"}, Case{80, "http"}, Case{8080, "http"}, Case{443, "https"},
        Case{9092, "kafka"}, Case{9200, "elasticsearch"}, Case{5672, "amqp"}}) {
    auto s = well_known_service(c.port);
    ASSERT_TRUE(s) << c.port;
    EXPECT_EQ(*s, c.name);
  }
  for (std::uint16_t port : {std::uint16_t{0}, std::uint16_t{1}, std::uint16_t{22},
                             std::uint16_t{5433}, std::uint16_t{65535}})
    EXPECT_FALSE(well_known_service(port)) << port;
}

TEST(Quantiles, NearestRank) {
  EXPECT_FALSE(quantiles_of({}));
  auto one = quantiles_of({0.2});
  ASSERT_TRUE(one);
  EXPECT_EQ(one->p99, 0.2);
  std::vector<double> v;
  for (int i = 1; i <= 100; ++i) v.push_back(i / 100.0);
  auto q = quantiles_of(v);
  EXPECT_DOUBLE_EQ(q->p50, 0.50);
  EXPECT_DOUBLE_EQ(q->p95, 0.95);
  EXPECT_DOUBLE_EQ(q->p99, 0.99);
  auto dirty = quantiles_of({0.1, -1, std::numeric_limits<double>::infinity()});
  ASSERT_TRUE(dirty);
  EXPECT_EQ(dirty->p50, 0.1);
  EXPECT_FALSE(quantiles_of({std::nan(""), -0.5}));  // nothing valid left
}

// Nearest rank on small samples: the value at rank ceil(q × n), never an interpolation.
TEST(Quantiles, NearestRankSmallSamplesAndOrder) {
  auto q = quantiles_of({0.4, 0.1, 0.3, 0.2});  // unsorted input
  ASSERT_TRUE(q);
  EXPECT_EQ(q->p50, 0.2);  // ceil(0.5 × 4) = rank 2
  EXPECT_EQ(q->p95, 0.4);  // ceil(3.8) = rank 4
  EXPECT_EQ(q->p99, 0.4);
  std::vector<double> twenty;
  for (int i = 1; i <= 20; ++i) twenty.push_back(i);
  auto t = quantiles_of(twenty);
  EXPECT_EQ(t->p50, 10);  // rank 10
  EXPECT_EQ(t->p95, 19);  // rank 19
  EXPECT_EQ(t->p99, 20);  // rank ceil(19.8) = 20
}

TEST(Window, FinalizeFillsDependencyLatencyAndTotals) {
  WorkloadWindow w;
  w.thread_seconds[index_of(Reason::on_cpu)] = 1.5;
  w.thread_seconds[index_of(Reason::net)] = 2.5;
  EXPECT_DOUBLE_EQ(w.total_thread_seconds(), 4.0);
  DependencyWindow seen;
  seen.name = "db";
  seen.blocked_intervals_seconds = {0.3, 0.1, 0.2};
  DependencyWindow unseen;  // waited on, but no interval completed in the window
  unseen.name = "cache";
  DependencyWindow preset;  // an exact collector's own quantiles are kept
  preset.name = "api";
  preset.blocked_intervals_seconds = {9};
  preset.latency = LatencyQuantiles{0.01, 0.02, 0.03};
  w.dependencies = {seen, unseen, preset};
  finalize_window(w);
  ASSERT_TRUE(w.dependencies[0].latency);
  EXPECT_EQ(w.dependencies[0].latency->p50, 0.2);
  EXPECT_EQ(w.dependencies[0].latency->p95, 0.3);
  EXPECT_FALSE(w.dependencies[1].latency);
  EXPECT_EQ(w.dependencies[2].latency->p95, 0.02);
}

}  // namespace
}  // namespace boundwise
