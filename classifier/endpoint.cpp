// Endpoint parsing, formatting and dependency naming, in plain std (no socket headers:
// the classifier links nothing).
#include "classifier/endpoint.hpp"

#include <charconv>
#include <cstdio>

namespace boundwise {

namespace {

bool parse_v4(std::string_view s, std::array<std::uint8_t, 16>& bytes, std::size_t at) {
  for (int part = 0; part < 4; ++part) {
    std::size_t dot = part < 3 ? s.find('.') : s.size();
    if (dot == std::string_view::npos || dot == 0 || dot > 3) return false;
    unsigned value = 0;
    auto piece = s.substr(0, dot);
    // "010" is octal to inet_aton and decimal to others: refuse the ambiguity.
    if (piece.size() > 1 && piece.front() == '0') return false;
    auto [ptr, ec] = std::from_chars(piece.data(), piece.data() + piece.size(), value);
    if (ec != std::errc() || ptr != piece.data() + piece.size() || value > 255) return false;
    bytes[at + static_cast<std::size_t>(part)] = static_cast<std::uint8_t>(value);
    s = dot < s.size() ? s.substr(dot + 1) : std::string_view{};
  }
  return s.empty();
}

bool parse_hex16(std::string_view s, std::uint16_t& out) {
  if (s.empty() || s.size() > 4) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out, 16);
  return ec == std::errc() && ptr == s.data() + s.size();
}

bool parse_v6(std::string_view s, std::array<std::uint8_t, 16>& bytes) {
  std::vector<std::uint16_t> head, tail;
  bool compressed = false;
  std::size_t gap = s.find("::");
  std::string_view left = s, right;
  if (gap != std::string_view::npos) {
    compressed = true;
    left = s.substr(0, gap);
    right = s.substr(gap + 2);
    if (right.find("::") != std::string_view::npos) return false;
  }
  bool v4_tail = false;
  std::array<std::uint8_t, 16> v4{};
  auto split = [&](std::string_view part, std::vector<std::uint16_t>& out, bool last) -> bool {
    if (part.empty()) return true;
    while (true) {
      std::size_t colon = part.find(':');
      std::string_view group = part.substr(0, colon);
      if (colon == std::string_view::npos && last && group.find('.') != std::string_view::npos) {
        if (!parse_v4(group, v4, 0)) return false;
        v4_tail = true;
        return true;
      }
      std::uint16_t value = 0;
      if (!parse_hex16(group, value)) return false;
      out.push_back(value);
      if (colon == std::string_view::npos) return true;
      part = part.substr(colon + 1);
    }
  };
  if (!split(left, head, !compressed) || !split(right, tail, true)) return false;
  std::size_t groups = head.size() + tail.size() + (v4_tail ? 2 : 0);
  if (compressed ? groups > 7 : groups != 8) return false;
  std::vector<std::uint16_t> all = head;
  all.resize(8 - tail.size() - (v4_tail ? 2 : 0), 0);
  all.insert(all.end(), tail.begin(), tail.end());
  for (std::size_t i = 0; i < all.size(); ++i) {
    bytes[2 * i] = static_cast<std::uint8_t>(all[i] >> 8);
    bytes[2 * i + 1] = static_cast<std::uint8_t>(all[i] & 0xff);
  }
  if (v4_tail) {
    for (std::size_t i = 0; i < 4; ++i) bytes[12 + i] = v4[i];
  }
  return true;
}

bool parse_port(std::string_view s, std::uint16_t& port) {
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size() || value == 0 || value > 65535) {
    return false;
  }
  port = static_cast<std::uint16_t>(value);
  return true;
}

// Splits "host:port" / "[v6]:port" into host text and port text.
bool split_host_port(std::string_view text, std::string_view& host, std::string_view& port) {
  if (!text.empty() && text.front() == '[') {
    std::size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return false;
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
    return true;
  }
  std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return false;
  host = text.substr(0, colon);
  port = text.substr(colon + 1);
  return host.find(':') == std::string_view::npos;  // bare v6 needs brackets
}

}  // namespace

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  IpAddress a;
  if (text.find(':') == std::string_view::npos) {
    a.family = Family::v4;
    if (!parse_v4(text, a.bytes, 0)) return std::nullopt;
    return a;
  }
  a.family = Family::v6;
  if (!parse_v6(text, a.bytes)) return std::nullopt;
  return a;
}

IpAddress IpAddress::unmapped() const {
  if (family != Family::v6) return *this;
  for (std::size_t i = 0; i < 10; ++i) {
    if (bytes[i] != 0) return *this;
  }
  if (bytes[10] != 0xff || bytes[11] != 0xff) return *this;
  IpAddress v4;
  for (std::size_t i = 0; i < 4; ++i) v4.bytes[i] = bytes[12 + i];
  return v4;
}

std::string IpAddress::to_string() const {
  IpAddress a = unmapped();
  char buf[64];
  if (a.family == Family::v4) {
    std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", a.bytes[0], a.bytes[1], a.bytes[2], a.bytes[3]);
    return buf;
  }
  std::array<unsigned, 8> groups{};
  for (std::size_t i = 0; i < 8; ++i) groups[i] = (a.bytes[2 * i] << 8u) | a.bytes[2 * i + 1];
  // RFC 5952: compress the longest run (≥ 2) of zero groups.
  int best_start = -1, best_len = 0;
  for (int i = 0; i < 8;) {
    if (groups[static_cast<std::size_t>(i)] != 0) {
      ++i;
      continue;
    }
    int j = i;
    while (j < 8 && groups[static_cast<std::size_t>(j)] == 0) ++j;
    if (j - i > best_len && j - i >= 2) {
      best_start = i;
      best_len = j - i;
    }
    i = j;
  }
  std::string out;
  for (int i = 0; i < 8; ++i) {
    if (i == best_start) {
      out += "::";
      i += best_len - 1;
      continue;
    }
    if (!out.empty() && out.back() != ':') out += ':';
    std::snprintf(buf, sizeof buf, "%x", groups[static_cast<std::size_t>(i)]);
    out += buf;
  }
  return out;
}

std::string Endpoint::to_string() const {
  IpAddress a = address.unmapped();
  if (a.family == IpAddress::Family::v6) {
    return "[" + a.to_string() + "]:" + std::to_string(port);
  }
  return a.to_string() + ":" + std::to_string(port);
}

Result<Endpoint> Endpoint::parse(std::string_view text) {
  std::string_view host, port_text;
  if (!split_host_port(text, host, port_text)) {
    return Error{"endpoint \"" + std::string(text) + "\": expected HOST:PORT or [V6]:PORT"};
  }
  auto address = IpAddress::parse(host);
  if (!address) {
    return Error{"endpoint \"" + std::string(text) + "\": \"" + std::string(host) +
                 "\" is not an IP address (names are not resolved)"};
  }
  Endpoint e;
  e.address = *address;
  if (!parse_port(port_text, e.port)) {
    return Error{"endpoint \"" + std::string(text) + "\": bad port \"" + std::string(port_text) +
                 "\" (1-65535)"};
  }
  return e;
}

Result<DependencyRule> DependencyRule::parse(std::string_view name, std::string_view text) {
  std::string_view host, port_text;
  if (!split_host_port(text, host, port_text)) {
    return Error{"endpoint \"" + std::string(text) +
                 "\": expected HOST:PORT, CIDR:PORT or [V6]:PORT"};
  }
  if (name.empty()) {
    return Error{"endpoint \"" + std::string(text) + "\": the dependency has no name"};
  }
  DependencyRule rule;
  rule.name = std::string(name);
  std::string_view address_text = host;
  std::size_t slash = host.find('/');
  if (slash != std::string_view::npos) address_text = host.substr(0, slash);
  auto address = IpAddress::parse(address_text);
  if (!address) {
    return Error{"endpoint \"" + std::string(text) + "\": \"" + std::string(address_text) +
                 "\" is not an IP address (names are not resolved)"};
  }
  rule.network = address->unmapped();
  const bool mapped =
      address->family == IpAddress::Family::v6 && rule.network.family == IpAddress::Family::v4;
  const int max_prefix = address->family == IpAddress::Family::v4 ? 32 : 128;
  int prefix = max_prefix;
  if (slash != std::string_view::npos) {
    auto prefix_text = host.substr(slash + 1);
    unsigned value = 0;
    auto [ptr, ec] =
        std::from_chars(prefix_text.data(), prefix_text.data() + prefix_text.size(), value);
    if (prefix_text.empty() || ec != std::errc() ||
        ptr != prefix_text.data() + prefix_text.size() ||
        value > static_cast<unsigned>(max_prefix)) {
      return Error{"endpoint \"" + std::string(text) + "\": bad prefix length \"" +
                   std::string(prefix_text) + "\" (0-" + std::to_string(max_prefix) + ")"};
    }
    prefix = static_cast<int>(value);
  }
  // An IPv4-mapped network (::ffff:10.0.0.0/104) is kept as the IPv4 network it maps
  // (10.0.0.0/8), so it matches v4 and mapped endpoints alike.
  if (mapped) {
    if (prefix < 96) {
      return Error{"endpoint \"" + std::string(text) + "\": prefix length " +
                   std::to_string(prefix) + " < 96 on an IPv4-mapped address spans more than IPv4"};
    }
    prefix -= 96;
  }
  rule.prefix_length = prefix;
  if (!parse_port(port_text, rule.port)) {
    return Error{"endpoint \"" + std::string(text) + "\": bad port \"" + std::string(port_text) +
                 "\" (1-65535)"};
  }
  return rule;
}

bool DependencyRule::matches(const Endpoint& e) const {
  if (e.port != port) return false;
  IpAddress a = e.address.unmapped();
  if (a.family != network.family) return false;
  int bits = prefix_length;
  for (std::size_t i = 0; bits > 0; ++i, bits -= 8) {
    auto mask = static_cast<std::uint8_t>(bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff);
    if ((a.bytes[i] & mask) != (network.bytes[i] & mask)) return false;
  }
  return true;
}

std::string DependencyRule::endpoint_text() const {
  int max_prefix = network.family == IpAddress::Family::v4 ? 32 : 128;
  std::string host = network.to_string();
  if (prefix_length != max_prefix) host += "/" + std::to_string(prefix_length);
  if (network.family == IpAddress::Family::v6) host = "[" + host + "]";
  return host + ":" + std::to_string(port);
}

std::optional<std::string_view> well_known_service(std::uint16_t port) {
  switch (port) {
    case 80:
    case 8080:
      return "http";
    case 443:
    case 8443:
      return "https";
    case 5432:
      return "postgres";
    case 3306:
      return "mysql";
    case 6379:
      return "redis";
    case 11211:
      return "memcached";
    case 27017:
      return "mongodb";
    case 9092:
      return "kafka";
    case 9200:
      return "elasticsearch";
    case 5672:
      return "amqp";
    case 2181:
      return "zookeeper";
    case 2379:
      return "etcd";
    case 53:
      return "dns";
    case 9042:
      return "cassandra";
    default:
      return std::nullopt;
  }
}

std::string dependency_name(const Endpoint& e, const std::vector<DependencyRule>& rules) {
  for (const auto& rule : rules) {
    if (rule.matches(e)) return rule.name;
  }
  if (auto service = well_known_service(e.port)) {
    return std::string(*service) + " " + e.to_string();
  }
  return e.to_string();
}

}  // namespace boundwise
