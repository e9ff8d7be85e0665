// Endpoints, dependency rules and naming.
#include "classifier/endpoint.hpp"

#include <gtest/gtest.h>

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

TEST(DependencyName, RuleThenServiceThenAddress) {
  std::vector<DependencyRule> rules = {*DependencyRule::parse("orders-db", "10.0.0.5:5432")};
  EXPECT_EQ(dependency_name(*Endpoint::parse("10.0.0.5:5432"), rules), "orders-db");
  EXPECT_EQ(dependency_name(*Endpoint::parse("10.0.0.9:5432"), rules), "postgres 10.0.0.9:5432");
  EXPECT_EQ(dependency_name(*Endpoint::parse("127.0.0.1:6379"), {}), "redis 127.0.0.1:6379");
  EXPECT_EQ(dependency_name(*Endpoint::parse("10.1.2.3:7000"), {}), "10.1.2.3:7000");
  EXPECT_EQ(well_known_service(443), "https");
  EXPECT_FALSE(well_known_service(7000));
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
}

}  // namespace
}  // namespace boundwise
