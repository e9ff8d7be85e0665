// Network endpoints and the rules that name them as dependencies.
//
// A dependency is a remote endpoint a workload waits on. It is named by a
// configured DependencyRule ("orders-db" = 10.0.0.5:5432, or a CIDR and port), else
// by well-known port ("postgres 127.0.0.1:5432"), else by address ("10.1.2.3:7000").
// Pure: parsing and formatting here use no socket headers.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "classifier/result.hpp"

namespace boundwise {

struct IpAddress {
  enum class Family : std::uint8_t { v4, v6 };
  Family family = Family::v4;
  // Network byte order. For v4 only the first 4 bytes are used (the rest are 0).
  std::array<std::uint8_t, 16> bytes{};

  auto operator<=>(const IpAddress&) const = default;

  // "10.0.0.5", "::1", "2001:db8::7". An IPv4-mapped IPv6 address
  // (::ffff:10.0.0.5) is formatted and compared as the IPv4 address.
  std::string to_string() const;
  static std::optional<IpAddress> parse(std::string_view text);
  // ::ffff:a.b.c.d → a.b.c.d; anything else unchanged.
  IpAddress unmapped() const;
};

struct Endpoint {
  IpAddress address;
  std::uint16_t port = 0;

  auto operator<=>(const Endpoint&) const = default;

  // "10.0.0.5:5432", "[::1]:6379".
  std::string to_string() const;
  // Accepts "10.0.0.5:5432", "[::1]:6379", "localhost:80" is NOT accepted (no DNS).
  static Result<Endpoint> parse(std::string_view text);
};

// A configured dependency: a name and the endpoints it covers.
struct DependencyRule {
  std::string name;
  IpAddress network;      // network address (host bits ignored)
  int prefix_length = 0;  // 32 / 128 for a single host
  std::uint16_t port = 0;

  bool operator==(const DependencyRule&) const = default;

  // "10.0.0.5:5432", "10.0.0.0/24:5432", "[2001:db8::/32]:443". Errors say what is
  // wrong with the text ("bad port 99999", "prefix length 33 > 32").
  static Result<DependencyRule> parse(std::string_view name, std::string_view endpoint_text);
  bool matches(const Endpoint& e) const;
  // The endpoint as written in config form, e.g. "10.0.0.0/24:5432".
  std::string endpoint_text() const;
};

// Service name for a well-known port: 5432 → "postgres", 6379 → "redis",
// 3306 → "mysql", 80/8080 → "http", 443 → "https", ...; nullopt otherwise.
std::optional<std::string_view> well_known_service(std::uint16_t port);

// The dependency name for an endpoint: the first matching rule's name, else
// "<service> <ip>:<port>" for a well-known port, else "<ip>:<port>".
std::string dependency_name(const Endpoint& e, const std::vector<DependencyRule>& rules);

}  // namespace boundwise
